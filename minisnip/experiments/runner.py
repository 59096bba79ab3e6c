"""Running an experiment: plan its runs, reuse the finished ones, run the rest, write the summary.

1. **Plan.** Every run of the experiment is resolved (the protocol fills what the experiment
   leaves unset; ``overrides`` such as ``epochs`` replace settings of every run), validated, and
   keyed (:func:`~minisnip.experiments.records.config_key`), all before any work.
2. **Reuse.** A run whose valid record (same key) is in ``OUT/NAME/runs/`` is not repeated.
   Anything else runs: a record made with other settings is never taken for this run, and a
   corrupt record is reported by file name and run again (its file is replaced).
3. **Run** the rest, each run writing its record atomically the moment it ends (so a killed
   experiment continues where it stopped): here, one after the other (a failing run stops the
   experiment with its error); in ``jobs`` processes on this machine; or as submitit jobs
   (Slurm, or submitit's local executor). With processes or jobs, the failures are collected
   and reported with their logs (:class:`RunsFailed`) and no summary is written. ``shard=(i, n)``
   keeps only the runs whose position in the whole plan is ``i`` modulo ``n``: the shards of an
   experiment are disjoint, together they are the experiment, and they do not depend on which
   runs are already finished, so machines sharing the folder can each take one.
4. **Summarize** (:mod:`minisnip.experiments.summary`) when every run of the experiment has its
   record (a shard that is not the last to finish leaves that to the last one, or to
   ``--summarize``).
"""
from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time
from typing import Optional

from . import records

# Settings that say which run it is: an override of these would turn the experiment into another.
IDENTITY = ("model", "pruner", "sparsity", "seed")
# Settings the command line may change for every run of an experiment (flags of the same name).
COMMAND_LINE_SETTINGS = ("dataset", "epochs", "max_train", "data_dir")
LAUNCHERS = ("slurm", "local")


class RunsFailed(RuntimeError):
    """Some runs of an experiment failed; the message names them and where their logs are."""


class MissingDependency(ImportError):
    """An optional dependency (submitit) is needed; the message says how to install it."""


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One run of an experiment: its position in the whole plan, resolved config and key."""
    index: int
    config: object
    key: str

    @property
    def filename(self) -> str:
        return records.record_filename(self.config, self.key)

    @property
    def label(self) -> str:
        return records.run_label(self.config)


# -------------------------------------------------------------------------------- plan
def plan(experiment, overrides: Optional[dict] = None) -> list:
    """The experiment's runs with ``overrides`` applied, resolved, validated and keyed."""
    from ..train import RunConfig, validate
    overrides = dict(overrides or {})
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"unknown run settings {unknown}; expected RunConfig fields")
    fixed = sorted(set(overrides) & set(IDENTITY))
    if fixed:
        raise ValueError(f"{fixed} say which run it is and cannot be overridden for a whole "
                         f"experiment (declare another experiment instead)")
    dataset = overrides.get("dataset")
    if dataset is not None and dataset not in experiment.datasets:
        raise ValueError(f"experiment {experiment.name} runs on {', '.join(experiment.datasets)}"
                         f", not --dataset {dataset!r}")
    max_train = overrides.get("max_train")
    if max_train is not None and (isinstance(max_train, bool) or not isinstance(max_train, int)
                                  or max_train < 1):
        raise ValueError(f"--max-train must be a positive number of images, got {max_train!r}")
    planned, seen = [], {}
    for index, declared in enumerate(experiment.runs):
        config = dataclasses.replace(declared, **overrides)
        try:
            validate(config)
            config = config.resolved()
            validate(config)
            key = records.config_key(config)
        except (ValueError, TypeError) as error:
            raise ValueError(f"experiment {experiment.name}, run {records.run_label(declared)}: "
                             f"{error}") from None
        if key in seen:
            raise ValueError(f"experiment {experiment.name}: runs {seen[key]} and {index} have "
                             f"the same settings ({records.run_label(config)})")
        seen[key] = index
        planned.append(PlannedRun(index, config, key))
    return planned


def parse_shard(text) -> tuple:
    """``"1/4"`` -> ``(1, 4)``; ValueError naming --shard and the expected form otherwise."""
    if isinstance(text, tuple):
        parts = text
    else:
        parts = str(text).split("/")
    try:
        if len(parts) != 2:
            raise ValueError
        index, count = int(parts[0]), int(parts[1])
    except (TypeError, ValueError):
        raise ValueError(f"--shard {text!r}: expected I/N with whole numbers, e.g. 0/4 for the "
                         f"first of 4 slices") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: expected 0 <= I < N (the shards of 4 are 0/4 .. "
                         f"3/4)")
    return index, count


def select_shard(planned: list, shard: Optional[tuple]) -> list:
    """The runs of shard ``(i, n)``: those whose position in the whole plan is i modulo n."""
    if shard is None:
        return list(planned)
    index, count = shard
    return [run for run in planned if run.index % count == index]


def runs_folder(out: str, name: str) -> str:
    return os.path.join(out, name, "runs")


def check_data(planned: list) -> None:
    """Before any work: every data set the runs read is where they will look for it (the
    files of both splits), so that a missing data set is one clear error naming it and how to
    get it, not a failure of the first run (the bundled fashion-mini is always there)."""
    from ..data import locate
    seen = set()
    for run in planned:
        config = run.config
        where = (config.dataset, config.data_dir, config.download)
        if config.dataset == "fashion-mini" or where in seen:
            continue
        seen.add(where)
        locate(config.dataset, ("train", "test"), config.data_dir, config.download)


def usable_records(experiment, scan) -> tuple:
    """The valid records that also hold what the experiment reads (``record_needs``), by key,
    and the others as :class:`~minisnip.experiments.records.Problem` s naming what they lack."""
    usable, lacking = {}, []
    for key, record in scan.records.items():
        missing = records.lacks(record, experiment.record_needs)
        if missing:
            lacking.append(records.Problem(os.path.basename(record.path),
                                           f"lacks {', '.join(missing)}, which this experiment "
                                           f"reads (made by an older minisnip)"))
        else:
            usable[key] = record
    return usable, lacking


def reuse_from_other_experiments(out: str, name: str, folder: str, pending: list,
                                 needs: tuple = ()) -> list:
    """Runs of this experiment that another experiment in ``out`` has already made (a valid
    record with the same key: the same complete settings and protocol version): their
    records are copied here, marked ``copied_from``, so that each experiment's folder holds
    all of its records. Returns the labels of the runs copied."""
    from ..files import write_json
    wanted = {run.key: run for run in pending}
    copied = []
    if not wanted or not os.path.isdir(out):
        return copied
    for other in sorted(os.listdir(out)):
        if other == name or not wanted:
            continue
        for key, record in records.scan(runs_folder(out, other)).records.items():
            if key not in wanted or records.lacks(record, needs):
                continue
            data = dict(record.data)
            data.setdefault("copied_from", os.path.join(other, "runs",
                                                        os.path.basename(record.path)))
            write_json(os.path.join(folder, wanted.pop(key).filename), data)
            copied.append(records.run_label(record.config))
    return copied


# ---------------------------------------------------------------------------- one run
def task_for(run: PlannedRun, folder: str, experiment: str, command: str) -> dict:
    """A run as plain JSON-ready data, for another process or a cluster job."""
    return dict(config=dataclasses.asdict(run.config), key=run.key, folder=os.path.abspath(folder),
                experiment=experiment, command=command)


def execute(task: dict) -> str:
    """Run one task (see :func:`task_for`) and write its record; returns the record's path."""
    from .. import train
    config = records.config_from_dict(task["config"])
    if records.config_key(config) != task["key"]:
        raise RuntimeError(f"run {records.run_label(config)}: this process computes the key "
                           f"{records.config_key(config)} for it, the planner {task['key']} "
                           f"(different minisnip code?)")
    started = time.perf_counter()
    threads = _threads()  # the count the run starts from (per epoch: history[*].threads)
    result = train.run(config)
    return records.write_record(
        task["folder"], config, task["key"], result, experiment=task["experiment"],
        command=task["command"], wall_seconds=time.perf_counter() - started,
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), host=socket.gethostname(),
        threads=threads)


def execute_all(tasks: list) -> list:
    """Run several tasks one after the other (what one cluster job does)."""
    return [execute(task) for task in tasks]


def _threads() -> Optional[int]:
    try:
        import numba
        return int(numba.get_num_threads())
    except ImportError:  # pragma: no cover
        return None


# ---------------------------------------------------------------------------- progress
def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """``[NAME] runs done 7/18 (4 reused) | elapsed 0:02:10 | about 0:05:30 left``.

    The estimate adds, over the runs left, the mean time of the runs of the same kind (the
    network: an LSTM run takes many times a LeNet-300-100 run) finished so far in this
    session, and divides by the runs that go at once. A kind with no finished run yet is
    counted at the mean of all finished runs, and named ("lstm-s not timed yet"). Without
    kinds (``pending_kinds`` None, or ``finished`` called without one) every run counts at
    that mean."""

    def __init__(self, name: str, total: int, reused: int, parallel: int = 1, stream=None,
                 pending_kinds: Optional[list] = None):
        self.name, self.total, self.reused, self.parallel = name, total, reused, parallel
        self.done, self.seconds = reused, {}
        self.pending = list(pending_kinds) if pending_kinds is not None else None
        self.started = time.perf_counter()
        self.stream = stream or sys.stdout

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        left = self.total - self.done
        if not left:
            estimate = "all done"
        elif not self.seconds:
            estimate = "estimate after the first run"
        else:
            estimate = self._estimate(left)
        return (f"[{self.name}] runs done {self.done}/{self.total} ({self.reused} reused) | "
                f"elapsed {_clock(elapsed)} | {estimate}")

    def _estimate(self, left: int) -> str:
        every = [s for times in self.seconds.values() for s in times]
        overall = sum(every) / len(every)
        if self.pending is None or len(self.pending) != left:  # kinds not followed
            total, untimed = overall * left, []
        else:
            means = {kind: sum(times) / len(times) for kind, times in self.seconds.items()}
            total = sum(means.get(kind, overall) for kind in self.pending)
            untimed = list(dict.fromkeys(k for k in self.pending if k not in means))
        text = f"about {_clock(total / max(1, min(self.parallel, left)))} left"
        if untimed:
            text += f" ({', '.join(map(str, untimed))} not timed yet: counted at the mean run)"
        return text

    def finished(self, seconds: float, kind=None) -> None:
        self.done += 1
        self.seconds.setdefault(kind, []).append(seconds)
        if self.pending is not None and kind in self.pending:
            self.pending.remove(kind)
        print(self.line(), file=self.stream, flush=True)


def report(name: str, folder: str, scan, planned: list, to_run: Optional[list] = None,
           experiment=None) -> None:
    """Name on stderr every file of the records folder that is not a valid record (or lacks
    what ``experiment`` reads), saying whether its run will run again (it is one of
    ``to_run``, or of another shard's runs) or the file is ignored."""
    again = {run.filename for run in (to_run or [])}
    others = {run.filename for run in planned} - again
    lacking = usable_records(experiment, scan)[1] if experiment is not None else []
    for problem in scan.problems + lacking:
        action = ("will run again" if problem.file in again else
                  "another shard runs it again" if problem.file in others else "ignored")
        print(f"{name}: {os.path.join(folder, problem.file)}: {problem.reason}; {action}",
              file=sys.stderr, flush=True)
    if scan.temporaries:
        print(f"{name}: {len(scan.temporaries)} temporary file(s) of interrupted writes in "
              f"{folder} ignored", file=sys.stderr, flush=True)


def summarize_command(name: str, out: str, overrides: dict) -> str:
    """The command that summarizes these runs later (same folder, same settings)."""
    import shlex
    words = ["minisnip", "experiment", name, "--summarize", "--out", out]
    for field in COMMAND_LINE_SETTINGS:
        if overrides.get(field) is not None:
            words += ["--" + field.replace("_", "-"), str(overrides[field])]
    others = sorted(set(overrides) - set(COMMAND_LINE_SETTINGS) - {"quiet"})
    return shlex.join(words) + (f" (from Python, with the overrides {others})" if others else "")


def python_call(name, out, overrides, jobs=1, threads=None, shard=None, launcher=None,
                summarize=False) -> str:
    """How a run was asked for from Python (the CLI passes its own command line)."""
    parts = [repr(name), f"out={out!r}"]
    shown = {k: v for k, v in overrides.items() if k != "quiet"}
    if shown:
        parts.append(f"overrides={shown!r}")
    for label, value, default in (("jobs", jobs, 1), ("threads", threads, None),
                                  ("shard", shard, None), ("launcher", launcher, None)):
        if value != default:
            parts.append(f"{label}={value!r}")
    function = "summarize" if summarize else "run_experiment"
    return f"minisnip.experiments.{function}({', '.join(parts)})"
