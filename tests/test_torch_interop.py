"""State dicts move both ways between rnnlab's layers and torch.nn's, and give identical outputs."""

from __future__ import annotations

import pytest
import torch

from rnnlab import GRU, LSTM, RNN
from tests.conftest import randomize_

PAIRS = {
    "rnn_tanh": (RNN, torch.nn.RNN, {}),
    "rnn_relu": (RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (LSTM, torch.nn.LSTM, {}),
    "gru": (GRU, torch.nn.GRU, {}),
}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("cell", list(PAIRS))
def test_state_dict_round_trip_with_torch_nn_gives_identical_outputs(cell, num_layers, bidirectional, bias):
    ours_cls, theirs_cls, kw = PAIRS[cell]
    options = dict(num_layers=num_layers, bidirectional=bidirectional, bias=bias, batch_first=True, **kw)
    ours, theirs = ours_cls(5, 7, **options), theirs_cls(5, 7, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = torch.randn(3, 9, 5)

    ours.load_state_dict(theirs.state_dict())  # torch.nn → rnnlab
    expected = theirs(x)
    ours.impl = "torch"
    got = ours(x)
    assert torch.equal(got[0], expected[0])  # the same kernel on the same weights: bit-identical
    for impl in ("loop", "fused"):  # the step loop, and the fused kernel (rnnlab's own for the GRU on a CPU)
        ours.impl = impl
        torch.testing.assert_close(ours(x)[0], expected[0], rtol=1e-5, atol=1e-6)

    randomize_(ours, scale=0.3)
    theirs.load_state_dict(ours.state_dict())  # rnnlab → torch.nn
    ours.impl = "torch"
    got, expected = ours(x), theirs(x)
    assert torch.equal(got[0], expected[0])
    for g, e in zip(got[1] if cell == "lstm" else (got[1],), expected[1] if cell == "lstm" else (expected[1],)):
        assert torch.equal(g, e)


def test_rnnlab_lstm_loads_a_torch_lstm_state_dict_directly():
    theirs = torch.nn.LSTM(4, 8, num_layers=2)
    ours = LSTM(4, 8, num_layers=2)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(10, 2, 4)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], rtol=0, atol=0)
