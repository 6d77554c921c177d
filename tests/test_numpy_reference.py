"""The NumPy oracle checked against finite differences: its hand-written BPTT must be the true gradient."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.reference.numpy_rnn import GATES, MINIMAL, NumpyRNN

T, B, I, H = 4, 3, 2, 3
EPS = 1e-6


def random_state_dict(cell: str, num_layers: int, bidirectional: bool, rng: np.random.Generator) -> dict:
    rows, directions = GATES[cell] * H, 2 if bidirectional else 1
    params = {}
    for layer in range(num_layers):
        for d in range(directions):
            sfx = f"l{layer}" + ("_reverse" if d else "")
            width = I if layer == 0 else H * directions
            params[f"weight_ih_{sfx}"] = rng.normal(0, 0.6, (rows, width))
            params[f"bias_ih_{sfx}"] = rng.normal(0, 0.3, rows)
            if cell not in MINIMAL:  # the minimal cells have no recurrent weights
                params[f"weight_hh_{sfx}"] = rng.normal(0, 0.6, (rows, H))
                params[f"bias_hh_{sfx}"] = rng.normal(0, 0.3, rows)
    return params


def loss_and_grads(cell, params, x, h0, lengths, weights):
    """L = Σ out ⊙ G_out + Σ h_n ⊙ G_h (+ Σ c_n ⊙ G_c) and the oracle's gradients of it."""
    ref = NumpyRNN(cell, params)
    out, final = ref.forward(x, h0, lengths)
    finals = final if cell == "lstm" else (final,)
    loss = float((out * weights[0]).sum() + sum((f * w).sum() for f, w in zip(finals, weights[1:])))
    d_final = tuple(weights[1:]) if cell == "lstm" else weights[1]
    return loss, ref.backward(weights[0], d_final)


@pytest.mark.parametrize("variable_lengths", [False, True], ids=["equal", "variable"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru", "mingru", "minlstm"])
def test_numpy_bptt_matches_finite_differences(cell, num_layers, bidirectional, variable_lengths):
    rng = np.random.default_rng(1)
    params = random_state_dict(cell, num_layers, bidirectional, rng)
    directions = 2 if bidirectional else 1
    states = 2 if cell == "lstm" else 1
    x = rng.normal(0, 1, (T, B, I))
    h0 = [rng.normal(0, 0.5, (num_layers * directions, B, H)) for _ in range(states)]
    h0_arg = h0 if cell == "lstm" else h0[0]
    lengths = [4, 1, 3] if variable_lengths else None
    weights = [rng.normal(0, 1, (T, B, H * directions))] + [
        rng.normal(0, 1, (num_layers * directions, B, H)) for _ in range(states)
    ]
    _, grads = loss_and_grads(cell, params, x, h0_arg, lengths, weights)

    def numeric(array: np.ndarray, index: tuple) -> float:
        old = array[index]
        array[index] = old + EPS
        plus, _ = loss_and_grads(cell, params, x, h0_arg, lengths, weights)
        array[index] = old - EPS
        minus, _ = loss_and_grads(cell, params, x, h0_arg, lengths, weights)
        array[index] = old
        return (plus - minus) / (2 * EPS)

    targets = dict(params) | {"input": x, "h_0": h0[0]} | ({"c_0": h0[1]} if cell == "lstm" else {})
    for name, array in targets.items():
        flat = list(np.ndindex(array.shape))
        picks = rng.choice(len(flat), size=min(12, len(flat)), replace=False)
        for k in picks:
            index = flat[k]
            assert grads[name][index] == pytest.approx(numeric(array, index), rel=1e-5, abs=1e-7), (name, index)


def test_numpy_reference_reads_layers_and_directions_from_the_state_dict():
    params = random_state_dict("gru", 2, True, np.random.default_rng(0))
    ref = NumpyRNN("gru", params)
    assert (ref.num_layers, ref.num_directions, ref.hidden_size) == (2, 2, H)


def test_numpy_reference_padding_gives_zero_output_and_zero_input_gradient():
    params = random_state_dict("lstm", 1, True, np.random.default_rng(0))
    ref = NumpyRNN("lstm", params)
    x = np.random.default_rng(1).normal(size=(T, B, I))
    out, _ = ref.forward(x, lengths=[4, 2, 1])
    assert np.all(out[2:, 1] == 0) and np.all(out[1:, 2] == 0)
    grads = ref.backward(np.ones_like(out))
    assert np.all(grads["input"][2:, 1] == 0) and np.all(grads["input"][1:, 2] == 0)


def test_numpy_reference_rejects_unknown_cells_and_foreign_state_dicts():
    with pytest.raises(ValueError, match="'transformer'"):
        NumpyRNN("transformer", {})
    with pytest.raises(ValueError, match="weight_ih_l0"):
        NumpyRNN("lstm", {"weight": np.zeros(3)})
