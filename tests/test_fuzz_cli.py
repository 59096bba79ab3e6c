"""The command line under random bad arguments: every outcome is either a run that computed what
it reports, or a clean error that names the argument at fault. Never a traceback from inside
NumPy or Numba, never exit 0 with a result that was not computed."""
import json
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minisnip.cli import main

# What an error about each flag may call it (its flag, its setting's name, or its words).
NAMES = {
    "--epochs": ["--epochs", "epochs"],
    "--lr": ["--lr", "learning rate"],
    "--batch-size": ["--batch-size", "batch size"],
    "--seed": ["--seed", "seed"],
    "--sparsity": ["--sparsity", "sparsity"],
    "--prune-batch": ["--prune-batch", "prune batch"],
    "--max-train": ["--max-train", "max train"],
    "--momentum": ["--momentum", "momentum"],
    "--weight-decay": ["--weight-decay", "weight decay"],
    "--milestones": ["--milestones", "milestones"],
    "--init": ["--init"],
    "--model": ["--model"],
    "--pruner": ["--pruner"],
    "--optimizer": ["--optimizer"],
    "--dataset": ["--dataset"],
    "--data-dir": ["--data-dir"],
    "--json": ["--json"],
    "--checkpoint": ["--checkpoint", "checkpoint"],
    "--resume": ["--resume", "checkpoint"],
    "--out": ["--out"],
}

NUMBERS = ["0", "1", "-1", "-5", "2", "0.5", "1.5", "-0.1", "nan", "inf", "-inf", "1e9",
           "abc", "", "3.7"]


def _values(flag, tmp):
    if flag in ("--json", "--checkpoint", "--resume", "--out", "--data-dir"):
        return st.sampled_from([str(tmp), str(tmp / "missing" / "deeper" / "f"), "",
                                str(tmp / "ok.out"), str(tmp / "file.txt")])
    if flag in ("--init", "--model", "--pruner", "--optimizer", "--dataset"):
        return st.sampled_from(["bogus", "", "snip", "vs-x", "lenet300", "adam", "mnist",
                                "fashion-mini", "random"])
    if flag == "--milestones":
        return st.lists(st.sampled_from(NUMBERS), min_size=0, max_size=3)
    return st.sampled_from(NUMBERS)


@st.composite
def command_lines(draw, tmp):
    command = draw(st.sampled_from(["train", "prune"]))
    flags = sorted(NAMES) if command == "train" else \
        [f for f in NAMES if f not in ("--epochs", "--lr", "--batch-size", "--momentum",
                                       "--weight-decay", "--milestones", "--optimizer",
                                       "--checkpoint", "--resume")]
    if command == "train":
        flags.remove("--out")
    chosen = draw(st.lists(st.sampled_from(flags), min_size=1, max_size=3, unique=True))
    args = [command]
    mutated = {}
    for flag in chosen:
        value = draw(_values(flag, tmp))
        mutated[flag] = value
        args += [flag] + (value if isinstance(value, list) else [value])
    # keep a valid run small: a little data, at most one epoch, unless the fuzz chose otherwise
    defaults = {"--dataset": "fashion-mini", "--max-train": "60", "--epochs": "1",
                "--batch-size": "30"}
    if command == "prune":
        defaults = {"--dataset": "fashion-mini", "--max-train": "60", "--sparsity": "0.9",
                    "--out": str(tmp / "m.npz")}
    for flag, value in defaults.items():
        if flag not in mutated:
            args += [flag, value]
    if command == "train" and "--epochs" in mutated:
        try:
            if float(mutated["--epochs"]) > 2:
                args += ["--max-train", "30"] if "--max-train" not in mutated else []
        except ValueError:
            pass
    return args, mutated


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    (tmp / "file.txt").write_text("not a data set, not a checkpoint")
    return tmp


def _too_long(mutated):
    """Settings that would make a valid run long (many epochs of full data): not fuzzed."""
    for flag in ("--epochs", "--max-train"):
        try:
            if flag in mutated and float(mutated[flag]) > 1e3:
                return True
        except (TypeError, ValueError):
            pass
    return False


@pytest.fixture
def isolated(workdir, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(workdir / "cache"))
    monkeypatch.delenv("MINISNIP_DATA", raising=False)
    monkeypatch.chdir(workdir)
    return workdir


def _single(command, flag, value, workdir):
    """The command line with one flag set to ``value`` and small defaults for the rest."""
    args = [command, flag] + (value if isinstance(value, list) else [value])
    defaults = ({"--dataset": "fashion-mini", "--max-train": "60", "--epochs": "1",
                 "--batch-size": "30"} if command == "train" else
                {"--dataset": "fashion-mini", "--max-train": "60", "--sparsity": "0.9",
                 "--out": str(workdir / "m.npz")})
    for f, v in defaults.items():
        if f != flag:
            args += [f, v]
    return args, {flag: value}


SWEEP = [(command, flag, value) for command in ("train", "prune") for flag in NAMES
         for value in (NUMBERS if flag not in ("--json", "--checkpoint", "--resume", "--out",
                                               "--data-dir", "--init", "--model", "--pruner",
                                               "--optimizer", "--dataset", "--milestones")
                       else ["", "bogus", "-1", "nan", "0", "none/such/dir/f"])
         if not (command == "train" and flag == "--out")
         and not (command == "prune" and flag in ("--epochs", "--lr", "--batch-size",
                                                  "--momentum", "--weight-decay", "--milestones",
                                                  "--optimizer", "--checkpoint", "--resume"))
         and not (flag in ("--epochs", "--max-train") and value in ("1e9", "inf"))]


@pytest.mark.parametrize("command,flag,value", SWEEP)
def test_every_flag_with_every_odd_value(command, flag, value, isolated, capsys):
    _check(*_single(command, flag, value, isolated), isolated, capsys)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_bad_argument_combinations(data, isolated, capsys):
    args, mutated = data.draw(command_lines(isolated))
    if _too_long(mutated):
        return
    _check(args, mutated, isolated, capsys)


def _check(args, mutated, workdir, capsys):
    for leftover in ("ok.out", "m.npz"):
        if (workdir / leftover).exists():
            (workdir / leftover).unlink()
    code = main(args)        # any exception escaping main fails the test with its traceback
    out, err = capsys.readouterr()
    assert code in (0, 2), (args, code, err)
    if code == 2:
        assert "error" in err and "Traceback" not in err, (args, err)
        if "the training loss became" in err:   # a valid setting that diverges: said so
            return
        values = [v for value in mutated.values()
                  for v in (value if isinstance(value, list) else [value])]
        words = [w for flag in mutated for w in NAMES[flag]] + [v for v in values if len(v) > 3]
        assert any(w in err for w in words), (args, err)
        return
    # exit 0: what was reported was computed
    if args[0] == "train":
        assert "test error" in out, (args, out)
        if "--json" in mutated:
            record = json.loads(open(mutated["--json"]).read())
            assert math.isfinite(record["test_error"]) and record["history"] is not None
    else:
        out_path = mutated.get("--out", str(workdir / "m.npz"))
        assert os.path.exists(out_path) and "all prunable" in out, (args, out)
