"""Data: IDX/CIFAR readers, the search order, verified downloads, splits and batches."""
import gzip
import hashlib
import os
import pathlib

import numpy as np
import pytest

from minisnip import data

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist-t10k"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINISNIP_DATA", raising=False)


def _write_mnist_like(folder, n_train=40, n_test=20, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    ext = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        data.write_idx(os.path.join(folder, f"{split}-images-idx3-ubyte{ext}"),
                       rng.integers(0, 256, (n, 28, 28)))
        data.write_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte{ext}"),
                       np.arange(n) % 10)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    x = np.random.default_rng(0).integers(0, 256, (5, 3, 4)).astype(np.uint8)
    path = str(tmp_path / ("a.idx" + (".gz" if gz else "")))
    data.write_idx(path, x)
    np.testing.assert_array_equal(data.read_idx(path), x)


@pytest.mark.parametrize("content,match", [
    (b"", "too short"),
    (b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") * 3 + b"\x00" * 5, "truncated or corrupt"),
    (b"PK\x03\x04 this is a zip file", "not an IDX file"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
])
def test_idx_errors_name_the_file_and_problem(tmp_path, content, match):
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        data.read_idx(str(path))
    assert "bad-idx" in str(info.value)


def test_truncated_gzip_is_explained(tmp_path):
    path = tmp_path / "x.gz"
    payload = gzip.compress(b"\x00\x00\x08\x01" + (1000).to_bytes(4, "big") + bytes(1000))
    path.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(str(path))


def test_search_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "env"
    _write_mnist_like(first / "mnist", seed=1)
    _write_mnist_like(second, seed=2)
    monkeypatch.setenv("MINISNIP_DATA", str(second))
    _, _, folder = data.load_dataset("mnist", "train", data_dir=str(first))
    assert folder == str(first / "mnist")
    _, _, folder = data.load_dataset("mnist", "train")
    assert folder == str(second)
    monkeypatch.delenv("MINISNIP_DATA")
    _write_mnist_like(data.cache_dir("mnist"), gz=False)
    _, _, folder = data.load_dataset("mnist", "train")
    assert folder == data.cache_dir("mnist")


def test_not_found_error_lists_places_and_remedies(tmp_path):
    with pytest.raises(data.DataNotFoundError) as info:
        data.load_dataset("mnist", "train")
    message = str(info.value)
    assert data.cache_dir("mnist") in message and "train-images-idx3-ubyte" in message
    assert "--download" in message and "fashion-mini" in message
    with pytest.raises(data.DataNotFoundError) as info:
        data.load_dataset("mnist", "train", data_dir=str(tmp_path / "nowhere"))
    assert str(tmp_path / "nowhere") in str(info.value) and "--download" in str(info.value)


def test_unknown_names_are_errors():
    with pytest.raises(ValueError, match="unknown data set"):
        data.load_dataset("imagenet")
    with pytest.raises(ValueError, match="unknown layout"):
        data.prepare("fashion-mini", layout="volume")


def test_download_verifies_the_checksum(tmp_path):
    src = tmp_path / "file.bin"
    src.write_bytes(b"official bytes")
    good = hashlib.md5(b"official bytes").hexdigest()
    dest = tmp_path / "cache" / "file.bin"
    data.download(src.as_uri(), str(dest), good)
    assert dest.read_bytes() == b"official bytes"
    other = tmp_path / "cache" / "other.bin"
    with pytest.raises(ValueError, match="does not match"):
        data.download(src.as_uri(), str(other), "0" * 32)
    assert not other.exists() and not [p for p in os.listdir(dest.parent) if p.endswith(".part")]


def test_download_then_load(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    _write_mnist_like(mirror)
    md5 = {f: data.md5sum(str(mirror / f)) for f in os.listdir(mirror)}
    monkeypatch.setitem(data.SOURCES, "mnist", dict(urls=(mirror.as_uri() + "/",), md5=md5,
                                                    system_dirs=()))
    with pytest.raises(data.DataNotFoundError):
        data.load_dataset("mnist", "train")
    x, y, folder = data.load_dataset("mnist", "train", download=True)
    assert x.shape == (40, 28, 28) and folder == data.cache_dir("mnist")


def test_fashion_mini_is_bundled_and_stratified():
    x, y, _ = data.load_dataset("fashion-mini", "train")
    assert x.dtype == np.uint8 and x.shape[1:] == (28, 28)
    assert np.all(np.bincount(y) == len(y) // 10)
    xt, yt, _ = data.load_dataset("fashion-mini", "test")
    assert np.all(np.bincount(yt) == len(yt) // 10)


def test_prepare_standardizes_with_training_statistics_only():
    d = data.prepare("fashion-mini", val_fraction=0.1, seed=0)
    assert d.x_train.dtype == np.float32 and d.x_train.shape[1] == 784
    assert abs(d.x_train.mean()) < 1e-3 and abs(d.x_train.std() - 1) < 1e-3
    assert abs(d.x_test.mean()) > 1e-4  # test data is not re-standardized by its own stats
    assert len(d.x_val) == 500 and np.all(np.bincount(d.y_val) == 50)
    d2 = data.prepare("fashion-mini", val_fraction=0.1, seed=0)
    np.testing.assert_array_equal(d.y_val, d2.y_val)
    d3 = data.prepare("fashion-mini", val_fraction=0.1, seed=1)
    assert not np.array_equal(d.x_val, d3.x_val)


def test_layouts():
    assert data.prepare("fashion-mini", layout="image").x_train.shape[1:] == (1, 28, 28)
    assert data.prepare("fashion-mini", layout="sequence").x_train.shape[1:] == (28, 28)


def test_batches_cover_every_sample_once_and_are_seeded():
    x, y = np.arange(23)[:, None], np.arange(23)
    seen = np.concatenate([yb for _, yb in data.batches(x, y, 5, rng=np.random.default_rng(1))])
    assert sorted(seen) == list(range(23))
    again = np.concatenate([yb for _, yb in data.batches(x, y, 5, rng=np.random.default_rng(1))])
    np.testing.assert_array_equal(seen, again)
    assert sum(1 for _ in data.batches(x, y, 5, drop_last=True)) == 4
    with pytest.raises(ValueError, match="labels"):
        list(data.batches(x, y[:3], 5))


def _write_cifar(folder, n=7, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for name in data.CIFAR_TRAIN + data.CIFAR_TEST:
        records = np.concatenate([rng.integers(0, 10, (n, 1)), rng.integers(0, 256, (n, 3072))], 1)
        records.astype(np.uint8).tofile(os.path.join(folder, name))


def test_cifar_reader_and_per_channel_standardization(tmp_path):
    _write_cifar(tmp_path / "cifar-10-batches-bin")
    x, y, _ = data.load_dataset("cifar10", "train", data_dir=str(tmp_path))
    assert x.shape == (35, 3, 32, 32) and y.shape == (35,)
    d = data.prepare("cifar10", data_dir=str(tmp_path), layout="image", val_fraction=0.0)
    assert d.mean.shape == (3,)
    np.testing.assert_allclose(d.x_train.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    with pytest.raises(ValueError, match="sequence layout"):
        data.prepare("cifar10", data_dir=str(tmp_path), layout="sequence")


def test_cifar_truncated_batch_is_explained(tmp_path):
    (tmp_path / "data_batch_1.bin").write_bytes(bytes(3073 * 2 + 5))
    with pytest.raises(ValueError, match="whole number of CIFAR-10 records"):
        data.read_cifar_batch(str(tmp_path / "data_batch_1.bin"))


def test_augmentation_flips_and_shifts():
    rng = np.random.default_rng(0)
    x = np.random.default_rng(1).standard_normal((64, 3, 8, 8)).astype(np.float32)
    out = data.augment_batch(x, rng, max_shift=0)
    flipped = [np.array_equal(o, xi[..., ::-1]) for o, xi in zip(out, x)]
    kept = [np.array_equal(o, xi) for o, xi in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and 10 < sum(flipped) < 54
    shifted = data.augment_batch(x, rng, max_shift=2)
    assert shifted.shape == x.shape and shifted.dtype == x.dtype
    assert np.any(shifted == 0)  # zero padding came in from some border


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="official MNIST test set not present")
def test_reads_the_official_mnist_test_set():
    x, y, _ = data.load_dataset("mnist", "test", data_dir=str(SHARED_MNIST))
    assert x.shape == (10000, 28, 28) and np.bincount(y).sum() == 10000


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="dataset-fashion-mnist not installed")
def test_reads_debian_fashion_mnist():
    x, y, folder = data.load_dataset("fashion-mnist", "train")
    assert x.shape == (60000, 28, 28) and folder == "/usr/share/datasets/fashion-mnist"


def test_out_of_range_labels_are_an_error_naming_the_file(tmp_path):
    _write_mnist_like(tmp_path)
    labels = np.arange(40) % 10
    labels[7] = 200
    data.write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), labels)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz: 1 label\(s\) outside 0-9"):
        data.prepare("mnist", data_dir=str(tmp_path))


def test_the_number_of_classes_is_the_data_sets(tmp_path):
    _write_mnist_like(tmp_path)
    data.write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), np.zeros(40))
    data.write_idx(str(tmp_path / "t10k-labels-idx1-ubyte.gz"), np.zeros(20))
    assert data.prepare("mnist", data_dir=str(tmp_path), val_fraction=0).num_classes == 10


@pytest.mark.parametrize("elsewhere", ["env", "cache"])
def test_an_explicit_data_dir_is_used_alone(tmp_path, monkeypatch, elsewhere):
    other = tmp_path / "env" if elsewhere == "env" else data.cache_dir("mnist")
    _write_mnist_like(other)
    monkeypatch.setenv("MINISNIP_DATA", str(tmp_path / "env"))
    with pytest.raises(data.DataNotFoundError, match="is not a folder"):
        data.prepare("mnist", data_dir=str(tmp_path / "typo"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(data.DataNotFoundError, match="no folder holds") as info:
        data.prepare("mnist", data_dir=str(tmp_path / "empty"))
    assert str(other) not in str(info.value)
    assert data.prepare("mnist").source == str(other)           # without it: found there


def test_both_splits_come_from_one_folder(tmp_path, monkeypatch):
    only_train = tmp_path / "only-train"
    _write_mnist_like(only_train)
    for f in only_train.glob("t10k-*"):
        f.unlink()
    with pytest.raises(data.DataNotFoundError, match="t10k-images"):
        data.prepare("mnist", data_dir=str(only_train))
    _write_mnist_like(data.cache_dir("mnist"), n_train=30)
    monkeypatch.setenv("MINISNIP_DATA", str(only_train))
    d = data.prepare("mnist", val_fraction=0)          # the env folder lacks the test split
    assert d.source == data.cache_dir("mnist") and len(d.x_train) == 30
    x, _, folder = data.load_dataset("mnist", "train")  # one split alone may come from it
    assert folder == str(only_train) and len(x) == 40
