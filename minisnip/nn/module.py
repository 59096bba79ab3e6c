"""Module and Parameter, shaped like PyTorch's so that what a student learns here transfers.

The one addition is the connection mask of SNIP (the paper's Eq. 3): a prunable module
registers, for each prunable weight ``w``, a mask tensor ``c`` of the same shape (ones until
pruned) and computes with ``c * w``. In ``state_dict`` the mask of ``weight`` is stored beside
it as ``weight_mask`` (the name ``torch.nn.utils.prune`` uses), so masks can be exchanged with
PyTorch. The parameter also keeps a reference to its mask (``param.mask``) so that optimizers
can keep pruned entries at exactly zero.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import numpy as np

from ..masks import write
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a learnable parameter of a Module (``requires_grad=True``).

    ``mask`` is the SNIP mask tensor ``c`` of this weight when it is prunable, else None.
    """

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)
        self.mask: Tensor | None = None

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__() + ")"


class Module:
    """Base class of layers and networks: parameters, buffers, masks, submodules, train/eval."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_masks", OrderedDict())  # param name -> mask buffer name
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning "
                               f"attributes (assigning {name!r})")
        if name in self._masks.values():
            raise AttributeError(
                f"{type(self).__name__}.{name} is a SNIP mask, shared with its weight and the "
                f"optimizers: write it in place (minisnip.masks.write(layer.{name}, values), or "
                f"layer.{name}.data[...] = values), do not assign a new tensor")
        if name in self._buffers and (value is None or isinstance(value, Tensor)) \
                and not isinstance(value, Parameter):
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value) -> None:
        """A non-learnable array that is part of the state (BatchNorm running stats, masks)."""
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(value)
        object.__setattr__(self, name, value)
        self._buffers[name] = value

    def register_mask(self, param_name: str) -> Tensor:
        """Make parameter ``param_name`` prunable: add its SNIP mask ``c`` (Eq. 3), all ones.

        The mask is a buffer named ``{param_name}_mask``; the forward must use ``c * w``.
        """
        param = self._parameters[param_name]
        mask = Tensor(np.ones_like(param.data), requires_grad=False)
        object.__setattr__(self, f"{param_name}_mask", mask)
        self._buffers[f"{param_name}_mask"] = mask
        self._masks[param_name] = f"{param_name}_mask"
        param.mask = mask
        return mask

    # ----------------------------------------------------------------- access
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def children(self) -> Iterator["Module"]:
        return iter(self._modules.values())

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for name, module in self.named_modules(prefix):
            for pname, param in module._parameters.items():
                if param is not None:
                    yield (f"{name}.{pname}" if name else pname), param

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for name, module in self.named_modules(prefix):
            for bname, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{name}.{bname}" if name else bname), buf

    def masked(self, param_name: str):
        """``c * w`` for a parameter with a mask (Eq. 3), the parameter itself (or None)
        otherwise: how a layer uses a parameter that may be prunable, e.g. its bias."""
        param = self._parameters.get(param_name)
        return param if param is None or param.mask is None else param.mask * param

    def named_masks(self) -> Iterator[tuple[str, Parameter, Tensor]]:
        """``(weight name, weight w, mask c)`` for every prunable weight, in a fixed order."""
        for name, module in self.named_modules():
            for pname, bname in module._masks.items():
                full = f"{name}.{pname}" if name else pname
                yield full, module._parameters[pname], module._buffers[bname]

    def use_sparse_kernels(self, mode="auto") -> dict:
        """Compute pruned layers from their kept connections only, on sparse kernels.

        ``mode``: ``"auto"``, each layer that has a sparse kernel uses it when that pays, by
        the layer's break-even (``layer.sparse_kernel_pays()``: its density against the
        break-even measured in ``benchmarks/bench_breakeven.py``); ``True``, every such layer;
        ``False``, none (every layer computes densely with ``c * w``). Applies to this module
        and all its descendants; call it after pruning (the masks are then read-only until
        rewritten through ``minisnip.masks.write``; see ``nn.sparse.SparseKernelLayer``). The
        results equal the dense path's to float rounding.

        The choice is made now, from the masks as they are: a layer whose mask is rewritten
        later (``masks.write``) rebuilds its pattern and stays sparse; call this again to
        choose afresh.

        Returns ``{layer name: True if it now computes sparse}`` for every layer that has a
        sparse kernel (``Linear``, ``Conv2d``), in ``named_modules`` order: what a run record
        stores.
        """
        if not (mode is True or mode is False or mode == "auto"):
            raise ValueError(f"use_sparse_kernels: mode must be 'auto', True or False, got "
                             f"{mode!r}")
        chosen = {}
        for name, module in self.named_modules():
            if hasattr(module, "use_sparse_kernel"):
                on = module.sparse_kernel_pays() if mode == "auto" else mode
                module.use_sparse_kernel(on)
                chosen[name or type(module).__name__] = on
        return chosen

    def num_parameters(self) -> int:
        return int(sum(p.data.size for p in self.parameters()))

    # ------------------------------------------------------------------ state
    def state_dict(self, masks: bool = True) -> "OrderedDict[str, np.ndarray]":
        """Parameters and buffers as NumPy arrays (copies), named and laid out as in PyTorch.

        With ``masks=True`` every mask is included beside its weight as ``weight_mask`` (the
        name ``torch.nn.utils.prune`` uses). ``masks=False`` leaves them out: pruned weights
        are 0 already, so this is the state dict of the same network without masks, which a
        PyTorch module of the same layout loads with ``strict=True``."""
        mask_names = {id(c) for _, _, c in self.named_masks()}
        state = OrderedDict()
        for name, module in self.named_modules():
            dot = f"{name}." if name else ""
            for pname, param in module._parameters.items():
                if param is not None:
                    value = param.data if param.mask is None else param.data * param.mask.data
                    state[dot + pname] = value.copy()
            for bname, buf in module._buffers.items():
                if buf is not None and (masks or id(buf) not in mask_names):
                    state[dot + bname] = buf.data.copy()
        return state

    def load_state_dict(self, state, strict: bool = True) -> None:
        """Copy arrays into parameters and buffers; nothing is changed unless all of it fits.

        Accepted as PyTorch writes them: a state dict without masks (every mask it lacks is
        set to ones: a dense network), and one from ``torch.nn.utils.prune`` (``weight_orig``
        and ``weight_mask`` instead of ``weight``: the weight becomes ``weight_orig *
        weight_mask``, so that a pruned weight is 0 here as everywhere in minisnip).
        ``strict``: unknown keys, or missing keys other than masks, are an error.
        """
        state = _from_torch_prune(state)
        own = self.state_dict()
        mask_keys = {f"{n}_mask" for n, _, _ in self.named_masks()}
        missing = [k for k in own if k not in state and k not in mask_keys]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for key, value in state.items():
            if key in own and np.shape(value) != own[key].shape:
                raise ValueError(f"load_state_dict: {key!r} has shape {np.shape(value)} in the "
                                 f"state dict but {own[key].shape} in the model")
        targets = dict(self.named_parameters())
        targets.update(dict(self.named_buffers()))
        for key in mask_keys - set(state):
            write(targets[key], 1)
        for key, value in state.items():
            if key in targets:
                target = targets[key]
                write(target, np.asarray(value, dtype=target.data.dtype))
        for _, w, c in self.named_masks():
            w.data *= c.data

    # ------------------------------------------------------------------- mode
    def train(self, mode: bool = True) -> "Module":
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.grad = None
        for _, _, mask in self.named_masks():
            mask.grad = None

    # ---------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"


def _from_torch_prune(state) -> dict:
    """``{"fc.weight_orig": w, "fc.weight_mask": c}`` (torch.nn.utils.prune's layout) ->
    ``{"fc.weight": w * c, "fc.weight_mask": c}``; other state dicts unchanged."""
    state = dict(state)
    for key in [k for k in state if k.endswith("_orig")]:
        base = key[:-len("_orig")]
        if base in state:
            raise KeyError(f"load_state_dict: both {base!r} and {key!r} given")
        orig = np.asarray(state.pop(key))
        mask = state.get(f"{base}_mask")
        state[base] = orig if mask is None else orig * np.asarray(mask, dtype=orig.dtype)
    return state

