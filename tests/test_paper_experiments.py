"""The paper's figures and tables as experiments: the settings they add (score_init,
shuffled_labels, the whole training split as the scoring batch), the runner's part (--dataset,
data looked for first, runs shared between experiments), and every experiment end to end on
tiny data: fast versions (same table and figure functions, a few tiny runs) in the default
suite, each registered experiment's whole grid with --epochs 1 under -m slow."""
import json
import os
import pathlib

import numpy as np
import pytest

from minisnip import data, streams, train
from minisnip.cli import main
from minisnip.experiments import EXPERIMENTS, Experiment, grid, records, run_experiment
from minisnip.experiments import figure1, figure3, figure4, table1, table2, table3
from minisnip.experiments.summary import new_figure
from minisnip.train import RunConfig

TINY = dict(dataset="fashion-mini", max_train=200, epochs=1, val_fraction=0.02)
PAPER = ("figure1", "table1", "figure3", "table2-cifar10", "table2-rnn", "table3", "figure4")


@pytest.fixture(autouse=True)
def isolated_data(monkeypatch, tmp_path):
    """No data set is found anywhere but where a test puts it (or the bundled fashion-mini)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINISNIP_DATA", raising=False)


@pytest.fixture
def ran(monkeypatch):
    calls, real = [], train.run

    def counting(config, *args, **kwargs):
        calls.append(config)
        return real(config, *args, **kwargs)

    monkeypatch.setattr(train, "run", counting)
    return calls


def register_test(monkeypatch, name="paper-test", **fields):
    fields.setdefault("title", "test experiment")
    fields.setdefault("description", "made by the tests")
    experiment = Experiment(name=name, **fields)
    monkeypatch.setitem(EXPERIMENTS, name, experiment)
    return experiment


def summary_of(out, name):
    folder = pathlib.Path(out) / name
    assert (folder / "summary.png").stat().st_size > 1000
    return json.loads((folder / "summary.json").read_text()), (folder / "summary.md").read_text()


def write_mnist_idx(folder, n_train=300, n_test=100, seed=0):
    """MNIST-shaped data in the official IDX format (gzip), with learnable labels: the label
    is drawn as a bright bar at a row given by the class."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 60, (n, 28, 28))
        images[np.arange(n), 2 + 2 * labels] = 255
        data.write_idx(os.path.join(folder, f"{split}-images-idx3-ubyte.gz"), images)
        data.write_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte.gz"), labels)
    return folder


def write_cifar_binary(folder, per_file=6, seed=0):
    """CIFAR-10's official binary layout: records of 1 label byte + 3072 pixel bytes, in
    data_batch_1..5.bin and test_batch.bin."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for name in data.CIFAR_TRAIN + data.CIFAR_TEST:
        rows = np.concatenate([rng.integers(0, 10, (per_file, 1)),
                               rng.integers(0, 256, (per_file, 3072))], axis=1)
        rows.astype(np.uint8).tofile(os.path.join(folder, name))
    return folder


# ------------------------------------------------------------------- what --list shows
def test_list_shows_every_figure_and_table_of_the_paper(capsys, tmp_path):
    assert main(["experiment", "--list", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in PAPER + ("figure2",):
        assert any(line.startswith(name + " ") for line in out.splitlines()), name
    assert "minisnip figure2" in out and "[--dataset cifar10]" in out


def test_the_paper_experiments_plan_their_runs():
    counts = {name: len(EXPERIMENTS[name].runs) for name in PAPER}
    assert counts == {"figure1": 32, "table1": 12, "figure3": 10, "table2-cifar10": 16,
                      "table2-rnn": 8, "table3": 48, "figure4": 5}
    figure1_keys = {r.key for r in runner_plan("figure1")}
    assert {r.key for r in runner_plan("table1")} <= figure1_keys  # Table 1 costs nothing more
    assert {r.key for r in runner_plan("lenet5-fashion")} <= figure1_keys
    shared = {r.key for r in runner_plan("lenet300-fashion")} & figure1_keys
    assert len(shared) == 2 + 2 * 4  # dense and SNIP 0.9-0.99, two seeds
    rnn = {r.key for r in runner_plan("rnn-fashion")}
    assert rnn <= {r.key for r in runner_plan("table2-rnn")}
    for run in runner_plan("table3"):
        config = run.config
        assert (config.optimizer, config.lr, config.weight_decay, config.sparsity) == \
            ("adam", 1e-3, 0.0, 0.9) and config.score_init in ("rn", "tn", "vs-x", "vs-h")
    for run in runner_plan("table2-cifar10"):
        assert (run.config.batch_size, run.config.milestones, run.config.epochs,
                run.config.augment) == (128, (85, 170), 256, True)


def runner_plan(name, **overrides):
    from minisnip.experiments.runner import plan
    return plan(EXPERIMENTS[name], overrides)


# ------------------------------------------------------------------ the new settings
def test_new_settings_at_their_defaults_keep_every_key():
    base = RunConfig(sparsity=0.9)
    assert records.config_key(base) == records.config_key(
        RunConfig(sparsity=0.9, score_init=None, shuffled_labels=False))
    assert records.ADDED_SETTINGS == {"score_init": None, "shuffled_labels": False,
                                      "sparse_kernels": "off"}
    for changed in (RunConfig(sparsity=0.9, score_init="rn"),
                    RunConfig(sparsity=0.9, shuffled_labels=True),
                    RunConfig(sparsity=0.9, prune_batch=None)):
        assert records.config_key(changed) != records.config_key(base)


def test_score_init_scores_its_own_draw_and_training_starts_from_the_init_weights():
    config = RunConfig(model="lenet300", sparsity=0.9, epochs=0, score_init="rn", **{
        k: v for k, v in TINY.items() if k != "epochs"})
    resolved, data_, model = train.setup(config)
    dense_start = [w.data.copy() for _, w, _ in model.named_masks()]
    _, record = train.prune_at_init(resolved, model, data_)

    # the mask is the one SNIP gives on an RN network drawn from the SCORE_INIT stream
    from minisnip.models import build_model
    from minisnip.nn import init
    from minisnip.pruners import prune
    scored = build_model("lenet300")
    init.initialize(scored, "rn", rng=streams.generator(0, streams.SCORE_INIT))
    xp, yp = train.pruning_batch(resolved, data_)
    prune(scored, xp, yp, 0.9)
    for (_, w, c), (_, _, expected), start in zip(model.named_masks(), scored.named_masks(),
                                                  dense_start):
        np.testing.assert_array_equal(c.data, expected.data)
        np.testing.assert_array_equal(w.data, start * c.data)  # the INIT (VS-X) weights, masked
    assert record["kept"] == round(0.1 * record["prunable"])
    # and it is not the mask of the weights that are trained
    same = build_model("lenet300")
    init.initialize(same, "vs-x", rng=streams.generator(0, streams.INIT))
    prune(same, xp, yp, 0.9)
    assert not all(np.array_equal(a.data, b.data) for (_, _, a), (_, _, b) in
                   zip(model.named_masks(), same.named_masks()))


@pytest.mark.parametrize("settings,message", [
    (dict(score_init="rn"), "only matters when pruning"),
    (dict(score_init="rn", sparsity=0.9, pruner="snip-reinit"), "-reinit would change nothing"),
    (dict(score_init="glorot", sparsity=0.9), "score init must be one of"),
    (dict(prune_batch=0, sparsity=0.9), "prune batch must be >= 1"),
])
def test_bad_scoring_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        train.validate(RunConfig(**settings))


def test_shuffled_labels_train_on_a_permutation_and_prune_on_the_true_labels(monkeypatch):
    config = RunConfig(model="lenet300", sparsity=0.9, shuffled_labels=True, **TINY)
    resolved, data_, _ = train.setup(config)
    labels = train.training_labels(resolved, data_)
    assert np.array_equal(np.bincount(labels), np.bincount(data_.y_train))  # a permutation
    assert np.mean(labels != data_.y_train) > 0.5
    assert np.array_equal(labels, train.training_labels(resolved, data_))  # seeded
    assert np.array_equal(train.training_labels(RunConfig(**TINY), data_), data_.y_train)

    import minisnip.pruners as pruners
    seen, trained, real_prune, real_epoch = {}, [], pruners.prune, train.train_epoch

    def spy_prune(model, *args, batches=None, **kwargs):
        seen["targets"] = np.concatenate([y for _, y in batches])
        return real_prune(model, *args, batches=batches, **kwargs)

    def spy_epoch(model, optimizer, x, y, **kwargs):
        trained.append(np.asarray(y).copy())
        return real_epoch(model, optimizer, x, y, **kwargs)

    monkeypatch.setattr(pruners, "prune", spy_prune)
    monkeypatch.setattr(train, "train_epoch", spy_epoch)
    record = train.run(dataclasses_replace(config, quiet=True))
    _, yp = train.pruning_batch(resolved, data_)
    np.testing.assert_array_equal(seen["targets"], yp)  # true labels for scoring
    np.testing.assert_array_equal(trained[0], labels)   # permuted labels for training
    assert record["config"]["shuffled_labels"] is True


def dataclasses_replace(config, **changes):
    import dataclasses
    return dataclasses.replace(config, **changes)


def test_the_whole_training_split_scored_in_pieces_equals_one_batch():
    from minisnip.models import build_model
    from minisnip.nn import init
    from minisnip.snip import connection_sensitivity
    prepared = data.prepare("fashion-mini", layout="flat")
    x, y = prepared.x_train[:2500], prepared.y_train[:2500]
    model = build_model("lenet300")
    init.initialize(model, "vs-x", rng=np.random.default_rng(0))
    whole = connection_sensitivity(model, x, y)
    batches, loss_fn = train.scoring_pieces(x, y)
    assert [len(b[0]) for b in batches] == [1000, 1000, 500]  # an uneven last piece
    pieces = connection_sensitivity(model, batches=batches, loss_fn=loss_fn)
    for a, b in zip(whole.g, pieces.g):
        np.testing.assert_allclose(b, a, rtol=2e-3, atol=1e-7 * np.abs(a).max())
    (one,), plain = train.scoring_pieces(x[:1000], y[:1000])
    assert len(one[0]) == 1000 and plain is None  # one piece: the plain mean, as before


def test_prune_batch_all_scores_every_training_image(tmp_path, capsys):
    out = tmp_path / "run.json"
    assert main(["train", "--dataset", "fashion-mini", "--max-train", "1500", "--epochs", "0",
                 "--sparsity", "0.9", "--prune-batch", "all", "--score-init", "tn", "--quiet",
                 "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["config"]["prune_batch"] is None and record["config"]["score_init"] == "tn"
    assert record["pruning"]["prune_batch"] == 1500 and record["pruning"]["scoring_pieces"] == 2
    first = record["pruning"]["first_layer"]
    assert first["name"] == "fc1.weight" and first["outputs"] == 300
    assert len(first["kept_per_input"]) == 784
    assert main(["train", "--dataset", "fashion-mini", "--prune-batch", "some"]) == 2
    assert "expected a number of images or 'all'" in capsys.readouterr().err


# --------------------------------------------------------------------------- the runner
def test_runs_made_by_another_experiment_are_copied_not_run_again(monkeypatch, ran, tmp_path):
    runs = grid(models=("lenet300",), sparsities=(0.0, 0.9), **TINY)
    register_test(monkeypatch, "first", runs=runs)
    register_test(monkeypatch, "second", runs=runs[1:] + grid(
        models=("lenet300",), sparsities=(0.95,), **TINY))
    run_experiment("first", str(tmp_path), quiet=True)
    assert len(ran) == 2
    ran.clear()
    run_experiment("second", str(tmp_path), quiet=True)
    assert [(c.sparsity) for c in ran] == [0.95]  # 0.9 was copied from "first"
    copied = next((tmp_path / "second" / "runs").glob("lenet300_snip_0.9_*"))
    record = json.loads(copied.read_text())
    assert record["copied_from"].startswith(os.path.join("first", "runs"))
    assert records.check_record(str(copied)).test_error == json.loads(next(
        (tmp_path / "first" / "runs").glob("lenet300_snip_0.9_*")).read_text())["test_error"]


def test_a_record_without_what_the_experiment_reads_is_run_again(monkeypatch, ran, tmp_path,
                                                                  capsys):
    runs = grid(models=("lenet300",), sparsities=(0.9,), **TINY)
    register_test(monkeypatch, "old", runs=runs)
    run_experiment("old", str(tmp_path), quiet=True)

    def as_made_before_records_kept_the_first_layer(path):
        saved = json.loads(path.read_text())
        del saved["pruning"]["first_layer"]
        path.write_text(json.dumps(saved))

    as_made_before_records_kept_the_first_layer(next((tmp_path / "old" / "runs").iterdir()))
    register_test(monkeypatch, "needs", runs=runs, record_needs=("pruning.first_layer",))
    ran.clear()
    capsys.readouterr()
    run_experiment("needs", str(tmp_path), quiet=True)
    assert len(ran) == 1 and "lacks" not in capsys.readouterr().err  # not copied, run here
    summary, _ = summary_of(tmp_path, "needs")
    assert summary["runs"]["finished"] == 1

    own = next((tmp_path / "needs" / "runs").iterdir())
    as_made_before_records_kept_the_first_layer(own)
    ran.clear()
    run_experiment("needs", str(tmp_path), quiet=True)
    assert len(ran) == 1  # its own record lacks it too: run again, the record replaced
    assert f"{own.name}: lacks pruning.first_layer" in capsys.readouterr().err
    assert records.lacks(records.check_record(str(own)), ("pruning.first_layer",)) == []


def test_dataset_is_checked_against_the_experiment_and_looked_for_first(ran, tmp_path, capsys):
    assert main(["experiment", "table2-cifar10", "--dataset", "mnist", "--out",
                 str(tmp_path)]) == 2
    assert "runs on cifar10, not --dataset 'mnist'" in capsys.readouterr().err
    assert main(["experiment", "figure4", "--dataset", "mnist", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "mnist: no folder holds" in err and "--download" in err
    assert main(["experiment", "table2-cifar10", "--out", str(tmp_path)]) == 2
    assert "cifar10: no folder holds" in capsys.readouterr().err
    assert ran == [] and not (tmp_path / "figure4" / "runs").exists()


def test_an_experiment_runs_on_mnist_files_in_the_official_format(monkeypatch, tmp_path):
    folder = write_mnist_idx(tmp_path / "mnist")
    register_test(monkeypatch, runs=grid(models=("lenet300",), sparsities=(0.0, 0.9),
                                         epochs=1, val_fraction=0.1),
                  reference={("lenet300", "dense", 0.0): {0: 11.0}}, reference_source="made up",
                  reference_dataset="fashion-mnist")
    assert main(["experiment", "paper-test", "--dataset", "mnist", "--data-dir", str(folder),
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    summary, markdown = summary_of(tmp_path / "out", "paper-test")
    assert summary["runs"]["finished"] == 2 and summary["data_sources"] == [str(folder)]
    assert "Data set: mnist (chosen by the command line" in markdown
    assert not summary["reference"]["comparable"]  # a Fashion-MNIST reference, not compared
    assert summary["table"][0]["mean_test_error"] < 50  # the bars are learnable
    assert "--dataset mnist" in summary["command"]


# ----------------------------------------------- each table and figure, end to end (fast)
def test_figure1_panels_per_model_with_the_dense_level(monkeypatch, tmp_path):
    register_test(monkeypatch, runs=grid(models=("lenet300",), sparsities=(0.0, 0.5, 0.9),
                                         seeds=(0, 1), **TINY), plot=figure1.plot)
    run_experiment("paper-test", str(tmp_path), quiet=True)
    summary, _ = summary_of(tmp_path, "paper-test")
    fig = new_figure()
    ax = fig.subplots()
    figure1.draw_error_vs_sparsity(ax, summary["table"], "lenet300")
    rows = {row["sparsity"]: row for row in summary["table"]}
    (snip,) = [c.lines[0] for c in ax.containers if c.get_label() == "SNIP"]
    assert list(snip.get_xdata()) == pytest.approx([0.5, 0.1])
    assert list(snip.get_ydata()) == [rows[0.5]["mean_test_error"], rows[0.9]["mean_test_error"]]
    dense = [line for line in ax.lines if line.get_label().startswith("dense")]
    assert list(dense[0].get_ydata()) == [rows[0.0]["mean_test_error"]] * 2
    assert ax.xaxis_inverted() and ax.get_xscale() == "log"


def test_table1_keeps_the_papers_rows_apart_and_quotes_no_number(monkeypatch, tmp_path):
    register_test(monkeypatch, runs=grid(models=("lenet300",), sparsities=(0.0, 0.95),
                                         seeds=(0, 1), **TINY),
                  quoted=table1.QUOTED, markdown=table1.markdown, plot=table1.plot)
    run_experiment("paper-test", str(tmp_path), quiet=True)
    summary, markdown = summary_of(tmp_path, "paper-test")
    measured, quoted = markdown.split("## Quoted from the paper (not measured here)")
    dense, pruned = summary["table"]
    gap = pruned["mean_test_error"] - dense["mean_test_error"]
    assert "| LeNet-300-100 | 95% | " in measured and f"| {gap:+.2f} |" in measured
    for method in table1.COMPARED_METHODS:
        assert f"| {method} | not quoted (no verifiable copy) |" in quoted
        assert method not in measured.split("## Measured here")[1]
    assert "arXiv 1810.02340, Table 1" in quoted
    assert not any(ch.isdigit() for line in quoted.splitlines() if line.startswith("| ")
                   for ch in line)
    assert summary["quoted"]["rows"][0] == {"method": "LWC", "errors": None}


def test_figure3_pictures_and_errors_per_scoring_batch(monkeypatch, tmp_path):
    settings = dict(TINY, max_train=1500)
    register_test(monkeypatch, runs=sum((grid(models=("lenet300",), sparsities=(0.9,),
                                              prune_batch=b, **settings) for b in (10, None)),
                                        ()), record_needs=("pruning.first_layer",),
                  table=figure3.table, markdown=figure3.markdown, plot=figure3.plot)
    run_experiment("paper-test", str(tmp_path), quiet=True)
    summary, markdown = summary_of(tmp_path, "paper-test")
    small, whole = summary["table"]
    assert (small["prune_batch"], small["scored_images"]) == (10, 10)
    assert (whole["prune_batch"], whole["scored_images"]) == (None, 1500)
    for row in (small, whole):
        picture = np.array(row["kept_fraction"])
        assert picture.shape == (784,)
        assert picture.mean() == pytest.approx(
            json.loads((tmp_path / "paper-test" / "runs" / row["records"][0]).read_text())
            ["pruning"]["layers"][0]["kept"] / 235_200, abs=1e-4)
    assert whole["correlation_with_whole_split"] == 1.0
    assert -1 <= small["correlation_with_whole_split"] < 1
    assert "| whole training split | 1,500 |" in markdown and "| 10 | 10 |" in markdown


def test_table3_is_a_scheme_by_network_table_of_mean_and_std(monkeypatch, tmp_path):
    runs = sum((grid(models=("lenet300",), sparsities=(0.9,), seeds=(0, 1), score_init=s,
                     **dict(TINY, **table3.TRAINING)) for s in ("rn", "vs-h")), ())
    register_test(monkeypatch, runs=runs, markdown=table3.markdown, plot=table3.plot)
    run_experiment("paper-test", str(tmp_path), quiet=True)
    summary, markdown = summary_of(tmp_path, "paper-test")
    cells = table3.cells_by_scheme(summary["table"])
    for scheme, name in (("rn", "RN"), ("vs-h", "VS-H")):
        row = cells[("lenet300", scheme)]
        errors = row["test_errors"]
        assert f"| {name} | {np.mean(errors):.2f} ± {np.std(errors, ddof=1):.2f} |" in markdown
    assert "| scoring initialization | LeNet-300-100 |" in markdown
    assert cells[("lenet300", "rn")]["test_errors"] != cells[("lenet300", "vs-h")]["test_errors"]


def test_figure4_curves_are_the_training_losses_of_the_records(monkeypatch, tmp_path):
    from minisnip.experiments.figure4 import curve_label
    common = dict(TINY, epochs=3, val_fraction=0.0, milestones=())
    runs = (RunConfig(model="lenet300", weight_decay=0.0, **common),
            RunConfig(model="lenet300", shuffled_labels=True, weight_decay=0.0, **common),
            RunConfig(model="lenet300", sparsity=0.99, shuffled_labels=True, weight_decay=0.0,
                      **common),
            RunConfig(model="lenet300", shuffled_labels=True, weight_decay=5e-4, **common))
    register_test(monkeypatch, runs=runs, record_needs=("history",), table=figure4.table,
                  markdown=figure4.markdown, plot=figure4.plot)
    run_experiment("paper-test", str(tmp_path), quiet=True)
    summary, markdown = summary_of(tmp_path, "paper-test")
    assert [row["label"] for row in summary["table"]] == [
        "dense, true labels", "dense, random labels", "SNIP 99%, random labels",
        "dense + L2, random labels"]
    for row in summary["table"]:
        history = json.loads((tmp_path / "paper-test" / "runs" / row["records"][0])
                             .read_text())["history"]
        assert row["curves"][0]["loss"] == [h["loss"] for h in history]
        assert len(row["curves"][0]["loss"]) == 3
    fig = new_figure()
    ax = fig.subplots()
    figure4.draw_loss_curves(ax, summary["table"])
    assert [line.get_linestyle() for line in ax.lines] == ["-", "--", "--", "--"]
    assert [line.get_label() for line in ax.lines] == [curve_label(r) for r in summary["table"]]
    assert "| dense + L2 | random labels | " in markdown


def test_table2_pairs_dense_and_pruned_networks(monkeypatch, tmp_path):
    register_test(monkeypatch, runs=table2.runs_of({"gru-s": 0.95}, **dict(TINY, max_train=100)),
                  table=table2.table, markdown=table2.markdown, plot=table2.plot)
    run_experiment("paper-test", str(tmp_path), quiet=True)
    summary, markdown = summary_of(tmp_path, "paper-test")
    (entry,) = summary["table"]
    assert entry["family"] == "GRU" and entry["sparsity"] == 0.95
    assert entry["difference"] == pytest.approx(entry["pruned"]["mean_test_error"]
                                                - entry["dense"]["mean_test_error"])
    assert entry["dense"]["parameters"] == 104_074
    assert entry["pruned"]["kept"] == round(0.05 * entry["pruned"]["prunable"])
    assert entry["dense"]["seconds_per_epoch"] > 0
    assert "| GRU | GRU-s | 95% | 104k (" in markdown
    assert f"{entry['difference']:+.2f}" in markdown


def test_a_cifar_network_runs_on_cifar_binary_files(monkeypatch, tmp_path):
    """The runner on CIFAR-10's format (synthetic files), with table 2's own training
    settings, reduced to one epoch on 8 images."""
    folder = write_cifar_binary(tmp_path / "cifar")
    register_test(monkeypatch, runs=table2.runs_of({"alexnet-s": 0.9}, **table2.CIFAR_TRAINING),
                  datasets=("cifar10",), table=table2.table, markdown=table2.markdown,
                  plot=table2.plot)
    assert main(["experiment", "paper-test", "--data-dir", str(folder), "--epochs", "1",
                 "--max-train", "8", "--out", str(tmp_path / "out"), "--quiet"]) == 0
    summary, markdown = summary_of(tmp_path / "out", "paper-test")
    (entry,) = summary["table"]
    assert entry["family"] == "AlexNet" and entry["dense"]["parameters"] > 5_000_000
    assert "epochs = 1 instead of 256 (this experiment's; the protocol's 10)" in markdown
    assert "batch_size 128" in markdown and "| AlexNet | AlexNet-s | 90% |" in markdown


def test_cifar_time_per_epoch_is_an_extrapolation_of_timed_steps(monkeypatch):
    from minisnip.experiments.epoch_time import time_per_epoch
    estimate = time_per_epoch("alexnet-s", batch=4, steps=1, images=40, evaluated=8)
    assert estimate["steps_per_epoch"] == 10
    assert estimate["estimated_seconds_per_epoch"] == pytest.approx(
        10 * estimate["seconds_per_step"] + 8 * estimate["eval_seconds_per_image"])


def test_cifar_epoch_time_command_checks_every_name_before_timing_any(monkeypatch, capsys):
    from minisnip.experiments import epoch_time
    timed = []
    monkeypatch.setattr(epoch_time, "time_per_epoch", lambda *a, **k: timed.append(a) or {})
    for argv, expected in ((["vgg-c", "lenet300"], "not a CIFAR-10 network of Table 2: lenet300"),
                           (["--help"], "usage:"), (["alexnet-s", "--steps", "0"],
                                                    "--steps must be a positive integer, got 0"),
                           (["alexnet-s", "--batch", "-1"], "--batch must be a positive")):
        with pytest.raises(SystemExit):
            epoch_time.main(argv)
        captured = capsys.readouterr()
        assert expected in captured.out + captured.err
    assert timed == []


def test_cifar_epoch_time_gives_each_network_its_own_process_for_its_peak(monkeypatch, capsys):
    import json
    import subprocess
    from minisnip.experiments import epoch_time
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda command: calls.append(command) or 0)
    assert epoch_time.main(["alexnet-s", "vgg-c", "--steps", "2", "--batch", "8"]) == 0
    assert [c[3:] for c in calls] == [["alexnet-s", "--steps", "2", "--batch", "8"],
                                     ["vgg-c", "--steps", "2", "--batch", "8"]]
    assert epoch_time.main(["alexnet-s", "--steps", "1", "--batch", "2"]) == 0
    estimate = json.loads(capsys.readouterr().out)
    assert estimate["model"] == "alexnet-s" and estimate["batch"] == 2
    assert estimate["process"]["matmul_backend"]
    assert estimate["peak_rss_bytes"] > 100 * 2**20  # 5.6M float32 weights, their gradients


# ------------------------------------------ every registered experiment, whole grid (slow)
@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in PAPER if n != "table2-cifar10"])
def test_each_paper_experiment_runs_its_whole_grid_on_tiny_data(name, tmp_path):
    out = tmp_path / "out"
    assert main(["experiment", name, "--dataset", "fashion-mini", "--epochs", "1",
                 "--max-train", "100", "--out", str(out), "--quiet"]) == 0
    summary, markdown = summary_of(out, name)
    assert summary["runs"]["finished"] == summary["runs"]["planned"] == len(
        EXPERIMENTS[name].runs)
    assert "epochs = 1 instead of" in markdown and "not run" not in markdown


@pytest.mark.slow
def test_table2_cifar10_runs_every_network_on_cifar_binary_files(tmp_path):
    folder = write_cifar_binary(tmp_path / "cifar", per_file=4)
    out = tmp_path / "out"
    assert main(["experiment", "table2-cifar10", "--data-dir", str(folder), "--epochs", "1",
                 "--max-train", "4", "--out", str(out), "--quiet"]) == 0
    summary, markdown = summary_of(out, "table2-cifar10")
    assert [entry["model"] for entry in summary["table"]] == list(table2.CIFAR_SPARSITY)
    assert {entry["family"] for entry in summary["table"]} == {"AlexNet", "VGG", "WRN"}
    assert summary["runs"]["finished"] == 16
