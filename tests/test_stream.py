"""The NumPy stepper against the layer it steps: same outputs step by step, every cell, stacked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import GRU, LSTM, RNN, MinGRU, MinLSTM
from rnnlab.nn.stream import Stepper
from tests.conftest import randomize_


@pytest.mark.parametrize(
    "make",
    [
        lambda: LSTM(3, 16, num_layers=2),
        lambda: GRU(3, 16, num_layers=2),
        lambda: RNN(3, 16, num_layers=2),
        lambda: RNN(3, 16, nonlinearity="relu"),
        lambda: LSTM(3, 16, bias=False),
        lambda: MinGRU(3, 16, num_layers=2),
        lambda: MinLSTM(3, 16, num_layers=2),
        lambda: MinGRU(3, 16, scan="log", bias=False),
    ],
)
def test_stepper_follows_the_layer_step_by_step(make):
    layer = randomize_(make(), scale=0.3)
    x = torch.randn(30, 1, 3)
    out, state = layer(x)
    stepper = Stepper(layer)
    for t in range(30):
        top = stepper.step(x[t, 0].numpy())
        np.testing.assert_allclose(top, out[t, 0].detach().numpy(), rtol=1e-4, atol=1e-5)
    expected = state if isinstance(state, tuple) else (state,)
    for a, b in zip(stepper.state(), expected):
        torch.testing.assert_close(a, b.detach(), rtol=1e-4, atol=1e-5)


def test_stepper_continues_from_a_given_state():
    layer = LSTM(2, 8, num_layers=2)
    x = torch.randn(20, 1, 2)
    _, state = layer(x[:10])
    stepper = Stepper(layer)
    stepper.reset(state)
    for t in range(10, 20):
        top = stepper.step(x[t, 0].numpy())
    np.testing.assert_allclose(top, layer(x)[0][-1, 0].detach().numpy(), rtol=1e-4, atol=1e-5)


def test_a_bidirectional_layer_cannot_be_streamed():
    with pytest.raises(ValueError, match="bidirectional"):
        Stepper(GRU(2, 4, bidirectional=True))
