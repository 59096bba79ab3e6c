"""Build minisnip/datasets/fashion-mini.npz: a stratified subset of Fashion-MNIST.

    python tools/make_fashion_mini.py [--source /usr/share/datasets/fashion-mnist]

500 training and 100 test images per class (5,000 + 1,000), drawn with a fixed seed, stored
as uint8 with the MD5 of the source files recorded for provenance.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from minisnip.data import IDX_FILES, PACKAGE_DATA, _find_idx, md5sum, read_idx  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--test-per-class", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(20190101)
    out, provenance = {}, {}
    for split, per_class in (("train", args.train_per_class), ("test", args.test_per_class)):
        paths = [_find_idx(args.source, stem) for stem in IDX_FILES[split]]
        x, y = read_idx(paths[0]), read_idx(paths[1])
        keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                                       for c in range(10)]))
        out[f"x_{split}"], out[f"y_{split}"] = x[keep], y[keep].astype(np.uint8)
        provenance.update({os.path.basename(p): md5sum(p) for p in paths})
    out["provenance"] = np.array(json.dumps(dict(
        source="Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), MIT license", seed=20190101,
        train_per_class=args.train_per_class, test_per_class=args.test_per_class,
        source_md5=provenance)))
    os.makedirs(PACKAGE_DATA, exist_ok=True)
    path = os.path.join(PACKAGE_DATA, "fashion-mini.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
