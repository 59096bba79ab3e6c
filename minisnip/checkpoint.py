"""Checkpoints: weights, masks, optimizer state, lr schedule and epoch in ONE file, written
atomically, read back only after everything in it has been checked.

Format: a NumPy ``.npz`` (no pickle: loading a checkpoint cannot run code) holding the
model's ``state_dict`` under ``model/<name>``, the optimizer's arrays under ``optim/<key>``,
and a JSON document ``meta`` with the format version, epoch, schedule, optimizer scalars, the
shapes and dtypes of every array, and ``extra`` (the run's history and settings). No random
state is stored: every random stream of a run is derived from its seed (``streams.py``).

Writing goes through ``files.atomic_write`` (a temporary file in the same folder, flushed,
then renamed over the target): a crash while saving leaves the previous checkpoint as it was.
Loading validates the whole file against the model and optimizer first and only then copies
anything, so a corrupt or mismatched checkpoint changes nothing.
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from .files import atomic_write, json_default

FORMAT = "minisnip-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """The checkpoint file is unreadable, corrupt, or does not match the model/optimizer."""


def save(path: str, model, optimizer=None, scheduler=None, *, epoch: int = 0,
         extra: dict = None) -> str:
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    optim_state = optimizer.state_dict() if optimizer is not None else None
    if optim_state is not None:
        arrays.update({f"optim/{k}": v for k, v in optim_state["arrays"].items()})
    meta = dict(
        format=FORMAT, version=VERSION, epoch=int(epoch), model_class=type(model).__name__,
        shapes={k: [list(v.shape), str(v.dtype)] for k, v in arrays.items()},
        optimizer=None if optim_state is None else dict(
            kind=type(optimizer).__name__, lr=optim_state["lr"],
            scalars={k: (v.item() if hasattr(v, "item") else v)
                     for k, v in optim_state["scalars"].items()}),
        scheduler=None if scheduler is None else scheduler.state_dict(),
        extra=extra or {})
    payload = json.dumps(meta, default=json_default)
    with atomic_write(path, "wb") as f:
        np.savez(f, meta=np.array(payload), **arrays)
    return path


def read(path: str) -> tuple:
    """``(meta, arrays)`` of a checkpoint file, or CheckpointError saying what is wrong."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise CheckpointError(f"checkpoint {path}: not a readable minisnip checkpoint "
                              f"(truncated or corrupt file?): {error}") from None
    if "meta" not in arrays:
        raise CheckpointError(f"checkpoint {path}: no 'meta' entry: not a minisnip checkpoint")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except json.JSONDecodeError as error:
        raise CheckpointError(f"checkpoint {path}: corrupt metadata: {error}") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointError(f"checkpoint {path}: format {meta.get('format')!r} version "
                              f"{meta.get('version')!r}, expected {FORMAT!r} version {VERSION}")
    for key, (shape, dtype) in meta["shapes"].items():
        if key not in arrays or list(arrays[key].shape) != shape or str(arrays[key].dtype) != dtype:
            raise CheckpointError(f"checkpoint {path}: entry {key!r} is missing or does not "
                                  f"match its recorded shape {shape} / dtype {dtype}")
    return meta, arrays


def load(path: str, model, optimizer=None, scheduler=None) -> dict:
    """Restore ``model`` (and ``optimizer``, ``scheduler``) from ``path``.

    Returns ``{"epoch", "extra"}``. Raises CheckpointError, with nothing changed, if anything
    does not fit: the file is checked first, and should restoring still fail half-way (a
    hand-edited entry of the right shape but the wrong meaning), what was restored is put
    back before the error is raised.
    """
    meta, arrays = read(path)
    try:
        epoch, extra = int(meta["epoch"]), meta.get("extra") or {}
        if epoch < 0 or not isinstance(extra, dict):
            raise ValueError(f"epoch {epoch}, extra of type {type(extra).__name__}")
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path}: corrupt metadata ({error!r})") from None
    model_state = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    _check_model(path, meta, model, model_state)
    optim_state = _optimizer_state(path, meta, arrays, optimizer)
    if scheduler is not None and not isinstance(meta.get("scheduler"), dict):
        raise CheckpointError(f"checkpoint {path} holds no lr schedule state")
    saved = (model.state_dict(),
             None if optimizer is None else optimizer.state_dict(),
             None if scheduler is None else scheduler.state_dict())
    try:
        model.load_state_dict(model_state)
        if optimizer is not None:
            optimizer.load_state_dict(optim_state)
        if scheduler is not None:
            scheduler.load_state_dict(meta["scheduler"])
    except (KeyError, TypeError, ValueError, IndexError) as error:
        model.load_state_dict(saved[0])
        if optimizer is not None:
            optimizer.load_state_dict(saved[1])
        if scheduler is not None:
            scheduler.load_state_dict(saved[2])
        raise CheckpointError(f"checkpoint {path}: could not be restored, nothing was changed "
                              f"({type(error).__name__}: {error})") from None
    return dict(epoch=epoch, extra=extra)


def _check_model(path, meta, model, model_state):
    own = model.state_dict()
    missing = sorted(set(own) - set(model_state))
    unexpected = sorted(set(model_state) - set(own))
    if missing or unexpected:
        raise CheckpointError(f"checkpoint {path} was saved from a different model "
                              f"({meta.get('model_class')}): missing {missing[:5]}, "
                              f"unexpected {unexpected[:5]}")
    for key, value in model_state.items():
        if value.shape != own[key].shape:
            raise CheckpointError(f"checkpoint {path}: {key!r} has shape {value.shape}, the "
                                  f"model has {own[key].shape}")


def _optimizer_state(path, meta, arrays, optimizer):
    """The optimizer's part of the checkpoint, checked against ``optimizer``."""
    if optimizer is None:
        return None
    saved = meta.get("optimizer")
    if not isinstance(saved, dict):
        raise CheckpointError(f"checkpoint {path} holds no optimizer state")
    if saved.get("kind") != type(optimizer).__name__:
        raise CheckpointError(f"checkpoint {path} holds {saved.get('kind')} state, "
                              f"not {type(optimizer).__name__}")
    if not isinstance(saved.get("lr"), (int, float)) or not isinstance(saved.get("scalars"), dict):
        raise CheckpointError(f"checkpoint {path}: corrupt optimizer metadata")
    state = dict(lr=saved["lr"], scalars=saved["scalars"],
                 arrays={k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")})
    n = len(optimizer.params)
    for key in list(state["arrays"]) + list(state["scalars"]):
        index = key.split(".", 1)[0]
        value = state["arrays"].get(key)
        if not index.isdigit() or not int(index) < n or \
                (value is not None and value.shape != optimizer.params[int(index)].shape):
            raise CheckpointError(f"checkpoint {path}: optimizer entry {key!r} does not fit this "
                                  f"optimizer's {n} parameters")
    return state
