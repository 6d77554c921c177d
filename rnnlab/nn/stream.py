"""Stepping a trained layer one time step at a time, carrying its state: O(1) work per new point.

Why NumPy: at batch size 1 the arithmetic of a step is tiny (one 4H×H matrix-vector product) and the cost is per-call
overhead. ``torch.nn.LSTM`` with T=1 costs 87–160 µs on a 2-core CPU, ``torch.nn.LSTMCell`` 27–45 µs (each of its ~9
tensor operations carries ~4 µs of dispatch); the same equations on float32 NumPy arrays cost under 20 µs. The
equations are those of :mod:`rnnlab.nn.functional`, in torch's gate order, on the layer's own weights (copied when the
stepper is made); ``tests/test_stream.py`` checks the stepper against the layer.

Sigmoid is computed as ``σ(a) = ½ tanh(½ a) + ½``. For the LSTM the rows of the i, f and o gates are scaled by ½
when the stepper is made, so one ``tanh`` over all 4H pre-activations gives ``tanh(½ a)`` for i, f, o and
``tanh(a_g)`` for g.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnlab.nn.layers import GRU, LSTM, _RecurrentLayer
from rnnlab.nn.minimal import MinGRU, MinLSTM


def _positive(a: np.ndarray) -> np.ndarray:
    """The minimal cells' candidate g(a): a + ½ for a ≥ 0, σ(a) below."""
    return np.where(a >= 0, a + 0.5, _sigmoid(a))


def _sigmoid(a: np.ndarray) -> np.ndarray:
    s = np.tanh(a * 0.5)
    s *= 0.5
    s += 0.5
    return s


class Stepper:
    """Advance a unidirectional RNN/LSTM/GRU/MinGRU/MinLSTM of batch size 1 one step at a time, in float32 NumPy.

    ``reset(state)`` takes the layer's state (``h_n`` ``(L, 1, H)``, or ``(h_n, c_n)``); ``step(x)`` takes ``x``
    ``(I,)`` and returns the top layer's ``h_t`` ``(H,)``. Weights are copied when the stepper is made.
    """

    def __init__(self, layer: _RecurrentLayer) -> None:
        if layer.bidirectional:
            raise ValueError("a bidirectional layer cannot be stepped forward in time: it reads the future")
        kinds = {LSTM: "lstm", GRU: "gru", MinGRU: "mingru", MinLSTM: "minlstm"}
        self.kind = next((kind for cls, kind in kinds.items() if isinstance(layer, cls)), "rnn")
        self.relu = getattr(layer, "nonlinearity", "tanh") == "relu"
        self.hidden = layer.hidden_size
        self.weights = []  # per layer: W_ih (G*H, I), W_hh (G*H, H), bias added to W_ih x, bias added to W_hh h
        for w_ih, w_hh, b_ih, b_hh in layer.weights():
            w_ih = w_ih.detach().cpu().float().numpy().copy()
            zeros = np.zeros(w_ih.shape[0], dtype=np.float32)
            b_ih = zeros if b_ih is None else b_ih.detach().cpu().float().numpy().copy()
            if self.kind in ("mingru", "minlstm"):  # no recurrent weights
                self.weights.append((w_ih, None, b_ih, None))
                continue
            w_hh = w_hh.detach().cpu().float().numpy().copy()
            b_hh = zeros if b_hh is None else b_hh.detach().cpu().float().numpy().copy()
            if self.kind == "gru":  # b_hn must stay inside the reset product
                self.weights.append((w_ih, w_hh, b_ih, b_hh))
                continue
            bias = b_ih + b_hh
            if self.kind == "lstm":  # halve the i, f, o rows: one tanh then gives σ for them and tanh for g
                half = np.full(w_hh.shape[0], 0.5, dtype=np.float32)
                half[2 * self.hidden : 3 * self.hidden] = 1.0
                w_ih, w_hh, bias = w_ih * half[:, None], w_hh * half[:, None], bias * half
            self.weights.append((w_ih, w_hh, bias, None))
        self.h = [np.zeros(self.hidden, dtype=np.float32) for _ in self.weights]
        self.c = [np.zeros(self.hidden, dtype=np.float32) for _ in self.weights] if self.kind == "lstm" else []

    def reset(self, state: tuple[torch.Tensor, ...]) -> None:
        """Start from a layer state: each tensor ``(L, 1, H)``."""
        self.h = [s.detach().cpu().float().numpy().copy() for s in state[0][:, 0]]
        if self.kind == "lstm":
            self.c = [s.detach().cpu().float().numpy().copy() for s in state[1][:, 0]]

    def state(self) -> tuple[torch.Tensor, ...]:
        """The current state as the layer returns it, each ``(L, 1, H)``."""
        states = [self.h, self.c] if self.kind == "lstm" else [self.h]
        return tuple(torch.from_numpy(np.stack(s))[:, None] for s in states)

    def step(self, x: np.ndarray) -> np.ndarray:
        """One step: ``x`` ``(I,)`` → top ``h_t`` ``(H,)``."""
        size = self.hidden
        layer_input = np.asarray(x, dtype=np.float32)
        for k, (w_ih, w_hh, bias_x, bias_h) in enumerate(self.weights):
            h = self.h[k]
            if self.kind == "lstm":
                a = w_hh @ h  # (4H,)  W_hh h, i/f/o rows halved
                a += w_ih @ layer_input  # + W_ih x
                a += bias_x  # + b_ih + b_hh
                t = np.tanh(a)  # (4H,)  tanh(a/2) for i, f, o; tanh(a_g) = g
                g = t[2 * size : 3 * size].copy()  # (H,)
                t *= 0.5
                t += 0.5  # σ(a) = ½ tanh(a/2) + ½ for i, f, o
                c = t[size : 2 * size] * self.c[k]  # f ⊙ c
                c += t[:size] * g  # + i ⊙ g
                h = t[3 * size :] * np.tanh(c)  # h = o ⊙ tanh(c)
                self.c[k] = c
            elif self.kind == "mingru":
                a = w_ih @ layer_input + bias_x  # (2H,)
                z = _sigmoid(a[:size])
                h = h + z * (_positive(a[size:]) - h)  # (1 - z) ⊙ h + z ⊙ g(a_n)
            elif self.kind == "minlstm":
                a = w_ih @ layer_input + bias_x  # (3H,)
                forget = _sigmoid(np.logaddexp(0, -a[size : 2 * size]) - np.logaddexp(0, -a[:size]))  # f', stably
                n = _positive(a[2 * size :])
                h = n + forget * (h - n)  # f' ⊙ h + (1 - f') ⊙ g(a_n)
            elif self.kind == "gru":
                xa = w_ih @ layer_input + bias_x  # (3H,)  W_i· x + b_i·
                ha = w_hh @ h + bias_h  # (3H,)  W_h· h + b_h·
                rz = _sigmoid(xa[: 2 * size] + ha[: 2 * size])  # r, z
                n = np.tanh(xa[2 * size :] + rz[:size] * ha[2 * size :])  # n = tanh(x_n + r ⊙ (W_hn h + b_hn))
                h = n + rz[size:] * (h - n)  # (1 - z) ⊙ n + z ⊙ h
            else:
                a = w_hh @ h + w_ih @ layer_input + bias_x  # (H,)
                h = np.maximum(a, 0) if self.relu else np.tanh(a)
            self.h[k] = h
            layer_input = h
        return layer_input
