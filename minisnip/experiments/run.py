"""Run (or continue) one experiment: every check before any work, then the pending runs one
after the other, in processes, or as submitit jobs, then the summary when all are there.

The pieces live beside it: :mod:`.runner` (plan, shards, tasks, progress), :mod:`.launchers`
(processes, submitit), :mod:`.summary` (the table and figure).
"""
from __future__ import annotations

import os
import time
from typing import Optional

from . import launchers, records
from ..files import writable_target
from .registry import get
from .runner import (LAUNCHERS, Progress, check_data, execute, parse_shard, plan, python_call,
                     report, reuse_from_other_experiments, runs_folder, select_shard,
                     summarize_command, task_for, usable_records)
from .summary import summarize


def run_experiment(name: str, out: str = "runs", *, overrides: Optional[dict] = None,
                   dataset=None, epochs=None, max_train=None, data_dir=None,
                   quiet: bool = False,
                   jobs: int = 1, threads: Optional[int] = None, shard=None,
                   launcher: Optional[str] = None, cluster: Optional[dict] = None,
                   wait: bool = True, command: Optional[str] = None) -> Optional[dict]:
    """Run (or continue) experiment ``name`` into ``OUT/NAME/``; returns the summary, or None
    when it is not written (a shard whose experiment is not complete yet, ``wait=False``).

    ``dataset`` (one of the experiment's ``datasets``), ``epochs``, ``max_train``,
    ``data_dir`` and ``overrides`` change every run's settings (the summary lists what differs
    from the protocol). A run that another experiment in ``out`` already made (same key) is
    not run again: its record is copied. Every data set is looked for before any work. ``jobs``: runs at a time, in processes on this
    machine (``threads`` each: the cores divided by ``jobs`` unless given) or, with a
    ``launcher``, as submitit jobs (``"slurm"``, or ``"local"``: submitit's local executor);
    ``cluster``: the launcher's options (see :mod:`minisnip.experiments.launchers`).
    ``shard``: ``"i/n"`` or ``(i, n)``. ``command``: how this was asked for, stored in every
    record and the summary (the CLI passes its command line).
    """
    # ---- every check before any work
    experiment = get(name)
    overrides = dict(overrides or {})
    for field, value in (("dataset", dataset), ("epochs", epochs), ("max_train", max_train),
                         ("data_dir", data_dir)):
        if value is not None:
            overrides[field] = value
    if quiet:
        overrides["quiet"] = True
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be a whole number >= 1, got {jobs!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"--threads must be a whole number >= 1, got {threads!r}")
    if launcher is not None and launcher not in LAUNCHERS:
        raise ValueError(f"--launcher {launcher!r}: expected one of {', '.join(LAUNCHERS)}")
    if launcher is None and (cluster or not wait):
        raise ValueError("cluster options and --no-wait need --launcher slurm (or local)")
    shard = parse_shard(shard) if shard is not None else None
    cluster_options = launchers.cluster_options(cluster or {}) if launcher else None
    if launcher:
        launchers.import_submitit()
    planned = plan(experiment, overrides)
    folder = runs_folder(out, name)
    writable_target(os.path.join(folder, planned[0].filename), f"the records folder {folder}")
    if command is None:
        command = python_call(name, out, overrides, jobs, threads, shard, launcher)

    if launcher is None:
        check_data(planned)  # (a cluster's jobs may see data this machine does not)

    # ---- what is there
    scan = records.scan(folder)
    mine = select_shard(planned, shard)
    usable, _ = usable_records(experiment, scan)
    pending = [run for run in mine if run.key not in usable]
    copied = reuse_from_other_experiments(out, name, folder, pending, experiment.record_needs)
    if copied:
        print(f"{name}: {len(copied)} run(s) already made by other experiments in {out}, their "
              f"records copied: {', '.join(copied)}", flush=True)
        scan = records.scan(folder)
        usable, _ = usable_records(experiment, scan)
        pending = [run for run in mine if run.key not in usable]
    report(name, folder, scan, planned, mine, experiment)
    where = f" (shard {shard[0]}/{shard[1]}: {len(mine)} of them)" if shard else ""
    print(f"{name}: {len(planned)} runs{where}, {len(mine) - len(pending)} finished, "
          f"{len(pending)} to run", flush=True)

    # ---- run
    tasks = [task_for(run, folder, name, command) for run in pending]
    in_processes = launcher is None and (jobs > 1 or threads is not None)
    progress = Progress(name, len(mine), len(mine) - len(pending), jobs,
                        pending_kinds=[run.config.model for run in pending])
    if not tasks:
        pass
    elif launcher:
        finished = launchers.run_with_submitit(
            tasks, launcher, cluster_options, jobs=jobs, folder=os.path.join(out, name),
            progress=progress, wait=wait, later=summarize_command(name, out, overrides))
        if not finished:
            return None
    elif in_processes:
        launchers.run_in_processes(tasks, jobs=jobs, threads=threads,
                                   logs=os.path.join(out, name, "logs"), progress=progress)
    else:
        for task, run in zip(tasks, pending):
            print(f"\n=== {name}: {run.label} ({run.index + 1} of {len(planned)})", flush=True)
            started = time.perf_counter()
            execute(task)
            progress.finished(time.perf_counter() - started, run.config.model)

    # ---- summary, when the whole experiment is there
    if shard is not None:
        have = records.scan(folder).records
        missing = [run for run in planned if run.key not in have]
        if missing:
            print(f"{name}: shard {shard[0]}/{shard[1]} done; {len(missing)} runs of other "
                  f"shards are not finished yet. When they are: "
                  f"{summarize_command(name, out, overrides)}", flush=True)
            return None
    return summarize(name, out, overrides=overrides, command=command, report_problems=False)
