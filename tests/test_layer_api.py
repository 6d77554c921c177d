"""The layers' contract beyond the math: argument checks, the choice of implementation, dropout, shapes, config."""

from __future__ import annotations

import re

import pytest
import torch

import rnnlab.nn.layers as layers_module
from rnnlab import GRU, LSTM, RNN, MinGRU, MinLSTM


@pytest.mark.parametrize(
    ("make", "quoted"),
    [
        (lambda: LSTM(-3, 8), "-3"),
        (lambda: GRU(4, 0), "0"),
        (lambda: RNN(4, 8, num_layers=-1), "-1"),
        (lambda: LSTM(4, 8, num_layers=2, dropout=1.0), "1.0"),
        (lambda: LSTM(4, 8, num_layers=2, dropout=-0.1), "-0.1"),
        (lambda: GRU(4, 8, num_layers=2, dropout=1.5), "1.5"),
        (lambda: LSTM(4, 8, impl="fast"), "'fast'"),
        (lambda: RNN(4, 8, nonlinearity="sigmoid"), "'sigmoid'"),
        (lambda: LSTM(4.5, 8), "4.5"),
        (lambda: MinGRU(4, 8, scan="fast"), "'fast'"),
        (lambda: MinLSTM(4, -8), "-8"),
    ],
)
def test_bad_constructor_arguments_raise_value_error_quoting_the_value(make, quoted):
    with pytest.raises(ValueError, match=re.escape(quoted)):
        make()


def test_input_of_the_wrong_feature_size_raises_naming_both_sizes():
    with pytest.raises(ValueError, match=r"input has 5 features .* input_size=4"):
        LSTM(4, 8)(torch.randn(10, 2, 5))


def test_gates_with_impl_fused_raise_and_name_the_fix():
    layer = GRU(4, 8, impl="fused")
    with pytest.raises(ValueError, match=r"impl='fused'.*impl='auto' or impl='loop'"):
        layer(torch.randn(5, 2, 4), return_gates=True)


def test_bad_states_and_lengths_raise_value_error():
    layer = LSTM(4, 8, num_layers=2)
    x = torch.randn(5, 3, 4)
    with pytest.raises(ValueError, match=r"h_0 has shape \(1, 3, 8\)"):
        layer(x, (torch.zeros(1, 3, 8), torch.zeros(1, 3, 8)))
    with pytest.raises(ValueError, match=r"\(h_0, c_0\)"):
        layer(x, torch.zeros(2, 3, 8))
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        layer(x, lengths=[5, 0, 9])
    with pytest.raises(ValueError, match="3 sequences"):
        layer(x, lengths=[5, 4])
    with pytest.raises(ValueError, match="3-D"):
        layer(torch.randn(2, 5, 3, 4))


def test_auto_runs_the_fused_kernel_unless_gates_are_asked_for(monkeypatch):
    calls = []
    original = layers_module.run_layers
    monkeypatch.setattr(layers_module, "run_layers", lambda *a, **k: calls.append(1) or original(*a, **k))
    layer = LSTM(4, 8, impl="auto")
    x = torch.randn(5, 2, 4)
    layer(x)
    assert calls == []  # fused
    layer(x, return_gates=True)
    assert calls == [1]  # the step loop
    LSTM(4, 8, impl="loop")(x)
    assert calls == [1, 1]


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU, MinGRU, MinLSTM])
def test_unbatched_input_matches_a_batch_of_one(cls):
    layer = cls(4, 6, num_layers=2, bidirectional=True)
    x = torch.randn(7, 4)  # (T, I)
    for impl in ("fused", "loop"):
        layer.impl = impl
        out, final = layer(x)
        out_b, final_b = layer(x[:, None])
        assert out.shape == (7, 12)
        torch.testing.assert_close(out, out_b[:, 0])
        h, h_b = (final[0], final_b[0]) if cls is LSTM else (final, final_b)
        assert h.shape == (4, 6)
        torch.testing.assert_close(h, h_b[:, 0])


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU, MinGRU, MinLSTM])
def test_dropout_acts_between_layers_in_training_only(cls):
    layer = cls(4, 16, num_layers=3, dropout=0.5)
    x = torch.randn(6, 8, 4)
    for impl in ("fused", "loop"):
        layer.impl = impl
        layer.train()
        a, b = layer(x)[0], layer(x)[0]
        assert not torch.allclose(a, b), f"{impl}: dropout should make two training passes differ"
        layer.eval()
        torch.testing.assert_close(layer(x)[0], layer(x)[0])
    layer.eval()
    layer.impl = "fused"
    fused = layer(x)[0]
    layer.impl = "loop"
    torch.testing.assert_close(layer(x)[0], fused, rtol=1e-5, atol=1e-6)


def test_loop_dropout_zeroes_about_p_of_the_inputs_to_the_next_layer():
    layer = RNN(1, 2000, num_layers=2, dropout=0.3, impl="loop", nonlinearity="relu", bias=False)
    with torch.no_grad():
        layer.weight_ih_l0.fill_(1.0)  # every unit of layer 0 copies the (positive) input ...
        layer.weight_hh_l0.zero_()
        layer.weight_hh_l1.zero_()
        layer.weight_ih_l1.copy_(torch.eye(2000))  # ... and layer 1 copies what dropout lets through
    out, _ = layer(torch.ones(1, 1, 1))
    dropped = (out == 0).float().mean().item()
    assert 0.25 < dropped < 0.35
    assert torch.allclose(out[out != 0], torch.tensor(1 / 0.7))


def test_float32_loop_matches_fused():
    layer = LSTM(8, 32, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(4, 20, 8)
    layer.impl = "fused"
    fused = layer(x, lengths=[20, 3, 11, 7])
    layer.impl = "loop"
    loop = layer(x, lengths=[20, 3, 11, 7])
    torch.testing.assert_close(loop[0], fused[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(loop[1][1], fused[1][1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU, MinGRU, MinLSTM])
def test_config_round_trip_rebuilds_the_same_layer(cls):
    layer = cls(3, 5, num_layers=2, bidirectional=True, batch_first=True, dropout=0.25, impl="loop", bias=False)
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone.load_state_dict(layer.state_dict())
    layer.eval(), clone.eval()
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(clone(x)[0], layer(x)[0])


def test_repr_shows_the_options_that_differ_from_the_defaults():
    assert repr(LSTM(3, 5, num_layers=2, impl="loop")) == "LSTM(3, 5, num_layers=2, impl='loop')"
    assert "nonlinearity='relu'" in repr(RNN(3, 5, nonlinearity="relu"))


def test_dropout_on_a_single_layer_warns():
    with pytest.warns(UserWarning, match="num_layers=1"):
        LSTM(3, 5, dropout=0.2)
