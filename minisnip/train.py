"""Training and evaluation: the loop, the paper's protocols, checkpoints, the run record.

``run(RunConfig(...))`` is what ``minisnip train`` and the experiments call: it loads the data,
builds and initializes the model, prunes it once before training if asked (Algorithm 1 of the
paper: prune at initialization on one mini-batch, then train the sparse network in the
standard way), trains with a per-epoch progress line, evaluates, and returns a JSON-ready dict.

Reproducibility: the seed fixes the initialization, the pruning batch, the pruner's draws, the
validation split and the data order, each from its own stream (``streams.py``), so a run
resumed from a checkpoint sees exactly the batches an uninterrupted run would have seen.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from typing import Callable, Optional

import numpy as np

from . import functional as F
from . import streams
from .autograd import no_grad
from .config import LoadWatch, adapt_threads, restore_threads
from .files import json_default, writable_target
from .tensor import Tensor

# The training protocols, by model family: "default", then the recurrent family's, then the
# model's own entry. Anything given explicitly (command line, RunConfig) overrides them.
PROTOCOLS = {
    "default": dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=100,
                    epochs=10, milestones=(5, 7), gamma=0.1, init="vs-x"),
    # With lr 0.1 the dense LeNet-5-Caffe diverges under this initialization.
    "lenet5": dict(lr=0.01),
    # Recurrent nets (LSTM, GRU): Adam, lr 1e-3, no weight decay.
    "recurrent": dict(optimizer="adam", lr=1e-3, weight_decay=0.0),
}
# The version of the protocol's code. Raise it when training changes in a way that RunConfig
# does not show (the loop, the data pipeline, a default inside a layer or optimizer): experiment
# records are keyed by it with the resolved RunConfig, so records made before are not reused.
PROTOCOL_VERSION = 1
# An optimizer chosen against the protocol brings its own lr and weight decay.
OPTIMIZER_DEFAULTS = {"sgd": dict(lr=0.1, weight_decay=5e-4),
                      "adam": dict(lr=1e-3, weight_decay=0.0)}
OPTIMIZERS = tuple(OPTIMIZER_DEFAULTS)


def protocol(model: str, optimizer: Optional[str] = None) -> dict:
    """The defaults of every training setting for ``model`` (and an explicitly chosen
    ``optimizer``, if it is not the protocol's)."""
    from .models import model_info
    values = dict(PROTOCOLS["default"])
    if model_info(model)["input_kind"] == "sequence":
        values.update(PROTOCOLS["recurrent"])
    values.update(PROTOCOLS.get(model, {}))
    if optimizer is not None and optimizer != values["optimizer"]:
        values.update(OPTIMIZER_DEFAULTS.get(optimizer, {}), optimizer=optimizer)
    return values


def describe_default(key: str) -> str:
    """How an unset ``key`` is filled, in words for ``--help``: the default protocol's value
    and every model or family that differs."""
    from .models import available_models
    base = PROTOCOLS["default"][key]
    show = (lambda v: " ".join(map(str, v)) if isinstance(v, tuple) else str(v))
    others = {}
    for name in available_models():
        value = protocol(name)[key]
        if value != base:
            others.setdefault(show(value), []).append(name)
    extra = "; ".join(f"{', '.join(names)}: {value}" for value, names in others.items())
    return f"default {show(base)}" + (f" ({extra})" if extra else "")


SPARSE_KERNELS = {"auto": "auto", "on": True, "off": False}  # --sparse-kernels -> the mode


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
    # images SNIP scores on (the paper's |D^b|); None: the whole training split (Figure 3)
    prune_batch: Optional[int] = 100
    val_fraction: float = 0.1
    augment: Optional[bool] = None
    checkpoint: Optional[str] = None
    resume: Optional[str] = None
    max_train: Optional[int] = None  # use only the first N training images (quick runs, tests)
    quiet: bool = False
    # Score a network initialized by this scheme (its own draw, stream SCORE_INIT), then train
    # from the weights `init` draws, masked; None: score the weights training starts from.
    # The paper's Table 3 (initialization for scoring).
    score_init: Optional[str] = None
    # Train on a seeded permutation of the training labels (stream LABELS); pruning still
    # scores the true labels, validation and test use the true labels. The paper's Figure 4.
    shuffled_labels: bool = False
    # After pruning, which layers compute on their sparse kernels: "auto" (where it pays),
    # "on" (every layer that has one), "off" (dense c * w). Not in a record's key: the numbers
    # are the same to float rounding (records.NOT_IN_KEY).
    sparse_kernels: str = "auto"

    def resolved(self) -> "RunConfig":
        """Fill every unset hyper-parameter from the protocol of this model's family."""
        values = protocol(self.model, self.optimizer)
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
    numbers = dict(lr="learning rate", momentum="momentum", weight_decay="weight decay",
                   gamma="gamma", sparsity="sparsity", val_fraction="validation fraction")
    problems = [f"{words} must be a finite number, got {getattr(config, name)}"
                for name, words in numbers.items()
                if getattr(config, name) is not None and not np.isfinite(getattr(config, name))]
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
    if config.prune_batch is not None and config.prune_batch < 1:
        problems.append(f"prune batch must be >= 1 images (or None: the whole training split), "
                        f"got {config.prune_batch}")
    problems += _scoring_init_problems(config)
    if not 0 <= config.val_fraction < 1:
        problems.append(f"validation fraction must be in [0, 1), got {config.val_fraction}")
    if config.data_dir is not None and config.dataset == "fashion-mini":
        problems.append(f"--data-dir {config.data_dir!r} given for fashion-mini, which ships "
                        f"inside the package and is read from nowhere else")
    if config.sparse_kernels not in SPARSE_KERNELS:
        problems.append(f"sparse kernels must be one of {', '.join(SPARSE_KERNELS)}, got "
                        f"{config.sparse_kernels!r}")
    if config.seed < 0:
        problems.append(f"seed must be a non-negative integer, got {config.seed}")
    if config.max_train is not None and config.max_train < 1:
        problems.append(f"max train (the number of training images to use) must be >= 1, got "
                        f"{config.max_train}")
    if config.milestones is not None and any(m < 1 for m in config.milestones):
        problems.append(f"milestones must be epochs >= 1, got {list(config.milestones)}")
    if config.momentum is not None and config.momentum < 0:
        problems.append(f"momentum must be >= 0, got {config.momentum}")
    if config.weight_decay is not None and config.weight_decay < 0:
        problems.append(f"weight decay must be >= 0, got {config.weight_decay}")
    if config.gamma is not None and not config.gamma > 0:
        problems.append(f"gamma (the lr factor at each milestone) must be > 0, got {config.gamma}")
    if problems:
        raise ValueError("invalid run settings: " + "; ".join(problems))
    if config.checkpoint is not None:
        writable_target(config.checkpoint, "checkpoint")


def _scoring_init_problems(config: RunConfig) -> list:
    from .nn.init import SCHEMES
    if config.score_init is None:
        return []
    if config.score_init not in SCHEMES:
        return [f"score init must be one of {', '.join(SCHEMES)}, got {config.score_init!r}"]
    if not config.sparsity:
        return [f"score init {config.score_init!r} only matters when pruning: give a sparsity "
                f"(--sparsity), or leave score init unset for a dense run"]
    if config.pruner.endswith("-reinit"):
        return [f"score init with --pruner {config.pruner}: training already starts from the "
                f"weights `init` draws, not from the scored ones, so -reinit would change "
                f"nothing; use --pruner {config.pruner[:-len('-reinit')]}"]
    return []


# Settings a resumed run may change: where things are, what is printed, which kernels
# compute (the same numbers), and (only upwards)
# the number of epochs. Everything else must equal the checkpoint's.
RESUMABLE_CHANGES = ("epochs", "checkpoint", "resume", "quiet", "data_dir", "download",
                     "sparse_kernels")


def resume_plan(config: "RunConfig") -> Optional[dict]:
    """Before any work: compare the resolved ``config`` with the one stored in the checkpoint
    it resumes (``config.resume``). A conflicting setting is refused, naming it; more epochs
    are allowed and recorded. Returns None when there is nothing to resume: no ``resume``, or
    ``resume`` equal to ``checkpoint`` and no file yet (a run that continues itself when
    started again with the same command)."""
    from . import checkpoint as ckpt
    if config.resume is None:
        return None
    if not config.resume:
        raise ValueError("--resume: empty path; expected a checkpoint file")
    if not os.path.exists(config.resume) and config.resume == config.checkpoint:
        return None
    meta, _ = ckpt.read(config.resume)
    saved = (meta.get("extra") or {}).get("config")
    if not isinstance(saved, dict):
        raise ckpt.CheckpointError(f"checkpoint {config.resume} does not record the settings "
                                   f"of its run, so resuming it cannot be checked")
    ours = json.loads(json.dumps(dataclasses.asdict(config), default=json_default))
    conflicts = [f"{key}: checkpoint {saved.get(key)!r}, now {value!r}" for key, value in
                 ours.items() if key not in RESUMABLE_CHANGES and saved.get(key) != value]
    done = int(meta.get("epoch", 0))
    if config.epochs < done:
        conflicts.append(f"epochs: the checkpoint has already trained {done}, now {config.epochs}")
    if conflicts:
        raise ValueError(f"--resume {config.resume}: the run was made with other settings ("
                         f"{'; '.join(conflicts)}). Resume with the same settings (only "
                         f"--epochs may grow), or start a new run")
    return dict(checkpoint=config.resume, after_epoch=done, epochs_before=saved.get("epochs"),
                epochs_now=config.epochs)


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
    """One pass over the training data; returns (mean loss, error %, images). A non-finite
    loss stops it at once (FloatingPointError), before the update that it would spoil."""
    from .data import batches
    model.train()
    total_loss, wrong, seen = 0.0, 0, 0
    for step, (xb, yb) in enumerate(batches(x, y, batch_size, shuffle=True, rng=rng,
                                            augment=augment)):
        logits = model(Tensor(xb))
        loss = F.cross_entropy(logits, yb)
        if not np.isfinite(loss.data):
            raise FloatingPointError(f"the training loss became {float(loss.data)} at step "
                                     f"{step + 1} of the epoch (lr {optimizer.lr:g}): the "
                                     f"learning rate is probably too high for this model and "
                                     f"initialization")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += float(loss.data) * len(xb)
        wrong += int((logits.data.argmax(axis=1) != yb).sum())
        seen += len(xb)
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
    init.initialize(model, config.init, rng=streams.generator(config.seed, streams.INIT))
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


def training_labels(config: RunConfig, data) -> np.ndarray:
    """The labels the network is trained on: the true ones, or with ``shuffled_labels`` a
    permutation of them drawn from the LABELS stream (each image gets another image's label;
    the classes keep their sizes). Only training sees them: pruning scores the true labels
    (``pruning_batch``) and validation and test are measured against the true labels."""
    if not config.shuffled_labels:
        return data.y_train
    return streams.generator(config.seed, streams.LABELS).permutation(data.y_train)


def pruning_batch(config: RunConfig, data):
    """The one mini-batch SNIP looks at (the paper's D^b): ``prune_batch`` training images
    chosen by the seed, with their true labels; ``prune_batch`` None is the whole training
    split, in its order."""
    if config.prune_batch is None:
        return data.x_train, data.y_train
    rng = streams.generator(config.seed, streams.PRUNE_BATCH)
    index = rng.choice(len(data.x_train), size=min(config.prune_batch, len(data.x_train)),
                       replace=False)
    return data.x_train[index], data.y_train[index]


# A scoring batch larger than this is scored in pieces of this many images (memory: one
# forward-backward of LeNet-5 on 54,000 images would need several GB for im2col alone).
SCORING_PIECE = 1000


def scoring_pieces(inputs, targets, piece: int = SCORING_PIECE):
    """The scoring batch D^b in pieces, and the loss that makes their sum the loss of D^b.

    SNIP's loss on D^b is the *mean* cross-entropy over its n images. Scored in pieces
    (``connection_sensitivity(batches=...)`` sums the signed g of each piece), the loss of a
    piece of n_k images is weighted by n_k / n: the sum over pieces of (n_k / n) * mean_k is
    the mean over D^b, so the summed g equals the g of one forward-backward on all of D^b
    (up to float rounding), whatever the size of the last piece. Returns ``(batches,
    loss_fn)``; one piece, with the plain mean, when D^b fits in one."""
    n = len(inputs)
    if n <= piece:
        return [(inputs, targets)], None
    batches = [(inputs[i:i + piece], targets[i:i + piece]) for i in range(0, n, piece)]

    def share_of_the_mean(logits, y):
        return F.cross_entropy(logits, y) * (len(y) / n)

    return batches, share_of_the_mean


def scored_model(config: RunConfig, model, num_classes: int):
    """The network SNIP scores: ``model`` itself, or with ``score_init`` the same architecture
    initialized by that scheme from its own stream (SCORE_INIT), so that the scheme used for
    scoring and the weights trained are chosen separately (the paper's Table 3; the official
    code likewise keeps the weights it scores apart from the weights it trains)."""
    if config.score_init is None:
        return model
    from .models import build_model
    from .nn import init
    scored = build_model(config.model, num_classes=num_classes)
    init.initialize(scored, config.score_init,
                    rng=streams.generator(config.seed, streams.SCORE_INIT))
    return scored


def first_layer_kept(model) -> dict:
    """The first prunable layer's mask summed over its outputs: how many connections each
    input (pixel, channel x kernel position, ...) kept, for pictures like the paper's
    Figures 2 and 3 (``kept_per_input / outputs`` is the kept fraction)."""
    name, _, c = next(iter(model.named_masks()))
    kept = c.data.reshape(c.shape[0], -1).sum(axis=0)
    return dict(name=name, shape=list(c.shape), outputs=int(c.shape[0]),
                kept_per_input=[int(k) for k in kept])


def setup(config: RunConfig):
    """What every run starts with: the settings checked and resolved against the model's
    protocol, the data loaded, the model built, initialized and checked against the data.
    Returns ``(resolved config, data, model)``; ``minisnip train`` and ``prune`` share it."""
    validate(config)
    config = config.resolved()
    validate(config)
    data = prepare_data(config)
    model = build_initialized_model(config, data.num_classes)
    check_fits(model, config, data)
    return config, data, model


def process_settings() -> dict:
    """The process-wide tunings a training run makes (``config.tune_process``: malloc, the
    matmul backend, Numba's threads), made once and returned for the run record."""
    from .config import tune_process
    return tune_process()


def prune_at_init(config: RunConfig, model, data) -> tuple:
    """Algorithm 1 on the run's pruning batch with ``config.pruner``; returns the report and
    its record (the report's numbers, the pruner, the batch size, the first layer's kept
    connections per input, and the time taken). With ``score_init`` the masks are chosen on
    :func:`scored_model` and applied to ``model`` (whose pruned weights become 0)."""
    from .masks import apply
    from .pruners import prune
    from .report import prune_report
    xp, yp = pruning_batch(config, data)
    batches, loss_fn = scoring_pieces(xp, yp)
    scored = scored_model(config, model, data.num_classes)
    t0 = time.perf_counter()
    report = prune(scored, sparsity=config.sparsity, method=config.pruner,
                   init_scheme=config.init, rng=streams.generator(config.seed, streams.PRUNER),
                   batches=batches, loss_fn=loss_fn)
    if scored is not model:
        keep = [c.data.astype(bool) for _, _, c in scored.named_masks()]
        apply(model, keep)
        report = prune_report(model, config.pruner, keep)
    return report, dict(report.to_dict(), seconds=time.perf_counter() - t0,
                        pruner=config.pruner, prune_batch=len(xp), scoring_pieces=len(batches),
                        first_layer=first_layer_kept(model))


def run(config: RunConfig, return_model: bool = False):
    """Prune (optionally) and train one network; returns the run record (JSON-ready).

    With ``return_model=True`` returns ``(record, model)``.
    """
    from . import checkpoint as ckpt
    from .data import augment_batch
    started = time.perf_counter()
    watch = LoadWatch()  # other processes' CPU use, for the thread count of the first epoch
    validate(config)
    resume = resume_plan(config.resolved())
    process = process_settings()
    config, data, model = setup(config)
    optimizer, scheduler = build_optimizer(config, model)
    record = dict(model=config.model, dataset=config.dataset, seed=config.seed,
                  epochs=config.epochs, config=dataclasses.asdict(config), process=process,
                  parameters=model.num_parameters(), data_source=getattr(data, "source", None))

    start_epoch, history = 0, []
    if resume is not None:
        info = ckpt.load(config.resume, model, optimizer, scheduler)
        start_epoch = int(info["epoch"])
        extra = info.get("extra") or {}
        history = list(extra.get("history", []))
        if extra.get("pruning"):
            record["pruning"] = extra["pruning"]
        record["resumed"] = resume
        _log(config, f"resumed from {config.resume} after epoch {start_epoch}")
    elif config.resume:
        _log(config, f"no checkpoint at {config.resume} yet: starting the run")
    if resume is None and config.sparsity:
        report, record["pruning"] = prune_at_init(config, model, data)
        _log(config, report.table())
    if "pruning" in record:
        p = record["pruning"]
        record.update(sparsity=p.get("sparsity"), kept=p.get("kept"), prunable=p.get("prunable"))
    else:
        record.update(sparsity=0.0)
    if record["sparsity"] or config.sparse_kernels == "on":
        record["sparse_kernels"] = dict(
            mode=config.sparse_kernels,
            layers=model.use_sparse_kernels(SPARSE_KERNELS[config.sparse_kernels]))

    augment = augment_batch if config.augment else None
    labels = training_labels(config, data)
    n_train = len(data.x_train)
    _log(config, f"{config.model} on {config.dataset}: {n_train} train / {len(data.x_val)} val / "
                 f"{len(data.x_test)} test images, {record['parameters']:,} parameters, "
                 f"{config.optimizer} lr {config.lr}, batch {config.batch_size}")
    with restore_threads():
        history = _train_epochs(config, model, optimizer, scheduler, data, labels, augment,
                                start_epoch, history, record, watch)
        test_loss, test_err = evaluate(model, data.x_test, data.y_test)
        val_loss, val_err = (evaluate(model, data.x_val, data.y_val) if len(data.x_val)
                             else (float("nan"), float("nan")))
    record.update(test_error=test_err, test_loss=test_loss, val_error=val_err, val_loss=val_loss,
                  history=history, seconds=time.perf_counter() - started)
    _log(config, f"test error {test_err:.2f}%  val error {val_err:.2f}%  "
                 f"({record['seconds']:.1f}s)")
    return (record, model) if return_model else record


def _train_epochs(config, model, optimizer, scheduler, data, labels, augment, start_epoch,
                  history, record, watch):
    """The epochs of ``run``, each with the thread count that pays under the machine's load
    (``config.adapt_threads``, recorded per epoch)."""
    from . import checkpoint as ckpt
    threads = adapt_threads(watch)
    for epoch in range(start_epoch, config.epochs):
        t0 = time.perf_counter()
        lr = optimizer.lr
        loss, train_err, seen = train_epoch(
            model, optimizer, data.x_train, labels, batch_size=config.batch_size,
            rng=streams.generator(config.seed, streams.EPOCH, epoch), augment=augment)
        scheduler.step()
        seconds = time.perf_counter() - t0
        val_loss, val_err = evaluate(model, data.x_val, data.y_val) if len(data.x_val) else (float("nan"),) * 2
        history.append(dict(epoch=epoch + 1, lr=lr, loss=loss, train_error=train_err,
                            val_loss=val_loss, val_error=val_err, seconds=seconds,
                            images_per_second=seen / seconds, threads=threads))
        threads = adapt_threads(watch)  # fewer threads while other processes hold cores
        _log(config, f"epoch {epoch + 1:3d}/{config.epochs}  loss {loss:.4f}  train-error "
                     f"{train_err:5.2f}%  val-error {val_err:5.2f}%  lr {lr:<9.4g} "
                     f"{seconds:6.1f}s  {seen / seconds:7.0f} img/s")
        if config.checkpoint:
            ckpt.save(config.checkpoint, model, optimizer, scheduler, epoch=epoch + 1,
                      extra=dict(history=history, pruning=record.get("pruning"),
                                 config=dataclasses.asdict(config)))
    return history


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `minisnip train` (python -m minisnip train)")
