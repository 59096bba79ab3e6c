"""Gradient-check cases for the fused LSTM and GRU (several steps, batch > 1, hidden > 1,
every input: x, h0 (and c0), both weight matrices, both biases; for the LSTM both outputs, the
hidden states and the last cell state)."""
from minisnip import functional as F
from minisnip.ops import GRU, LSTM, cat

from . import gradcheck_case


def _sequence_and_last_cell(*inputs):
    """Both outputs of F.lstm in one Tensor: the hidden states and the last cell state."""
    hs, c_n = F.lstm(*inputs)
    return cat([hs.reshape(-1), c_n.reshape(-1)])


@gradcheck_case(LSTM)
def lstm_all_inputs(rng):
    t, b, d, h = 4, 3, 2, 3
    return _sequence_and_last_cell, [
        rng.standard_normal((t, b, d)), rng.standard_normal((b, h)), rng.standard_normal((b, h)),
        rng.standard_normal((4 * h, d)) * 0.5, rng.standard_normal((4 * h, h)) * 0.5,
        rng.standard_normal(4 * h) * 0.5, rng.standard_normal(4 * h) * 0.5]


@gradcheck_case(LSTM)
def lstm_longer_random_directions(rng):
    t, b, d, h = 7, 2, 5, 6
    return _sequence_and_last_cell, [
        rng.standard_normal((t, b, d)), rng.standard_normal((b, h)), rng.standard_normal((b, h)),
        rng.standard_normal((4 * h, d)) * 0.4, rng.standard_normal((4 * h, h)) * 0.4,
        rng.standard_normal(4 * h) * 0.3, rng.standard_normal(4 * h) * 0.3]


@gradcheck_case(GRU)
def gru_all_inputs(rng):
    t, b, d, h = 4, 3, 2, 3
    return (lambda *a: F.gru(*a)), [
        rng.standard_normal((t, b, d)), rng.standard_normal((b, h)),
        rng.standard_normal((3 * h, d)) * 0.5, rng.standard_normal((3 * h, h)) * 0.5,
        rng.standard_normal(3 * h) * 0.5, rng.standard_normal(3 * h) * 0.5]


@gradcheck_case(GRU)
def gru_longer_random_directions(rng):
    t, b, d, h = 7, 2, 5, 6
    return (lambda *a: F.gru(*a)), [
        rng.standard_normal((t, b, d)), rng.standard_normal((b, h)),
        rng.standard_normal((3 * h, d)) * 0.4, rng.standard_normal((3 * h, h)) * 0.4,
        rng.standard_normal(3 * h) * 0.3, rng.standard_normal(3 * h) * 0.3]
