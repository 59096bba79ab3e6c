"""A pruned layer computed from its kept connections only: what Linear and Conv2d share.

After pruning, a layer's mask c no longer changes. A layer whose op has a sparse version
(``ops/sparse.py``: ``sparse_linear``, ``sparse_conv2d``) can then compute from the kept
connections alone, which is faster when few are kept. The mask stays what it was: the
result equals the dense ``c * w`` path to float rounding.
"""
from __future__ import annotations

import numpy as np


class SparseKernelLayer:
    """Mixed into a prunable layer (a Module with a mask ``c``). The layer class sets
    ``BREAK_EVEN_DENSITY`` (the density at or below which its sparse step beats its dense
    one, measured in ``benchmarks/bench_breakeven.py``) and implements
    ``_kept_connections()``: what its sparse op needs, built from ``c`` (the pattern of
    ``kernels.sparse.pattern_from_mask``, and whatever else the op reads)."""

    BREAK_EVEN_DENSITY: float  # set by each layer class
    _sparse = None  # (what _kept_connections built, the mask version it was built from)

    def _kept_connections(self):
        raise NotImplementedError(f"{type(self).__name__} must say what its sparse op needs")

    def use_sparse_kernel(self, on: bool = True):
        """Compute with the kept connections only, for a mask that will not change any more
        (after pruning). The layer falls back to the dense path while c requires grad
        (sensitivity needs dL/dc).

        While on, the mask is read-only: a direct write (``c.data[...] = ...``) fails, and a
        write through ``minisnip.masks.write`` (as ``prune`` makes) advances the mask's
        version, so the pattern is rebuilt at the next forward (an O(1) check per call)."""
        self.c.data.flags.writeable = not on
        self._sparse = None
        if on:  # a new version: whoever cached the kept entries (the optimizers) looks again
            self.c.version = getattr(self.c, "version", 0) + 1
            self._sparse = (self._kept_connections(), self.c.version)
        return self

    def sparse_kernel_pays(self) -> bool:
        """Whether the sparse kernel is expected to be faster than the dense ``c * w`` path:
        the mask's density at or below the layer's ``BREAK_EVEN_DENSITY``."""
        return bool(np.count_nonzero(self.c.data) <= self.BREAK_EVEN_DENSITY * self.c.data.size)

    def _sparse_now(self):
        """What the sparse op needs when the layer computes sparse for this call (the kernel
        is on and c does not require grad), rebuilt if the mask was rewritten; else None."""
        if self._sparse is None or self.c.requires_grad:
            return None
        if self._sparse[1] != getattr(self.c, "version", 0):
            self.use_sparse_kernel()  # the mask was rewritten (pruned again)
        return self._sparse[0]
