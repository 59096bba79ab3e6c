"""Optimizers (SGD with momentum and weight decay, Adam) and the multi-step lr schedule.

Update rules are PyTorch's, so numbers can be compared with it. All are **mask-aware**: for a
parameter with a SNIP mask ``c`` (``param.mask``), kept entries get PyTorch's update and pruned
entries are set to weight 0, momentum buffer 0 and Adam moments 0 at every step, whatever the
gradient, the weight or the state held there (DESIGN principle 5).

``step()`` first checks every gradient (a NumPy array of the parameter's shape, floating
point) and every mask, and raises naming the parameter before it changes anything: the
kernels trust their inputs and would read past the end of a short array.

A parameter whose mask is **frozen** (read-only: its layer computes on the sparse kernel,
``model.use_sparse_kernels``) is updated at its kept entries only, O(kept) instead of
O(size): the first step that sees the mask (a new version, after ``masks.write``, or new
arrays) makes the full masked pass, which zeroes the pruned entries' weight and state; from
then on they stay 0 without being visited, since their gradient is 0 (d(c w)/dw = c) and
nothing else in training writes them.
"""
from __future__ import annotations

import numpy as np

from .kernels import optim as _kernels
from .tensor import Tensor

_NO_MASK = np.zeros(0, dtype=np.float32)


def _flat(array: np.ndarray) -> np.ndarray:
    """A 1-D view of ``array`` (a copy only if it is not contiguous)."""
    return np.ascontiguousarray(array).reshape(-1)


class Optimizer:
    def __init__(self, params, lr: float):
        self.params = [p for p in params]
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self._check("learning rate", lr, low=0.0, low_open=True)
        self.lr = float(lr)
        self.state = [dict() for _ in self.params]
        self._kept = {}  # parameter index -> (mask version, the arrays, kept flat indices)

    def _kept_only(self, i: int, p):
        """The kept flat indices of parameter i when its mask is frozen and the full masked
        pass has already been made for this mask, these arrays and this state; else None
        (the caller makes the full pass, and the indices are ready for the next step)."""
        c = p.mask
        if c is None or c.data.flags.writeable:
            self._kept.pop(i, None)
            return None
        version = getattr(c, "version", 0)
        arrays = [c.data, p.data] + [v for v in self.state[i].values() if isinstance(v, np.ndarray)]
        cached = self._kept.get(i)
        if cached is not None and cached[0] == version and len(cached[1]) == len(arrays) \
                and all(a is b for a, b in zip(cached[1], arrays)):  # the arrays, not ids
            return cached[2]
        self._kept[i] = (version, arrays, np.flatnonzero(c.data).astype(np.int64))
        return None

    def _check(self, name: str, value, low: float = 0.0, high: float = np.inf,
               low_open: bool = False, high_open: bool = False) -> None:
        """A hyper-parameter must be a finite number in its range (as PyTorch's checks)."""
        ok = isinstance(value, (int, float, np.integer, np.floating)) and \
            not isinstance(value, bool) and np.isfinite(value) and \
            (value > low if low_open else value >= low) and \
            (value < high if high_open else value <= high)
        if not ok:
            span = (f"{'(' if low_open else '['}{low:g}, "
                    f"{high:g}{')' if high_open or high == np.inf else ']'}")
            raise ValueError(f"{type(self).__name__}: {name} must be a finite number in "
                             f"{span}, got {value!r}")

    def _gradients(self) -> list:
        """Every parameter's gradient as a flat array (None where there is none), checked
        before any update so that a bad one changes nothing."""
        grads = []
        for i, p in enumerate(self.params):
            g = p.grad
            if g is not None:
                where = (f"{type(self).__name__}.step: parameter {i} of {len(self.params)} "
                         f"(shape {p.shape}, {p.dtype})")
                if isinstance(g, Tensor):
                    raise TypeError(f"{where}: its .grad is a Tensor; it must be a NumPy array "
                                    f"(assign tensor.data)")
                if not isinstance(g, np.ndarray):
                    raise TypeError(f"{where}: its .grad is a {type(g).__name__}; expected a "
                                    f"NumPy array of shape {p.shape}")
                if g.shape != p.shape:
                    raise ValueError(f"{where}: its .grad has shape {g.shape}; expected "
                                     f"{p.shape}")
                if g.dtype.kind != "f":
                    raise TypeError(f"{where}: its .grad has dtype {g.dtype}; expected a "
                                    f"floating-point array")
                if p.mask is not None and p.mask.shape != p.shape:
                    raise ValueError(f"{where}: its mask has shape {p.mask.shape}; expected "
                                     f"{p.shape}")
                g = _flat(g)
            grads.append(g)
        return grads

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict:
        arrays = {f"{i}.{k}": v.copy() for i, s in enumerate(self.state) for k, v in s.items()
                  if isinstance(v, np.ndarray)}
        scalars = {f"{i}.{k}": v for i, s in enumerate(self.state) for k, v in s.items()
                   if not isinstance(v, np.ndarray)}
        return dict(lr=self.lr, arrays=arrays, scalars=scalars)

    def load_state_dict(self, state: dict) -> None:
        new = [dict() for _ in self.params]
        for store in ("arrays", "scalars"):
            for key, value in state.get(store, {}).items():
                index, name = key.split(".", 1)
                index = int(index)
                if not 0 <= index < len(self.params):
                    raise ValueError(f"optimizer state names parameter {index}, but the optimizer "
                                     f"has {len(self.params)} parameters")
                if store == "arrays":
                    if np.shape(value) != self.params[index].shape:
                        raise ValueError(f"optimizer state {key!r} has shape {np.shape(value)}, "
                                         f"the parameter has {self.params[index].shape}")
                    value = np.array(value, dtype=self.params[index].dtype)
                new[index][name] = value
        self.lr = float(state["lr"])
        self.state = new
        self._kept = {}


class SGD(Optimizer):
    """PyTorch's SGD: ``g += wd * w``; ``b = mu * b + (1 - dampening) * g``; ``w -= lr * b``
    (Nesterov: ``w -= lr * (g + mu * b)``)."""

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        self._check("momentum", momentum)
        self._check("dampening", dampening, high=1.0)
        self._check("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov

    def step(self) -> None:
        """One update of every parameter that has a gradient (kernels/optim.py sgd_step)."""
        for i, (p, g, state) in enumerate(zip(self.params, self._gradients(), self.state)):
            if g is None:
                continue
            first = self.momentum and "momentum_buffer" not in state
            if first:
                state["momentum_buffer"] = np.empty_like(p.data)
            buf = state.get("momentum_buffer", p.data)  # unused without momentum
            w = _weights_of(p)
            kept = self._kept_only(i, p)
            hyper = (float(self.lr), float(self.momentum), float(self.dampening),
                     float(self.weight_decay), bool(self.nesterov), bool(first))
            if kept is None:
                _kernels.sgd_step(w, g, buf.reshape(-1), _mask_of(p), *hyper)
            else:
                _kernels.sgd_step_kept(w, g, buf.reshape(-1), kept, *hyper)


class Adam(Optimizer):
    """PyTorch's Adam (L2 weight decay added to the gradient, bias-corrected moments)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        if len(tuple(betas)) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            self._check(f"betas[{i}]", beta, high=1.0, high_open=True)
        self._check("eps", eps)
        self._check("weight_decay", weight_decay)
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def step(self) -> None:
        """One update of every parameter that has a gradient (kernels/optim.py adam_step)."""
        b1, b2 = self.betas
        for i, (p, g, state) in enumerate(zip(self.params, self._gradients(), self.state)):
            if g is None:
                continue
            if "exp_avg" not in state:
                state["exp_avg"] = np.zeros_like(p.data)
                state["exp_avg_sq"] = np.zeros_like(p.data)
                state["step"] = 0
            state["step"] += 1
            w = _weights_of(p)
            kept = self._kept_only(i, p)
            hyper = (float(self.lr), float(b1), float(b2), float(self.eps),
                     float(self.weight_decay), int(state["step"]))
            m, v = state["exp_avg"].reshape(-1), state["exp_avg_sq"].reshape(-1)
            if kept is None:
                _kernels.adam_step(w, g, m, v, _mask_of(p), *hyper)
            else:
                _kernels.adam_step_kept(w, g, m, v, kept, *hyper)


def _weights_of(p) -> np.ndarray:
    """A flat view of the parameter's array, updated in place by the kernels."""
    if not p.data.flags.c_contiguous:
        p.data = np.ascontiguousarray(p.data)
    return p.data.reshape(-1)


def _mask_of(p) -> np.ndarray:
    return _flat(p.mask.data) if p.mask is not None else _NO_MASK.astype(p.dtype)


class MultiStepLR:
    """Multiply the lr by ``gamma`` at each milestone epoch; call ``step()`` once per epoch."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1):
        self.optimizer, self.gamma = optimizer, gamma
        self.milestones = sorted(int(m) for m in milestones)
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def get_lr(self, epoch: int) -> float:
        passed = sum(1 for m in self.milestones if m <= epoch)
        return self.base_lr * self.gamma ** passed

    def step(self) -> None:
        self.last_epoch += 1
        self.optimizer.lr = self.get_lr(self.last_epoch)

    def state_dict(self) -> dict:
        return dict(last_epoch=self.last_epoch, base_lr=self.base_lr,
                    milestones=list(self.milestones), gamma=self.gamma)

    def load_state_dict(self, state: dict) -> None:
        self.last_epoch = int(state["last_epoch"])
        self.base_lr = float(state["base_lr"])
        self.milestones = [int(m) for m in state["milestones"]]
        self.gamma = float(state["gamma"])
        self.optimizer.lr = self.get_lr(self.last_epoch)
