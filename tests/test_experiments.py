"""`minisnip experiment`: the grid of runs, resuming, and the summary table."""
import json
import os

import pytest

from minisnip import experiments
from minisnip.experiments import EXPERIMENTS, Experiment, run_experiment, summarize


@pytest.fixture
def tiny_experiment():
    exp = Experiment(name="tiny-test", description="two pruners, two sparsities, on fashion-mini",
                     models=("lenet300",), sparsities=(0.0, 0.9), seeds=(0,),
                     pruners=("snip", "random"), dataset="fashion-mini",
                     reference={("lenet300", 0.0): 20.0, ("lenet300", 0.9): 21.0})
    EXPERIMENTS[exp.name] = exp
    yield exp
    del EXPERIMENTS[exp.name]


def test_grid_runs_the_dense_network_once():
    runs = list(EXPERIMENTS["lenet300-fashion"].runs())
    dense = [r for r in runs if r[2] == 0.0]
    assert len(dense) == 2 and {r[1] for r in dense} == {"snip"}  # seeds 0 and 1, one pruner
    assert len(runs) == 2 + 2 * 4 * 2  # + (snip, random) x 4 sparsities x 2 seeds


def test_runs_then_resumes_without_repeating_a_finished_run(tiny_experiment, tmp_path,
                                                            monkeypatch):
    summary = run_experiment("tiny-test", out=str(tmp_path), epochs=1, max_train=600, quiet=True)
    folder = tmp_path / "tiny-test"
    assert sorted(os.listdir(folder / "runs")) == [
        "lenet300_random_0.9_seed0.json", "lenet300_snip_0.9_seed0.json",
        "lenet300_snip_0_seed0.json"]
    for name in ("summary.json", "summary.md", "summary.png"):
        assert (folder / name).stat().st_size > 0
    assert [(r["pruner"], r["sparsity"]) for r in summary["table"]] == [
        ("dense", 0.0), ("random", 0.9), ("snip", 0.9)]

    def must_not_run(config):
        raise AssertionError(f"finished run repeated: {config}")

    import minisnip.train
    monkeypatch.setattr(minisnip.train, "run", must_not_run)
    os.remove(folder / "runs" / "lenet300_random_0.9_seed0.json")
    with pytest.raises(AssertionError, match="random"):
        run_experiment("tiny-test", out=str(tmp_path), epochs=1, max_train=600, quiet=True)


def _write_record(folder, model, pruner, sparsity, seed, error):
    record = dict(model=model, sparsity=sparsity or None, test_error=error,
                  pruning=None if not sparsity else dict(pruner=pruner))
    with open(folder / f"{model}_{pruner}_{sparsity:g}_seed{seed}.json", "w") as f:
        json.dump(record, f)


def test_summary_means_over_seeds_and_compares_snip_and_dense_only(tiny_experiment, tmp_path):
    runs = tmp_path / "tiny-test" / "runs"
    runs.mkdir(parents=True)
    _write_record(runs, "lenet300", "snip", 0.0, 0, 19.0)
    _write_record(runs, "lenet300", "snip", 0.0, 1, 20.0)
    _write_record(runs, "lenet300", "snip", 0.9, 0, 22.0)
    _write_record(runs, "lenet300", "random", 0.9, 0, 30.0)
    table = {(r["pruner"], r["sparsity"]): r for r in summarize("tiny-test", str(tmp_path))["table"]}
    assert table[("dense", 0.0)]["mean_test_error"] == 19.5
    assert table[("dense", 0.0)]["seeds"] == 2
    assert table[("dense", 0.0)]["difference"] == pytest.approx(-0.5)
    assert table[("snip", 0.9)]["difference"] == pytest.approx(1.0)
    assert table[("random", 0.9)]["reference"] is None  # the reference is a SNIP run
    assert table[("random", 0.9)]["difference"] is None
    markdown = (tmp_path / "tiny-test" / "summary.md").read_text()
    assert "| lenet300 | random | 0.9 | 1 | 30.00 |  |  |" in markdown


def test_unknown_experiment_names_the_available_ones(tmp_path):
    with pytest.raises(ValueError, match="lenet300-fashion"):
        run_experiment("table-9", out=str(tmp_path))
    assert experiments.EXPERIMENTS  # the registry is importable without running anything
