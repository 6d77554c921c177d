"""The gate math of the Elman RNN, the LSTM and the GRU, written once.

Every recurrent computation in rnnlab (the cells, the step loop of the layers, streaming forecasts) calls these
functions. Gate order and bias placement follow ``torch.nn.RNNCell``, ``torch.nn.LSTMCell`` and ``torch.nn.GRUCell``,
so the same Parameters drive torch's fused kernels and this step math.

Each step takes the *input projection* ``x_proj = x_t W_ih^T + b_ih`` rather than ``x_t`` itself: a layer computes the
projection of all time steps in one matrix product before its loop (the recurrence only needs ``h_{t-1}``), and a cell
computes it for its single step with :func:`input_projection`. For the RNN and the LSTM, ``b_hh`` may be folded into
``x_proj`` by the caller and passed as ``None`` here; the GRU needs ``b_hn`` inside the reset product, so it always
takes ``b_hh`` separately.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


class LSTMGates(NamedTuple):
    """The activations of one LSTM step, each ``(B, H)``."""

    i: Tensor  # input gate      σ(W_ii x + b_ii + W_hi h + b_hi)
    f: Tensor  # forget gate     σ(W_if x + b_if + W_hf h + b_hf)
    g: Tensor  # cell candidate  tanh(W_ig x + b_ig + W_hg h + b_hg)
    o: Tensor  # output gate     σ(W_io x + b_io + W_ho h + b_ho)
    c: Tensor  # new cell state  f ⊙ c_{t-1} + i ⊙ g


class GRUGates(NamedTuple):
    """The activations of one GRU step, each ``(B, H)``."""

    r: Tensor  # reset gate   σ(W_ir x + b_ir + W_hr h + b_hr)
    z: Tensor  # update gate  σ(W_iz x + b_iz + W_hz h + b_hz)
    n: Tensor  # candidate    tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))


class MinGRUGates(NamedTuple):
    """The activations of one MinGRU step, each ``(B, H)``: no gate sees ``h_{t-1}``."""

    z: Tensor  # update gate  σ(W_iz x + b_iz)
    n: Tensor  # candidate    g(W_in x + b_in), positive


class MinLSTMGates(NamedTuple):
    """The activations of one MinLSTM step, each ``(B, H)``: the two gates normalised to sum to one."""

    f: Tensor  # forget gate  σ(a_f) / (σ(a_f) + σ(a_i)),  a_f = W_if x + b_if
    i: Tensor  # input gate   σ(a_i) / (σ(a_f) + σ(a_i)) = 1 - f
    n: Tensor  # candidate    g(W_in x + b_in), positive


def input_projection(x: Tensor, w_ih: Tensor, b_ih: Tensor | None) -> Tensor:
    """``x W_ih^T + b_ih`` for one step ``(B, I)`` or for all steps at once ``(T, B, I)`` → ``(..., G*H)``."""
    return F.linear(x, w_ih, b_ih)


def _recurrent_sum(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """``x_proj + h W_hh^T (+ b_hh)`` in as few kernels as possible → ``(B, G*H)``."""
    if b_hh is None:
        return torch.addmm(x_proj, h, w_hh.t())  # (B, G*H)
    return x_proj + F.linear(h, w_hh, b_hh)  # (B, G*H)


def rnn_step(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, *, nonlinearity: str = "tanh") -> Tensor:
    r"""One Elman RNN step.

    .. math::
        h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}),\quad \phi \in \{\tanh, \mathrm{relu}\}

    Args:
        x_proj: ``(B, H)`` input projection ``x_t W_ih^T + b_ih``.
        h: ``(B, H)`` previous hidden state.
        w_hh: ``(H, H)``; b_hh: ``(H,)`` or ``None`` when already folded into ``x_proj``.
    Returns:
        ``h_t`` ``(B, H)``.
    """
    pre = _recurrent_sum(x_proj, h, w_hh, b_hh)  # (B, H)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_step(
    x_proj: Tensor,
    h: Tensor,
    c: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    *,
    return_gates: bool = False,
) -> tuple[Tensor, Tensor] | tuple[Tensor, Tensor, LSTMGates]:
    r"""One LSTM step, gate rows in torch's order i, f, g, o.

    .. math::
        \begin{aligned}
        i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t &= o_t \odot \tanh(c_t)
        \end{aligned}

    Args:
        x_proj: ``(B, 4H)`` input projection ``x_t W_ih^T + b_ih``.
        h, c: ``(B, H)`` previous hidden and cell state.
        w_hh: ``(4H, H)``; b_hh: ``(4H,)`` or ``None`` when already folded into ``x_proj``.
        return_gates: also return the step's :class:`LSTMGates`.
    Returns:
        ``(h_t, c_t)``, or ``(h_t, c_t, gates)``.
    """
    gates = _recurrent_sum(x_proj, h, w_hh, b_hh)  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)  # 4 × (B, H)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)  # (B, H) each
    c_new = f * c + i * g  # (B, H)
    h_new = o * torch.tanh(c_new)  # (B, H)
    if return_gates:
        return h_new, c_new, LSTMGates(i, f, g, o, c_new)
    return h_new, c_new


def gru_step(
    x_proj: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    *,
    return_gates: bool = False,
) -> Tensor | tuple[Tensor, GRUGates]:
    r"""One GRU step, gate rows in torch's order r, z, n.

    .. math::
        \begin{aligned}
        r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{aligned}

    Args:
        x_proj: ``(B, 3H)`` input projection ``x_t W_ih^T + b_ih``.
        h: ``(B, H)`` previous hidden state.
        w_hh: ``(3H, H)``; b_hh: ``(3H,)`` or ``None`` (a GRU without biases).
        return_gates: also return the step's :class:`GRUGates`.
    Returns:
        ``h_t``, or ``(h_t, gates)``.
    """
    hh = F.linear(h, w_hh, b_hh)  # (B, 3H)  recurrent parts W_h· h + b_h·
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)  # 3 × (B, H)
    h_r, h_z, h_n = hh.chunk(3, dim=-1)  # 3 × (B, H)
    r = torch.sigmoid(x_r + h_r)  # (B, H)
    z = torch.sigmoid(x_z + h_z)  # (B, H)
    n = torch.tanh(x_n + r * h_n)  # (B, H)
    h_new = torch.lerp(n, h, z)  # (B, H)  (1 - z) ⊙ n + z ⊙ h
    if return_gates:
        return h_new, GRUGates(r, z, n)
    return h_new


# ----- minimal RNNs (Feng et al. 2024, "Were RNNs All We Needed?"): gates from x_t alone ----------------------------
def positive(a: Tensor) -> Tensor:
    r"""The paper's :math:`g(a) = a + \tfrac12` for :math:`a \ge 0`, :math:`\sigma(a)` below: continuous, increasing and
    positive, so that a state built from it can be carried in log space (:func:`log_positive`)."""
    return torch.where(a >= 0, a + 0.5, torch.sigmoid(a))


def log_positive(a: Tensor) -> Tensor:
    r""":math:`\log g(a)`: :math:`\log(a + \tfrac12)` for :math:`a \ge 0`,
    :math:`\log\sigma(a) = -\mathrm{softplus}(-a)` below (both branches finite everywhere, so neither poisons
    the other's gradient)."""
    return torch.where(a >= 0, torch.log(F.relu(a) + 0.5), -F.softplus(-a))


def normalised_forget(a_f: Tensor, a_i: Tensor) -> Tensor:
    r""":math:`\sigma(a_f) / (\sigma(a_f) + \sigma(a_i))`, computed as
    :math:`\sigma(\log\sigma(a_f) - \log\sigma(a_i)) = \sigma(\mathrm{softplus}(-a_i) - \mathrm{softplus}(-a_f))`,
    which stays defined when both gates are shut (both sigmoids underflow to 0 in float32 below about -88)."""
    return torch.sigmoid(F.softplus(-a_i) - F.softplus(-a_f))


def mingru_step(x_proj: Tensor, h: Tensor, *, return_gates: bool = False) -> Tensor | tuple[Tensor, MinGRUGates]:
    r"""One MinGRU step, rows z, n.

    .. math::
        z_t = \sigma(W_{iz} x_t + b_{iz}),\quad \tilde h_t = g(W_{in} x_t + b_{in}),\quad
        h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t

    Args:
        x_proj: ``(B, 2H)`` input projection ``x_t W_ih^T + b_ih``; h: ``(B, H)`` previous state.
    Returns:
        ``h_t``, or ``(h_t, gates)``.
    """
    a_z, a_n = x_proj.chunk(2, dim=-1)  # 2 × (B, H)
    z, n = torch.sigmoid(a_z), positive(a_n)
    h_new = torch.lerp(h, n, z)  # (B, H)  (1 - z) ⊙ h + z ⊙ ñ
    return (h_new, MinGRUGates(z, n)) if return_gates else h_new


def minlstm_step(x_proj: Tensor, h: Tensor, *, return_gates: bool = False) -> Tensor | tuple[Tensor, MinLSTMGates]:
    r"""One MinLSTM step, rows f, i, n (the paper's length-independent form: no output gate, no separate cell).

    .. math::
        f'_t = \frac{\sigma(a_f)}{\sigma(a_f) + \sigma(a_i)},\quad i'_t = 1 - f'_t,\quad
        h_t = f'_t \odot h_{t-1} + i'_t \odot g(a_n),\qquad [a_f, a_i, a_n] = W_{ih} x_t + b_{ih}

    Args:
        x_proj: ``(B, 3H)`` input projection; h: ``(B, H)`` previous state.
    Returns:
        ``h_t``, or ``(h_t, gates)``.
    """
    a_f, a_i, a_n = x_proj.chunk(3, dim=-1)  # 3 × (B, H)
    f = normalised_forget(a_f, a_i)  # (B, H)
    n = positive(a_n)
    h_new = torch.lerp(n, h, f)  # (B, H)  f' ⊙ h + (1 - f') ⊙ ñ
    return (h_new, MinLSTMGates(f, 1 - f, n)) if return_gates else h_new
