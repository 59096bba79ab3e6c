"""A scratch float64 copy of a model, for the scores that float32 cannot hold.

SynFlow multiplies |W| across every layer (a deep network's product overflows or underflows
float32's range, about 1e-38 to 3e38); GraSP takes a central difference of two gradients (in
float32 the difference is mostly rounding). Both compute on a copy in float64 and return their
scores; the model itself is only touched when the mask is applied.
"""
from __future__ import annotations

import copy

import numpy as np


def float64_copy(model):
    """A deep copy of ``model`` whose floating-point parameters, buffers and masks are float64.

    The copy shares nothing with the model (each weight still holds its own mask, as
    ``deepcopy`` keeps references within the copy), computes with the dense ``c * w`` path
    (a sparse kernel's pattern is dropped), and is in the same train/eval mode.
    """
    twin = copy.deepcopy(model)
    for _, module in twin.named_modules():
        if getattr(module, "_sparse", None) is not None:
            module._sparse = None                 # the dense c * w path, on writable masks
        tensors = [p for p in module._parameters.values() if p is not None]
        tensors += [b for b in module._buffers.values() if b is not None]
        for t in tensors:
            if t.data.dtype.kind == "f":
                t.data = np.array(t.data, dtype=np.float64)   # a new, writable array
            t.grad = None
    return twin
