"""Slow, obvious NumPy versions of every Numba kernel: the oracles the tests compare against.

Each function here has the same signature and returns the same thing as the kernel of the
same name in its ``kernels/<family>.py`` module. Clarity over speed: loops and ``einsum``
where they say what the kernel computes.
"""
from __future__ import annotations

import numpy as np
