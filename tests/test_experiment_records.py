"""Run records: the key covers every setting that changes results, reading trusts nothing, and
the earlier layout is converted only when its settings are complete."""
import dataclasses
import json
import os
import pathlib

import pytest

from minisnip import train
from minisnip.experiments import records
from minisnip.experiments.migrate import legacy_name, migrate
from minisnip.train import RunConfig

REPO = pathlib.Path(__file__).resolve().parent.parent

# another valid value for each kind of setting (what the key sees after resolved())
OTHER_STRINGS = dict(model="lenet5", dataset="mnist", optimizer="adam", init="rn",
                     pruner="random")


def _other(name, value):
    if name in OTHER_STRINGS:
        return OTHER_STRINGS[name]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 + 0.125
    if isinstance(value, tuple):
        return value + (9,)
    if value is None:
        return 7 if name == "max_train" else "somewhere"
    if isinstance(value, str):
        return value + "-other"
    raise AssertionError(f"no other value for {name}={value!r}")


def test_every_setting_changes_the_key_except_the_listed_ones():
    base = RunConfig(sparsity=0.9).resolved()
    key = records.config_key(base)
    for field in dataclasses.fields(RunConfig):
        changed = dataclasses.replace(base, **{field.name: _other(field.name,
                                                                  getattr(base, field.name))})
        if field.name in records.NOT_IN_KEY:
            assert records.config_key(changed) == key, field.name
        else:
            assert records.config_key(changed) != key, f"{field.name} is not in the key"


def test_the_excluded_settings_are_real_fields_and_say_why():
    names = {f.name for f in dataclasses.fields(RunConfig)}
    assert set(records.NOT_IN_KEY) <= names
    assert all(len(reason) > 10 for reason in records.NOT_IN_KEY.values())
    assert {"model", "pruner", "sparsity", "seed", "epochs", "dataset", "max_train", "init",
            "optimizer", "lr", "momentum", "weight_decay", "batch_size", "milestones", "gamma",
            "prune_batch", "val_fraction", "augment"} <= names - set(records.NOT_IN_KEY)


def test_a_new_runconfig_field_is_in_the_key_unless_excluded(monkeypatch):
    Extended = dataclasses.make_dataclass("Extended", [("label_noise", float, 0.0)],
                                          bases=(RunConfig,))
    plain = records.config_key(RunConfig())
    assert records.config_key(Extended()) != plain  # a new setting changes every key
    assert records.config_key(Extended(label_noise=0.5)) != records.config_key(Extended())
    monkeypatch.setitem(records.NOT_IN_KEY, "label_noise", "for this test")
    assert records.config_key(Extended(label_noise=0.5)) == records.config_key(Extended()) == plain


def test_an_added_setting_at_its_earlier_behaviour_keeps_earlier_records_valid(monkeypatch,
                                                                                 tmp_path):
    path = records.write_record(str(tmp_path), RunConfig(), records.config_key(RunConfig()),
                                dict(test_error=12.0))
    Extended = dataclasses.make_dataclass("Extended", [("label_noise", float, 0.0)],
                                          bases=(RunConfig,))
    monkeypatch.setattr(train, "RunConfig", Extended)  # what config_from_dict builds
    with pytest.raises(ValueError, match="lacks the settings .*label_noise"):
        records.check_record(path)
    monkeypatch.setitem(records.ADDED_SETTINGS, "label_noise", 0.0)
    assert records.check_record(path).key == records.config_key(Extended())
    assert records.config_key(Extended(label_noise=0.5)) != records.config_key(Extended())


def test_the_protocol_version_is_in_the_key(monkeypatch):
    key = records.config_key(RunConfig())
    monkeypatch.setattr(train, "PROTOCOL_VERSION", train.PROTOCOL_VERSION + 1)
    assert records.config_key(RunConfig()) != key


def test_equal_settings_spelled_differently_share_a_key():
    key = records.config_key
    assert key(RunConfig(lr=1)) == key(RunConfig(lr=1.0))
    assert key(RunConfig(sparsity=0.0)) == key(RunConfig(sparsity=None))
    assert key(RunConfig(milestones=[5, 7])) == key(RunConfig(milestones=(5, 7)))
    assert key(RunConfig(model="lenet5")) == key(RunConfig(model="lenet5", lr=0.01, epochs=10))
    assert key(RunConfig(model="lenet5")) != key(RunConfig(model="lenet5", lr=0.1))


# ---------------------------------------------------------------------------- reading
def _valid(tmp_path, **settings):
    config = RunConfig(dataset="fashion-mini", **settings)
    return records.write_record(str(tmp_path), config, records.config_key(config),
                                dict(test_error=12.5, history=[]), command="test")


def _edit(path, change):
    data = json.loads(pathlib.Path(path).read_text())
    change(data)
    pathlib.Path(path).write_text(json.dumps(data))


@pytest.mark.parametrize("corrupt,message", [
    (lambda p: pathlib.Path(p).write_text(pathlib.Path(p).read_text()[:200]), "truncated JSON"),
    (lambda p: pathlib.Path(p).write_text("[1, 2]"), "JSON list"),
    (lambda p: _edit(p, lambda d: d.pop("test_error")), "no test_error"),
    (lambda p: _edit(p, lambda d: d.update(test_error="12.5")), "not a percentage"),
    (lambda p: _edit(p, lambda d: d.update(test_error=float("nan"))), "not a percentage"),
    (lambda p: _edit(p, lambda d: d.update(key="0" * 16)), "key inside"),
    (lambda p: _edit(p, lambda d: d["config"].update(epochs=99)), "config gives the key"),
    (lambda p: _edit(p, lambda d: d["config"].pop("augment")), "lacks the settings"),
    (lambda p: _edit(p, lambda d: d["config"].update(colour="red")), "does not know"),
    (lambda p: _edit(p, lambda d: d.pop("protocol_version")), "protocol_version"),
])
def test_a_corrupt_record_is_a_problem_named_by_its_file(tmp_path, corrupt, message):
    path = _valid(tmp_path)
    assert list(records.scan(str(tmp_path)).records)
    corrupt(path)
    scan = records.scan(str(tmp_path))
    assert not scan.records
    assert [p.file for p in scan.problems] == [os.path.basename(path)]
    assert message in scan.problems[0].reason


def test_copies_folders_and_temporary_files_are_never_records(tmp_path):
    path = pathlib.Path(_valid(tmp_path))
    other = pathlib.Path(_valid(tmp_path, seed=1))
    (tmp_path / "a (copy).json").write_text(path.read_text())
    (tmp_path / f"{path.stem} (copy).json").write_text(path.read_text())
    (tmp_path / other.name.replace("seed1", "seed7")).write_text(other.read_text())  # renamed
    (tmp_path / "lenet300_snip_0.9_seed0.json").write_text(path.read_text())  # earlier layout
    (tmp_path / "sub.json").mkdir()
    (tmp_path / f".{path.name}.tmp-host-123-abcd").write_text(path.read_text()[:50])
    scan = records.scan(str(tmp_path))
    assert sorted(scan.records) == sorted([records.check_record(str(path)).key,
                                           records.check_record(str(other)).key])
    assert len(scan.problems) == 5 and len(scan.temporaries) == 1
    reasons = {p.file: p.reason for p in scan.problems}
    assert "earlier layout" in reasons["lenet300_snip_0.9_seed0.json"]
    assert "folder" in reasons["sub.json"]
    assert "names it" in reasons[other.name.replace("seed1", "seed7")]


# -------------------------------------------------------------------------- migration
def _legacy(folder, config, error=11.0, **change):
    config = config.resolved()
    data = dict(model=config.model, dataset=config.dataset, seed=config.seed,
                epochs=config.epochs, config=dataclasses.asdict(config), test_error=error,
                history=[{}] * config.epochs, sparsity=config.sparsity or 0.0)
    for key, value in change.items():
        data["config"][key] = value
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / legacy_name(config)
    path.write_text(json.dumps(data))
    return path


def test_migration_converts_complete_records_only_and_can_run_again(tmp_path):
    runs = tmp_path / "exp" / "runs"
    good = _legacy(runs, RunConfig(sparsity=0.9, seed=1))
    incomplete = RunConfig(seed=2).resolved()
    bad = _legacy(runs, incomplete)
    data = json.loads(bad.read_text())
    del data["config"]["augment"]
    bad.write_text(json.dumps(data))
    unresolved = _legacy(runs, RunConfig(seed=3), lr=None)
    converted, left = migrate(str(tmp_path))
    assert len(converted) == 1 and not good.exists()
    record = records.check_record(converted[0])
    assert record.key == records.config_key(RunConfig(sparsity=0.9, seed=1))
    assert record.data["converted_from"] == good.name and record.test_error == 11.0
    assert {pathlib.Path(p).name: r for p, r in left} == {
        bad.name: "its config lacks the settings ['augment'] (made by an older minisnip)",
        unresolved.name: "its config is not resolved: the settings the protocol filled in are "
                         "unknown"}
    assert migrate(str(tmp_path)) == ([], left)  # again: nothing changes


def test_the_committed_results_are_valid_keyed_records():
    for folder in sorted((REPO / "results").glob("*/runs")):
        scan = records.scan(str(folder))
        assert not scan.problems and not scan.temporaries, (folder, scan.problems)
        assert scan.records, folder
