"""Run records: one JSON file per finished training run, keyed by the run's complete settings.

A record's key is a hash of the run's resolved :class:`~minisnip.train.RunConfig` (every field,
so a field added to RunConfig is in the key without anyone remembering it) and of
``train.PROTOCOL_VERSION`` (the code of the protocol). The only fields left out are the ones in
:data:`NOT_IN_KEY`, which change where things are read or written, never the numbers. A record
is reused only by a run with the same key: a quick look with ``--epochs 1`` and the full
experiment have different keys, so the full experiment never reports the quick look's numbers.

The file is ``runs/MODEL_PRUNER_SPARSITY_seedS_KEY.json`` (``MODEL_dense_seedS_KEY.json`` for a
dense run); the readable part is for people, the key is what counts. A record holds the full
resolved config, the key, the protocol version, the command that made it, and everything
``train.run`` returns (test error, per-epoch history, pruning report).

:func:`scan` reads a folder of records and trusts none of them: a file whose JSON is truncated,
whose key does not match its name or its config, whose name is not the one its config gives
(``a (copy).json``), or which has no test error is reported by name and never read as a result;
folders and the temporary files of interrupted writes are skipped.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from typing import Optional

# RunConfig fields that are not in the key, and why: they say where files are read or written
# or what is printed, not what is computed. Every other field of RunConfig is in the key.
NOT_IN_KEY = {
    "data_dir": "where the data set's files were found, not which data set (that is `dataset`); "
                "the folder a run read is in its record as data_source",
    "download": "whether missing files may be fetched (fetched files are checksum-verified)",
    "checkpoint": "where checkpoints are saved",
    "resume": "a resumed run gives the numbers of an uninterrupted one",
    "quiet": "printing only",
    "sparse_kernels": "which kernels compute, not what: the sparse and the dense c * w paths "
                      "give the same numbers to float rounding; the record lists the layers "
                      "that ran sparse",
}

# RunConfig fields added after records were made, each with the value that does what the code
# did before the field existed: {"field": value}. At that value the field is left out of the key
# (and filled into a stored config that lacks it), so earlier records stay valid and are reused;
# any other value is in the key. A new field not listed here changes every key: every earlier
# record is then reported and re-run. Add a field here only if its value really reproduces the
# earlier code; otherwise raise train.PROTOCOL_VERSION.
ADDED_SETTINGS: dict = {
    "score_init": None,          # score the weights training starts from (Table 3's field)
    "shuffled_labels": False,    # train on the true labels (Figure 4's field)
    "sparse_kernels": "off",     # dense c * w everywhere (also in NOT_IN_KEY: never in a key)
}

RECORD_FORMAT = 2  # 1: the earlier layout, named MODEL_PRUNER_SPARSITY_seedS.json, without a key
KEY_LENGTH = 16  # hex digits of SHA-256 (64 bits)
_RECORD_NAME = re.compile(r"^(?P<stem>.+)_(?P<key>[0-9a-f]{%d})\.json$" % KEY_LENGTH)
_LEGACY_NAME = re.compile(r"^.+_seed\d+\.json$")


# ------------------------------------------------------------------------------- the key
def _plain(value, field: dataclasses.Field, name: str):
    """One canonical JSON value per setting, so that equal settings hash equally
    (``lr=1`` and ``lr=1.0``, ``milestones`` as a list or a tuple)."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple)):  # NumPy scalar
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        if "float" in str(field.type) or isinstance(value, float):
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"run setting {name} = {value} is not a finite number")
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, field, name) for v in value]
    raise TypeError(f"run setting {name} = {value!r}: a record key needs None, bool, str, a "
                    f"number or a list of them, not {type(value).__name__}")


def key_settings(config) -> dict:
    """The settings a record is keyed by: every field of the resolved config except
    :data:`NOT_IN_KEY` (and :data:`ADDED_SETTINGS` at their earlier behaviour), as canonical
    JSON values."""
    resolved = config.resolved()
    values = {}
    for field in dataclasses.fields(resolved):
        if field.name in NOT_IN_KEY:
            continue
        value = _plain(getattr(resolved, field.name), field, field.name)
        if field.name in ADDED_SETTINGS and value == _plain(ADDED_SETTINGS[field.name], field,
                                                             field.name):
            continue
        values[field.name] = value
    if "sparsity" in values and not values["sparsity"]:
        values["sparsity"] = None  # 0 and None both mean a dense network (train.run)
    return values


def config_key(config, protocol_version: Optional[int] = None) -> str:
    """The record key of ``config``: a hash of :func:`key_settings` and the protocol version
    (``train.PROTOCOL_VERSION`` unless given)."""
    if protocol_version is None:
        from ..train import PROTOCOL_VERSION as protocol_version
    text = json.dumps(dict(protocol_version=int(protocol_version), settings=key_settings(config)),
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_LENGTH]


def run_label(config) -> str:
    """``lenet300_snip_0.95_seed0`` / ``lenet300_dense_seed0``: the readable part of a name."""
    what = f"{config.pruner}_{config.sparsity:g}" if config.sparsity else "dense"
    label = f"{config.model}_{what}_seed{config.seed}"
    return re.sub(r"[^A-Za-z0-9_.+-]", "-", label)


def record_filename(config, key: str) -> str:
    return f"{run_label(config)}_{key}.json"


def config_from_dict(values: dict):
    """A RunConfig from a record's stored config; ValueError naming the fields that RunConfig
    does not have or that the record lacks (a record of another version of minisnip)."""
    from ..train import RunConfig
    if not isinstance(values, dict):
        raise ValueError(f"its config is a {type(values).__name__}, not an object")
    names = {f.name for f in dataclasses.fields(RunConfig)}
    values = dict(values)
    for name, value in ADDED_SETTINGS.items():
        values.setdefault(name, value)
    unknown, missing = sorted(set(values) - names), sorted(names - set(values))
    if unknown:
        raise ValueError(f"its config has settings this minisnip does not know: {unknown}")
    if missing:
        raise ValueError(f"its config lacks the settings {missing} (made by an older minisnip)")
    if isinstance(values.get("milestones"), list):
        values["milestones"] = tuple(values["milestones"])
    return RunConfig(**values)


# ---------------------------------------------------------------------------- reading
@dataclasses.dataclass
class Record:
    """One valid record: its file, key, config (RunConfig) and contents."""
    path: str
    key: str
    config: object
    data: dict

    @property
    def test_error(self) -> float:
        return float(self.data["test_error"])


def lacks(record: Record, needs) -> list:
    """The dotted paths of ``needs`` (``"pruning.first_layer"``) that ``record`` does not hold."""
    missing = []
    for path in needs:
        value = record.data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            missing.append(path)
    return missing


@dataclasses.dataclass
class Problem:
    """A file in the records folder that is not a valid record, and why."""
    file: str
    reason: str

    def __str__(self):
        return f"{self.file}: {self.reason}"


@dataclasses.dataclass
class Scan:
    """What a records folder holds: valid records by key, and the files that are not."""
    records: dict
    problems: list
    temporaries: list  # temporary files of interrupted writes (skipped)


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and ".tmp-" in name


def check_record(path: str) -> Record:
    """Read one record file and check everything; ValueError saying what is wrong."""
    name = os.path.basename(path)
    match = _RECORD_NAME.match(name)
    if not match:
        if _LEGACY_NAME.match(name):
            raise ValueError("a record of the earlier layout, without a key (convert it with "
                             "`python -m minisnip.experiments.migrate FOLDER`, or re-run it)")
        raise ValueError(f"not a record's name (expected MODEL_..._seedS_KEY.json with a "
                         f"{KEY_LENGTH}-digit key, e.g. not a copy)")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"unreadable or truncated JSON ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"holds a JSON {type(data).__name__}, not a record")
    if data.get("key") != match["key"]:
        raise ValueError(f"the key inside ({data.get('key')!r}) is not the one in its name")
    if not isinstance(data.get("protocol_version"), int):
        raise ValueError("no protocol_version")
    config = config_from_dict(data.get("config"))
    try:
        key = config_key(config, data["protocol_version"])
    except (ValueError, TypeError) as error:
        raise ValueError(f"its config is not valid ({error})") from None
    if key != match["key"]:
        raise ValueError(f"its config gives the key {key}, not the one in its name (the config "
                         f"or the name was edited)")
    if name != record_filename(config, key):
        raise ValueError(f"its config names it {record_filename(config, key)}")
    error = data.get("test_error")
    if error is None:
        raise ValueError("no test_error (the run did not finish)")
    if (isinstance(error, bool) or not isinstance(error, (int, float))
            or not 0 <= error <= 100):
        raise ValueError(f"test_error {error!r} is not a percentage")
    return Record(path=path, key=key, config=config, data=data)


def scan(folder: str) -> Scan:
    """Every valid record in ``folder`` (a missing folder holds none), the problems of the
    other files (by file name), and the temporary files of interrupted writes."""
    records, problems, temporaries = {}, [], []
    if not os.path.isdir(folder):
        return Scan(records, problems, temporaries)
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if _is_temporary(name):
            temporaries.append(name)
        elif os.path.isdir(path):
            problems.append(Problem(name, "a folder, not a record"))
        else:
            try:
                record = check_record(path)
            except ValueError as error:
                problems.append(Problem(name, str(error)))
            else:
                records[record.key] = record
    return Scan(records, problems, temporaries)


# ---------------------------------------------------------------------------- writing
def write_record(folder: str, config, key: str, result: dict, **about) -> str:
    """Write the record of a finished run atomically; returns its path. ``result`` is what
    ``train.run`` returned; ``about`` adds context (experiment, command, wall time, ...)."""
    from ..files import write_json
    from ..train import PROTOCOL_VERSION
    from dataclasses import asdict
    if config_key(config) != key:
        raise RuntimeError(f"run {run_label(config)}: its settings give the key "
                           f"{config_key(config)}, not the planned {key}")
    record = dict(format=RECORD_FORMAT, key=key, protocol_version=PROTOCOL_VERSION)
    record.update(about)
    record.update(result)
    record["config"] = asdict(config.resolved())
    return write_json(os.path.join(folder, record_filename(config, key)), record)
