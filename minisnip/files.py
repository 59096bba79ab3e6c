"""Writing files safely: every file minisnip writes (run records, checkpoints, masks, summaries,
figures) goes through :func:`atomic_write`, so a reader never sees half a file.

The data go to a temporary file in the target's folder, which is flushed to disk and then
renamed over the target (``os.replace`` is atomic on one file system): a crash or a kill while
writing leaves the previous file as it was. The temporary file's name says which host and
process wrote it (``.NAME.tmp-HOST-PID-XXXX``); one left behind by a killed process is removed
by the next write of the same target on that host. The finished file gets the permissions of
a file created normally (``0666`` minus the umask), not the ``0600`` of a temporary file. A
target that exists and is not a regular file (``/dev/null``, a pipe) is written directly.
"""
from __future__ import annotations

import contextlib
import glob
import json
import os
import socket
import tempfile

import numpy as np


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _remove_stale_temporaries(directory: str, name: str, host: str) -> None:
    """Temporary files of ``name`` left by killed processes of this host."""
    for path in glob.glob(os.path.join(glob.escape(directory), f".{glob.escape(name)}.tmp-*")):
        parts = os.path.basename(path)[len(name) + 6:].rsplit("-", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        if int(parts[1]) != os.getpid() and not _alive(int(parts[1])):
            with contextlib.suppress(OSError):
                os.remove(path)


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "w"):
    """``with atomic_write(path, "wb") as f: ...``: ``path`` is replaced only if the block
    finishes; on an exception the temporary file is removed and ``path`` is untouched."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path}: it is a directory")
    if os.path.exists(path) and not os.path.isfile(path):
        with open(path, mode) as f:   # a device or a pipe (/dev/null, /dev/stdout): never
            yield f                   # rename a file over it
        return
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    host = socket.gethostname().replace("-", "_")
    _remove_stale_temporaries(directory, name, host)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.tmp-{host}-{os.getpid()}-")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def writable_target(path: str, what: str = "output") -> str:
    """Check, before any work, that ``path`` can be written later: not a directory, and its
    folder exists (or can be made) and is writable. Returns the path; raises ValueError naming
    ``what`` (e.g. ``"--json"``) otherwise."""
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{what}: empty path")
    if os.path.isdir(path):
        raise ValueError(f"{what} {path!r} is a directory; expected a file path")
    directory = os.path.dirname(os.path.abspath(path))
    existing = directory
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"{what} {path!r}: {existing!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {path!r}: folder {existing!r} is not writable")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise ValueError(f"{what} {path!r} exists and is not writable")
    return path


def json_default(value):
    """``json.dump(..., default=json_default)``: NumPy scalars and arrays, tuples."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def write_json(path: str, obj) -> str:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_write(path) as f:
        json.dump(obj, f, indent=2, default=json_default)
        f.write("\n")
    return path


def write_text(path: str, text: str) -> str:
    with atomic_write(path) as f:
        f.write(text)
    return path


def save_figure(fig, path: str, dpi: int = 120) -> str:
    """Save a matplotlib figure as PNG, atomically."""
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi)
    return path
