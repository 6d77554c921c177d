r"""One direction of a MinGRU or MinLSTM layer in one C++ pass per step: gates and scan fused, backward by hand.

With ``x_proj`` ``(T, B, G*H)`` the input projection of every step (one matrix product, torch's), each unit follows

.. math::
    h_t = k_t \odot h_{t-1} + (1 - k_t) \odot g(a_{n,t}),\qquad
    k_t = \begin{cases} 1 - \sigma(a_{z,t}) & \text{MinGRU} \\
                        \sigma(a_{f,t}) / (\sigma(a_{f,t}) + \sigma(a_{i,t})) & \text{MinLSTM} \end{cases}

and the backward walks back through time with :math:`\delta h_t = \partial L/\partial h_t + k_{t+1} \delta h_{t+1}`:

.. math::
    \partial L/\partial k_t = \delta h_t \odot (h_{t-1} - \tilde n_t),\qquad
    \partial L/\partial a_{n,t} = \delta h_t \odot (1 - k_t) \odot g'(a_{n,t}),

then through :math:`\sigma` (and the normalisation of the MinLSTM's gates) to :math:`a_{z}` or :math:`a_f, a_i`.
Only ``x_proj`` and the states are kept for the backward; it recomputes the gates. A step past a sequence's length
carries the state (:math:`k = 1`), as the other layers do. Done with separate torch operations and a Python loop
(:mod:`rnnlab.nn.scan`) this costs 2-3× more on a CPU (``bench/bench_speed.py``); ``tests`` check it against the
NumPy oracle and the step loop.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnlab.nn import extensions


def extension():
    """The C++ pass (``csrc/minimal.cpp``, see :mod:`rnnlab.nn.extensions`), or None."""
    return extensions.load("minimal")


class _MinimalDirection(torch.autograd.Function):
    """``x_proj`` ``(T, B, G*H)``, ``h0`` ``(B, H)``, ``mask`` ``(T, B)`` bool or empty → states ``(T, B, H)``."""

    @staticmethod
    def forward(ctx, x_proj: Tensor, h0: Tensor, mask: Tensor, gates: int) -> Tensor:
        x_proj, h0 = x_proj.contiguous(), h0.contiguous()
        states = extension().forward(x_proj, h0, mask, gates)
        ctx.save_for_backward(x_proj, h0, states, mask)
        ctx.gates = gates
        return states

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        x_proj, h0, states, mask = ctx.saved_tensors
        d_x, d_h0 = extension().backward(grad, x_proj, h0, states, mask, ctx.gates)
        return d_x, d_h0, None, None


def minimal_direction(x_proj: Tensor, h0: Tensor, mask: Tensor | None, gates: int) -> Tensor:
    """The states ``(T, B, H)`` of one direction (carried unchanged past each sequence's end); ``mask`` ``(T, B, 1)``
    bool or None; ``gates`` 2 (MinGRU) or 3 (MinLSTM). Needs :func:`extension`."""
    flags = mask[..., 0].contiguous() if mask is not None else x_proj.new_empty(0, dtype=torch.bool)
    return _MinimalDirection.apply(x_proj, h0, flags, gates)
