"""Layers, shaped like ``torch.nn``; every weight layer carries SNIP's mask ``c``."""
from . import init  # noqa: F401
from .conv import AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d  # noqa: F401
from .layers import Flatten, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh  # noqa: F401
from .recurrent import GRU, LSTM  # noqa: F401
from .module import Module, Parameter  # noqa: F401
