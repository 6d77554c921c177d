"""rnnlab's layers (fused path and step loop) against the NumPy BPTT oracle, in float64, over the whole option grid.

Outputs, final states, every parameter gradient and the gradients of the input and initial state must agree to 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab import GRU, LSTM, RNN
from rnnlab.nn import MinGRU, MinLSTM
from rnnlab.reference.numpy_rnn import NumpyRNN
from tests.conftest import randomize_

T, B, I, H = 6, 4, 3, 5
LENGTHS = [6, 2, 5, 1]

CELLS = {
    "rnn_tanh": lambda **kw: RNN(I, H, nonlinearity="tanh", **kw),
    "rnn_relu": lambda **kw: RNN(I, H, nonlinearity="relu", **kw),
    "lstm": lambda **kw: LSTM(I, H, **kw),
    "gru": lambda **kw: GRU(I, H, **kw),
    "mingru": lambda **kw: MinGRU(I, H, **kw),  # on a CPU: gates and scan fused in C++
    "minlstm": lambda **kw: MinLSTM(I, H, **kw),
    "mingru_log": lambda **kw: MinGRU(I, H, scan="log", **kw),  # the paper's parallel scan in log space
    "minlstm_log": lambda **kw: MinLSTM(I, H, scan="log", **kw),
}
ORACLE = {"mingru_log": "mingru", "minlstm_log": "minlstm"}  # the oracle's name for a cell, where it differs


def assert_close(actual: torch.Tensor, expected: np.ndarray, what: str) -> None:
    np.testing.assert_allclose(actual.detach().numpy(), expected, rtol=1e-6, atol=1e-8, err_msg=what)


@pytest.mark.parametrize("impl", ["fused", "loop", "torch"])
@pytest.mark.parametrize("lengths_mode", ["equal", "lengths", "packed"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["time_major", "batch_first"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", list(CELLS))
def test_layer_matches_numpy_oracle(cell, num_layers, bidirectional, batch_first, lengths_mode, impl):
    layer = CELLS[cell](num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, impl=impl)
    layer = randomize_(layer.double())
    directions = 2 if bidirectional else 1
    states = 2 if cell == "lstm" else 1
    gen = torch.Generator().manual_seed(7)
    x_tm = torch.randn(T, B, I, generator=gen, dtype=torch.double)  # (T, B, I)
    h0 = [torch.randn(num_layers * directions, B, H, generator=gen, dtype=torch.double) for _ in range(states)]
    for t in (x_tm, *h0):
        t.requires_grad_(True)
    hx = tuple(h0) if cell == "lstm" else h0[0]
    x = x_tm.transpose(0, 1) if batch_first else x_tm
    lengths = None if lengths_mode == "equal" else LENGTHS

    if lengths_mode == "packed":
        packed = pack_padded_sequence(x, torch.tensor(LENGTHS), batch_first=batch_first, enforce_sorted=False)
        out_packed, final = layer(packed, hx)
        out, _ = pad_packed_sequence(out_packed, batch_first=batch_first, total_length=T)
    else:
        out, final = layer(x, hx, lengths=lengths)
    out_tm = out.transpose(0, 1) if batch_first else out  # (T, B, D*H)
    finals = final if cell == "lstm" else (final,)

    ref = NumpyRNN(ORACLE.get(cell, cell), layer.state_dict())
    ref_out, ref_final = ref.forward(x_tm.detach().numpy(), [h.detach().numpy() for h in h0], lengths)
    ref_finals = ref_final if cell == "lstm" else (ref_final,)
    assert_close(out_tm, ref_out, "output")
    for f, rf in zip(finals, ref_finals):
        assert_close(f, rf, "final state")

    gen = torch.Generator().manual_seed(8)
    d_out = torch.randn(out_tm.shape, generator=gen, dtype=torch.double)
    d_finals = [torch.randn(f.shape, generator=gen, dtype=torch.double) for f in finals]
    torch.autograd.backward([out_tm, *finals], [d_out, *d_finals])
    grads = ref.backward(d_out.numpy(), tuple(d.numpy() for d in d_finals) if cell == "lstm" else d_finals[0].numpy())
    for name, p in layer.named_parameters():
        assert_close(p.grad, grads[name], f"∂L/∂{name}")
    assert_close(x_tm.grad, grads["input"], "∂L/∂input")
    assert_close(h0[0].grad, grads["h_0"], "∂L/∂h_0")
    if cell == "lstm":
        assert_close(h0[1].grad, grads["c_0"], "∂L/∂c_0")


@pytest.mark.parametrize("cell", list(CELLS))
def test_layer_without_bias_matches_numpy_oracle(cell):
    layer = randomize_(CELLS[cell](bias=False, num_layers=2, impl="loop").double())
    x = torch.randn(T, B, I, dtype=torch.double)
    out, _ = layer(x)
    ref_out, _ = NumpyRNN(ORACLE.get(cell, cell), layer.state_dict()).forward(x.numpy())
    assert_close(out, ref_out, "output")


@pytest.mark.parametrize("impl", ["fused", "loop"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_layer_without_bias_has_the_oracles_gradients(cell, impl):
    layer = randomize_(CELLS[cell](bias=False, num_layers=2, impl=impl).double())
    x = torch.randn(T, B, I, dtype=torch.double, requires_grad=True)
    out, _ = layer(x)
    d_out = torch.randn(out.shape, dtype=torch.double)
    out.backward(d_out)
    ref = NumpyRNN(ORACLE.get(cell, cell), layer.state_dict())
    ref.forward(x.detach().numpy())
    zeros = np.zeros((2, B, H))
    grads = ref.backward(d_out.numpy(), (zeros, zeros) if cell == "lstm" else zeros)
    assert not any("bias" in name for name, _ in layer.named_parameters())
    for name, p in layer.named_parameters():
        assert_close(p.grad, grads[name], f"∂L/∂{name}")
    assert_close(x.grad, grads["input"], "∂L/∂input")


@pytest.mark.parametrize("impl", ["fused", "loop"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_float32_gradients_agree_with_the_float64_oracle(cell, impl):
    """What users train with: float32, compared to the float64 oracle at float32's precision."""
    layer = randomize_(CELLS[cell](num_layers=2, bidirectional=True, impl=impl), scale=0.3)
    x = torch.randn(T, B, I, requires_grad=True)
    out, _ = layer(x, lengths=LENGTHS)
    d_out = torch.randn(out.shape)
    out.backward(d_out)
    ref = NumpyRNN(ORACLE.get(cell, cell), {k: v.double() for k, v in layer.state_dict().items()})
    ref.forward(x.detach().double().numpy(), None, LENGTHS)
    zeros = np.zeros((4, B, H))
    grads = ref.backward(d_out.double().numpy(), (zeros, zeros) if cell == "lstm" else zeros)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name], rtol=2e-4, atol=2e-5, err_msg=name)
    np.testing.assert_allclose(x.grad.numpy(), grads["input"], rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("lengths_mode", ["equal", "lengths", "packed"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_python_twin_of_the_hand_fused_gru_matches_the_oracle(monkeypatch, lengths_mode, bidirectional):
    """Where the C++ step loop cannot be built, the same function runs its Python loop: the same gradients."""
    from rnnlab.nn import fused_gru

    monkeypatch.setattr(fused_gru, "extension", lambda: None)
    monkeypatch.setattr(GRU, "_hand_fused", lambda self, like: True)
    test_layer_matches_numpy_oracle("gru", 2, bidirectional, True, lengths_mode, "fused")


@pytest.mark.parametrize("lengths_mode", ["equal", "lengths", "packed"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_the_python_twin_of_the_minimal_scan_matches_the_oracle(monkeypatch, cell, lengths_mode, bidirectional):
    """Without the C++ pass, the minimal cells' sequential scan runs torch operations and a Python loop."""
    from rnnlab.nn import fused_minimal

    monkeypatch.setattr(fused_minimal, "extension", lambda: None)
    test_layer_matches_numpy_oracle(cell, 2, bidirectional, True, lengths_mode, "fused")


@pytest.mark.parametrize("scan", ["linear", "log"])
@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_minimal_scans_keep_float32_precision_over_long_sequences(cell, scan):
    """4,000 steps in float32 (the log-space scan's weak spot without chunks) against the float64 oracle."""
    layer = randomize_(CELLS[cell](scan=scan), scale=0.5)
    x = torch.randn(4000, 2, I)
    out, h_n = layer(x)
    ref_out, ref_h = NumpyRNN(cell, {k: v.double() for k, v in layer.state_dict().items()}).forward(x.double().numpy())
    np.testing.assert_allclose(out.detach().numpy(), ref_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h_n.detach().numpy(), ref_h, rtol=1e-4, atol=1e-5)
