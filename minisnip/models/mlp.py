"""Fully connected networks: LeNet-300-100 (LeCun et al. 1998), the paper's MNIST MLP."""
from __future__ import annotations

from .. import nn
from . import register


class LeNet300(nn.Module):
    """784-300-100-10 with ReLU: 266,610 parameters (all three weight matrices prunable).

    Takes flat images ``(B, 784)`` (or ``(B, 1, 28, 28)``, which it flattens).
    """

    def __init__(self, num_classes: int = 10, in_features: int = 784):
        super().__init__()
        self.fc1 = nn.Linear(in_features, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, num_classes)

    def forward(self, x):
        if x.ndim > 2:
            x = x.flatten(1)
        x = self.fc1(x).relu()
        x = self.fc2(x).relu()
        return self.fc3(x)


@register("lenet300", paper_params=266_610, input_kind="flat",
          description="LeNet-300-100: 784-300-100-10 MLP with ReLU")
def lenet300(num_classes: int = 10) -> LeNet300:
    return LeNet300(num_classes)
