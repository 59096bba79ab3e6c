"""Checkpoints: one file, atomic, validated before anything is touched."""
import os

import numpy as np
import pytest

from minisnip import Tensor, checkpoint, functional as F, optim
from minisnip.models import build_model
from minisnip.nn import init


def _trained(seed=0, steps=2):
    model = build_model("lenet300")
    init.initialize(model, "vs-x", rng=seed)
    model.fc1.c.data[:, ::2] = 0
    model.fc1.weight.data *= model.fc1.c.data
    opt = optim.SGD(list(model.parameters()), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sched = optim.MultiStepLR(opt, [1], 0.1)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = rng.standard_normal((8, 784)).astype(np.float32)
        loss = F.cross_entropy(model(Tensor(x)), rng.integers(0, 10, 8))
        opt.zero_grad()
        loss.backward()
        opt.step()
    sched.step()
    return model, opt, sched


def test_round_trip(tmp_path):
    model, opt, sched = _trained()
    path = str(tmp_path / "run.ckpt")
    checkpoint.save(path, model, opt, sched, epoch=3, extra={"note": "hi"})
    fresh, fresh_opt, fresh_sched = _trained(seed=1, steps=1)
    info = checkpoint.load(path, fresh, fresh_opt, fresh_sched)
    assert info["epoch"] == 3 and info["extra"] == {"note": "hi"}
    for (k, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert fresh_opt.lr == opt.lr and fresh_sched.last_epoch == sched.last_epoch
    for s_a, s_b in zip(opt.state, fresh_opt.state):
        np.testing.assert_array_equal(s_a["momentum_buffer"], s_b["momentum_buffer"])
    assert np.all(fresh.fc1.weight.data[:, ::2] == 0)
    assert fresh.fc1.weight.mask is fresh.fc1.c


def _snapshot(model, opt):
    return ({k: v.copy() for k, v in model.state_dict().items()},
            [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()} for s in opt.state])


def _assert_untouched(model, opt, snap):
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, snap[0][k])
    assert len(opt.state) == len(snap[1])
    for now, then in zip(opt.state, snap[1]):
        assert now.keys() == then.keys()
        for key in now:
            np.testing.assert_array_equal(now[key], then[key])


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_file_gives_clear_error_and_touches_nothing(tmp_path, damage):
    model, opt, sched = _trained()
    path = str(tmp_path / "run.ckpt")
    checkpoint.save(path, model, opt, sched, epoch=1)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write({"truncate": data[: len(data) // 2], "garbage": b"not a checkpoint" * 50,
                 "empty": b""}[damage])
    other, other_opt, other_sched = _trained(seed=5)
    snap = _snapshot(other, other_opt)
    with pytest.raises(checkpoint.CheckpointError, match="run.ckpt"):
        checkpoint.load(path, other, other_opt, other_sched)
    _assert_untouched(other, other_opt, snap)


def test_mismatched_model_gives_clear_error(tmp_path):
    from minisnip import nn
    model, opt, sched = _trained()
    path = str(tmp_path / "run.ckpt")
    checkpoint.save(path, model, opt, sched, epoch=1)
    small = nn.Sequential(nn.Linear(784, 10))
    with pytest.raises(checkpoint.CheckpointError, match="different model"):
        checkpoint.load(path, small)
    adam = optim.Adam(list(model.parameters()))
    with pytest.raises(checkpoint.CheckpointError, match="SGD"):
        checkpoint.load(path, model, adam)


def test_crash_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model, opt, sched = _trained()
    path = str(tmp_path / "run.ckpt")
    checkpoint.save(path, model, opt, sched, epoch=1)
    before = open(path, "rb").read()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(path, model, opt, sched, epoch=2)
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["run.ckpt"]  # no temporary file left behind


def test_round_trip_with_batchnorm_buffers(tmp_path):
    from minisnip import nn
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3))
    init.initialize(model, "vs-h", rng=0)
    model(Tensor(np.random.default_rng(0).standard_normal((4, 1, 5, 5)).astype(np.float32)))
    path = str(tmp_path / "bn.ckpt")
    checkpoint.save(path, model, epoch=2)
    fresh = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3))
    checkpoint.load(path, fresh)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value, err_msg=key)
    assert int(fresh[1].num_batches_tracked.data) == 1


def _edit_meta(path, edit):
    """Rewrite a checkpoint's JSON metadata by hand (as a user with a text editor might)."""
    import json
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    edit(meta)
    with open(path, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)


@pytest.mark.parametrize("edit", [
    lambda m: m.pop("epoch"),
    lambda m: m.update(epoch="three"),
    lambda m: m["scheduler"].pop("gamma"),
    lambda m: m["scheduler"].update(milestones="soon"),
    lambda m: m["optimizer"].update(lr="fast"),
    lambda m: m["optimizer"]["scalars"].update({"99.step": 3}),
    lambda m: m.update(optimizer=None),
])
def test_hand_edited_metadata_is_refused_and_changes_nothing(tmp_path, edit):
    model, opt, sched = _trained()
    path = str(tmp_path / "run.ckpt")
    checkpoint.save(path, model, opt, sched, epoch=1)
    _edit_meta(path, edit)
    other, other_opt, other_sched = _trained(seed=5)
    snap = _snapshot(other, other_opt)
    sched_before, lr_before = other_sched.state_dict(), other_opt.lr
    with pytest.raises(checkpoint.CheckpointError, match="run.ckpt"):
        checkpoint.load(path, other, other_opt, other_sched)
    _assert_untouched(other, other_opt, snap)
    assert other_sched.state_dict() == sched_before and other_opt.lr == lr_before


_KILLED_SAVE = """
import sys, time
import numpy as np
sys.path.insert(0, {root!r})
from minisnip import checkpoint
from tests.test_checkpoint import _trained
model, opt, sched = _trained()
def slow_savez(f, **arrays):
    f.write(b"half a checkpoint")
    f.flush()
    print("writing", flush=True)
    time.sleep(60)
np.savez = slow_savez
checkpoint.save({path!r}, model, opt, sched, epoch=2)
"""


def test_a_killed_save_keeps_the_previous_checkpoint_and_its_leftover_is_cleaned(tmp_path):
    """A real kill (SIGKILL: no cleanup code runs), not an exception."""
    import signal
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    model, opt, sched = _trained()
    path = str(tmp_path / "run.ckpt")
    checkpoint.save(path, model, opt, sched, epoch=1)
    before = open(path, "rb").read()
    child = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE.format(root=root, path=path)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert open(path, "rb").read() == before                  # the previous one is intact
    leftovers = [p for p in os.listdir(tmp_path) if p != "run.ckpt"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".run.ckpt.tmp-")
    checkpoint.load(path, *_trained(seed=2))                   # and still loads
    checkpoint.save(path, model, opt, sched, epoch=3)          # the next save cleans up
    assert sorted(os.listdir(tmp_path)) == ["run.ckpt"]


def test_checkpoints_get_the_permissions_of_a_normal_file(tmp_path):
    model, opt, sched = _trained()
    path = str(tmp_path / "run.ckpt")
    old = os.umask(0o022)
    try:
        checkpoint.save(path, model, opt, sched, epoch=1)
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644
