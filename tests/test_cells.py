"""Cells against torch.nn's cells (same weights both ways) and against the NumPy oracle's single step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import GRUCell, LSTMCell, RNNCell
from rnnlab.reference.numpy_rnn import NumpyRNN
from tests.conftest import randomize_

I, H, B = 4, 6, 3
PAIRS = {
    "rnn_tanh": (lambda: RNNCell(I, H), lambda: torch.nn.RNNCell(I, H)),
    "rnn_relu": (lambda: RNNCell(I, H, nonlinearity="relu"), lambda: torch.nn.RNNCell(I, H, nonlinearity="relu")),
    "lstm": (lambda: LSTMCell(I, H), lambda: torch.nn.LSTMCell(I, H)),
    "gru": (lambda: GRUCell(I, H), lambda: torch.nn.GRUCell(I, H)),
}


def as_layer_state_dict(cell: torch.nn.Module) -> dict:
    """A cell's weights under the names of a one-layer torch.nn.LSTM/GRU/RNN (``_l0`` suffix)."""
    return {f"{k}_l0": v for k, v in cell.state_dict().items()}


@pytest.mark.parametrize("cell", list(PAIRS))
def test_cell_state_dict_loads_both_ways_with_torch_cell(cell):
    ours, theirs = PAIRS[cell][0](), PAIRS[cell][1]()
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    for k, v in ours.state_dict().items():
        assert v.shape == theirs.state_dict()[k].shape
    x = torch.randn(B, I)
    ours.load_state_dict(theirs.state_dict())
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-6, atol=1e-6)
    randomize_(ours)
    theirs.load_state_dict(ours.state_dict())
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cell", list(PAIRS))
def test_cell_step_and_gradients_match_numpy_oracle(cell):
    module = randomize_(PAIRS[cell][0]().double())
    x = torch.randn(B, I, dtype=torch.double, requires_grad=True)
    states = [torch.randn(B, H, dtype=torch.double, requires_grad=True) for _ in range(2 if cell == "lstm" else 1)]
    out = module(x, tuple(states)) if cell == "lstm" else module(x, states[0])
    outs = out if cell == "lstm" else (out,)
    weights = [torch.randn_like(o) for o in outs]
    torch.autograd.backward(list(outs), weights)

    ref = NumpyRNN(cell, as_layer_state_dict(module))
    initial = [s.detach().numpy()[None] for s in states]
    ref_out, ref_final = ref.forward(x.detach().numpy()[None], initial if cell == "lstm" else initial[0])
    ref_outs = ref_final if cell == "lstm" else (ref_final,)
    for o, r in zip(outs, ref_outs):
        np.testing.assert_allclose(o.detach().numpy(), r[0], rtol=1e-6, atol=1e-8)
    d_final = tuple(w.numpy()[None] for w in weights)
    grads = ref.backward(np.zeros_like(ref_out), d_final if cell == "lstm" else d_final[0])
    for name, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[f"{name}_l0"], rtol=1e-6, atol=1e-8, err_msg=name)
    np.testing.assert_allclose(x.grad.numpy(), grads["input"][0], rtol=1e-6, atol=1e-8)


def test_lstm_cell_gates_match_numpy_oracle():
    cell = randomize_(LSTMCell(I, H).double())
    x = torch.randn(B, I, dtype=torch.double)
    _h, c, gates = cell(x, return_gates=True)
    ref = NumpyRNN("lstm", as_layer_state_dict(cell))
    ref.forward(x.numpy()[None])
    step = ref.gates()[0][0]
    for name in ("i", "f", "g", "o", "c"):
        np.testing.assert_allclose(
            getattr(gates, name).detach().numpy(), step[name], rtol=1e-6, atol=1e-10, err_msg=name
        )
    torch.testing.assert_close(c, gates.c)


def test_gru_cell_gates_match_numpy_oracle():
    cell = randomize_(GRUCell(I, H).double())
    x, h0 = torch.randn(B, I, dtype=torch.double), torch.randn(B, H, dtype=torch.double)
    _h, gates = cell(x, h0, return_gates=True)
    ref = NumpyRNN("gru", as_layer_state_dict(cell))
    ref.forward(x.numpy()[None], h0.numpy()[None])
    step = ref.gates()[0][0]
    for name in ("r", "z", "n"):
        np.testing.assert_allclose(
            getattr(gates, name).detach().numpy(), step[name], rtol=1e-6, atol=1e-10, err_msg=name
        )


@pytest.mark.parametrize("cell", list(PAIRS))
def test_cell_unbatched_input_matches_batched(cell):
    module = PAIRS[cell][0]()
    x = torch.randn(I)
    single = module(x)
    batched = module(x[None])
    for s, b in zip(
        single if isinstance(single, tuple) else (single,), batched if isinstance(batched, tuple) else (batched,)
    ):
        assert s.shape == (H,)
        torch.testing.assert_close(s, b[0])


def test_cells_reject_bad_arguments_quoting_the_value():
    with pytest.raises(ValueError, match="-2"):
        LSTMCell(-2, 3)
    with pytest.raises(ValueError, match="'sigmoid'"):
        RNNCell(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="7 features"):
        GRUCell(4, 3)(torch.randn(2, 7))
    with pytest.raises(ValueError, match=r"\(2, 5\)"):
        LSTMCell(4, 3)(torch.randn(2, 4), (torch.randn(2, 5), torch.randn(2, 5)))
