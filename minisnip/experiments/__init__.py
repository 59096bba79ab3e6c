"""The paper's experiments, one command each: ``minisnip experiment NAME``.

- :mod:`.registry`: what an experiment is (its runs as RunConfigs, its reference, optional
  table/plot functions), :func:`grid`, :func:`register`; ``EXPERIMENTS`` by name.
- :mod:`.pytorch_checks`: the networks on Fashion-MNIST beside a PyTorch run of the same
  protocol (``lenet300-fashion``, ``lenet5-fashion``, ``rnn-fashion``).
- :mod:`.pai`: pruning at initialization beyond SNIP, the methods side by side with the
  sanity checks (``pai-lenet300``, ``pai-lenet5``).
- :mod:`.records`: one JSON record per finished run, keyed by a hash of its complete settings;
  reading them trusts nothing.
- :mod:`.run`: :func:`run_experiment`, which the pieces below serve;
- :mod:`.runner`: plan, reuse what is finished, run the rest (shards, progress);
  :mod:`.launchers`: processes on this machine, or submitit (Slurm); :mod:`.worker`: one run in
  its own process.
- :mod:`.summary`: the table and figure from the records alone.
- :mod:`.migrate`: records of the earlier layout (no key) converted when their settings are
  complete. :mod:`.command`: the ``minisnip experiment`` command line.
- :mod:`.figure1`, :mod:`.table1`, :mod:`.figure3`, :mod:`.table2` (``table2-cifar10``,
  ``table2-rnn``), :mod:`.table3`, :mod:`.figure4`: the paper's figures and tables, one
  experiment each; :mod:`.paper`: what of the paper we could read, and where.
- :mod:`.figure2`: the paper's Figure 2 (``minisnip figure2``: no training runs, so not an
  experiment of the runner; ``--list`` names it).
"""
from __future__ import annotations

# the paper's figures and tables, in the paper's order, then the checks against PyTorch
from . import figure1, table1, figure3, table2, table3, figure4  # noqa: F401  (register them)
from . import pytorch_checks  # noqa: F401  (registers its experiments)
from . import pai  # noqa: F401,E402  (registers its experiments)
from .registry import EXPERIMENTS, Experiment, get, grid, register
from .run import run_experiment
from .runner import MissingDependency, RunsFailed
from .summary import list_experiments, summarize

__all__ = ["EXPERIMENTS", "Experiment", "get", "grid", "register", "run_experiment",
           "summarize", "list_experiments", "RunsFailed",
           "MissingDependency"]
