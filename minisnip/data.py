"""Data: IDX (MNIST, Fashion-MNIST) and CIFAR-10 readers, the bundled ``fashion-mini`` subset,
standardization, the validation split, augmentation and a seeded batch iterator.

Where files are looked for, in order (the first place that has them wins):

1. ``data_dir`` (the ``--data-dir`` flag), itself or its subfolder named after the data set;
2. ``$MINISNIP_DATA``, itself or its subfolder named after the data set;
3. the user cache ``~/.cache/minisnip/<name>`` (``$XDG_CACHE_HOME`` is honoured);
4. for Fashion-MNIST, Debian's ``/usr/share/datasets/fashion-mnist`` (``apt-get install
   dataset-fashion-mnist``).

With ``download=True`` the official files are fetched into the cache, their MD5 checked
against the published one before they are moved into place. When nothing works the error
lists every place that was looked at and how to get the data.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import struct
import tarfile
import tempfile
import urllib.request
from typing import Iterator, Optional

import numpy as np

from . import streams

PACKAGE_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "datasets")

# ---------------------------------------------------------------------------- sources
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SOURCES = {
    "mnist": dict(
        urls=("https://ossci-datasets.s3.amazonaws.com/mnist/",),
        md5={"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
             "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
             "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
             "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
        system_dirs=()),
    "fashion-mnist": dict(
        urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        md5={"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
             "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
             "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
             "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
        system_dirs=("/usr/share/datasets/fashion-mnist",)),
    "cifar10": dict(
        urls=("https://www.cs.toronto.edu/~kriz/",),
        md5={"cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"},
        system_dirs=()),
}
CIFAR_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST = ("test_batch.bin",)
DATASETS = ("mnist", "fashion-mnist", "fashion-mini", "cifar10")


class DataNotFoundError(FileNotFoundError):
    """The data set's files were not found (the message says where we looked and what to do)."""


def cache_dir(name: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minisnip", name)


def candidate_dirs(name: str, data_dir: Optional[str] = None) -> list:
    """Every folder where the files of ``name`` are looked for, in order. An explicit
    ``data_dir`` is the only place looked at (itself and its subfolder named after the data
    set): a misspelled folder is an error, never a silent fall-back to another copy."""
    roots = [data_dir] if data_dir else [os.environ.get("MINISNIP_DATA")]
    places = []
    for root in filter(None, roots):
        places += [root, os.path.join(root, name)]
        if name == "cifar10":
            places += [os.path.join(root, "cifar-10-batches-bin"),
                       os.path.join(root, name, "cifar-10-batches-bin")]
    if data_dir:
        return places
    places.append(cache_dir(name))
    if name == "cifar10":
        places.append(os.path.join(cache_dir(name), "cifar-10-batches-bin"))
    places += list(SOURCES[name]["system_dirs"])
    return places


def _how_to_get(name: str, data_dir: Optional[str] = None) -> str:
    tips = ["pass --data-dir DIR (or set MINISNIP_DATA) to a folder with the files",
            f"or rerun with --download to fetch the official files into "
            f"{data_dir or cache_dir(name)}"]
    if name == "fashion-mnist":
        tips.insert(0, "on Debian/Ubuntu: apt-get install dataset-fashion-mnist")
    tips.append("or use the bundled subset: --dataset fashion-mini")
    return "; ".join(tips)


# ------------------------------------------------------------------------------- IDX
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file (raw or gzip, detected from the first bytes), checking its header.

    Raises ValueError naming the file and what was wrong: empty, not IDX (bad magic), an
    unknown type code, or a payload shorter or longer than the header says.
    """
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path}: not a readable gzip file ({error}); the download may be "
                         f"truncated, delete it and fetch it again") from None
    if len(raw) < 4:
        raise ValueError(f"{path}: {len(raw)} bytes, too short to be an IDX file (header is 4+ bytes)")
    zero, type_code, ndim = raw[0] << 8 | raw[1], raw[2], raw[3]
    if zero != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(f"{path}: not an IDX file (magic bytes {raw[:4].hex()}, expected "
                         f"0000 followed by a type code in {sorted(_IDX_TYPES)} and ndim >= 1)")
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header ({ndim} dimensions announced)")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = int(np.prod(dims)) * dtype.itemsize
    payload = len(raw) - 4 - 4 * ndim
    if payload != expected:
        raise ValueError(f"{path}: the header says {dims} of {dtype} ({expected} bytes) but the "
                         f"file holds {payload} bytes: it is truncated or corrupt")
    data = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)
    return data.astype(dtype.newbyteorder("=")) if dtype.byteorder == ">" else data.copy()


def write_idx(path: str, array: np.ndarray, compress: Optional[bool] = None) -> None:
    """Write ``array`` (uint8) as IDX; gzip if ``compress`` or the name ends in .gz."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    compress = path.endswith(".gz") if compress is None else compress
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(header + array.tobytes())


def _find_idx(folder: str, stem: str) -> Optional[str]:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


# -------------------------------------------------------------------------- download
def md5sum(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: str, md5: str) -> str:
    """Fetch ``url`` to a temporary file beside ``dest``, check its MD5, then rename.

    A failed or corrupt download leaves nothing at ``dest``.
    """
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
        got = md5sum(tmp)
        if got != md5:
            raise ValueError(f"download of {url}: MD5 {got} does not match the published {md5}; "
                             f"the file was discarded")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return dest


def _download_all(name: str, folder: str) -> str:
    source = SOURCES[name]
    errors = []
    for filename, md5 in source["md5"].items():
        dest = os.path.join(folder, filename)
        if os.path.isfile(dest) and md5sum(dest) == md5:
            continue
        for base in source["urls"]:
            try:
                download(base + filename, dest, md5)
                break
            except (OSError, ValueError) as error:
                errors.append(f"{base + filename}: {error}")
        else:
            raise DataNotFoundError(f"could not download {name}: " + " | ".join(errors))
    if name == "cifar10":
        _extract_cifar(os.path.join(folder, "cifar-10-binary.tar.gz"), folder)
    return folder


def _extract_cifar(archive: str, folder: str) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".bin")
                   and "/" in m.name and ".." not in m.name]
        for m in members:
            target = os.path.join(folder, "cifar-10-batches-bin", os.path.basename(m.name))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(m) as src, open(target + ".part", "wb") as dst:
                dst.write(src.read())
            os.replace(target + ".part", target)


# --------------------------------------------------------------------------- loaders
NUM_CLASSES = {"mnist": 10, "fashion-mnist": 10, "fashion-mini": 10, "cifar10": 10}


def _files(name: str, split: str) -> tuple:
    return (CIFAR_TRAIN if split == "train" else CIFAR_TEST) if name == "cifar10" \
        else IDX_FILES[split]


def _has_split(name: str, folder: str, split: str) -> bool:
    if name == "cifar10":
        return all(os.path.isfile(os.path.join(folder, f)) for f in _files(name, split))
    return all(_find_idx(folder, stem) for stem in _files(name, split))


def locate(name: str, splits=("train", "test"), data_dir: Optional[str] = None,
           download: bool = False) -> str:
    """The first folder of ``candidate_dirs`` that holds every file of ``splits`` (so that
    the training and test images of one run always come from the same copy). CIFAR-10's
    archive is unpacked where it is found; with ``download`` the official files are fetched
    (into ``data_dir`` if given, else the cache) when no folder has them."""
    if data_dir is not None and not os.path.isdir(data_dir):
        raise DataNotFoundError(f"--data-dir {data_dir!r} is not a folder. To get {name}: "
                                f"{_how_to_get(name, data_dir)}")
    for attempt in range(2):
        for folder in candidate_dirs(name, data_dir):
            if name == "cifar10" and os.path.isfile(os.path.join(folder, "cifar-10-binary.tar.gz")) \
                    and not all(_has_split(name, folder, s) for s in splits):
                _extract_cifar(os.path.join(folder, "cifar-10-binary.tar.gz"), folder)
            if os.path.isdir(folder) and all(_has_split(name, folder, s) for s in splits):
                return folder
        if attempt == 0 and download:
            _download_all(name, data_dir or cache_dir(name))
            continue
        break
    wanted = " and ".join(" + ".join(f"{f}[.gz]" if name != "cifar10" else f
                                     for f in _files(name, s)) for s in splits)
    raise DataNotFoundError(
        f"{name}: no folder holds {wanted} (looked in {', '.join(candidate_dirs(name, data_dir))}"
        f"{'; the archive cifar-10-binary.tar.gz is unpacked where found' if name == 'cifar10' else ''}"
        f"). To get it: {_how_to_get(name, data_dir)}")


def _check_labels(labels: np.ndarray, name: str, where: str) -> np.ndarray:
    classes = NUM_CLASSES[name]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)]
        raise ValueError(f"{where}: {bad.size} label(s) outside 0-{classes - 1} (e.g. "
                         f"{int(bad[0])}); {name} has {classes} classes: the file is corrupt "
                         f"or not {name}")
    return labels.astype(np.int64)


def _read_idx_split(name: str, folder: str, split: str) -> tuple:
    images_stem, labels_stem = IDX_FILES[split]
    images, labels = _find_idx(folder, images_stem), _find_idx(folder, labels_stem)
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"{images} / {labels}: expected images (N, 28, 28) and "
                         f"labels (N,), got {x.shape} and {y.shape}")
    return x, _check_labels(y, name, labels)


def read_cifar_batch(path: str) -> tuple:
    """One CIFAR-10 binary batch: records of 1 label byte + 3072 image bytes (3x32x32)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % 3073:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of CIFAR-10 records "
                         f"(3073 bytes each): truncated or not a CIFAR-10 binary batch")
    records = raw.reshape(-1, 3073)
    return records[:, 1:].reshape(-1, 3, 32, 32), _check_labels(records[:, 0], "cifar10", path)


def _read_cifar_split(folder: str, split: str) -> tuple:
    parts = [read_cifar_batch(os.path.join(folder, f)) for f in _files("cifar10", split)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _load_mini(split):
    path = os.path.join(PACKAGE_DATA, "fashion-mini.npz")
    if not os.path.isfile(path):
        raise DataNotFoundError(f"the bundled fashion-mini data is missing ({path}): the package "
                                f"was installed without its data files; reinstall with pip")
    with np.load(path, allow_pickle=False) as f:
        return f[f"x_{split}"], _check_labels(f[f"y_{split}"], "fashion-mini", path)


def load_dataset(name: str, split: str = "train", data_dir: Optional[str] = None,
                 download: bool = False) -> tuple:
    """Raw ``(images uint8, labels int64, folder)`` of one split ("train" or "test")."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(DATASETS)}")
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
    folder = PACKAGE_DATA if name == "fashion-mini" else locate(name, (split,), data_dir, download)
    return (*_read_split(name, folder, split), folder)


def _read_split(name: str, folder: str, split: str) -> tuple:
    if name == "fashion-mini":
        return _load_mini(split)
    if name == "cifar10":
        return _read_cifar_split(folder, split)
    return _read_idx_split(name, folder, split)


# ----------------------------------------------------------------------- preparation
@dataclasses.dataclass
class Dataset:
    """Standardized splits, ready for training. ``x_*`` float32, ``y_*`` int64."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    num_classes: int
    layout: str
    source: str


LAYOUTS = ("flat", "image", "sequence")


def validation_split(labels: np.ndarray, fraction: float, seed: int) -> tuple:
    """Indices (train, val): ``fraction`` of each class held out, chosen by ``seed``."""
    rng = streams.generator(seed, streams.VALIDATION)
    val = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        rng.shuffle(members)
        val.append(members[:int(round(fraction * len(members)))])
    val = np.sort(np.concatenate(val)) if val else np.zeros(0, np.int64)
    train = np.setdiff1d(np.arange(len(labels)), val)
    return train, val


def _to_layout(x: np.ndarray, layout: str, name: str) -> np.ndarray:
    if x.ndim == 3:  # grayscale (N, 28, 28)
        if layout == "flat":
            return x.reshape(len(x), x.shape[1] * x.shape[2])
        if layout == "image":
            return x[:, None]
        return x  # sequence: 28 steps of 28 pixels, row by row
    if layout == "sequence":
        raise ValueError(f"{name}: the row-by-row sequence layout is for 28x28 grayscale data "
                         f"(MNIST, Fashion-MNIST), not {x.shape[1:]} images")
    return x.reshape(len(x), int(np.prod(x.shape[1:]))) if layout == "flat" else x


def prepare(name: str, data_dir: Optional[str] = None, val_fraction: float = 0.1, seed: int = 0,
            layout: str = "flat", download: bool = False) -> Dataset:
    """Load ``name``, hold out ``val_fraction`` of the training split (stratified, seeded),
    scale to [0, 1] and standardize with the training split's mean and std (one value for
    grayscale, one per channel for CIFAR-10), and arrange as ``layout``:
    "flat" (N, D), "image" (N, C, H, W) or "sequence" (N, 28, 28: rows are time steps)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(DATASETS)}")
    source = PACKAGE_DATA if name == "fashion-mini" else locate(name, ("train", "test"),
                                                                 data_dir, download)
    x_train, y_train = _read_split(name, source, "train")
    x_test, y_test = _read_split(name, source, "test")
    train_idx, val_idx = validation_split(y_train, val_fraction, seed)
    x_tr = x_train[train_idx].astype(np.float32) / 255.0
    axes = (0, 2, 3) if x_tr.ndim == 4 else None
    mean = x_tr.mean(axis=axes, keepdims=axes is not None, dtype=np.float64).astype(np.float32)
    std = x_tr.std(axis=axes, keepdims=axes is not None, dtype=np.float64).astype(np.float32)

    def standardize(x):
        return _to_layout(((x.astype(np.float32) / 255.0 - mean) / std).astype(np.float32),
                          layout, name)

    return Dataset(name=name, x_train=_to_layout((x_tr - mean) / std, layout, name),
                   y_train=y_train[train_idx], x_val=standardize(x_train[val_idx]),
                   y_val=y_train[val_idx], x_test=standardize(x_test), y_test=y_test,
                   mean=np.squeeze(mean), std=np.squeeze(std),
                   num_classes=NUM_CLASSES[name], layout=layout,
                   source=source)


# -------------------------------------------------------------------- batches, augment
def batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True,
            rng: Optional[np.random.Generator] = None, drop_last: bool = False,
            augment=None) -> Iterator[tuple]:
    """Mini-batches ``(x, y)``; every sample once per pass, in an order fixed by ``rng``.

    ``augment(x_batch, rng) -> x_batch`` is applied to each batch (training only).
    """
    if len(x) != len(y):
        raise ValueError(f"batches: {len(x)} inputs but {len(y)} labels")
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be >= 1, got {batch_size}")
    rng = rng if rng is not None else np.random.default_rng(0)
    order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
    stop = len(x) - (len(x) % batch_size if drop_last else 0)
    for start in range(0, stop, batch_size):
        index = order[start:start + batch_size]
        xb = x[index]
        if augment is not None:
            xb = augment(xb, rng)
        yield xb, y[index]


def augment_batch(x: np.ndarray, rng: np.random.Generator, max_shift: int = 4) -> np.ndarray:
    """CIFAR's standard augmentation on a batch (N, C, H, W): random horizontal flip, then a
    random translation of up to ``max_shift`` pixels (zero padding, random crop)."""
    if x.ndim != 4:
        raise ValueError(f"augment_batch: expected images (N, C, H, W), got shape {x.shape}")
    n, _, h, w = x.shape
    flip = rng.random(n) < 0.5
    out = np.where(flip[:, None, None, None], x[..., ::-1], x)
    padded = np.pad(out, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy = rng.integers(0, 2 * max_shift + 1, n)
    dx = rng.integers(0, 2 * max_shift + 1, n)
    rows = dy[:, None] + np.arange(h)[None, :]          # (N, H)
    cols = dx[:, None] + np.arange(w)[None, :]          # (N, W)
    return padded[np.arange(n)[:, None, None, None], np.arange(x.shape[1])[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]].astype(x.dtype, copy=False)
