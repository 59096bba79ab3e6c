"""The command line end to end on the bundled data: train, prune, resume, errors."""
import json
import os

import numpy as np
import pytest

from minisnip.cli import main

QUICK = ["--dataset", "fashion-mini", "--max-train", "600", "--batch-size", "50"]


def test_train_with_pruning_writes_the_record(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["train", "--model", "lenet300", "--epochs", "2", "--seed", "0",
                 "--sparsity", "0.9", "--json", str(out)] + QUICK) == 0
    record = json.loads(out.read_text())
    for key in ("test_error", "val_error", "epochs", "seconds", "model", "dataset", "seed",
                "sparsity", "kept", "prunable"):
        assert key in record
    assert record["prunable"] == 266_200 and record["kept"] == round(0.1 * 266_200)
    assert abs(record["sparsity"] - 0.9) < 1e-6
    assert len(record["pruning"]["layers"]) == 3
    printed = capsys.readouterr().out
    assert "fc1.weight" in printed and "epoch   2/2" in printed and "img/s" in printed


def test_resume_gives_the_same_numbers(tmp_path):
    full, part = tmp_path / "full.json", tmp_path / "part.json"
    ckpt = tmp_path / "run.ckpt"
    common = ["train", "--model", "lenet300", "--seed", "3", "--sparsity", "0.5",
              "--milestones", "1", "2", "--quiet"] + QUICK
    assert main(common + ["--epochs", "3", "--json", str(full)]) == 0
    assert main(common + ["--epochs", "1", "--checkpoint", str(ckpt)]) == 0
    assert main(common + ["--epochs", "3", "--resume", str(ckpt), "--json", str(part)]) == 0
    a, b = json.loads(full.read_text()), json.loads(part.read_text())
    assert a["test_error"] == b["test_error"] and a["val_error"] == b["val_error"]
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]


def test_resume_of_a_conv_net_gives_the_same_numbers(tmp_path):
    full, part, ckpt = tmp_path / "full.json", tmp_path / "part.json", tmp_path / "run.ckpt"
    common = ["train", "--model", "lenet5", "--seed", "1", "--sparsity", "0.9", "--quiet",
              "--dataset", "fashion-mini", "--max-train", "300", "--batch-size", "100"]
    assert main(common + ["--epochs", "2", "--json", str(full)]) == 0
    assert main(common + ["--epochs", "1", "--checkpoint", str(ckpt)]) == 0
    assert main(common + ["--epochs", "2", "--resume", str(ckpt), "--json", str(part)]) == 0
    a, b = json.loads(full.read_text()), json.loads(part.read_text())
    assert a["test_error"] == b["test_error"] and a["kept"] == b["kept"]


def test_prune_command_writes_masks(tmp_path):
    out, rep = tmp_path / "mask.npz", tmp_path / "rep.json"
    assert main(["prune", "--model", "lenet300", "--dataset", "fashion-mini", "--sparsity",
                 "0.98", "--out", str(out), "--json", str(rep)]) == 0
    masks = np.load(out)
    assert sum(int(masks[k].sum()) for k in masks.files) == round(0.02 * 266_200)
    assert json.loads(rep.read_text())["kept"] == round(0.02 * 266_200)


@pytest.mark.parametrize("args,match", [
    (["--sparsity", "1.5"], "sparsity must be a fraction in"),
    (["--lr", "-1"], "learning rate must be > 0"),
    (["--model", "lenet9000"], "invalid choice: 'lenet9000'"),
    (["--dataset", "mnist", "--data-dir", "/nonexistent"], "/nonexistent"),
    (["--model", "alexnet-s"], "--model alexnet-s cannot take the fashion-mini inputs"),
])
def test_bad_input_gives_a_clear_error(args, match, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("MINISNIP_DATA", raising=False)
    base = ["train", "--model", "lenet300", "--dataset", "fashion-mini", "--epochs", "1"]
    assert main(base + args) == 2
    assert match in capsys.readouterr().err


def test_corrupt_checkpoint_on_resume_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"garbage")
    assert main(["train", "--model", "lenet300", "--resume", str(bad)] + QUICK) == 2
    assert "bad.ckpt" in capsys.readouterr().err


def test_models_lists_lenet300(capsys):
    assert main(["models"]) == 0
    assert "lenet300" in capsys.readouterr().out


def test_figure2_writes_picture_and_data(tmp_path):
    assert main(["figure2", "--dataset", "fashion-mini", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "figure2_fashion-mini.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "figure2_fashion-mini.json").read_text())
    picture = np.array(data["kept_fraction_per_pixel"]["Trouser"])
    assert picture.shape == (28, 28) and 0 < picture.mean() < 0.1  # fc1 keeps under 5%
    assert picture.max() > 2 * picture.min()  # pixels are kept unevenly: that is the figure


@pytest.mark.parametrize("scheme,std", [("rn", 0.1), ("vs-x", (2 / (784 + 300)) ** 0.5)])
def test_reinit_draws_from_the_runs_initialization(scheme, std):
    """--pruner snip-reinit re-draws the kept weights from --init, not from a fixed scheme."""
    from minisnip.train import RunConfig, run
    _, model = run(RunConfig(model="lenet300", dataset="fashion-mini", epochs=0, init=scheme,
                             sparsity=0.5, pruner="snip-reinit", quiet=True), return_model=True)
    kept = model.fc1.weight.data[model.fc1.c.data == 1]
    assert abs(kept.std() / std - 1) < 0.05


def test_prune_command_validates_like_train(tmp_path, capsys):
    out = tmp_path / "mask.npz"
    assert main(["prune", "--model", "lenet300", "--dataset", "fashion-mini", "--sparsity",
                 "0.9", "--prune-batch", "0", "--out", str(out)]) == 2
    assert "prune batch must be >= 1" in capsys.readouterr().err and not out.exists()


def test_a_dense_run_resumes(tmp_path):
    full, part, ckpt = tmp_path / "full.json", tmp_path / "part.json", tmp_path / "d.ckpt"
    common = ["train", "--model", "lenet300", "--quiet", "--milestones", "1"] + QUICK
    assert main(common + ["--epochs", "2", "--json", str(full)]) == 0
    assert main(common + ["--epochs", "1", "--checkpoint", str(ckpt)]) == 0
    assert main(common + ["--epochs", "2", "--resume", str(ckpt), "--json", str(part)]) == 0
    a, b = json.loads(full.read_text()), json.loads(part.read_text())
    assert a["test_error"] == b["test_error"] and b["sparsity"] == 0.0 and "pruning" not in b
    assert b["resumed"] == dict(checkpoint=str(ckpt), after_epoch=1, epochs_before=1,
                                epochs_now=2)


@pytest.mark.parametrize("flag,value,name", [
    ("--lr", "0.05", "lr"), ("--sparsity", "0.8", "sparsity"), ("--seed", "4", "seed"),
    ("--dataset", "fashion-mnist", "dataset"), ("--batch-size", "25", "batch_size"),
    ("--pruner", "random", "pruner"), ("--epochs", "0", "epochs"),
])
def test_resume_refuses_other_settings_naming_them(tmp_path, capsys, flag, value, name):
    ckpt, out = tmp_path / "run.ckpt", tmp_path / "r.json"
    common = ["train", "--model", "lenet300", "--quiet", "--sparsity", "0.5"] + QUICK
    assert main(common + ["--epochs", "1", "--checkpoint", str(ckpt)]) == 0
    args = common + ["--epochs", "2", "--resume", str(ckpt), "--json", str(out)]
    args = args[:args.index(flag)] + args[args.index(flag) + 2:] if flag in args else args
    assert main(args + [flag, value]) == 2
    err = capsys.readouterr().err
    assert f"{name}:" in err and "--resume" in err and not out.exists()


def test_checkpoint_and_resume_on_the_same_path_start_then_continue(tmp_path, capsys):
    ckpt = tmp_path / "run.ckpt"
    common = ["train", "--model", "lenet300", "--checkpoint", str(ckpt), "--resume",
              str(ckpt)] + QUICK
    assert main(common + ["--epochs", "1"]) == 0
    assert "no checkpoint at" in capsys.readouterr().out
    assert main(common + ["--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "epoch   1/2" not in out and "epoch   2/2" in out


@pytest.mark.parametrize("args,match", [
    (["--max-train", "0"], "max train"),
    (["--max-train", "-5"], "max train"),
    (["--seed", "-1"], "seed must be a non-negative integer"),
    (["--milestones", "-1"], "milestones must be epochs >= 1"),
    (["--pruner", "random"], "--pruner random given without --sparsity"),
    (["--momentum", "-0.5"], "momentum must be >= 0"),
    (["--weight-decay", "nan"], "weight decay must be a finite number"),
    (["--momentum", "inf"], "momentum must be a finite number"),
    (["--data-dir", "/tmp"], "given for fashion-mini"),
    (["--resume", ""], "--resume: empty path"),
    (["--checkpoint", ""], "checkpoint: empty path"),
])
def test_bad_settings_are_refused_before_any_work(args, match, capsys):
    base = ["train", "--model", "lenet300", "--dataset", "fashion-mini", "--epochs", "1"]
    assert main(base + args) == 2
    captured = capsys.readouterr()
    assert match in captured.err and "epoch" not in captured.out


@pytest.mark.parametrize("target", ["directory", "unwritable"])
def test_output_paths_are_checked_before_any_work(tmp_path, capsys, target):
    if target == "directory":
        path = tmp_path
    else:
        (tmp_path / "ro").mkdir(mode=0o500)
        path = tmp_path / "ro" / "r.json"
        if os.access(tmp_path / "ro", os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
    for cmd in (["train", "--json", str(path), "--epochs", "1"] + QUICK,
                ["train", "--checkpoint", str(path), "--epochs", "1"] + QUICK,
                ["prune", "--sparsity", "0.9", "--out", str(path)] + QUICK[:4]):
        assert main(cmd + ["--model", "lenet300"]) == 2
        captured = capsys.readouterr()
        assert str(path) in captured.err and "epoch" not in captured.out \
            and "all prunable" not in captured.out


def test_a_nan_loss_stops_training_at_that_step(capsys):
    assert main(["train", "--model", "lenet300", "--lr", "1e12", "--epochs", "3"] + QUICK) == 2
    err = capsys.readouterr().err
    assert "training loss became" in err and "at step" in err


def test_out_of_memory_says_what_to_lower(monkeypatch, capsys):
    import minisnip.train
    def exhausted(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr(minisnip.train, "run", exhausted)
    assert main(["train", "--model", "lenet5", "--batch-size", "60000"] + QUICK[:4]) == 2
    assert "lower --batch-size (now 60000)" in capsys.readouterr().err


def test_pruning_warnings_are_printed_once(capsys, tmp_path):
    assert main(["prune", "--model", "lenet300", "--sparsity", "0.99999", "--pruner", "random",
                 "--out", str(tmp_path / "m.npz"), "--dataset", "fashion-mini"]) == 0
    err = capsys.readouterr().err
    assert err.count("cut off entirely") == 1 and err.startswith("minisnip: warning:")


def test_writing_to_a_pipe_or_device_writes_through_it(tmp_path):
    """`--out /dev/null` must not rename a temporary file over the device (tested on a named
    pipe, so that a regression cannot replace the machine's /dev/null)."""
    import stat
    import threading
    from minisnip.files import write_json
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo).read()), daemon=True)
    reader.start()
    write_json(str(fifo), {"a": 1})
    reader.join(timeout=10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and received   # (a daemon: never hangs)
    assert json.loads(received[0]) == {"a": 1}
