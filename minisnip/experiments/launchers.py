"""Where the runs of an experiment execute when not one after the other in this process.

- :func:`run_in_processes`: ``jobs`` worker processes on this machine
  (``python -m minisnip.experiments.worker``), each started with its thread count in its
  environment (``NUMBA_NUM_THREADS``, ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
  ``MKL_NUM_THREADS``: the cores divided by ``jobs`` unless given), so that together they share
  the cores. This process's own thread count is never changed.
- :func:`run_with_submitit`: the runs as submitit jobs, on a Slurm cluster (one array task per
  run, at most ``jobs`` at once) or with submitit's local executor (the runs split into
  ``jobs`` jobs on this machine; this is how the Slurm path is tested without a cluster).
  submitit is an optional dependency: ``pip install -e ".[cluster]"``.

Every run writes its own record, so whatever executes it, the records are the same; a run that
fails writes none and runs again next time.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time

from .runner import MissingDependency, Progress, RunsFailed, execute_all

THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")
CLUSTER_DEFAULTS = dict(partition=None, time=120, cpus=1, mem=None, setup=(), options=())


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def package_root() -> str:
    """The folder holding the ``minisnip`` package this process runs, for the children's
    PYTHONPATH (so that they run the same code, e.g. a git worktree, not another install)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def thread_settings(threads: int) -> dict:
    return {name: str(threads) for name in THREAD_VARIABLES}


def child_environment(threads: int) -> dict:
    env = dict(os.environ)
    env.update(thread_settings(threads))
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root()] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


# ------------------------------------------------------------------ processes, this machine
def run_in_processes(tasks: list, *, jobs: int, threads, logs: str, progress: Progress,
                     poll: float = 0.1) -> None:
    """Run ``tasks`` in at most ``jobs`` processes at once; each run's output goes to
    ``logs/LABEL.log`` as it runs (``tail -f`` it to follow a long run). After a failure no new
    run starts; the runs already going finish, then RunsFailed names the failures and their
    logs."""
    from .records import record_filename, config_from_dict
    threads = threads or max(1, available_cores() // jobs)
    env = child_environment(threads)
    os.makedirs(logs, exist_ok=True)
    queue, running, failures = list(tasks), {}, []
    print(f"{progress.name}: {min(jobs, len(queue))} processes at a time, {threads} thread(s) "
          f"each; logs in {logs}", flush=True)
    try:
        while queue or running:
            while queue and len(running) < jobs and not failures:
                task = queue.pop(0)
                name = record_filename(config_from_dict(task["config"]), task["key"])
                log = os.path.join(logs, name[:-len(".json")] + ".log")
                output = open(log, "wb")
                process = subprocess.Popen(
                    [sys.executable, "-m", "minisnip.experiments.worker"], stdin=subprocess.PIPE,
                    stdout=output, stderr=subprocess.STDOUT, env=env)
                process.stdin.write(json.dumps(task).encode())
                process.stdin.close()
                running[process] = (task, log, output, time.perf_counter())
            time.sleep(poll)
            for process in [p for p in running if p.poll() is not None]:
                task, log, output, started = running.pop(process)
                output.close()
                if process.returncode == 0:
                    progress.finished(time.perf_counter() - started, task["config"]["model"])
                else:
                    label = os.path.basename(log)[:-len(".log")]
                    failures.append(f"{label} (exit {process.returncode}; log {log})")
                    with open(log, "rb") as written:
                        text = written.read().decode(errors="replace")
                    tail = "\n".join(text.strip().splitlines()[-15:])
                    print(f"{progress.name}: run {label} failed:\n{tail}", file=sys.stderr,
                          flush=True)
    finally:
        for process in running:  # only on an exception (e.g. Ctrl-C): stop our own children
            process.terminate()
        for process, (_, _, output, _) in running.items():
            process.wait()
            output.close()
    if failures:
        raise RunsFailed(f"{len(failures)} run(s) failed: " + "; ".join(failures) +
                         f". Runs not started: {len(queue)}. The finished records are kept; "
                         f"run the same command again to continue.")


# ---------------------------------------------------------------------------- submitit
def _run_seconds(record_path: str, otherwise: float) -> float:
    """The wall time a record says its run took (a job of several runs, or one that waited
    in a queue, says nothing about each run's time); ``otherwise`` if it cannot be read."""
    try:
        with open(record_path) as f:
            return float(json.load(f)["wall_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return otherwise


def import_submitit():
    """submitit, or an ImportError saying how to install it."""
    try:
        import submitit
    except ImportError:
        raise MissingDependency("--launcher slurm/local needs submitit, an optional dependency: "
                          "pip install -e \".[cluster]\" (or pip install \"submitit>=1.5\")") from None
    return submitit


def cluster_options(options: dict) -> dict:
    """The launcher options with their defaults, checked: ``partition`` (str), ``time``
    (minutes per run), ``cpus`` (per run, also its thread count), ``mem`` (GB per run),
    ``setup`` (shell lines run before each job, e.g. activating a virtualenv), ``options``
    (``KEY=VALUE`` strings passed to sbatch as ``--KEY=VALUE``, e.g. ``account=proj``)."""
    unknown = sorted(set(options) - set(CLUSTER_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown cluster options {unknown}; expected {sorted(CLUSTER_DEFAULTS)}")
    values = dict(CLUSTER_DEFAULTS)
    values.update({k: v for k, v in options.items() if v is not None})
    for name in ("time", "cpus"):
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"--slurm-{name} must be a whole number >= 1, got {value!r}")
    if values["mem"] is not None and not values["mem"] > 0:
        raise ValueError(f"--slurm-mem must be > 0 (GB), got {values['mem']!r}")
    extra = {}
    for item in values["options"]:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--slurm-option {item!r}: expected KEY=VALUE, e.g. account=myproj")
        extra[key.strip()] = value
    values["options"] = extra
    values["setup"] = list(values["setup"])
    return values


def _chunks(tasks: list, count: int) -> list:
    return [chunk for chunk in (tasks[i::count] for i in range(count)) if chunk]


def run_with_submitit(tasks: list, launcher: str, options: dict, *, jobs: int, folder: str,
                      progress: Progress, wait: bool = True, poll: float = None,
                      later: str = "minisnip experiment NAME --summarize") -> bool:
    """Submit ``tasks`` through submitit; with ``wait``, follow them until they end (Ctrl-C
    stops the following, not the jobs). Returns whether every job finished here. ``later``:
    the command that summarizes once the jobs have ended, printed when not waiting."""
    submitit = import_submitit()
    from submitit.helpers import as_completed
    if launcher == "slurm":
        chunks, threads = [[task] for task in tasks], options["cpus"]
    else:
        chunks = _chunks(tasks, jobs)
        threads = max(1, available_cores() // len(chunks))
    setup = [f"export {name}={value}" for name, value in thread_settings(threads).items()]
    setup.append(f"export PYTHONPATH={shlex.quote(package_root())}${{PYTHONPATH:+:$PYTHONPATH}}")
    setup += options["setup"]
    logs = os.path.join(folder, "submitit")
    executor = submitit.AutoExecutor(folder=logs, cluster=launcher)
    longest = max(len(chunk) for chunk in chunks)
    parameters = dict(name=f"minisnip-{progress.name}", timeout_min=options["time"] * longest,
                      cpus_per_task=threads)
    if launcher == "slurm":
        parameters.update(slurm_setup=setup, slurm_array_parallelism=jobs)
        if options["partition"]:
            parameters["slurm_partition"] = options["partition"]
        if options["mem"]:
            parameters["mem_gb"] = options["mem"]
        if options["options"]:
            parameters["slurm_additional_parameters"] = options["options"]
    else:
        parameters["local_setup"] = setup
    executor.update_parameters(**parameters)
    submitted = executor.map_array(execute_all, chunks)
    print(f"{progress.name}: submitted {len(submitted)} {launcher} job(s) "
          f"({', '.join(job.job_id for job in submitted[:5])}{' ...' if len(submitted) > 5 else ''}"
          f"), {threads} thread(s) each; logs in {logs}", flush=True)
    if not wait:
        print(f"{progress.name}: not waiting. When the jobs have ended: {later}", flush=True)
        return False
    chunk_of = {job.job_id: chunk for job, chunk in zip(submitted, chunks)}
    started, failures = time.perf_counter(), []
    try:
        for job in as_completed(submitted, poll_frequency=poll or (0.5 if launcher == "local"
                                                                   else 15)):
            try:
                paths = job.result()
            except Exception as error:  # submitit's FailedJobError/UncompletedJobError
                failures.append(f"job {job.job_id}: {str(error).strip().splitlines()[-1:]}"
                                f" (logs in {logs})")
                continue
            chunk = chunk_of[job.job_id]
            share = (time.perf_counter() - started) / len(chunk)  # queueing included
            for task, path in zip(chunk, paths):
                progress.finished(_run_seconds(path, share), task["config"]["model"])
    except KeyboardInterrupt:
        print(f"{progress.name}: stopped following; the jobs keep running. When they have "
              f"ended: {later}", file=sys.stderr)
        raise
    if failures:
        raise RunsFailed(f"{len(failures)} job(s) failed: " + "; ".join(failures) +
                         ". The finished records are kept; run the same command again to "
                         "continue.")
    return True
