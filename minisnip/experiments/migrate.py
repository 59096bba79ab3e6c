"""Convert run records of the earlier layout into keyed records.

    python -m minisnip.experiments.migrate results/      # every results/NAME/runs/ folder

The earlier runner named a record ``MODEL_PRUNER_SPARSITY_seedS.json`` and reused it whatever
its settings. Such a record is converted only when what it stores proves its settings: its
``config`` has every setting RunConfig has and is already resolved (the protocol filled nothing
later), its file name is the one the earlier runner gave that config, its history has one entry
per epoch and its test error is a percentage. It is then keyed with protocol version 1 (the
protocol it was made with), marked ``converted_from``, written under its keyed name atomically,
and the old file is removed. Anything else is reported and left alone: the runner does not read
it, and runs it again. Running the conversion again changes nothing.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys

from . import records

LEGACY_PROTOCOL_VERSION = 1  # the protocol the earlier records were made with


def legacy_name(config) -> str:
    return f"{config.model}_{config.pruner}_{config.sparsity or 0:g}_seed{config.seed}.json"


def convert(path: str) -> str:
    """Convert one legacy record; returns the new path; ValueError saying why not."""
    from ..files import write_json
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"unreadable JSON ({error})") from None
    if not isinstance(data, dict) or "key" in data:
        raise ValueError("not a record of the earlier layout")
    config = records.config_from_dict(data.get("config"))
    resolved = config.resolved()
    if dataclasses.asdict(resolved) != dataclasses.asdict(config):
        raise ValueError("its config is not resolved: the settings the protocol filled in are "
                         "unknown")
    if os.path.basename(path) != legacy_name(config):
        raise ValueError(f"its config would have named it {legacy_name(config)}")
    for field in ("model", "seed", "dataset", "epochs"):
        if data.get(field) != getattr(config, field):
            raise ValueError(f"its {field} {data.get(field)!r} is not its config's")
    if not isinstance(data.get("history"), list) or len(data["history"]) != config.epochs:
        raise ValueError(f"its history does not have the {config.epochs} epochs of its config")
    error = data.get("test_error")
    if isinstance(error, bool) or not isinstance(error, (int, float)) or not 0 <= error <= 100:
        raise ValueError(f"test_error {error!r} is not a percentage")
    key = records.config_key(config, LEGACY_PROTOCOL_VERSION)
    target = os.path.join(os.path.dirname(path), records.record_filename(config, key))
    if os.path.exists(target):
        raise ValueError(f"{os.path.basename(target)} exists already; left as is")
    converted = dict(format=records.RECORD_FORMAT, key=key,
                     protocol_version=LEGACY_PROTOCOL_VERSION,
                     converted_from=os.path.basename(path))
    converted.update(data)
    write_json(target, converted)
    records.check_record(target)  # the runner will accept it
    os.remove(path)
    return target


def migrate(root: str) -> tuple:
    """Convert the legacy records in ``root`` (a runs folder) or in every ``root/*/runs``.
    Returns (converted paths, [(path, reason)] left alone)."""
    folders = [root] if os.path.basename(os.path.normpath(root)) == "runs" else sorted(
        os.path.join(root, name, "runs") for name in os.listdir(root)
        if os.path.isdir(os.path.join(root, name, "runs")))
    converted, left = [], []
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not name.endswith(".json") or not records._LEGACY_NAME.match(name):
                continue
            if records._RECORD_NAME.match(name):
                continue
            try:
                converted.append(convert(path))
            except ValueError as error:
                left.append((path, str(error)))
    return converted, left


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        print("usage: python -m minisnip.experiments.migrate FOLDER  (a results folder holding "
              "NAME/runs/, or one runs/ folder)", file=sys.stderr)
        return 2
    converted, left = migrate(argv[0])
    for path in converted:
        print(f"converted {path}")
    for path, reason in left:
        print(f"left alone {path}: {reason}", file=sys.stderr)
    print(f"{len(converted)} converted, {len(left)} left alone")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
