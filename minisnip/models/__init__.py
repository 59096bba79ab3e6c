"""The paper's networks, by the names the command line uses (``--model``).

Each family lives in its own module (``mlp.py``, ``cnn.py``, ``rnn.py``) and registers its
builders with :func:`register`; :func:`build_model` makes one by name.
"""
from __future__ import annotations

MODELS: dict = {}  # name -> (builder, info dict)


def register(name: str, *, paper_params: int, input_kind: str, description: str):
    """Register ``builder(num_classes=10, **kw) -> Module`` under ``name``.

    ``paper_params``: the parameter count the paper reports (tests assert it);
    ``input_kind``: ``"flat"`` (784 vector), ``"image"`` (C, H, W) or ``"sequence"`` (T, D).
    """
    def decorate(builder):
        MODELS[name] = (builder, dict(paper_params=paper_params, input_kind=input_kind,
                                      description=description))
        return builder
    return decorate


def build_model(name: str, **kwargs):
    _load_families()
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[name][0](**kwargs)


def model_info(name: str) -> dict:
    _load_families()
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[name][1]


def available_models() -> list:
    _load_families()
    return sorted(MODELS)


def _load_families():
    import importlib
    import pkgutil
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
