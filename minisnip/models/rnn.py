"""The paper's recurrent networks on row-by-row images (28 steps of 28 pixels).

``Linear(28 -> H)`` input projection, one LSTM or GRU layer with H = 128 (s) or 256 (b), and
``Linear(H -> 10)`` on the last step's hidden state. This construction gives the paper's
counts: LSTM-s 137,098, LSTM-b 536,330, GRU-s 104,074, GRU-b 404,746 (137k / 536k / 104k /
404k). No nonlinearity after the projection (it changes no count; a linear projection
followed by the gates' own nonlinearities is the simplest reading).
"""
from __future__ import annotations

from .. import nn
from . import register


class SequenceClassifier(nn.Module):
    _chain = False  # recurrent: effective sparsity by the chain rule would be wrong

    def __init__(self, cell, hidden, num_classes=10, input_size=28):
        super().__init__()
        self.proj = nn.Linear(input_size, hidden)
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(hidden, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x):
        if x.ndim == 2:
            x = x.reshape(x.shape[0], 28, 28)
        _, state = self.rnn(self.proj(x))
        h_n = state[0] if isinstance(self.rnn, nn.LSTM) else state   # the LSTM's is (h_n, c_n)
        return self.fc(h_n[0])


@register("lstm-s", paper_params=137_000, input_kind="sequence",
          description="LSTM-s: Linear(28->128), LSTM(128), Linear(128->10) on the last step")
def lstm_s(num_classes=10):
    return SequenceClassifier("lstm", 128, num_classes)


@register("lstm-b", paper_params=536_000, input_kind="sequence",
          description="LSTM-b: Linear(28->256), LSTM(256), Linear(256->10)")
def lstm_b(num_classes=10):
    return SequenceClassifier("lstm", 256, num_classes)


@register("gru-s", paper_params=104_000, input_kind="sequence",
          description="GRU-s: Linear(28->128), GRU(128), Linear(128->10)")
def gru_s(num_classes=10):
    return SequenceClassifier("gru", 128, num_classes)


@register("gru-b", paper_params=404_000, input_kind="sequence",
          description="GRU-b: Linear(28->256), GRU(256), Linear(256->10)")
def gru_b(num_classes=10):
    return SequenceClassifier("gru", 256, num_classes)
