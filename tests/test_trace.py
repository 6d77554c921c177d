"""The step loop's recorded gates and hidden states against the NumPy oracle, and gradients through them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import GRU, LSTM, RNN
from rnnlab.reference.numpy_rnn import NumpyRNN
from tests.conftest import randomize_

T, B, I, H = 7, 3, 4, 5
LENGTHS = [7, 4, 2]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(
    ("cell", "make", "names"),
    [
        ("lstm", lambda **kw: LSTM(I, H, **kw), ("i", "f", "g", "o", "c", "h")),
        ("gru", lambda **kw: GRU(I, H, **kw), ("r", "z", "n", "h")),
        ("rnn_tanh", lambda **kw: RNN(I, H, **kw), ("h",)),
    ],
)
def test_trace_matches_numpy_oracle_gates_in_every_layer_and_direction(cell, make, names, batch_first):
    layer = randomize_(make(num_layers=2, bidirectional=True, batch_first=batch_first).double())
    x_tm = torch.randn(T, B, I, dtype=torch.double)
    x = x_tm.transpose(0, 1) if batch_first else x_tm
    _out, _, trace = layer(x, lengths=LENGTHS, return_gates=True)
    assert trace.names == names
    assert (trace.num_layers, trace.num_directions) == (2, 2)

    ref = NumpyRNN(cell, layer.state_dict())
    ref_out, _ = ref.forward(x_tm.numpy(), lengths=LENGTHS)
    mask = (np.arange(T)[:, None] < np.array(LENGTHS)[None, :])[:, :, None]  # (T, B, 1)
    for layer_index in range(2):
        for d in range(2):
            recorded = trace[layer_index, d]
            caches = ref.gates()[layer_index * 2 + d]
            for name in names:
                got = recorded[name].detach().numpy().transpose(1, 0, 2)  # (T, B, H)
                assert got.shape == (T, B, H)
                if name == "h":
                    expected = ref_out[:, :, d * H : (d + 1) * H] if layer_index == 1 else None
                    if expected is not None:
                        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-10)
                    continue
                expected = np.stack([c[name] for c in caches]) * mask  # zero past each length
                np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-10, err_msg=f"{name} {layer_index} {d}")


def test_trace_hidden_states_of_the_last_layer_are_the_output():
    layer = LSTM(I, H, num_layers=2, batch_first=True)
    out, _, trace = layer(torch.randn(B, T, I), return_gates=True)
    torch.testing.assert_close(trace[1, 0]["h"], out)


def test_gradient_of_the_loss_reaches_every_recorded_hidden_state():
    layer = RNN(I, H, batch_first=True)
    out, _, trace = layer(torch.randn(B, T, I), return_gates=True)
    steps = trace.hidden_steps[0, 0]  # T × (B, H)
    assert len(steps) == T
    torch.testing.assert_close(torch.stack(steps, dim=1), trace[0, 0]["h"])
    grads = torch.autograd.grad(out[:, -1].sum(), steps)  # ∂L/∂h_t for every t
    assert all(g.shape == (B, H) for g in grads)
    assert all(g.norm() > 0 for g in grads)


def test_trace_reports_a_missing_layer_clearly():
    _, _, trace = GRU(I, H)(torch.randn(T, B, I), return_gates=True)
    with pytest.raises(KeyError, match=r"\(1, 0\)"):
        trace[1, 0]
