"""The ``minisnip`` command: train, prune, demo, models.

    minisnip train --model lenet300 --dataset fashion-mnist --epochs 10 --seed 0 \\
                   [--sparsity 0.95 --pruner snip] [--json out.json]
    minisnip prune --model lenet300 --sparsity 0.95 --out mask.npz [--json report.json]
    minisnip demo                 # SNIP at 95% on LeNet-300-100, trained on the bundled data
    minisnip models               # the paper's networks and their parameter counts
    minisnip experiment lenet300-fashion   # one of the paper's tables, resumable
    minisnip figure2                       # the paper's Figure 2, per class
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import warnings


def _add_common(p: argparse.ArgumentParser) -> None:
    from .data import DATASETS
    from .models import available_models
    from .nn.init import SCHEMES
    from .pruners import methods
    from .train import RunConfig, describe_default
    defaults = RunConfig()
    p.add_argument("--model", default=defaults.model, choices=available_models(),
                   metavar="MODEL", help=f"network (see `minisnip models`; default "
                                         f"{defaults.model}): {', '.join(available_models())}")
    p.add_argument("--dataset", default=defaults.dataset, choices=DATASETS, metavar="DATASET",
                   help=f"{' | '.join(DATASETS)} (default {defaults.dataset})")
    p.add_argument("--seed", type=int, default=defaults.seed,
                   help="fixes init, pruning batch, validation split and data order "
                        f"(default {defaults.seed})")
    p.add_argument("--data-dir", default=None,
                   help="folder holding the data set's files (used alone when given)")
    p.add_argument("--download", action="store_true",
                   help="download the official files (checksum-verified) if not found")
    p.add_argument("--init", default=None, choices=SCHEMES,
                   help=f"initialization of the paper's Table 3 ({describe_default('init')})")
    p.add_argument("--sparsity", type=float, default=None,
                   help="fraction of prunable connections to remove, the paper's kappa-bar "
                        "in [0, 1) (0.95 keeps 5%%); default: no pruning")
    p.add_argument("--pruner", default=None, choices=methods(), metavar="PRUNER",
                   help=f"pruning method, with --sparsity (default {defaults.pruner}): "
                        f"{' | '.join(methods())}")
    p.add_argument("--prune-batch", type=_prune_batch, default=defaults.prune_batch,
                   help=f"size of the one mini-batch SNIP scores on, the paper's |D^b|, or "
                        f"'all' for the whole training split (default {defaults.prune_batch})")
    p.add_argument("--score-init", default=None, choices=SCHEMES,
                   help="with --sparsity: score a network initialized by this scheme (its own "
                        "draw), then train from the --init weights with its mask (the paper's "
                        "Table 3); default: score the weights training starts from")
    p.add_argument("--max-train", type=int, default=None,
                   help="use only the first N training images (quick runs)")
    p.add_argument("--json", default=None, help="write the record here (JSON)")


def _prune_batch(text: str):
    """``--prune-batch``: a number of images, or ``all`` (the whole training split)."""
    if text == "all":
        return "all"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of images or 'all', got "
                                         f"{text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    from .data import DATASETS
    from .train import OPTIMIZERS, describe_default
    parser = argparse.ArgumentParser(
        prog="minisnip", description="SNIP (single-shot network pruning) in a small NumPy/Numba "
                                     "autodiff library")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="(prune once, then) train a network and evaluate it")
    _add_common(p)
    p.add_argument("--epochs", type=int, default=None, help=describe_default("epochs"))
    p.add_argument("--lr", type=float, default=None, help=describe_default("lr"))
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                   help=describe_default("optimizer") + "; another optimizer brings its own "
                        "lr and weight decay defaults")
    p.add_argument("--momentum", type=float, default=None,
                   help=describe_default("momentum") + " (SGD)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help=describe_default("weight_decay"))
    p.add_argument("--batch-size", type=int, default=None, help=describe_default("batch_size"))
    p.add_argument("--milestones", type=int, nargs="*", default=None,
                   help="epochs after which the lr is multiplied by 0.1 ("
                        + describe_default("milestones") + ")")
    p.add_argument("--shuffled-labels", action="store_true",
                   help="train on a seeded permutation of the training labels (the paper's "
                        "Figure 4, fitting random labels); pruning scores the true labels, "
                        "validation and test errors are against the true labels")
    p.add_argument("--checkpoint", default=None,
                   help="save a checkpoint here after every epoch (written atomically)")
    p.add_argument("--resume", default=None, help="continue the run saved in this checkpoint")
    p.add_argument("--sparse-kernels", choices=("auto", "on", "off"), default="auto",
                   help="after pruning, compute the pruned layers from their kept connections "
                        "only: auto (default) where the layer's density is below the sparse "
                        "kernel's measured break-even, on (every layer that has a sparse "
                        "kernel: Linear, Conv2d), off (dense c * w); the same numbers to float "
                        "rounding, the record lists the layers that ran sparse")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("prune", help="prune at initialization without training; write mask + report")
    _add_common(p)
    p.add_argument("--out", default="mask.npz", help="where to write the masks (npz)")

    p = sub.add_parser("demo", help="SNIP at 95%% on LeNet-300-100, trained on the bundled "
                                    "fashion-mini data, with the paper's Figure 2 picture")
    p.add_argument("--out", default="minisnip-demo", help="output folder (default minisnip-demo)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--sparsity", type=float, default=0.95)
    p.add_argument("--seed", type=int, default=0)

    sub.add_parser("models", help="list the paper's networks with their parameter counts")

    p = sub.add_parser("figure2", help="the paper's Figure 2: what SNIP keeps, per class")
    p.add_argument("--dataset", default="fashion-mnist", choices=DATASETS)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--download", action="store_true")
    p.add_argument("--sparsity", type=float, default=0.95)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/figure2")

    from .course.command import add_arguments as add_course_arguments
    p = sub.add_parser("course", help="the course kit: list the assignments, build a "
                                      "student's tree, grade a tree")
    add_course_arguments(p)

    from .experiments.command import add_arguments as add_experiment_arguments
    p = sub.add_parser("experiment", help="run (or continue) one of the paper's experiments; "
                                          "--list shows them")
    add_experiment_arguments(p)
    return parser


def _config_from(args, **overrides):
    """The RunConfig of the command line, its output paths checked before any work."""
    from .files import writable_target
    from .train import RunConfig
    if getattr(args, "pruner", None) is not None and args.sparsity is None:
        raise ValueError(f"--pruner {args.pruner} given without --sparsity: nothing would be "
                         f"pruned (add --sparsity, e.g. --sparsity 0.95)")
    for flag in ("json", "out"):
        if getattr(args, flag, None) is not None:
            writable_target(getattr(args, flag), f"--{flag}")
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    values = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    if values.get("milestones") is not None:
        values["milestones"] = tuple(values["milestones"])
    if values.get("prune_batch") == "all":
        values["prune_batch"] = None  # RunConfig's "whole training split"
    values.update(overrides)
    return RunConfig(**values)


def cmd_train(args) -> int:
    from .files import write_json
    from .train import run
    record = run(_config_from(args))
    if args.json:
        write_json(args.json, record)
        print(f"wrote {args.json}")
    return 0


def cmd_prune(args) -> int:
    import numpy as np
    from .files import atomic_write, write_json
    from .train import prune_at_init, setup
    if args.sparsity is None:
        raise ValueError("minisnip prune needs --sparsity (for example --sparsity 0.95)")
    config, data, model = setup(_config_from(args))
    report, record = prune_at_init(config, model, data)
    print(report.table())
    masks = {name: mask.data.astype(bool) for name, _, mask in model.named_masks()}
    with atomic_write(args.out, "wb") as f:
        np.savez_compressed(f, **masks)
    print(f"wrote masks of {len(masks)} layers to {args.out}")
    if args.json:
        write_json(args.json, dict(record, model=config.model, dataset=config.dataset,
                                   seed=config.seed, config=dataclasses.asdict(config)))
        print(f"wrote {args.json}")
    return 0


def cmd_demo(args) -> int:
    from .plots import save_figure2
    from .files import write_json
    from .train import RunConfig, run
    os.makedirs(args.out, exist_ok=True)
    print(f"minisnip demo: prune LeNet-300-100 with SNIP at {args.sparsity:.0%} on one batch of "
          f"the bundled fashion-mini data, then train it for {args.epochs} epochs.\n")
    config = RunConfig(model="lenet300", dataset="fashion-mini", epochs=args.epochs,
                       seed=args.seed, sparsity=args.sparsity, pruner="snip",
                       milestones=(max(args.epochs // 2, 1), max(3 * args.epochs // 4, 1)))
    record, model = run(config, return_model=True)
    write_json(os.path.join(args.out, "result.json"), record)
    png = os.path.join(args.out, "figure2_first_layer_mask.png")
    save_figure2(model.fc1.c.data, png,
                 title=f"SNIP keeps {1 - args.sparsity:.0%} of LeNet-300-100's "
                       f"connections:\nthe input pixels its first layer still sees")
    print(f"\nwrote {os.path.join(args.out, 'result.json')} and {png}")
    return 0


def cmd_models(args) -> int:
    from .models import available_models, build_model, model_info
    print(f"{'model':12s} {'parameters':>12s} {'paper':>12s}  description")
    for name in available_models():
        info = model_info(name)
        n = build_model(name).num_parameters()
        print(f"{name:12s} {n:12,d} {info['paper_params']:12,d}  {info['description']}")
    return 0


def cmd_figure2(args) -> int:
    from .experiments.figure2 import figure2
    path = figure2(args.out, args.dataset, args.data_dir, args.sparsity, seed=args.seed,
                   download=args.download)
    print(f"wrote {path} and its data beside it (.json)")
    return 0


def cmd_course(args) -> int:
    from .course.command import run
    return run(args)


def cmd_experiment(args) -> int:
    from .experiments import MissingDependency, RunsFailed
    from .experiments.command import run
    try:
        return run(args)
    except (RunsFailed, MissingDependency) as error:
        print(f"minisnip experiment: error: {error}", file=sys.stderr)
        return 1


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line each, ``minisnip: warning: ...`` (no source location)."""
    print(f"minisnip: warning: {message}", file=file or sys.stderr)


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage error (or the help)
        return int(exit_.code or 0)
    handler = {"train": cmd_train, "prune": cmd_prune, "demo": cmd_demo,
               "models": cmd_models,
               "experiment": cmd_experiment, "figure2": cmd_figure2,
               "course": cmd_course}[args.command]
    try:
        from .config import tune_process
        tune_process()  # the process-wide tunings of a training program (minisnip/config.py)
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return handler(args)
    except (ValueError, FileNotFoundError, TypeError, FloatingPointError) as error:
        if os.environ.get("MINISNIP_TRACEBACK"):
            raise
        print(f"minisnip {args.command}: error: {error}", file=sys.stderr)
        return 2
    except MemoryError:
        size = getattr(args, "batch_size", None)
        print(f"minisnip {args.command}: error: out of memory; lower --batch-size"
              f"{f' (now {size})' if size else ''} or use a smaller model", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
