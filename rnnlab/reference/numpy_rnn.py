"""Recurrent networks from scratch in float64 NumPy: forward pass and backpropagation through time (BPTT) by hand.

This file is rnnlab's test oracle (every torch path is checked against it) and a text to read. It needs nothing but
NumPy: no autograd, every derivative is written out below, and the test suite checks each one by finite differences.

It reads a torch-style ``state_dict`` as it is: ``weight_ih_l{k}`` ``(G*H, in)``, ``weight_hh_l{k}`` ``(G*H, H)``,
``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(G*H,)``, ``_reverse`` for the backward direction; gate rows LSTM i, f, g, o and
GRU r, z, n, as in ``torch.nn.LSTM`` and ``torch.nn.GRU``.

How to read it:

1. ``*_step_forward`` computes one time step and keeps what its derivative will need (the *cache*).
2. ``*_step_backward`` takes ``∂L/∂(new state)`` and returns ``∂L/∂x_t``, ``∂L/∂(previous state)`` and the step's
   share of the weight gradients. BPTT is nothing more than calling it from the last step to the first, handing
   ``∂L/∂(previous state)`` on to the step before, and adding up the weight gradients.
3. :class:`NumpyRNN` stacks layers and directions and handles padding, exactly as torch's packed sequences do: past a
   sequence's length the state is carried unchanged and the output is zero.

Example::

    >>> ref = NumpyRNN("lstm", torch_lstm.state_dict())
    >>> out, (h_n, c_n) = ref.forward(x)            # x: (T, B, I)
    >>> grads = ref.backward(d_out, (d_h_n, d_c_n))  # grads["weight_hh_l0"]: ∂L/∂W_hh of layer 0
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

Array = np.ndarray
CELLS = ("rnn_tanh", "rnn_relu", "lstm", "gru", "mingru", "minlstm")
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3, "mingru": 2, "minlstm": 3}
MINIMAL = ("mingru", "minlstm")  # no recurrent weights: their gates read x_t only


def sigmoid(a: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-a))


# --------------------------------------------------------------------------------------------------------------------
# Elman RNN:  h_t = φ(a_t),  a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh,  φ = tanh or relu
# --------------------------------------------------------------------------------------------------------------------
def rnn_step_forward(x: Array, state: tuple[Array], p: dict[str, Array], nonlinearity: str):
    (h_prev,) = state
    a = x @ p["w_ih"].T + p["b_ih"] + h_prev @ p["w_hh"].T + p["b_hh"]  # (B, H)
    h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)  # (B, H)
    return (h,), {"x": x, "h_prev": h_prev, "a": a, "h": h, "nonlinearity": nonlinearity}


def rnn_step_backward(d_state: tuple[Array], cache: dict[str, Any], p: dict[str, Array]):
    (dh,) = d_state
    if cache["nonlinearity"] == "tanh":
        da = dh * (1.0 - cache["h"] ** 2)  # tanh'(a) = 1 - tanh(a)²
    else:
        da = dh * (cache["a"] > 0)  # relu'(a) = [a > 0]
    grads = {"w_ih": da.T @ cache["x"], "w_hh": da.T @ cache["h_prev"], "b_ih": da.sum(0), "b_hh": da.sum(0)}
    return da @ p["w_ih"], (da @ p["w_hh"],), grads


# --------------------------------------------------------------------------------------------------------------------
# LSTM:  [i, f, g, o] = [σ, σ, tanh, σ](W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
#        c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
# --------------------------------------------------------------------------------------------------------------------
def lstm_step_forward(x: Array, state: tuple[Array, Array], p: dict[str, Array]):
    h_prev, c_prev = state
    a = x @ p["w_ih"].T + p["b_ih"] + h_prev @ p["w_hh"].T + p["b_hh"]  # (B, 4H)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # 4 × (B, H)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c = f * c_prev + i * g  # (B, H)
    tanh_c = np.tanh(c)
    h = o * tanh_c  # (B, H)
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o, "c": c, "tanh_c": tanh_c}
    return (h, c), cache


def lstm_step_backward(d_state: tuple[Array, Array], cache: dict[str, Any], p: dict[str, Array]):
    dh, dc = d_state
    i, f, g, o, tanh_c = cache["i"], cache["f"], cache["g"], cache["o"], cache["tanh_c"]
    do = dh * tanh_c  # h = o ⊙ tanh(c)
    dc = dc + dh * o * (1.0 - tanh_c**2)  # c reaches L through h_t and through c_{t+1}
    di, df, dg = dc * g, dc * cache["c_prev"], dc * i  # c = f ⊙ c_prev + i ⊙ g
    dc_prev = dc * f
    da = np.concatenate(  # back through the activations: σ' = σ(1 - σ), tanh' = 1 - tanh²
        [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
    )  # (B, 4H)
    grads = {"w_ih": da.T @ cache["x"], "w_hh": da.T @ cache["h_prev"], "b_ih": da.sum(0), "b_hh": da.sum(0)}
    return da @ p["w_ih"], (da @ p["w_hh"], dc_prev), grads


# --------------------------------------------------------------------------------------------------------------------
# GRU:  r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
#       n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
# --------------------------------------------------------------------------------------------------------------------
def gru_step_forward(x: Array, state: tuple[Array], p: dict[str, Array]):
    (h_prev,) = state
    xa = x @ p["w_ih"].T + p["b_ih"]  # (B, 3H)  input part of each gate
    ha = h_prev @ p["w_hh"].T + p["b_hh"]  # (B, 3H)  recurrent part of each gate
    x_r, x_z, x_n = np.split(xa, 3, axis=1)
    h_r, h_z, h_n = np.split(ha, 3, axis=1)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    h = (1.0 - z) * n + z * h_prev  # (B, H)
    return (h,), {"x": x, "h_prev": h_prev, "r": r, "z": z, "n": n, "h_n": h_n}


def gru_step_backward(d_state: tuple[Array], cache: dict[str, Any], p: dict[str, Array]):
    (dh,) = d_state
    r, z, n, h_prev = cache["r"], cache["z"], cache["n"], cache["h_prev"]
    dn = dh * (1.0 - z)  # h = (1 - z) ⊙ n + z ⊙ h_prev
    dz = dh * (h_prev - n)
    dh_prev = dh * z
    da_n = dn * (1.0 - n**2)  # n = tanh(x_n + r ⊙ h_n)
    dr = da_n * cache["h_n"]
    da_r, da_z = dr * r * (1 - r), dz * z * (1 - z)
    d_xa = np.concatenate([da_r, da_z, da_n], axis=1)  # (B, 3H)  ∂L/∂(input parts)
    d_ha = np.concatenate([da_r, da_z, da_n * r], axis=1)  # (B, 3H)  ∂L/∂(recurrent parts): r scales h_n
    grads = {"w_ih": d_xa.T @ cache["x"], "w_hh": d_ha.T @ h_prev, "b_ih": d_xa.sum(0), "b_hh": d_ha.sum(0)}
    return d_xa @ p["w_ih"], (dh_prev + d_ha @ p["w_hh"],), grads


# --------------------------------------------------------------------------------------------------------------------
# Minimal RNNs (Feng et al. 2024): no gate reads h_{t-1}.  g(a) = a + 1/2 for a ≥ 0, σ(a) below (positive)
# MinGRU:   z = σ(W_iz x + b_iz),  ñ = g(W_in x + b_in),  h_t = (1 - z) ⊙ h_{t-1} + z ⊙ ñ
# MinLSTM:  f' = σ(a_f) / (σ(a_f) + σ(a_i)),  ñ = g(a_n),  h_t = f' ⊙ h_{t-1} + (1 - f') ⊙ ñ
#           with [a_f, a_i, a_n] = W_ih x + b_ih
# --------------------------------------------------------------------------------------------------------------------
def positive(a: Array) -> Array:
    return np.where(a >= 0, a + 0.5, sigmoid(a))


def positive_grad(a: Array) -> Array:
    s = sigmoid(a)
    return np.where(a >= 0, 1.0, s * (1 - s))


def mingru_step_forward(x: Array, state: tuple[Array], p: dict[str, Array]):
    (h_prev,) = state
    a_z, a_n = np.split(x @ p["w_ih"].T + p["b_ih"], 2, axis=1)  # 2 × (B, H)
    z, n = sigmoid(a_z), positive(a_n)
    h = (1.0 - z) * h_prev + z * n  # (B, H)
    return (h,), {"x": x, "h_prev": h_prev, "z": z, "n": n, "a_n": a_n}


def mingru_step_backward(d_state: tuple[Array], cache: dict[str, Any], p: dict[str, Array]):
    (dh,) = d_state
    z, n, h_prev = cache["z"], cache["n"], cache["h_prev"]
    dz = dh * (n - h_prev)  # h = h_prev + z ⊙ (ñ - h_prev)
    dn = dh * z
    da = np.concatenate([dz * z * (1 - z), dn * positive_grad(cache["a_n"])], axis=1)  # (B, 2H)
    return da @ p["w_ih"], (dh * (1.0 - z),), {"w_ih": da.T @ cache["x"], "b_ih": da.sum(0)}


def minlstm_step_forward(x: Array, state: tuple[Array], p: dict[str, Array]):
    (h_prev,) = state
    a_f, a_i, a_n = np.split(x @ p["w_ih"].T + p["b_ih"], 3, axis=1)  # 3 × (B, H)
    s_f, s_i = sigmoid(a_f), sigmoid(a_i)
    f = s_f / (s_f + s_i)  # normalised: f' + i' = 1
    n = positive(a_n)
    h = f * h_prev + (1.0 - f) * n  # (B, H)
    return (h,), {"x": x, "h_prev": h_prev, "s_f": s_f, "s_i": s_i, "f": f, "i": 1.0 - f, "n": n, "a_n": a_n}


def minlstm_step_backward(d_state: tuple[Array], cache: dict[str, Any], p: dict[str, Array]):
    (dh,) = d_state
    s_f, s_i, f, n, h_prev = cache["s_f"], cache["s_i"], cache["f"], cache["n"], cache["h_prev"]
    df = dh * (h_prev - n)  # h = ñ + f' ⊙ (h_prev - ñ)
    dn = dh * (1.0 - f)
    total2 = (s_f + s_i) ** 2  # f' = s_f / (s_f + s_i):  ∂f'/∂s_f = s_i / total², ∂f'/∂s_i = -s_f / total²
    da_f = df * s_i / total2 * s_f * (1 - s_f)
    da_i = -df * s_f / total2 * s_i * (1 - s_i)
    da = np.concatenate([da_f, da_i, dn * positive_grad(cache["a_n"])], axis=1)  # (B, 3H)
    return da @ p["w_ih"], (dh * f,), {"w_ih": da.T @ cache["x"], "b_ih": da.sum(0)}


# --------------------------------------------------------------------------------------------------------------------
# One direction of one layer over time, with padding
# --------------------------------------------------------------------------------------------------------------------
def direction_forward(step, xs: Array, state: tuple[Array, ...], p: dict[str, Array], mask: Array, reverse: bool):
    """Run ``step`` over ``xs`` ``(T, B, I)``; ``mask`` ``(T, B, 1)`` is 1 inside each sequence, 0 in its padding.

    Past a sequence's end the state is carried unchanged and the output is 0, so a reverse pass over a sequence of
    length L starts at step L - 1 from the initial state. Returns ``(outputs (T, B, H), final state, caches)``.
    """
    steps = xs.shape[0]
    outputs = np.zeros((steps, xs.shape[1], state[0].shape[1]))
    caches: list[dict[str, Any]] = [{}] * steps
    for t in reversed(range(steps)) if reverse else range(steps):
        new_state, caches[t] = step(xs[t], state, p)
        m = mask[t]
        state = tuple(m * new + (1 - m) * old for new, old in zip(new_state, state))
        outputs[t] = m * new_state[0]
    return outputs, state, caches


def direction_backward(step_backward, d_outputs: Array, d_final: tuple[Array, ...], caches, p, mask, reverse: bool):
    """BPTT through one direction: walk the steps in the opposite order of :func:`direction_forward`.

    With ``state_t = m ⊙ new + (1 - m) ⊙ state_{t-1}`` and ``out_t = m ⊙ new_h``, the gradient reaching the step is
    ``m ⊙ (∂L/∂state_t + ∂L/∂out_t)`` and ``(1 - m) ⊙ ∂L/∂state_t`` passes straight to ``state_{t-1}``.
    Returns ``(∂L/∂xs (T, B, I), ∂L/∂(initial state), weight gradients)``.
    """
    steps = d_outputs.shape[0]
    d_state = d_final
    d_xs = np.zeros((steps, d_outputs.shape[1], p["w_ih"].shape[1]))
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    for t in range(steps) if reverse else reversed(range(steps)):
        m = mask[t]
        d_new = [m * d for d in d_state]
        d_new[0] = d_new[0] + m * d_outputs[t]
        d_xs[t], d_prev, step_grads = step_backward(tuple(d_new), caches[t], p)
        d_state = tuple(dp + (1 - m) * d for dp, d in zip(d_prev, d_state))
        for k in grads:
            grads[k] += step_grads[k]
    return d_xs, d_state, grads


# --------------------------------------------------------------------------------------------------------------------
# The stacked, (bi)directional network
# --------------------------------------------------------------------------------------------------------------------
class NumpyRNN:
    """A stacked, optionally bidirectional RNN/LSTM/GRU in float64, read from a torch-style ``state_dict``.

    Args:
        cell: ``"rnn_tanh"``, ``"rnn_relu"``, ``"lstm"``, ``"gru"``, ``"mingru"`` or ``"minlstm"``.
        state_dict: torch's names and shapes (tensors or arrays); layers, directions, sizes and biases are read off it.

    Tensors are time-major: ``x`` ``(T, B, I)``, ``output`` ``(T, B, D*H)``, states ``(L*D, B, H)`` at index
    ``layer * D + direction``. No dropout: this is the evaluation-mode network.
    """

    def __init__(self, cell: str, state_dict: dict[str, Any]) -> None:
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        self.cell = cell
        self.params = {k: _as_float64(v) for k, v in state_dict.items()}
        layers = {int(m.group(1)) for k in self.params if (m := re.fullmatch(r"weight_ih_l(\d+)(_reverse)?", k))}
        if not layers:
            raise ValueError("state_dict has no weight_ih_l0: not a torch RNN/LSTM/GRU state_dict")
        self.num_layers = max(layers) + 1
        self.num_directions = 2 if "weight_ih_l0_reverse" in self.params else 1
        self.hidden_size = self.params["weight_ih_l0"].shape[0] // GATES[cell]
        self.state_count = 2 if cell == "lstm" else 1
        self._step_forward, self._step_backward = {
            "rnn_tanh": (lambda x, s, p: rnn_step_forward(x, s, p, "tanh"), rnn_step_backward),
            "rnn_relu": (lambda x, s, p: rnn_step_forward(x, s, p, "relu"), rnn_step_backward),
            "lstm": (lstm_step_forward, lstm_step_backward),
            "gru": (gru_step_forward, gru_step_backward),
            "mingru": (mingru_step_forward, mingru_step_backward),
            "minlstm": (minlstm_step_forward, minlstm_step_backward),
        }[cell]
        self._cache: dict[str, Any] | None = None

    def layer_params(self, layer: int, direction: int) -> dict[str, Array]:
        """The weights of one layer and direction; a layer built with ``bias=False`` gets zero biases. The minimal cells
        have no ``w_hh`` and ``b_hh``."""
        suffix = f"l{layer}" + ("_reverse" if direction else "")
        w_ih = self.params[f"weight_ih_{suffix}"]
        zeros = np.zeros(w_ih.shape[0])
        b_ih = self.params.get(f"bias_ih_{suffix}", zeros)
        if self.cell in MINIMAL:
            return {"w_ih": w_ih, "b_ih": b_ih}
        w_hh = self.params[f"weight_hh_{suffix}"]
        b_hh = self.params.get(f"bias_hh_{suffix}", zeros)
        return {"w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh}

    def forward(self, x: Any, hx: Any = None, lengths: Any = None):
        """Run the network. ``hx`` is ``h_0`` (or ``(h_0, c_0)``), each ``(L*D, B, H)``; ``lengths`` ``(B,)``.

        Returns ``(output (T, B, D*H), h_n)`` or, for the LSTM, ``(output, (h_n, c_n))``; keeps what
        :meth:`backward` needs.
        """
        x = _as_float64(x)
        steps, batch, _ = x.shape
        states0 = self._initial_states(hx, batch)
        lengths = np.full(batch, steps) if lengths is None else np.asarray(lengths)
        mask = (np.arange(steps)[:, None] < lengths[None, :]).astype(np.float64)[:, :, None]  # (T, B, 1)
        layer_input, finals, caches = x, [], []
        for layer in range(self.num_layers):
            outputs = []
            for d in range(self.num_directions):
                index = layer * self.num_directions + d
                state0 = tuple(s[index] for s in states0)
                p = self.layer_params(layer, d)
                out, final, step_caches = direction_forward(
                    self._step_forward, layer_input, state0, p, mask, reverse=d == 1
                )
                outputs.append(out)
                finals.append(final)
                caches.append(step_caches)
            layer_input = np.concatenate(outputs, axis=2)  # (T, B, D*H)
        self._cache = {"mask": mask, "caches": caches, "input_size": x.shape[2]}
        final_states = tuple(np.stack([f[k] for f in finals]) for k in range(self.state_count))  # (L*D, B, H)
        return layer_input, (final_states if self.state_count == 2 else final_states[0])

    def backward(self, d_output: Any, d_final: Any = None) -> dict[str, Array]:
        """Backpropagation through time for the last :meth:`forward`.

        Args:
            d_output: ``∂L/∂output`` ``(T, B, D*H)``.
            d_final: ``∂L/∂h_n`` (or ``(∂L/∂h_n, ∂L/∂c_n)``), each ``(L*D, B, H)``, or None for zero.
        Returns:
            ``∂L/∂`` every parameter under its ``state_dict`` name, plus ``"input"`` ``(T, B, I)`` and ``"h_0"``
            (and ``"c_0"``) ``(L*D, B, H)``.
        """
        if self._cache is None:
            raise RuntimeError("call forward() before backward()")
        d_output = _as_float64(d_output)
        mask, caches = self._cache["mask"], self._cache["caches"]
        batch, hidden, directions = d_output.shape[1], self.hidden_size, self.num_directions
        shape = (self.num_layers * directions, batch, hidden)
        if d_final is None:
            d_finals = [np.zeros(shape) for _ in range(self.state_count)]
        else:
            d_finals = [_as_float64(d) for d in ((d_final,) if self.state_count == 1 else d_final)]
        grads: dict[str, Array] = {}
        d_initial = [np.zeros(shape) for _ in range(self.state_count)]
        d_layer_out = d_output  # (T, B, D*H)
        for layer in reversed(range(self.num_layers)):
            d_layer_in = 0.0
            for d in range(directions):
                index = layer * directions + d
                p = self.layer_params(layer, d)
                d_xs, d_state0, step_grads = direction_backward(
                    self._step_backward,
                    d_layer_out[:, :, d * hidden : (d + 1) * hidden],
                    tuple(df[index] for df in d_finals),
                    caches[index],
                    p,
                    mask,
                    reverse=d == 1,
                )
                d_layer_in = d_layer_in + d_xs  # both directions read the same layer input
                for k, s in enumerate(d_state0):
                    d_initial[k][index] = s
                suffix = f"l{layer}" + ("_reverse" if d else "")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    if f"{name}_{suffix}" in self.params and name.replace("weight", "w").replace("bias", "b") in p:
                        grads[f"{name}_{suffix}"] = step_grads[name.replace("weight", "w").replace("bias", "b")]
            d_layer_out = d_layer_in
        grads["input"] = d_layer_out
        grads["h_0"] = d_initial[0]
        if self.state_count == 2:
            grads["c_0"] = d_initial[1]
        return grads

    def gates(self) -> list[list[dict[str, Array]]]:
        """Per layer*D + direction, per step: the activations of the last forward (LSTM i, f, g, o, c; GRU r, z, n;
        MinGRU z, n; MinLSTM f, i, n)."""
        if self._cache is None:
            raise RuntimeError("call forward() before gates()")
        return self._cache["caches"]

    def _initial_states(self, hx: Any, batch: int) -> list[Array]:
        shape = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if hx is None:
            return [np.zeros(shape) for _ in range(self.state_count)]
        states = [hx] if self.state_count == 1 else list(hx)
        return [_as_float64(s).reshape(shape) for s in states]


def _as_float64(value: Any) -> Array:
    """A float64 array from a NumPy array or a torch tensor (without importing torch)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().double().numpy()
    return np.array(value, dtype=np.float64)
