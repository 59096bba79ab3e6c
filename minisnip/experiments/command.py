"""The ``minisnip experiment`` command line: its flags, their checks, and the call they make.

    minisnip experiment --list                         # every experiment, its runs, how many done
    minisnip experiment NAME                           # run (or continue) it, then the summary
    minisnip experiment NAME --epochs 1 --max-train 2000   # a quick look (the summary says so)
    minisnip experiment NAME --dataset mnist --data-dir DIR  # on MNIST (its files in DIR)
    minisnip experiment NAME --jobs 2                  # 2 processes here, sharing the cores
    minisnip experiment NAME --shard 0/3               # the first of 3 slices (another machine
                                                       # or a Slurm array task takes the others)
    minisnip experiment NAME --launcher slurm --slurm-partition cpu --slurm-time 60
    minisnip experiment NAME --summarize               # rebuild the table; run nothing
"""
from __future__ import annotations

import argparse
import shlex

RUN_ONLY = ("jobs", "threads", "shard", "launcher", "slurm_partition", "slurm_time", "slurm_cpus",
            "slurm_mem", "slurm_setup", "slurm_option", "no_wait")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", default=None,
                   help="the experiment (see --list)")
    p.add_argument("--list", action="store_true",
                   help="list every experiment with its number of runs and how many are done")
    p.add_argument("--summarize", action="store_true",
                   help="rebuild summary.{json,md,png} from the records that exist; run nothing")
    p.add_argument("--out", default="runs", help="results folder (default runs/)")
    from ..data import DATASETS
    p.add_argument("--dataset", default=None, choices=DATASETS, metavar="DATASET",
                   help="run every run of the experiment on this data set (one of those "
                        "--list shows for it; default: the data set each run declares, "
                        "Fashion-MNIST for the MNIST-sized networks)")
    p.add_argument("--data-dir", default=None, help="folder holding the data set's files")
    p.add_argument("--epochs", type=int, default=None,
                   help="override the protocol's epochs (quick looks; the summary says so)")
    p.add_argument("--max-train", type=int, default=None,
                   help="use only the first N training images (the summary says so)")
    p.add_argument("--jobs", type=int, default=1,
                   help="runs at a time: processes on this machine, or with --launcher the jobs "
                        "running at once (default 1: one after the other, in this process)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads per run process (default: this machine's cores / --jobs)")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="run only the I-th of N deterministic slices of the experiment "
                        "(0 <= I < N); the N shards together are the whole experiment")
    p.add_argument("--launcher", choices=["slurm", "local"], default=None,
                   help="submit the runs through submitit: to Slurm, or to submitit's local "
                        "executor (needs pip install -e \".[cluster]\")")
    p.add_argument("--slurm-partition", default=None, help="Slurm partition")
    p.add_argument("--slurm-time", type=int, default=None,
                   help="minutes per run (default 120); also the local launcher's timeout")
    p.add_argument("--slurm-cpus", type=int, default=None,
                   help="CPUs per run, also its thread count (default 1)")
    p.add_argument("--slurm-mem", type=float, default=None, help="memory per run in GB")
    p.add_argument("--slurm-setup", action="append", default=None, metavar="LINE",
                   help="a shell line run before each job, e.g. 'source venv/bin/activate' "
                        "(repeatable)")
    p.add_argument("--slurm-option", action="append", default=None, metavar="KEY=VALUE",
                   help="passed to sbatch as --KEY=VALUE, e.g. account=myproj (repeatable)")
    p.add_argument("--no-wait", action="store_true",
                   help="with --launcher: submit and return (then --summarize when done)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")


def command_line(args) -> str:
    """The command as parsed, with only the options that were given (stored in every record
    and summary as the command that made it)."""
    words = ["minisnip", "experiment"] + ([args.name] if args.name else [])
    defaults = dict(out="runs", jobs=1)
    for option in ("summarize", "out", "dataset", "data_dir", "epochs", "max_train", "jobs",
                   "threads",
                   "shard", "launcher", "slurm_partition", "slurm_time", "slurm_cpus",
                   "slurm_mem", "slurm_setup", "slurm_option", "no_wait", "quiet"):
        value = getattr(args, option)
        flag = "--" + option.replace("_", "-")
        if value is None or value is False or value == defaults.get(option):
            continue
        if value is True:
            words.append(flag)
        elif isinstance(value, list):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return shlex.join(words)


def run(args) -> int:
    """``minisnip experiment``: check the flags, then list, summarize or run."""
    from . import EXPERIMENTS, list_experiments, run_experiment, summarize
    given = [name for name in RUN_ONLY if getattr(args, name) not in (None, False, 1)
             or (name == "jobs" and args.jobs != 1)]
    if args.list:
        if args.name or args.summarize or given:
            raise ValueError("--list shows every experiment; it takes no NAME and no run flags")
        rows = list_experiments(args.out)
        width = max(len(row["name"]) for row in rows)
        print(f"{'experiment':{width}s}  runs  done in {args.out}/  what")
        for row in rows:
            print(f"{row['name']:{width}s}  {row['runs']:4d}  {row['finished']:4d}{'':10s}"
                  f"{row['title']} [--dataset {' | '.join(row['datasets'])}]")
        from .registry import OTHER_FIGURES
        for name, (title, command) in OTHER_FIGURES.items():
            print(f"{name:{width}s}     -     -          {title}: `{command}`")
        return 0
    if not args.name:
        raise ValueError(f"which experiment? minisnip experiment NAME, with NAME one of: "
                         f"{', '.join(EXPERIMENTS)} (or --list)")
    overrides = {k: getattr(args, k) for k in ("dataset", "epochs", "max_train", "data_dir")
                 if getattr(args, k) is not None}
    if args.summarize:
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise ValueError(f"--summarize runs nothing; it does not take {flags}")
        summarize(args.name, args.out, overrides=overrides, command=command_line(args))
        return 0
    cluster = None
    if args.launcher:
        cluster = dict(partition=args.slurm_partition, time=args.slurm_time,
                       cpus=args.slurm_cpus, mem=args.slurm_mem, setup=args.slurm_setup or (),
                       options=args.slurm_option or ())
    else:
        slurm = [name for name in RUN_ONLY if name.startswith("slurm_") or name == "no_wait"]
        used = [n for n in slurm if getattr(args, n) not in (None, False)]
        if used:
            flags = ", ".join("--" + name.replace("_", "-") for name in used)
            raise ValueError(f"{flags} need --launcher slurm (or local)")
    run_experiment(args.name, args.out, overrides=overrides, quiet=args.quiet, jobs=args.jobs,
                   threads=args.threads, shard=args.shard, launcher=args.launcher,
                   cluster=cluster, wait=not args.no_wait, command=command_line(args))
    return 0
