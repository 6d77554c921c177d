r"""The linear recurrence :math:`h_t = a_t \odot h_{t-1} + b_t` over a whole sequence, two ways.

This is the recurrence of the minimal RNNs (:mod:`rnnlab.nn.minimal`): :math:`a_t` and :math:`b_t` depend on
:math:`x_t` only, so the recurrence itself is nothing but one multiply-add per unit and step.

- :func:`log_scan`, the paper's *parallel* scan: unrolled, :math:`h_t = A_t h_0 + \sum_{s \le t} (A_t / A_s)\, b_s`
  with :math:`A_t = \prod_{s \le t} a_s`, so all steps come from two cumulative operations over time, in log space:

  .. math::
      \log A_t = \mathrm{cumsum}_t \log a_t,\qquad
      h_t = A_t h_0 + \exp\big(\log A_t + \mathrm{logcumsumexp}_t(\log b_t - \log A_t)\big)

  It needs :math:`b_t > 0` (hence the positive candidate :math:`g`), and costs several exponentials and logarithms per
  element: it pays where time itself must be spread over thousands of threads (a GPU). It runs in chunks of
  :data:`CHUNK` steps, carrying ``h`` between them, so the log-space sums stay small and float32 keeps its precision
  over thousands of steps.
- :func:`linear_scan`, the *sequential* scan: walk time, one multiply-add per element for every unit at once. Its
  backward, by hand:

  .. math::
      \delta h_t = \partial L/\partial h_t + a_{t+1} \odot \delta h_{t+1},\qquad
      \partial L/\partial a_t = \delta h_t \odot h_{t-1},\quad \partial L/\partial b_t = \delta h_t,\quad
      \partial L/\partial h_0 = a_1 \odot \delta h_1

  On a CPU the batch × units already fill the cores, and the sequential scan is several times faster than the
  log-space one (``bench/bench_speed.py``). :mod:`rnnlab.nn.fused_minimal` does the same in C++ together with the
  gates; this Python loop is its twin where the extension is not built.

Both take time-major ``(T, B, H)`` coefficients and an initial state ``(B, H)``, and return all states ``(T, B, H)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

CHUNK = 64  # steps of one log-space scan; h is carried between chunks


def log_scan(log_a: Tensor, log_b: Tensor, h0: Tensor) -> Tensor:
    r"""All :math:`h_t` from :math:`\log a_t` and :math:`\log b_t`, ``(T, B, H)`` each; ``h0`` ``(B, H)`` of any sign
    (no log is taken of it)."""
    outputs = []
    h = h0  # (B, H)
    for start in range(0, log_a.shape[0], CHUNK):
        log_a_chunk = log_a[start : start + CHUNK]  # (C, B, H)
        log_b_chunk = log_b[start : start + CHUNK]
        log_prefix = torch.cumsum(log_a_chunk, dim=0)  # (C, B, H)  log A_t within the chunk
        carried = torch.exp(log_prefix) * h  # (C, B, H)  A_t h_start
        added = torch.exp(log_prefix + torch.logcumsumexp(log_b_chunk - log_prefix, dim=0))  # Σ_s (A_t / A_s) b_s
        chunk = carried + added  # (C, B, H)
        outputs.append(chunk)
        h = chunk[-1]
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs)


class _LinearScan(torch.autograd.Function):
    """:math:`h_t = a_t h_{t-1} + b_t` for ``a``, ``b`` ``(T, N)`` and ``h0`` ``(N,)``, with the backward by hand."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
        h = torch.empty_like(a)  # (T, N)
        state = h0
        for t in range(a.shape[0]):
            state = torch.addcmul(b[t], a[t], state, out=h[t])
        ctx.save_for_backward(a, h, h0)
        return h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        a, h, h0 = ctx.saved_tensors
        d_b = torch.empty_like(a)  # δh_t, the whole gradient reaching h_t
        carry = torch.zeros_like(h0)  # a_{t+1} δh_{t+1}
        for t in range(a.shape[0] - 1, -1, -1):
            torch.add(grad[t], carry, out=d_b[t])
            carry = a[t] * d_b[t]
        previous = torch.cat([h0[None], h[:-1]])  # (T, N)  h_{t-1}
        return d_b * previous, d_b, carry


def linear_scan(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    r"""All :math:`h_t = a_t h_{t-1} + b_t`: ``a``, ``b`` ``(T, B, H)``, ``h0`` ``(B, H)`` → ``(T, B, H)``."""
    steps, batch, hidden = a.shape
    h = _LinearScan.apply(a.reshape(steps, batch * hidden), b.reshape(steps, batch * hidden), h0.reshape(-1))
    return h.view(steps, batch, hidden)
