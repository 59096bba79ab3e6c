"""The experiments, as declarations: which runs make a table, what they are compared with, and
how the table and figure are drawn.

An :class:`Experiment` is a name, a title, a description, and its runs as
:class:`~minisnip.train.RunConfig` objects with only what the experiment decides filled in
(model, pruner, sparsity, seed, and anything else it varies or fixes); the model family's
protocol fills the rest when a run is resolved. :func:`grid` builds the usual
model x pruner x sparsity x seed product. A new table is a :func:`register` call, plus, when the
default table (mean test error per row, over seeds, with a reference column) and the default
figure (test error against sparsity) do not fit, a ``table``, ``markdown`` or ``plot`` function.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional

EXPERIMENTS: dict = {}
# The paper's figures made without training runs, so not experiments of the runner: name ->
# (title, the command that makes it). ``minisnip experiment --list`` names them too.
OTHER_FIGURES = {
    "figure2": ("Figure 2: what SNIP keeps of the input, per class (no training runs)",
                "minisnip figure2"),
}


@dataclasses.dataclass
class Experiment:
    """One table or figure of the paper.

    ``runs``: the RunConfigs, in the order they run and are tabled. ``reference``: numbers
    measured elsewhere, ``{(model, pruner, sparsity): {seed: test error %}}`` with pruner
    ``"dense"`` and sparsity 0.0 for the unpruned network, described by ``reference_source``
    and headed ``reference_name`` in the table; ``reference_dataset``: the data set the
    reference was measured on (never compared with runs on another); ``tolerance``: the
    points of test error within which our mean counts as agreeing with the reference's.
    ``datasets``: the data sets ``--dataset`` may choose for every run (without it, each run
    uses the data set it declares). ``quoted``: numbers from a publication, printed apart from
    ours and never compared with them: ``{"source": where they were read, "note": ...,
    "rows": [...]}`` (copied into the summary as it is). ``record_needs``: what the table or
    figure reads from a record besides its test error, as dotted paths (``"pruning.first_layer"``):
    a record without them (made by an older minisnip) is run again for this experiment rather
    than tabled without them.
    ``table(experiment, planned, found, comparable) -> list of rows`` (``planned``: the
    :class:`~minisnip.experiments.runner.PlannedRun` list; ``found``: their valid records by
    key; ``comparable``: no setting was changed from the command line, so the reference
    applies), ``markdown(summary) -> str`` and ``plot(summary, path)`` replace the defaults of
    :mod:`minisnip.experiments.summary`; rows may carry whatever the plot needs (e.g. the
    per-epoch losses of a training curve, from the records' ``history``).
    """
    name: str
    title: str
    description: str
    runs: tuple
    reference: dict = dataclasses.field(default_factory=dict)
    reference_source: str = ""
    reference_name: str = "reference"
    reference_dataset: Optional[str] = None
    tolerance: Optional[float] = None
    datasets: tuple = ("fashion-mnist", "mnist", "fashion-mini")
    quoted: Optional[dict] = None
    record_needs: tuple = ()
    table: Optional[Callable] = None
    markdown: Optional[Callable] = None
    plot: Optional[Callable] = None

    def __post_init__(self):
        from ..train import RunConfig
        self.runs = tuple(self.runs)
        if not self.runs:
            raise ValueError(f"experiment {self.name!r} has no runs")
        for config in self.runs:
            if not isinstance(config, RunConfig):
                raise TypeError(f"experiment {self.name!r}: runs must be RunConfigs, got "
                                f"{type(config).__name__}")
        self.datasets = tuple(self.datasets)
        if self.reference and not self.reference_source:
            raise ValueError(f"experiment {self.name!r}: a reference needs its "
                             f"reference_source (where the numbers come from)")


def grid(models, sparsities, seeds=(0,), pruners=("snip",), **settings) -> tuple:
    """The runs model x pruner x sparsity x seed, in that order, each a RunConfig with
    ``settings`` (any other RunConfig field, e.g. ``dataset``, ``init``, ``prune_batch``).
    Sparsity 0 is the dense network: it runs once per model and seed, with the first pruner
    (which it does not use)."""
    from ..train import RunConfig
    runs = []
    for model in models:
        for pruner in pruners:
            for sparsity in sparsities:
                if not sparsity and pruner != pruners[0]:
                    continue
                for seed in seeds:
                    runs.append(RunConfig(model=model, pruner=pruner, seed=seed,
                                          sparsity=sparsity or None, **settings))
    return tuple(runs)


def register(experiment: Experiment) -> Experiment:
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def get(name: str) -> Experiment:
    """The experiment called ``name``; ValueError listing the available ones otherwise."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; available: {', '.join(EXPERIMENTS)} "
                         f"(`minisnip experiment --list`)")
    return EXPERIMENTS[name]
