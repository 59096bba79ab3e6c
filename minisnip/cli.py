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
import time


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="lenet300", help="network name (see `minisnip models`)")
    p.add_argument("--dataset", default="fashion-mnist",
                   help="mnist | fashion-mnist | fashion-mini | cifar10 (default fashion-mnist)")
    p.add_argument("--seed", type=int, default=0, help="fixes init, pruning batch and data order")
    p.add_argument("--data-dir", default=None, help="folder holding the data set's files")
    p.add_argument("--download", action="store_true",
                   help="download the official files (checksum-verified) if not found")
    p.add_argument("--init", default=None, choices=["rn", "tn", "vs-x", "vs-h", "lecun"],
                   help="initialization of the paper's Table 3 (default vs-x)")
    p.add_argument("--sparsity", type=float, default=None,
                   help="fraction of prunable connections to remove, the paper's kappa-bar "
                        "in [0, 1) (0.95 keeps 5%%)")
    p.add_argument("--pruner", default="snip",
                   help="snip | random | magnitude | snip-shuffled | snip-reinit | snip-inverted")
    p.add_argument("--prune-batch", type=int, default=100,
                   help="size of the one mini-batch SNIP scores on (default 100)")
    p.add_argument("--json", default=None, help="write the run record here")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minisnip", description="SNIP (single-shot network pruning) in a small NumPy/Numba "
                                     "autodiff library")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="(prune once, then) train a network and evaluate it")
    _add_common(p)
    p.add_argument("--epochs", type=int, default=None, help="default 10")
    p.add_argument("--lr", type=float, default=None, help="default 0.1 (SGD), 1e-3 (Adam)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default=None)
    p.add_argument("--momentum", type=float, default=None, help="default 0.9")
    p.add_argument("--weight-decay", type=float, default=None, help="default 5e-4 (SGD)")
    p.add_argument("--batch-size", type=int, default=None, help="default 100")
    p.add_argument("--milestones", type=int, nargs="*", default=None,
                   help="epochs after which the lr is multiplied by 0.1 (default 5 7)")
    p.add_argument("--checkpoint", default=None,
                   help="save a checkpoint here after every epoch (written atomically)")
    p.add_argument("--resume", default=None, help="continue the run saved in this checkpoint")
    p.add_argument("--max-train", type=int, default=None,
                   help="use only this many training images (quick runs)")
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
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--download", action="store_true")
    p.add_argument("--sparsity", type=float, default=0.95)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/figure2")

    p = sub.add_parser("experiment", help="run (or continue) one of the paper's experiments")
    p.add_argument("name", help="lenet300-fashion | lenet5-fashion | rnn-fashion")
    p.add_argument("--out", default="runs", help="results folder (default runs/)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--epochs", type=int, default=None, help="override the protocol (quick looks)")
    p.add_argument("--max-train", type=int, default=None, help="use only N training images")
    p.add_argument("--quiet", action="store_true")
    return parser


def _config_from(args, **overrides):
    from .train import RunConfig
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    values = {k: v for k, v in vars(args).items() if k in fields}
    if values.get("milestones") is not None:
        values["milestones"] = tuple(values["milestones"])
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
    from .snip import prune
    from .files import atomic_write, write_json
    from .train import build_initialized_model, check_fits, prepare_data, pruning_batch
    if args.sparsity is None:
        raise ValueError("minisnip prune needs --sparsity (for example --sparsity 0.95)")
    config = _config_from(args).resolved()
    data = prepare_data(config)
    model = build_initialized_model(config, data.num_classes)
    check_fits(model, config, data)
    xp, yp = pruning_batch(config, data)
    report = prune(model, xp, yp, config.sparsity, method=config.pruner,
                   rng=np.random.default_rng([config.seed, 2]))
    print(report.table())
    masks = {name: mask.data.astype(bool) for name, _, mask in model.named_masks()}
    with atomic_write(args.out, "wb") as f:
        np.savez_compressed(f, **masks)
    print(f"wrote masks of {len(masks)} layers to {args.out}")
    if args.json:
        write_json(args.json, dict(report.to_dict(), model=config.model, dataset=config.dataset,
                                   seed=config.seed, pruner=config.pruner))
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
                 title=f"SNIP keeps {1 - args.sparsity:.0%} of LeNet-300-100's first layer")
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


def cmd_experiment(args) -> int:
    from .experiments import run_experiment
    run_experiment(args.name, out=args.out, data_dir=args.data_dir, epochs=args.epochs,
                   max_train=args.max_train, quiet=args.quiet)
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"train": cmd_train, "prune": cmd_prune, "demo": cmd_demo,
               "models": cmd_models,
               "experiment": cmd_experiment, "figure2": cmd_figure2}[args.command]
    try:
        from .config import tune_process
        tune_process()  # the process-wide tunings of a training program (minisnip/config.py)
        return handler(args)
    except (ValueError, FileNotFoundError, TypeError, FloatingPointError) as error:
        if os.environ.get("MINISNIP_TRACEBACK"):
            raise
        print(f"minisnip {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
