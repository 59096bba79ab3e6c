"""The command line end to end on the bundled data: train, prune, resume, errors."""
import json

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
