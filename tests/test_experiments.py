"""`minisnip experiment`: a runner that cannot report stale or corrupt results, shards,
processes, submitit, and summaries that carry their settings."""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest

from minisnip import train
from minisnip.cli import main
from minisnip.experiments import (EXPERIMENTS, Experiment, grid, records, run_experiment,
                                  summarize)
from minisnip.experiments.pytorch_checks import PYTORCH_REFERENCE
from minisnip.experiments.runner import Progress, plan, select_shard

REPO = pathlib.Path(__file__).resolve().parent.parent
TINY = dict(dataset="fashion-mini", max_train=200, epochs=2, val_fraction=0.02)  # ~0.2 s a run


def tiny(seeds=(0,), **settings):
    return Experiment(
        name="tiny-test", title="Tiny test experiment",
        description="LeNet-300-100 on 200 fashion-mini images, 2 epochs",
        runs=grid(models=("lenet300",), sparsities=(0.0, 0.9), seeds=seeds,
                  pruners=("snip", "random"), **dict(TINY, **settings)),
        reference={("lenet300", "dense", 0.0): {0: 20.0, 1: 22.0},
                   ("lenet300", "snip", 0.9): {0: 21.0}},
        reference_source="numbers made up for this test", tolerance=0.8)


@pytest.fixture
def experiment(monkeypatch):
    exp = tiny()
    monkeypatch.setitem(EXPERIMENTS, exp.name, exp)
    return exp


@pytest.fixture
def ran(monkeypatch):
    """The configs train.run is called with (it still runs)."""
    calls, real = [], train.run

    def counting(config, *args, **kwargs):
        calls.append(config)
        return real(config, *args, **kwargs)

    monkeypatch.setattr(train, "run", counting)
    return calls


def experiment_cli(out, *flags):
    return main(["experiment", "tiny-test", "--out", str(out), "--quiet", *flags])


def runs_of(out):
    return sorted(os.listdir(pathlib.Path(out) / "tiny-test" / "runs"))


def summary_of(out):
    return json.loads((pathlib.Path(out) / "tiny-test" / "summary.json").read_text())


# --------------------------------------------------------------------------- the registry
def test_grid_runs_the_dense_network_once():
    runs = EXPERIMENTS["lenet300-fashion"].runs
    dense = [r for r in runs if not r.sparsity]
    assert len(dense) == 2 and {r.pruner for r in dense} == {"snip"}  # seeds 0 and 1
    assert len(runs) == 2 + 2 * 4 * 2  # + (snip, random) x 4 sparsities x 2 seeds


def test_every_experiment_plans_and_reads_like_the_paper_not_like_its_history():
    for name, exp in EXPERIMENTS.items():
        planned = plan(exp)
        assert len({run.key for run in planned}) == len(exp.runs)
        for text in (exp.title, exp.description, exp.reference_source):
            assert not re.search(r"\bissue\b", text, re.I), (name, text)
        pruners = {"dense"} | {c.pruner for c in exp.runs}
        for model, pruner, sparsity in exp.reference:
            assert model in {c.model for c in exp.runs} and pruner in pruners
    text = (REPO / "results" / "README.md").read_text()
    assert not re.search(r"\bissue \d", text, re.I)


def test_the_pytorch_reference_is_stored_per_seed_and_said_to_be_pytorch():
    assert PYTORCH_REFERENCE[("lenet300", "dense", 0.0)] == {0: 11.65, 1: 11.38}
    assert PYTORCH_REFERENCE[("lenet300", "snip", 0.99)] == {0: 18.59, 1: 17.26}
    assert PYTORCH_REFERENCE[("lenet5", "snip", 0.9)] == {0: 11.28, 1: 10.74}
    assert PYTORCH_REFERENCE[("lenet5", "dense", 0.0)] == {0: 9.09, 1: 9.20}
    for name in ("lenet300-fashion", "lenet5-fashion", "rnn-fashion"):
        markdown = (REPO / "results" / name / "summary.md").read_text()
        assert "PyTorch run of the same protocol" in markdown


def test_the_committed_summaries_are_complete_and_use_the_protocol():
    for name in ("lenet300-fashion", "lenet5-fashion", "rnn-fashion"):
        summary = json.loads((REPO / "results" / name / "summary.json").read_text())
        assert summary["runs"]["finished"] == summary["runs"]["planned"] == len(
            EXPERIMENTS[name].runs)
        assert summary["differs_from_protocol"] == [] and summary["reference"]["comparable"]


def test_a_summary_says_which_kernels_the_records_ran_and_does_not_guess_it(finished_folder,
                                                                           experiment, tmp_path):
    """Which kernels compute is outside the key: the summary reads it from the records (a
    pruned record from before sparse kernels ran densely), never from the declaration."""
    _copy(finished_folder, tmp_path)
    summary = summary_of(tmp_path)
    assert summary["sparse_kernels"] == {"auto": 2}  # SNIP and random at 0.9; dense has none
    assert all("sparse_kernels" not in group["values"] for group in summary["settings"])
    folder = tmp_path / "tiny-test" / "runs"
    older = next(p for p in sorted(folder.iterdir()) if "_snip_" in p.name)
    record = json.loads(older.read_text())
    del record["sparse_kernels"]
    older.write_text(json.dumps(record))
    assert experiment_cli(tmp_path, "--summarize") == 0
    assert summary_of(tmp_path)["sparse_kernels"] == {"auto": 1, "off": 1}
    markdown = (tmp_path / "tiny-test" / "summary.md").read_text()
    assert "Kernels of the pruned runs (`--sparse-kernels`; which kernels compute, not what: " \
           "the same numbers to float rounding): auto in 1, off in 1." in markdown
    assert "sparse_kernels" not in markdown


def test_a_mean_over_some_seeds_says_how_many():
    from minisnip.experiments.summary import mean_std
    row = dict(mean_test_error=10.36, std_test_error=0.0, test_errors=[10.36, 10.36, None])
    assert mean_std(row) == "10.36 ± 0.00 (2 of 3 seeds)"
    assert mean_std(dict(row, test_errors=[10.36, 10.36, 10.36])) == "10.36 ± 0.00"
    assert mean_std(dict(row, std_test_error=None, test_errors=[None, 10.36])) == \
        "10.36 (1 of 2 seeds)"
    assert mean_std(dict(mean_test_error=None, std_test_error=None,
                         test_errors=[None, None])) == ""


# ------------------------------------------------------------------ reuse, stale, resume
def test_a_quick_look_is_never_reported_as_the_full_experiment(experiment, ran, tmp_path,
                                                               capsys):
    """The issue's case: --epochs 1 for a quick look, then the experiment itself."""
    assert experiment_cli(tmp_path, "--epochs", "1") == 0
    quick = summary_of(tmp_path)
    assert [c.epochs for c in ran] == [1, 1, 1]
    assert {(d["setting"], d["used"], d["chosen_by"]) for d in quick["differs_from_protocol"]} >= {
        ("epochs", 1, "the command line")}
    assert not quick["reference"]["comparable"]
    assert all(row["difference"] is None for row in quick["table"])
    markdown = (tmp_path / "tiny-test" / "summary.md").read_text()
    assert "epochs = 1 instead of 2 (this experiment's; the protocol's 10)" in markdown
    assert "Not compared" in markdown
    assert "--epochs 1" in quick["command"]

    ran.clear()
    assert experiment_cli(tmp_path) == 0
    assert [c.epochs for c in ran] == [2, 2, 2]  # the quick look's records were not reused
    full = summary_of(tmp_path)
    assert full["runs"]["finished"] == 3 and full["ignored"]["other_settings"] == 3
    assert all(len(row["test_errors"]) == 1 for row in full["table"])
    for path in (tmp_path / "tiny-test" / "runs").iterdir():
        record = json.loads(path.read_text())
        assert record["config"]["epochs"] in (1, 2) and record["key"] in path.name
    used = {(d["setting"], d["chosen_by"]) for d in full["differs_from_protocol"]}
    assert used == {("epochs", "this experiment"), ("max_train", "this experiment"),
                    ("val_fraction", "this experiment")}
    assert full["reference"]["comparable"]
    dense = full["table"][0]
    assert dense["pruner"] == "dense" and dense["difference"] == pytest.approx(
        dense["mean_test_error"] - 20.0)

    ran.clear()
    assert experiment_cli(tmp_path) == 0
    assert ran == []  # finished records with the same key are reused


def test_a_killed_experiment_continues_where_it_stopped(experiment, monkeypatch, tmp_path):
    real, calls = train.run, []

    def interrupted_in_the_second_run(config, *args, **kwargs):
        calls.append(config)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(config, *args, **kwargs)

    monkeypatch.setattr(train, "run", interrupted_in_the_second_run)
    with pytest.raises(KeyboardInterrupt):
        run_experiment("tiny-test", str(tmp_path), quiet=True)
    assert len(runs_of(tmp_path)) == 1
    assert not (tmp_path / "tiny-test" / "summary.json").exists()
    calls.clear()
    monkeypatch.setattr(train, "run", lambda config: (calls.append(config), real(config))[1])
    run_experiment("tiny-test", str(tmp_path), quiet=True)
    assert [(c.pruner, c.sparsity) for c in calls] == [("snip", 0.9), ("random", 0.9)]
    assert len(runs_of(tmp_path)) == 3


SLOWER = dict(dataset="fashion-mini", max_train=800, epochs=2, val_fraction=0.02)  # ~0.5 s
DRIVER = f"""
import sys
from minisnip.experiments import Experiment, grid, register
register(Experiment(name="tiny-test", title="t", description="d",
                    runs=grid(models=("lenet300",), sparsities=(0.0, 0.9), seeds=(0, 1),
                              **{SLOWER!r})))
from minisnip.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_kill_9_leaves_only_whole_records_and_the_rerun_finishes_the_rest(monkeypatch, tmp_path,
                                                                          capsys):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-c", DRIVER, "experiment", "tiny-test", "--out", str(tmp_path),
               "--quiet"]
    runs = tmp_path / "tiny-test" / "runs"
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (runs.is_dir() and any(
                p.suffix == ".json" for p in runs.iterdir())):
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    finished = [p for p in runs.iterdir() if not p.name.startswith(".")]
    assert 1 <= len(finished) < 4, "the kill came too late to test anything"
    assert all(records.check_record(str(p)) for p in finished)
    exp = Experiment(name="tiny-test", title="t", description="d",  # the driver's, here
                     runs=grid(models=("lenet300",), sparsities=(0.0, 0.9), seeds=(0, 1), **SLOWER))
    monkeypatch.setitem(EXPERIMENTS, exp.name, exp)
    assert experiment_cli(tmp_path) == 0
    assert f"{len(finished)} finished, {4 - len(finished)} to run" in capsys.readouterr().out
    summary = summary_of(tmp_path)
    assert summary["runs"]["finished"] == 4
    assert [len(row["test_errors"]) for row in summary["table"]] == [2, 2]


# --------------------------------------------------------------------- corrupt records
@pytest.fixture(scope="module")
def finished_folder(tmp_path_factory):
    """The tiny experiment, run once for the tests that damage its records."""
    out = tmp_path_factory.mktemp("finished")
    exp = tiny()
    EXPERIMENTS[exp.name] = exp
    try:
        run_experiment(exp.name, str(out), quiet=True)
    finally:
        del EXPERIMENTS[exp.name]
    return out


def _copy(source, target):
    import shutil
    shutil.copytree(source / "tiny-test", target / "tiny-test")
    return target / "tiny-test" / "runs"


def _snip_record(runs):
    return next(p for p in runs.iterdir() if p.name.startswith("lenet300_snip_0.9_seed0_"))


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("corrupt", [
    lambda p: p.write_text(p.read_text()[:300]),
    lambda p: _edit(p, lambda d: d.pop("test_error")),
    lambda p: _edit(p, lambda d: d.update(key="f" * 16)),
    lambda p: _edit(p, lambda d: d["config"].update(epochs=1)),
    lambda p: p.write_text("null"),
], ids=["truncated", "no-test-error", "wrong-key-inside", "edited-config", "null"])
def test_a_corrupt_record_is_named_run_again_and_never_read(experiment, finished_folder, ran,
                                                            tmp_path, capsys, corrupt):
    runs = _copy(finished_folder, tmp_path)
    record = _snip_record(runs)
    corrupt(record)
    assert experiment_cli(tmp_path) == 0
    assert [(c.pruner, c.sparsity) for c in ran] == [("snip", 0.9)]
    assert f"{record.name}: " in capsys.readouterr().err
    assert records.check_record(str(record)).test_error >= 0  # replaced by a whole record
    summary = summary_of(tmp_path)
    assert summary["runs"]["finished"] == 3 and summary["ignored"]["problems"] == []


def test_copies_folders_and_temporary_files_are_ignored_not_counted(experiment, finished_folder,
                                                                    ran, tmp_path, capsys):
    runs = _copy(finished_folder, tmp_path)
    record = _snip_record(runs)
    (runs / "a (copy).json").write_text(record.read_text())
    (runs / f"{record.stem} (copy).json").write_text(record.read_text())
    (runs / "lenet300_snip_0.9_seed1.json").write_text(record.read_text())
    (runs / "subfolder").mkdir()
    (runs / f".{record.name}.tmp-otherhost-99-x1y2").write_text(record.read_text()[:40])
    assert experiment_cli(tmp_path) == 0
    assert ran == []
    err = capsys.readouterr().err
    for name in ("a (copy).json", f"{record.stem} (copy).json", "lenet300_snip_0.9_seed1.json",
                 "subfolder"):
        assert f"{name}: " in err and "ignored" in err
    assert "1 temporary file(s)" in err
    summary = summary_of(tmp_path)
    assert [len(row["test_errors"]) for row in summary["table"]] == [1, 1, 1]
    assert len(summary["ignored"]["problems"]) == 4
    assert experiment_cli(tmp_path, "--summarize") == 0  # the summary alone survives them too
    assert [len(row["test_errors"]) for row in summary_of(tmp_path)["table"]] == [1, 1, 1]


# --------------------------------------------------------------------------- summaries
def _fake(out, config, error):
    config = config.resolved()
    folder = out / "tiny-test" / "runs"
    return records.write_record(str(folder), config, records.config_key(config),
                                dict(test_error=error), command="made by the test")


def test_summary_compares_with_the_reference_seed_by_seed(monkeypatch, tmp_path):
    exp = tiny(seeds=(0, 1))
    monkeypatch.setitem(EXPERIMENTS, exp.name, exp)
    errors = {("dense", 0): 19.0, ("dense", 1): 20.0, ("snip", 0): 22.5, ("snip", 1): 30.0,
              ("random", 0): 40.0}
    for config in exp.runs:
        label = config.pruner if config.sparsity else "dense"
        if (label, config.seed) in errors:
            _fake(tmp_path, config, errors[(label, config.seed)])
    summary = summarize("tiny-test", str(tmp_path), quiet=True)
    table = {row["pruner"]: row for row in summary["table"]}
    assert table["dense"]["mean_test_error"] == 19.5 and table["dense"]["seeds"] == [0, 1]
    assert table["dense"]["difference"] == pytest.approx(19.5 - 21.0)  # both seeds
    assert table["dense"]["within_tolerance"] is False
    assert table["snip"]["difference"] == pytest.approx(22.5 - 21.0)  # seed 0 only: no seed-1 ref
    assert table["snip"]["compared_seeds"] == [0]
    assert table["random"]["test_errors"] == [40.0, None]  # seed 1 not run: not invented
    assert table["random"]["reference"] == [None, None] and table["random"]["difference"] is None
    assert summary["runs"]["missing"] and "random_0.9_seed1" in summary["runs"]["missing"][0]
    markdown = (tmp_path / "tiny-test" / "summary.md").read_text()
    assert "| lenet300 | random | 0.9 | 0, 1 | 40.00 / not run | 40.00 |  |  |  |" in markdown
    assert "| lenet300 | dense | 0 | 0, 1 | 19.00 / 20.00 | 19.50 | 20.00 / 22.00 | -1.50 | no |" \
        in markdown
    assert "`made by the test` (5)" in markdown
    assert (tmp_path / "tiny-test" / "summary.png").stat().st_size > 0


def test_summarize_runs_nothing_and_rebuilds_the_table(experiment, finished_folder, monkeypatch,
                                                       tmp_path):
    _copy(finished_folder, tmp_path)
    before = summary_of(tmp_path)["table"]
    for name in ("summary.json", "summary.md", "summary.png"):
        (tmp_path / "tiny-test" / name).unlink()
    monkeypatch.setattr(train, "run", lambda *a, **k: pytest.fail("--summarize ran something"))
    assert experiment_cli(tmp_path, "--summarize") == 0
    assert summary_of(tmp_path)["table"] == before
    assert "--summarize" in summary_of(tmp_path)["command"]
    _snip_record(tmp_path / "tiny-test" / "runs").unlink()
    assert experiment_cli(tmp_path, "--summarize") == 0
    rows = summary_of(tmp_path)["table"]
    assert [row["test_errors"] == [None] for row in rows] == [False, True, False]


def test_list_shows_every_experiment_with_its_run_count(experiment, finished_folder, capsys):
    assert main(["experiment", "--list", "--out", str(finished_folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, exp in EXPERIMENTS.items():
        line = next(line for line in lines if line.startswith(name + " "))
        done = 3 if name == "tiny-test" else 0
        assert line.split()[1:3] == [str(len(exp.runs)), str(done)], line


def test_the_progress_line_counts_runs_and_estimates_the_rest():
    import io
    stream = io.StringIO()
    progress = Progress("exp", total=6, reused=2, parallel=2, stream=stream)
    assert "estimate after the first run" in progress.line()
    progress.finished(60.0)
    progress.finished(120.0)
    line = stream.getvalue().splitlines()[-1]
    assert line.startswith("[exp] runs done 4/6 (2 reused) | elapsed 0:00:0")
    assert line.endswith("about 0:01:30 left")  # 2 left x 90 s / 2 at a time
    progress.finished(1.0)
    progress.finished(1.0)
    assert stream.getvalue().splitlines()[-1].endswith("all done")


def test_the_estimate_counts_each_run_at_the_time_of_its_own_kind():
    import io
    stream = io.StringIO()
    kinds = ["lenet300", "lenet300", "lenet300", "lstm-s", "lstm-s"]
    progress = Progress("exp", total=5, reused=0, parallel=1, stream=stream,
                        pending_kinds=kinds)
    progress.finished(10.0, "lenet300")
    assert progress.line().endswith(
        "about 0:00:40 left (lstm-s not timed yet: counted at the mean run)")
    progress.finished(20.0, "lenet300")
    progress.finished(600.0, "lstm-s")
    # one LeNet left at 15 s, one LSTM at 600 s: not 4 x the mean of 210 s
    assert progress.line().endswith("about 0:10:15 left")
    progress.finished(15.0, "lenet300")
    assert progress.line().endswith("about 0:10:00 left")
    progress.finished(600.0, "lstm-s")
    assert progress.line().endswith("all done")


@pytest.mark.parametrize("flags", [(), ("--jobs", "2")])
def test_the_runner_tells_progress_the_kind_of_each_run_and_logs_as_it_goes(
        experiment, monkeypatch, tmp_path, flags):
    import subprocess
    from minisnip.experiments import launchers
    kinds, streams, real_finished, real_popen = [], [], Progress.finished, subprocess.Popen
    monkeypatch.setattr(Progress, "finished", lambda self, seconds, kind=None: (
        kinds.append(kind), real_finished(self, seconds, kind)))

    def popen(*args, **kwargs):
        streams.append(getattr(kwargs.get("stdout"), "name", None))
        return real_popen(*args, **kwargs)
    monkeypatch.setattr(launchers.subprocess, "Popen", popen)
    assert experiment_cli(tmp_path, *flags) == 0
    assert kinds == ["lenet300"] * 3
    if flags:  # each worker writes straight into its log, which a user can follow
        logs = tmp_path / "tiny-test" / "logs"
        assert sorted(streams) == sorted(str(path) for path in logs.iterdir())


# ------------------------------------------------------------------------------ shards
def test_shards_together_are_exactly_the_whole_experiment(experiment, finished_folder, ran,
                                                         tmp_path, capsys):
    whole = finished_folder
    assert experiment_cli(tmp_path, "--shard", "0/2") == 0
    first = [records.config_key(c) for c in ran]
    assert not (tmp_path / "tiny-test" / "summary.json").exists()  # not the whole experiment yet
    assert f"When they are: minisnip experiment tiny-test --summarize --out {tmp_path}" in \
        capsys.readouterr().out
    ran.clear()
    assert experiment_cli(tmp_path, "--shard", "1/2") == 0
    second = [records.config_key(c) for c in ran]
    planned = plan(experiment)
    assert first == [r.key for r in planned[0::2]] and second == [r.key for r in planned[1::2]]
    assert runs_of(tmp_path) == runs_of(whole) and len(runs_of(whole)) == 3
    for name in runs_of(whole):
        a = json.loads((whole / "tiny-test" / "runs" / name).read_text())
        b = json.loads((tmp_path / "tiny-test" / "runs" / name).read_text())
        assert a["test_error"] == b["test_error"] and a["config"] == b["config"]
    assert summary_of(tmp_path)["table"] == summary_of(whole)["table"]  # the last shard wrote it


def test_a_shard_does_not_depend_on_what_is_finished():
    planned = plan(tiny(seeds=(0, 1, 2)))
    shards = [select_shard(planned, (i, 3)) for i in range(3)]
    assert sorted(r.index for shard in shards for r in shard) == list(range(len(planned)))
    assert select_shard(planned[1:], (1, 3)) == shards[1]


@pytest.mark.parametrize("flags,message", [
    (["--shard", "2/2"], "0 <= I < N"),
    (["--shard", "1"], "I/N"),
    (["--shard", "a/b"], "I/N"),
    (["--jobs", "0"], "--jobs"),
    (["--threads", "0"], "--threads"),
    (["--max-train", "0"], "--max-train"),
    (["--epochs", "-1"], "epochs must be >= 0"),
    (["--summarize", "--jobs", "2"], "--summarize runs nothing"),
    (["--slurm-time", "5"], "need --launcher"),
    (["--launcher", "local", "--slurm-time", "0"], "--slurm-time"),
])
def test_bad_flags_are_refused_before_any_work(experiment, ran, tmp_path, capsys, flags,
                                               message):
    assert experiment_cli(tmp_path / "out", *flags) == 2
    assert message in capsys.readouterr().err
    assert ran == [] and not (tmp_path / "out").exists()


def test_list_and_name_errors(capsys):
    assert main(["experiment"]) == 2
    assert "lenet300-fashion" in capsys.readouterr().err
    assert main(["experiment", "table-9"]) == 2
    assert "--list" in capsys.readouterr().err
    assert main(["experiment", "--list", "lenet300-fashion"]) == 2


# ---------------------------------------------------------------- processes, submitit
def test_jobs_run_in_processes_that_share_the_cores_and_report_failures(
        experiment, finished_folder, monkeypatch, tmp_path, capsys):
    import numba
    threads = numba.get_num_threads()
    failing = grid(models=("alexnet-s",), sparsities=(0.0,), **TINY)  # cannot take 28x28x1
    exp = Experiment(name="tiny-test", title="t", description="d",
                     runs=experiment.runs + failing)  # last: the good runs have all started
    monkeypatch.setitem(EXPERIMENTS, exp.name, exp)
    assert experiment_cli(tmp_path, "--jobs", "2") == 1
    assert numba.get_num_threads() == threads  # the parent's thread count is untouched
    assert runs_of(tmp_path) == runs_of(finished_folder)
    cores = len(os.sched_getaffinity(0))
    for name in runs_of(tmp_path):
        record = json.loads((tmp_path / "tiny-test" / "runs" / name).read_text())
        assert record["threads"] == max(1, cores // 2) and record["host"]
        assert "--jobs 2" in record["command"]
    captured = capsys.readouterr()
    assert "runs done 3/4 (0 reused)" in captured.out
    assert "1 run(s) failed: alexnet-s_dense_seed0" in captured.err
    assert "cannot take the fashion-mini inputs" in captured.err  # the log's tail
    logs = tmp_path / "tiny-test" / "logs"
    assert len(list(logs.iterdir())) == 4
    assert not (tmp_path / "tiny-test" / "summary.json").exists()


def test_the_local_submitit_launcher_writes_the_same_records(experiment, finished_folder,
                                                             tmp_path, monkeypatch):
    pytest.importorskip("submitit")
    credited, real_finished = [], Progress.finished
    monkeypatch.setattr(Progress, "finished", lambda self, seconds, kind=None: (
        credited.append((kind, seconds)), real_finished(self, seconds, kind)))
    assert experiment_cli(tmp_path, "--launcher", "local", "--jobs", "2",
                          "--slurm-time", "5") == 0
    assert runs_of(tmp_path) == runs_of(finished_folder)
    walls = sorted(json.loads((tmp_path / "tiny-test" / "runs" / name).read_text())[
        "wall_seconds"] for name in runs_of(tmp_path))
    assert sorted(seconds for _, seconds in credited) == walls  # each run its own time
    assert [kind for kind, _ in credited] == ["lenet300"] * 3
    cores = len(os.sched_getaffinity(0))
    for name in runs_of(tmp_path):
        record = json.loads((tmp_path / "tiny-test" / "runs" / name).read_text())
        assert record["threads"] == max(1, cores // 2)
        assert "--launcher local" in record["command"]
    assert summary_of(tmp_path)["runs"]["finished"] == 3


def test_slurm_options_reach_the_sbatch_script(experiment, monkeypatch, ran, tmp_path):
    """Real submitit, a fake cluster: `srun` exists and `sbatch` keeps the script it is given."""
    pytest.importorskip("submitit")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "srun").write_text("#!/bin/sh\nexit 0\n")
    (bin_ / "sbatch").write_text(f"#!/bin/sh\ncp \"$1\" {tmp_path}/script.sh\n"
                                 f"echo Submitted batch job 4242\n")
    for tool in ("srun", "sbatch"):
        (bin_ / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_}{os.pathsep}{os.environ['PATH']}")
    assert experiment_cli(tmp_path / "out", "--launcher", "slurm", "--jobs", "2", "--no-wait",
                          "--slurm-partition", "cpu", "--slurm-time", "30", "--slurm-cpus", "4",
                          "--slurm-mem", "8", "--slurm-setup", "source venv/bin/activate",
                          "--slurm-option", "account=proj") == 0
    script = (tmp_path / "script.sh").read_text()
    for line in ("#SBATCH --array=0-2%2", "#SBATCH --partition=cpu", "#SBATCH --time=30",
                 "#SBATCH --cpus-per-task=4", "#SBATCH --mem=8GB", "#SBATCH --account=proj",
                 "export NUMBA_NUM_THREADS=4", "export OMP_NUM_THREADS=4",
                 f"export PYTHONPATH={REPO}", "source venv/bin/activate"):
        assert line in script, line
    assert ran == [] and not (tmp_path / "out" / "tiny-test" / "summary.json").exists()


def test_a_missing_submitit_is_a_clear_error_before_any_work(experiment, monkeypatch, ran,
                                                             tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "submitit", None)  # import submitit raises ImportError
    assert experiment_cli(tmp_path / "out", "--launcher", "slurm") == 1
    captured = capsys.readouterr()
    assert 'pip install -e ".[cluster]"' in captured.err
    assert captured.out == ""  # refused before planning or reading anything
    assert ran == [] and not (tmp_path / "out").exists()
