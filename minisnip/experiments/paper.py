"""What we could read of the paper, and where: the sources the experiments' descriptions cite.

Only what was read in a source is written here. The paper's own PDF could not be read from the
machine these experiments were defined on; what we did read:

* ``PROTOCOL_QUOTE``: the paper's training setup, quoted on a reproducibility page
  (``PROTOCOL_SOURCE``): SGD with momentum 0.9, batch size 100 for MNIST and 128 for CIFAR,
  weight decay 0.0005, initial learning rate 0.1 decayed by 0.1 every 25k (MNIST) or 30k
  (CIFAR) iterations; 10% of the training data held out for validation.
* ``OFFICIAL_CODE``: the authors' code keeps two sets of weights, ``weights_bp`` (initialized by
  ``--initializer_w_bp``) that SNIP scores, and ``weights_ap`` (``--initializer_w_ap``, default
  variance scaling) that are masked and trained (``snip/network.py`` and ``snip/model.py``).

Not read anywhere we could reach, so not quoted: the numbers of the paper's Tables 1-3, the
comparison rows of Table 1 (LWC, DNS, LC, SWS, SO-PR, L-OBS), the x-axis of Figure 1, the
total number of training iterations, the training subset and regularization of Figure 4.
"""
from __future__ import annotations

PAPER = ("Lee, Ajanthan & Torr, \"SNIP: Single-shot Network Pruning based on Connection "
         "Sensitivity\", ICLR 2019, arXiv 1810.02340")
PROTOCOL_SOURCE = ("https://ri.k117.org/papers/snip_singleshot_network_pruning_based_on_"
                   "connection_sensitivity__25607076 (quotes the paper's experiment setup)")
PROTOCOL_QUOTE = ("SGD with momentum of 0.9, batch size of 100 for MNIST and 128 for CIFAR, "
                  "weight decay 0.0005; initial learning rate 0.1, decayed by 0.1 every 25k "
                  "(MNIST) or 30k (CIFAR) iterations; 10% of the training data as validation set")
OFFICIAL_CODE = ("https://github.com/namhoonlee/snip-public (snip/network.py: weights_bp, "
                 "initialized by --initializer_w_bp, are scored; weights_ap, initialized by "
                 "--initializer_w_ap, are masked and trained)")
NOT_READ = ("the paper's PDF could not be read from the machine these experiments were "
            "defined on")
