"""Training and evaluation: the loop, the paper's protocols, checkpoints, the run record.

``run(RunConfig(...))`` is what ``minisnip train`` and the experiments call: it loads the data,
builds and initializes the model, prunes it once before training if asked (Algorithm 1 of the
paper: prune at initialization on one mini-batch, then train the sparse network in the
standard way), trains with a per-epoch progress line, evaluates, and returns a JSON-ready dict.

Reproducibility: the seed fixes the initialization, the pruning batch and the data order. The
data order of epoch ``e`` comes from ``default_rng([seed, e])``, so a run resumed from a
checkpoint sees exactly the batches an uninterrupted run would have seen.
"""
from __future__ import annotations

import dataclasses
import sys
import time
from typing import Callable, Optional

import numpy as np

from . import functional as F
from .autograd import no_grad
from .tensor import Tensor

# The paper's protocols (the issues' acceptance runs), by model family. Anything given on the
# command line overrides these.
PROTOCOLS = {
    "default": dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=100,
                    epochs=10, milestones=(5, 7), gamma=0.1, init="vs-x"),
    # With lr 0.1 the dense LeNet-5-Caffe diverges under this initialization (issue 4).
    "lenet5": dict(lr=0.01),
    # Recurrent nets: Adam, lr 1e-3, no weight decay (issue 5).
    "recurrent": dict(optimizer="adam", lr=1e-3, weight_decay=0.0),
}


@dataclasses.dataclass
class RunConfig:
    model: str = "lenet300"
    dataset: str = "fashion-mnist"
    epochs: Optional[int] = None
    seed: int = 0
    data_dir: Optional[str] = None
    download: bool = False
    lr: Optional[float] = None
    optimizer: Optional[str] = None
    momentum: Optional[float] = None
    weight_decay: Optional[float] = None
    batch_size: Optional[int] = None
    milestones: Optional[tuple] = None
    gamma: Optional[float] = None
    init: Optional[str] = None
    sparsity: Optional[float] = None
    pruner: str = "snip"
    prune_batch: int = 100
    val_fraction: float = 0.1
    augment: Optional[bool] = None
    checkpoint: Optional[str] = None
    resume: Optional[str] = None
    max_train: Optional[int] = None  # use only the first N training images (quick runs, tests)
    quiet: bool = False

    def resolved(self) -> "RunConfig":
        """Fill every unset hyper-parameter from the protocol of this model's family."""
        from .models import model_info
        values = dict(PROTOCOLS["default"])
        kind = model_info(self.model)["input_kind"]
        if kind == "sequence":
            values.update(PROTOCOLS["recurrent"])
        values.update(PROTOCOLS.get(self.model, {}))
        if self.optimizer == "adam" and self.lr is None and values["optimizer"] != "adam":
            values.update(PROTOCOLS["recurrent"])
        out = dataclasses.replace(self)
        for key, value in values.items():
            if getattr(out, key) is None:
                setattr(out, key, value)
        if out.augment is None:
            out.augment = out.dataset == "cifar10"
        out.milestones = tuple(int(m) for m in out.milestones)
        return out


def validate(config: RunConfig) -> None:
    """Reject bad settings before any work is done, saying what was expected."""
    problems = []
    if config.epochs is not None and config.epochs < 0:
        problems.append(f"epochs must be >= 0, got {config.epochs}")
    if config.batch_size is not None and config.batch_size < 1:
        problems.append(f"batch size must be >= 1, got {config.batch_size}")
    if config.lr is not None and not config.lr > 0:
        problems.append(f"learning rate must be > 0, got {config.lr}")
    if config.optimizer is not None and config.optimizer not in ("sgd", "adam"):
        problems.append(f"optimizer must be 'sgd' or 'adam', got {config.optimizer!r}")
    if config.sparsity is not None and not 0 <= config.sparsity < 1:
        problems.append(f"sparsity must be a fraction in [0, 1) (the paper's kappa-bar = "
                        f"(m - kappa) / m; 0.95 removes 95% of the connections), got "
                        f"{config.sparsity}")
    if config.prune_batch < 1:
        problems.append(f"prune batch must be >= 1, got {config.prune_batch}")
    if not 0 <= config.val_fraction < 1:
        problems.append(f"validation fraction must be in [0, 1), got {config.val_fraction}")
    if problems:
        raise ValueError("invalid run settings: " + "; ".join(problems))


# ------------------------------------------------------------------------------ the loop
def evaluate(model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> tuple:
    """Mean cross-entropy and error rate (percent) of ``model`` on ``(x, y)``, in eval mode."""
    was_training = model.training
    model.eval()
    total_loss, wrong = 0.0, 0
    with no_grad():
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            logits = model(Tensor(xb))
            total_loss += float(F.cross_entropy(logits, yb).item()) * len(xb)
            wrong += int((logits.data.argmax(axis=1) != yb).sum())
    model.train(was_training)
    n = max(len(x), 1)
    return total_loss / n, 100.0 * wrong / n


def train_epoch(model, optimizer, x, y, *, batch_size, rng, augment: Optional[Callable] = None):
    """One pass over the training data; returns (mean loss, error %, images)."""
    from .data import batches
    model.train()
    total_loss, wrong, seen = 0.0, 0, 0
    for xb, yb in batches(x, y, batch_size, shuffle=True, rng=rng, augment=augment):
        logits = model(Tensor(xb))
        loss = F.cross_entropy(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += float(loss.data) * len(xb)
        wrong += int((logits.data.argmax(axis=1) != yb).sum())
        seen += len(xb)
    if not np.isfinite(total_loss):
        raise FloatingPointError("the training loss became NaN/inf: the learning rate is probably "
                                 "too high for this model and initialization")
    return total_loss / max(seen, 1), 100.0 * wrong / max(seen, 1), seen


def _log(config, message):
    if not config.quiet:
        print(message, flush=True)


def build_optimizer(config: RunConfig, model):
    from . import optim
    params = list(model.parameters())
    if config.optimizer == "sgd":
        opt = optim.SGD(params, lr=config.lr, momentum=config.momentum,
                        weight_decay=config.weight_decay)
    else:
        opt = optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return opt, optim.MultiStepLR(opt, milestones=list(config.milestones), gamma=config.gamma)


def prepare_data(config: RunConfig):
    from .data import prepare
    from .models import model_info
    layout = model_info(config.model)["input_kind"]
    data = prepare(config.dataset, data_dir=config.data_dir, val_fraction=config.val_fraction,
                   seed=config.seed, layout=layout, download=config.download)
    if config.max_train is not None:
        data.x_train = data.x_train[:config.max_train]
        data.y_train = data.y_train[:config.max_train]
    return data


def build_initialized_model(config: RunConfig, num_classes: int):
    from .models import build_model
    from .nn import init
    model = build_model(config.model, num_classes=num_classes)
    init.initialize(model, config.init, rng=np.random.default_rng([config.seed, 0]))
    return model


def check_fits(model, config: RunConfig, data) -> None:
    """One forward pass on two images, so that a model/data-set mismatch is reported before
    any work, naming both (and not as a shape error from deep inside a layer)."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(Tensor(data.x_train[:2]))
    except ValueError as error:
        raise ValueError(f"--model {config.model} cannot take the {config.dataset} inputs (one "
                         f"sample has shape {data.x_train.shape[1:]}): {error}") from None
    finally:
        model.train(was_training)


def pruning_batch(config: RunConfig, data):
    """The one mini-batch SNIP looks at: ``prune_batch`` training images chosen by the seed."""
    rng = np.random.default_rng([config.seed, 1])
    index = rng.choice(len(data.x_train), size=min(config.prune_batch, len(data.x_train)),
                       replace=False)
    return data.x_train[index], data.y_train[index]


def run(config: RunConfig, return_model: bool = False):
    """Prune (optionally) and train one network; returns the run record (JSON-ready).

    With ``return_model=True`` returns ``(record, model)``.
    """
    from . import checkpoint as ckpt
    from .config import tune_process
    from .data import augment_batch
    validate(config)
    config = config.resolved()
    validate(config)
    tune_process()  # malloc keeps freed memory; the matmul backend is checked before any work
    started = time.perf_counter()
    data = prepare_data(config)
    model = build_initialized_model(config, data.num_classes)
    check_fits(model, config, data)
    optimizer, scheduler = build_optimizer(config, model)
    record = dict(model=config.model, dataset=config.dataset, seed=config.seed,
                  epochs=config.epochs, config=dataclasses.asdict(config),
                  parameters=model.num_parameters(), data_source=getattr(data, "source", None))

    start_epoch, history = 0, []
    if config.resume:
        info = ckpt.load(config.resume, model, optimizer, scheduler)
        start_epoch = int(info["epoch"])
        extra = info.get("extra") or {}
        history = list(extra.get("history", []))
        if "pruning" in extra:
            record["pruning"] = extra["pruning"]
        _log(config, f"resumed from {config.resume} after epoch {start_epoch}")
    elif config.sparsity:
        from .snip import prune
        xp, yp = pruning_batch(config, data)
        t0 = time.perf_counter()
        report = prune(model, xp, yp, config.sparsity, method=config.pruner,
                       rng=np.random.default_rng([config.seed, 2]))
        record["pruning"] = dict(report.to_dict(), seconds=time.perf_counter() - t0,
                                 pruner=config.pruner, prune_batch=len(xp))
        _log(config, report.table())
    if "pruning" in record:
        p = record["pruning"]
        record.update(sparsity=p.get("sparsity"), kept=p.get("kept"), prunable=p.get("prunable"))
    else:
        record.update(sparsity=0.0)

    augment = augment_batch if config.augment else None
    n_train = len(data.x_train)
    _log(config, f"{config.model} on {config.dataset}: {n_train} train / {len(data.x_val)} val / "
                 f"{len(data.x_test)} test images, {record['parameters']:,} parameters, "
                 f"{config.optimizer} lr {config.lr}, batch {config.batch_size}")
    for epoch in range(start_epoch, config.epochs):
        t0 = time.perf_counter()
        lr = optimizer.lr
        loss, train_err, seen = train_epoch(
            model, optimizer, data.x_train, data.y_train, batch_size=config.batch_size,
            rng=np.random.default_rng([config.seed, 100 + epoch]), augment=augment)
        scheduler.step()
        seconds = time.perf_counter() - t0
        val_loss, val_err = evaluate(model, data.x_val, data.y_val) if len(data.x_val) else (float("nan"),) * 2
        history.append(dict(epoch=epoch + 1, lr=lr, loss=loss, train_error=train_err,
                            val_loss=val_loss, val_error=val_err, seconds=seconds,
                            images_per_second=seen / seconds))
        _log(config, f"epoch {epoch + 1:3d}/{config.epochs}  loss {loss:.4f}  train-acc "
                     f"{100 - train_err:5.2f}%  val-acc {100 - val_err:5.2f}%  lr {lr:.4g}  "
                     f"{seconds:6.1f}s  {seen / seconds:7.0f} img/s")
        if config.checkpoint:
            ckpt.save(config.checkpoint, model, optimizer, scheduler, epoch=epoch + 1,
                      extra=dict(history=history, pruning=record.get("pruning"),
                                 config=dataclasses.asdict(config)))

    test_loss, test_err = evaluate(model, data.x_test, data.y_test)
    val_loss, val_err = (evaluate(model, data.x_val, data.y_val) if len(data.x_val)
                         else (float("nan"), float("nan")))
    record.update(test_error=test_err, test_loss=test_loss, val_error=val_err, val_loss=val_loss,
                  history=history, seconds=time.perf_counter() - started)
    _log(config, f"test error {test_err:.2f}%  val error {val_err:.2f}%  "
                 f"({record['seconds']:.1f}s)")
    return (record, model) if return_model else record


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `minisnip train` (python -m minisnip train)")
