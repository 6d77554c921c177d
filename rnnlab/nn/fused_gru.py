r"""A hand-fused GRU layer for the CPU: one matrix product per step forward, a backward written by hand.

torch has no fused CPU kernel for the GRU (its LSTM has oneDNN's), so ``torch.nn.GRU`` on a CPU runs a step loop
recorded op by op by autograd, and is slower than its LSTM although a GRU does three quarters of an LSTM's arithmetic.
Here one direction of one layer is a single autograd function (torch's gate order r, z, n):

.. math::
    g^x_t = W_{ih} x_t + b_{ih} \quad\text{(all steps in one product)},\qquad g^h_t = W_{hh} h_{t-1} + b_{hh}

    r_t, z_t = \sigma(g^x_{r,z} + g^h_{r,z}),\quad n_t = \tanh(g^x_n + r_t \odot g^h_n),\quad
    h_t = n_t + z_t \odot (h_{t-1} - n_t)

The forward runs without recording a graph and keeps only what the backward needs (``r, z, n, g^h_n, h_{t-1}``).
The backward walks back through time with one product per step for ``∂h_{t-1}``,

.. math::
    \delta n = \delta h \odot (1 - z) \odot (1 - n^2),\quad \delta z = \delta h \odot (h_{t-1} - n) \odot z(1-z),\quad
    \delta r = \delta n \odot g^h_n \odot r(1-r),\quad
    \delta h_{t-1} = \delta h \odot z + [\delta r, \delta z, \delta n \odot r]\, W_{hh}

and then computes the weight gradients as three products over all steps at once. Padding: a step past a sequence's
length keeps the state (``h_t = h_{t-1}``) and outputs zero, as torch's packed kernels do. ``tests`` check every
gradient against the NumPy oracle and against ``torch.nn.GRU``.

Threads: the sequences of a batch do not interact, so the C++ loop cuts the batch into one block per thread and each
thread walks through time with its own block (its own small matrix products, single-threaded). A step's product is
small (B × H by H × 3H), too small for a multi-threaded GEMM to pay for waking its threads a hundred times per
sequence; the blocks meet only once, at the end.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from rnnlab.nn import extensions


def extension():
    """The C++ step loop (``csrc/gru.cpp``, see :mod:`rnnlab.nn.extensions`), or None: the Python loop below does the
    same work more slowly."""
    return extensions.load("gru")


def blocks(batch: int) -> int:
    """Blocks of sequences the C++ loop walks through time side by side, one per thread (``RNNLAB_GRU_BLOCKS``
    overrides)."""
    wanted = int(os.environ.get("RNNLAB_GRU_BLOCKS", "0")) or torch.get_num_threads()
    return max(1, min(wanted, batch))


class _GRUDirection(torch.autograd.Function):
    """One direction of one GRU layer over a time-major ``(T, B, I)`` input."""

    @staticmethod
    def forward(ctx, x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor,
                mask: Tensor | None) -> tuple[Tensor, Tensor]:  # fmt: skip
        steps, batch, _ = x.shape
        hidden = w_hh.shape[1]
        gx = torch.addmm(b_ih, x.reshape(steps * batch, -1), w_ih.t()).view(steps, batch, 3 * hidden)  # (T, B, 3H)
        compiled = extension()
        if compiled is not None:
            flags = mask[..., 0].contiguous() if mask is not None else x.new_empty(0, dtype=torch.bool)
            out, h, rz, n, gh_n, previous = compiled.forward(gx, h0, w_hh, b_hh, flags, blocks(batch))
            ctx.save_for_backward(x, w_ih, w_hh, rz, n, gh_n, previous, mask if mask is not None else x.new_empty(0))
            return out, h
        w_hh_t = w_hh.t()
        rz = x.new_empty(steps, batch, 2 * hidden)  # σ of the r and z gates
        n = x.new_empty(steps, batch, hidden)
        gh_n = x.new_empty(steps, batch, hidden)  # W_hn h + b_hn, inside the reset product
        previous = x.new_empty(steps, batch, hidden)  # h_{t-1} of every step
        out = x.new_empty(steps, batch, hidden)
        h = h0
        for t in range(steps):
            previous[t] = h
            gh = torch.addmm(b_hh, h, w_hh_t)  # (B, 3H)
            torch.sigmoid(gx[t, :, : 2 * hidden] + gh[:, : 2 * hidden], out=rz[t])
            gh_n[t] = gh[:, 2 * hidden :]
            torch.tanh(torch.addcmul(gx[t, :, 2 * hidden :], rz[t, :, :hidden], gh_n[t]), out=n[t])
            new = torch.lerp(n[t], h, rz[t, :, hidden:])  # n + z ⊙ (h - n)
            if mask is not None:  # past a sequence's end: keep the state, output zero
                new = torch.where(mask[t], new, h)
                torch.mul(new, mask[t], out=out[t])
            else:
                out[t] = new
            h = new
        ctx.save_for_backward(x, w_ih, w_hh, rz, n, gh_n, previous, mask if mask is not None else x.new_empty(0))
        return out, h

    @staticmethod
    def backward(ctx, d_out: Tensor, d_last: Tensor):
        x, w_ih, w_hh, rz, n, gh_n, previous, mask = ctx.saved_tensors
        masked = mask.numel() > 0
        steps, batch, hidden = n.shape
        compiled = extension()
        if compiled is not None:
            flags = mask[..., 0].contiguous() if masked else x.new_empty(0, dtype=torch.bool)
            d_gx, d_gh, dh = compiled.backward(d_out, d_last, w_hh, rz, n, gh_n, previous, flags, blocks(batch))
            return _weight_gradients(x, w_ih, previous, d_gx, d_gh, dh)
        d_gx = x.new_empty(steps, batch, 3 * hidden)  # ∂L/∂(W_ih x + b_ih), every step
        d_gh = x.new_empty(steps, batch, 3 * hidden)  # ∂L/∂(W_hh h + b_hh), every step
        dh = d_last.clone()
        for t in range(steps - 1, -1, -1):
            if masked:
                dh_new = (dh + d_out[t]) * mask[t]  # the step's own state gets a gradient inside the sequence only
                dh_kept = dh * ~mask[t]  # past the end, h_t = h_{t-1}: the gradient passes straight through
            else:
                dh_new = dh + d_out[t]
            r, z = rz[t, :, :hidden], rz[t, :, hidden:]
            dn = dh_new * (1 - z) * (1 - n[t] * n[t])  # through tanh
            dz = dh_new * (previous[t] - n[t]) * z * (1 - z)
            dr = dn * gh_n[t] * r * (1 - r)
            d_gx[t, :, :hidden], d_gx[t, :, hidden : 2 * hidden], d_gx[t, :, 2 * hidden :] = dr, dz, dn
            d_gh[t, :, :hidden], d_gh[t, :, hidden : 2 * hidden] = dr, dz
            torch.mul(dn, r, out=d_gh[t, :, 2 * hidden :])
            dh = torch.addmm(dh_new * z, d_gh[t], w_hh)  # (B, H): ∂L/∂h_{t-1}
            if masked:
                dh = dh + dh_kept
        return _weight_gradients(x, w_ih, previous, d_gx, d_gh, dh)


def _weight_gradients(x, w_ih, previous, d_gx, d_gh, dh):
    """∂L/∂x and the weight gradients as one product each over all steps."""
    steps, batch, _ = d_gx.shape
    flat_gx, flat_gh = d_gx.view(steps * batch, -1), d_gh.view(steps * batch, -1)
    d_x = (flat_gx @ w_ih).view_as(x)  # (T, B, I)
    d_w_ih = flat_gx.t() @ x.reshape(steps * batch, -1)  # (3H, I)
    d_w_hh = flat_gh.t() @ previous.reshape(steps * batch, -1)  # (3H, H)
    return d_x, dh, d_w_ih, d_w_hh, flat_gx.sum(0), flat_gh.sum(0), None


def gru_direction(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None,
                  mask: Tensor | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """``x`` ``(T, B, I)``, ``h0`` ``(B, H)``, ``mask`` ``(T, B, 1)`` bool or None → outputs ``(T, B, H)`` and the
    final state ``(B, H)``. Without biases, zeros stand in (they receive a gradient nobody reads)."""
    hidden = w_hh.shape[1]
    zeros = x.new_zeros(3 * hidden)
    return _GRUDirection.apply(x, h0, w_ih, w_hh, zeros if b_ih is None else b_ih, zeros if b_hh is None else b_hh,
                               mask)  # fmt: skip
