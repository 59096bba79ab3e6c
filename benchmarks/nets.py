"""The benchmarked training steps: the paper's networks in minisnip and their PyTorch twins.

A *step* is what one iteration of training costs: forward, loss, backward, optimizer update,
on one fixed batch. The protocols are the paper's (``minisnip.train.PROTOCOLS``): SGD with
momentum 0.9 and weight decay 5e-4 for the LeNets and VGG, Adam (lr 1e-3, no weight decay)
for the recurrent nets.

The PyTorch twins have the same architecture *and the same parameter names* as minisnip's
models, so minisnip's weights (and masks) are copied into them and the two frameworks are
checked to compute the same loss before anything is timed (:func:`agreement`). A pruned
twin computes with ``weight * mask`` the way PyTorch users do it:
``torch.nn.utils.prune.custom_from_mask`` (a forward pre-hook forms ``weight_orig * mask``
on every call, and autograd carries the product backwards).
"""
from __future__ import annotations

import numpy as np

STEP_MODELS = ("lenet300", "lenet5", "lstm-s", "gru-s")
RECURRENT = ("lstm-s", "gru-s", "lstm-b", "gru-b")


def protocol(name: str) -> dict:
    if name in RECURRENT:
        return dict(optimizer="adam", lr=1e-3, weight_decay=0.0)
    return dict(optimizer="sgd", lr=0.01 if name == "lenet5" else 0.1, momentum=0.9,
                weight_decay=5e-4)


def batch(name: str, size: int = 100, seed: int = 0):
    """A fixed batch shaped as the model reads it: flat images, images, or 28 rows of 28."""
    rng = np.random.default_rng(seed)
    shape = {"lenet300": (784,), "lenet5": (1, 28, 28)}.get(
        name, (28, 28) if name in RECURRENT else (3, 32, 32))
    x = rng.standard_normal((size,) + shape).astype(np.float32)
    y = rng.integers(0, 10, size).astype(np.int64)
    return x, y


# ------------------------------------------------------------------------------ minisnip
class MinisnipStep:
    """A minisnip model with its optimizer and batch; calling it runs one training step.

    ``forward()``, ``backward()`` and ``update()`` are the three phases, callable apart (the
    per-op breakdown times them separately). ``update()`` drops the loss, and with it the
    graph and every array its ops saved for the backward, unless ``keep_graph`` is set: a
    loop like ``minisnip.train``'s, whose ``loss`` variable lives until the next step's loss
    replaces it, holds the previous step's graph through the next forward (minisnip does not
    free saved arrays during backward; PyTorch does)."""

    def __init__(self, name: str, x, y, sparsity=None, seed: int = 0):
        import minisnip
        from minisnip import optim
        from minisnip.models import build_model
        from minisnip.nn import init
        self.name = name
        self.model = build_model(name)
        init.initialize(self.model, "vs-x", rng=np.random.default_rng(seed))
        self.prune_report = None
        if sparsity:
            from minisnip.snip import prune
            self.prune_report = prune(self.model, x, y, sparsity)
        p = protocol(name)
        params = list(self.model.parameters())
        self.optimizer = (optim.Adam(params, lr=p["lr"], weight_decay=p["weight_decay"])
                          if p["optimizer"] == "adam" else
                          optim.SGD(params, lr=p["lr"], momentum=p["momentum"],
                                    weight_decay=p["weight_decay"]))
        self.x, self.y = minisnip.Tensor(x), y
        self.loss = None
        self.keep_graph = False

    def forward(self):
        from minisnip import functional as F
        self.loss = F.cross_entropy(self.model(self.x), self.y)

    def backward(self):
        self.optimizer.zero_grad()
        self.loss.backward()

    def update(self):
        self.optimizer.step()
        if not self.keep_graph:
            self.loss = None

    def __call__(self):
        self.forward()
        self.backward()
        self.update()

    def use_sparse_kernels(self, mode="auto") -> dict:
        return use_sparse_kernels(self.model, mode)


def use_sparse_kernels(model, mode="auto") -> dict:
    """``model.use_sparse_kernels(mode)``, and which layers now compute sparse."""
    chosen = model.use_sparse_kernels(mode)
    return dict(interface=f"model.use_sparse_kernels({mode!r})", answer=chosen,
                layers=[name for name, on in chosen.items() if on])


def state_for_torch(model) -> dict:
    """minisnip's state dict without masks and BatchNorm counters, as float32 arrays."""
    return {k: v for k, v in model.state_dict().items()
            if not k.endswith("_mask") and not k.endswith("num_batches_tracked")}


# -------------------------------------------------------------------------------- PyTorch
def torch_model(name: str, torch):
    """The PyTorch twin of minisnip's ``name``, with minisnip's parameter names."""
    nn = torch.nn

    class LeNet300(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(784, 300), nn.Linear(300, 100), nn.Linear(100, 10)

        def forward(self, x):
            return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 20, 5), nn.Conv2d(20, 50, 5)
            self.fc3, self.fc4 = nn.Linear(800, 500), nn.Linear(500, 10)

        def forward(self, x):
            x = torch.max_pool2d(self.conv1(x), 2)
            x = torch.max_pool2d(self.conv2(x), 2)
            return self.fc4(torch.relu(self.fc3(x.flatten(1))))

    class Sequence(nn.Module):
        def __init__(self, cell, hidden):
            super().__init__()
            self.proj = nn.Linear(28, hidden)
            self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(hidden, hidden, batch_first=True)
            self.fc = nn.Linear(hidden, 10)

        def forward(self, x):
            out, _ = self.rnn(self.proj(x))
            return self.fc(out[:, -1])

    class ConvBNReLU(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout)

        def forward(self, x):
            return torch.relu(self.bn(self.conv(x)))

    class VGGLike(nn.Module):
        def __init__(self):
            super().__init__()
            layers, cin = [], 3
            for item in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                         512, 512, 512, "M"]:
                if item == "M":
                    layers.append(nn.MaxPool2d(2))
                else:
                    layers.append(ConvBNReLU(cin, item))
                    cin = item
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))

        def forward(self, x):
            return self.classifier(self.features(x).flatten(1))

    if name == "lenet300":
        return LeNet300()
    if name == "lenet5":
        return LeNet5()
    if name in RECURRENT:
        return Sequence(name.split("-")[0], 128 if name.endswith("-s") else 256)
    if name == "vgg-like":
        return VGGLike()
    raise ValueError(f"no PyTorch twin for {name!r}")


class TorchStep:
    """The PyTorch twin of a :class:`MinisnipStep`: same weights, same masks, same batch."""

    def __init__(self, twin_of: MinisnipStep, torch, masked: bool = False):
        self.torch = torch
        name = twin_of.name
        self.model = torch_model(name, torch)
        state = state_for_torch(twin_of.model)
        self.model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                                    for k, v in state.items()})
        self.masked = []
        if masked:
            from torch.nn.utils import prune
            modules = dict(self.model.named_modules())
            for full, _, mask in twin_of.model.named_masks():
                owner, _, pname = full.rpartition(".")
                prune.custom_from_mask(modules[owner], pname,
                                       torch.from_numpy(mask.data.astype(np.float32)))
                self.masked.append(full)
        p = protocol(name)
        params = [q for q in self.model.parameters() if q.requires_grad]
        self.optimizer = (torch.optim.Adam(params, lr=p["lr"], weight_decay=p["weight_decay"])
                          if p["optimizer"] == "adam" else
                          torch.optim.SGD(params, lr=p["lr"], momentum=p["momentum"],
                                          weight_decay=p["weight_decay"]))
        self.x = torch.from_numpy(np.ascontiguousarray(twin_of.x.data))
        self.y = torch.from_numpy(np.asarray(twin_of.y))
        self.lossf = torch.nn.CrossEntropyLoss()

    def __call__(self):
        loss = self.lossf(self.model(self.x), self.y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


def agreement(ours: MinisnipStep, theirs: TorchStep) -> dict:
    """Loss and logits of both frameworks on the batch, before any step changed the weights
    (call right after building both): they must compute the same function."""
    import minisnip
    from minisnip import functional as F
    torch = theirs.torch
    with minisnip.no_grad():
        logits = ours.model(ours.x)
        loss = float(F.cross_entropy(logits, ours.y).data)
    with torch.no_grad():
        t_logits = theirs.model(theirs.x)
        t_loss = float(theirs.lossf(t_logits, theirs.y))
    diff = float(np.abs(logits.data - t_logits.numpy()).max())
    scale = float(np.abs(t_logits.numpy()).max())
    return dict(loss_minisnip=loss, loss_torch=t_loss, logits_max_abs_diff=diff,
                logits_max_abs=scale, agree=bool(diff <= 1e-3 * max(1.0, scale)))
