r"""Minimal RNNs (Feng et al. 2024, "Were RNNs All We Needed?"): MinGRU and MinLSTM layers.

Take the GRU and the LSTM and let no gate look at :math:`h_{t-1}`; drop the GRU's reset gate and the LSTM's output
gate and cell. What is left is a *linear* recurrence with coefficients computed from the input alone::

    h_t = a_t ⊙ h_{t-1} + b_t          a_t, b_t from x_t only             (B, H) each

    MinGRU:   a_t = 1 - z_t,   b_t = z_t ⊙ ñ_t,   z_t = σ(W_iz x_t + b_iz),   ñ_t = g(W_in x_t + b_in)
    MinLSTM:  a_t = f'_t,      b_t = i'_t ⊙ ñ_t,  f'_t, i'_t = σ(a_f), σ(a_i) / (σ(a_f) + σ(a_i))

The gates of all steps therefore come from one matrix product, and what is left over time is one multiply-add per
unit and step, done by :mod:`rnnlab.nn.scan` in one of two ways (``scan=``):

- ``"log"``: the paper's parallel scan in log space (cumulative sums over time); it needs :math:`\tilde n_t > 0`,
  which is why the candidate goes through :math:`g(a) = a + \tfrac12` (:math:`a \ge 0`), :math:`\sigma(a)` (below)
  instead of tanh, in both scans and in the steps, so that every path computes the same function;
- ``"linear"``: the sequential scan, one pass over time with every unit in parallel, gates and scan fused in C++ on
  a CPU (:mod:`rnnlab.nn.fused_minimal`), several times faster there than the log-space scan;
- ``"auto"`` (default): linear on a CPU, log elsewhere.

Parameters follow the torch naming of the other layers, without the recurrent ones: ``weight_ih_l{k}``
``(G*H, in)`` and ``bias_ih_l{k}`` ``(G*H,)`` with rows z, n (MinGRU, G = 2) or f, i, n (MinLSTM, G = 3),
``_reverse`` for the backward direction. ``impl`` picks how they are run: ``"auto"``/``"fused"`` (and ``"torch"``) a
scan, ``"loop"`` the step loop of :mod:`rnnlab.nn.loop` (which records the gates); streaming and generation step the
same equations one ``x_t`` at a time (:mod:`rnnlab.nn.stream`, or the layer called with ``T = 1`` and its state).

Example::

    >>> layer = MinGRU(8, 16, num_layers=2, batch_first=True)
    >>> out, h_n = layer(torch.randn(4, 1000, 8))        # (4, 1000, 16), (2, 4, 16)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnlab.nn import checks, fused_minimal
from rnnlab.nn import functional as rf
from rnnlab.nn.layers import _RecurrentLayer
from rnnlab.nn.scan import linear_scan, log_scan

SCANS = ("auto", "linear", "log")


class _MinimalLayer(_RecurrentLayer):
    """What MinGRU and MinLSTM share: no recurrent weights, one state, a scan as the fused path.

    A subclass says how the input projection ``(T, B, G*H)`` becomes the coefficients of
    :math:`h_t = a_t h_{t-1} + b_t` (``_coefficients``) and their logs (``_log_coefficients``), and what one step is
    (``_step``).
    """

    recurrent_weights = False
    fold_hh_bias = False
    state_count = 1

    def __init__(self, input_size: int, hidden_size: int, *, scan: str = "auto", **kwargs) -> None:
        self.scan = checks.one_of("scan", scan, SCANS)
        super().__init__(input_size, hidden_size, **kwargs)

    def get_config(self):
        return {**super().get_config(), "scan": self.scan}

    def _coefficients(self, x_proj: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def _log_coefficients(self, x_proj: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def _hand_fused(self, like: Tensor) -> bool:
        return True  # a scan: on any device

    def _fused_kernel(self):
        raise RuntimeError(f"{type(self).__name__} runs its own scan; it has no torch kernel")

    def _direction_pass(self, x, h0, weights, mask, lengths):
        """The input projection of all steps, then a scan: ``scan="linear"`` on a CPU in C++ when it is built (else
        torch operations and a Python loop), ``"log"`` the parallel scan in log space."""
        w_ih, _, b_ih, _ = weights
        x_proj = rf.input_projection(x, w_ih, b_ih)  # (T, B, G*H)
        scan = self.scan if self.scan != "auto" else "linear" if x.device.type == "cpu" else "log"
        if scan == "linear" and x.device.type == "cpu" and fused_minimal.extension() is not None:
            states = fused_minimal.minimal_direction(x_proj, h0, mask, self.gate_count)  # (T, B, H), C++
            return (states, states[-1]) if mask is None else (states * mask, states[-1])
        if scan == "linear":  # the same arithmetic in torch operations and a Python loop over time
            a, b = self._coefficients(x_proj)  # (T, B, H) each
            if mask is not None:  # past a sequence's end: a = 1, b = 0 carries the state unchanged
                a, b = torch.where(mask, a, 1.0), b * mask
            out = linear_scan(a, b, h0)  # (T, B, H): carried, so the last step holds each final state
            return (out, out[-1]) if mask is None else (out * mask, out[-1])
        out = log_scan(*self._log_coefficients(x_proj), h0)  # (T, B, H); causal: the padding changes no valid step
        if mask is None:
            return out, out[-1]
        last = (lengths - 1).view(1, -1, 1).expand(1, -1, self.hidden_size)  # (1, B, H)
        return out * mask, out.gather(0, last)[0]


class MinGRU(_MinimalLayer):
    r"""MinGRU layer: :math:`h_t = (1 - z_t) \odot h_{t-1} + z_t \odot g(W_{in} x_t + b_{in})`,
    :math:`z_t = \sigma(W_{iz} x_t + b_{iz})`.

    The call of the GRU layer (``hx``, ``lengths=``, ``PackedSequence``, ``return_gates`` records z, n, h); 2/3 of a
    GRU's input weights and none of its recurrent ones.
    """

    gate_count = 2
    cell = "mingru"

    def _coefficients(self, x_proj):
        a_z, a_n = x_proj.chunk(2, dim=-1)  # (T, B, H) each
        z = torch.sigmoid(a_z)
        return 1 - z, z * rf.positive(a_n)  # a_t = 1 - z_t, b_t = z_t ⊙ ñ_t

    def _log_coefficients(self, x_proj):
        a_z, a_n = x_proj.chunk(2, dim=-1)  # (T, B, H) each
        log_keep = -F.softplus(a_z)  # log(1 - z) = log σ(-a_z)
        log_write = -F.softplus(-a_z) + rf.log_positive(a_n)  # log z + log ñ
        return log_keep, log_write

    def _step(self, x_proj, state, w_hh, b_hh, record):
        if record:
            h, gates = rf.mingru_step(x_proj, state[0], return_gates=True)
            return (h,), gates._asdict()
        return (rf.mingru_step(x_proj, state[0]),), None


class MinLSTM(_MinimalLayer):
    r"""MinLSTM layer: :math:`h_t = f'_t \odot h_{t-1} + i'_t \odot g(W_{in} x_t + b_{in})` with the forget and input
    gates normalised to sum to one, :math:`f'_t = \sigma(a_f) / (\sigma(a_f) + \sigma(a_i))`.

    The call of the GRU layer (one state ``h``; ``return_gates`` records f, i, n, h).
    """

    gate_count = 3
    cell = "minlstm"

    def _coefficients(self, x_proj):
        a_f, a_i, a_n = x_proj.chunk(3, dim=-1)  # (T, B, H) each
        f = rf.normalised_forget(a_f, a_i)  # f'_t
        return f, (1 - f) * rf.positive(a_n)  # a_t = f'_t, b_t = i'_t ⊙ ñ_t

    def _log_coefficients(self, x_proj):
        a_f, a_i, a_n = x_proj.chunk(3, dim=-1)  # (T, B, H) each
        log_f, log_i = -F.softplus(-a_f), -F.softplus(-a_i)  # log σ(a_f), log σ(a_i)
        log_total = torch.logaddexp(log_f, log_i)  # log(σ(a_f) + σ(a_i))
        return log_f - log_total, log_i - log_total + rf.log_positive(a_n)

    def _step(self, x_proj, state, w_hh, b_hh, record):
        if record:
            h, gates = rf.minlstm_step(x_proj, state[0], return_gates=True)
            return (h,), gates._asdict()
        return (rf.minlstm_step(x_proj, state[0]),), None
