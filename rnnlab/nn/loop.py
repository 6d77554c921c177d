"""The step loop: a stacked, optionally bidirectional recurrence run one time step at a time in Python.

This is the inspectable path of :mod:`rnnlab.nn.layers`. It calls a cell's step function (the gate math of
:mod:`rnnlab.nn.functional`) over the same Parameters that torch's fused kernels use, so it computes the same function,
and it can record every gate and hidden state on the way (:class:`Trace`).

Three habits keep it within about 2x of the fused kernel in training:
- the input projection ``x_t W_ih^T + b_ih (+ b_hh)`` of all steps is one matrix product before the loop;
- the loop walks ``x_proj.unbind(0)``; slicing ``x_proj[t]`` would make backward cost grow with T²;
- for the RNN and the LSTM, whose pre-activation is ``x_proj_t + h_{t-1} W_hh^T``, the gradient of ``W_hh`` is one
  matrix product after the loop, ``∂L/∂W_hh = Σ_t (∂L/∂x_proj_t)^T h_{t-1}``, instead of one per step
  (:class:`_RecurrentWeightGrad`), as the fused kernels do it.

Variable lengths are handled with a mask: at a step past a sequence's end its state is carried unchanged and its
output is zero, exactly as torch's packed sequences behave. The reverse direction of a sequence of length L starts
at step L - 1 from the initial state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnlab.nn import functional as rf

State = tuple[Tensor, ...]  # (h,) for RNN and GRU, (h, c) for LSTM; each (B, H)
StepFn = Callable[[Tensor, State, Tensor, "Tensor | None", bool], "tuple[State, dict[str, Tensor] | None]"]


@dataclass
class Trace:
    """Per-step activations recorded by the step loop.

    ``trace[layer, direction]`` is a dict from name to a ``(B, T, H)`` tensor: for an LSTM ``i, f, g, o, c, h``, for a
    GRU ``r, z, n, h``, for an RNN ``h``. Time index ``t`` is input position ``t`` in both directions (the reverse
    direction reads the input from the end, but its activations are stored where they belong). Steps past a
    sequence's length are zero.

    The stacked tensors are copies; for gradients through time use ``trace.hidden_steps[layer, direction]``, the
    list of the T per-step ``h_t`` ``(B, H)`` that the network really computed with:
    ``torch.autograd.grad(loss, trace.hidden_steps[0, 0])`` gives ``∂L/∂h_t`` for every t.
    """

    cell: str  # 'lstm', 'gru', 'rnn_tanh' or 'rnn_relu'
    num_layers: int  # stacked layers recorded
    num_directions: int  # 1, or 2 when bidirectional
    lengths: Tensor | None = None  # (B,) valid steps per sequence, None when all are full length
    # (layer, direction) → name → (B, T, H)
    steps: dict[tuple[int, int], dict[str, Tensor]] = field(default_factory=dict)
    # (layer, direction) → T × (B, H): the per-step h_t of the autograd graph
    hidden_steps: dict[tuple[int, int], list[Tensor]] = field(default_factory=dict)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Tensor]:
        if key not in self.steps:
            raise KeyError(f"no trace for (layer, direction)={key!r}; recorded: {sorted(self.steps)}")
        return self.steps[key]

    @property
    def names(self) -> tuple[str, ...]:
        """The recorded activation names, e.g. ``('i', 'f', 'g', 'o', 'c', 'h')``."""
        return tuple(next(iter(self.steps.values())))


class _PreviousStates:
    """Filled by the forward loop with ``h_{t-1}`` of every step ``(T, B, H)``, read by the backward pass."""

    h: Tensor | None = None


class _RecurrentWeightGrad(torch.autograd.Function):
    """Identity on ``x_proj`` whose backward also returns ``∂L/∂W_hh = Σ_t (∂L/∂x_proj_t)^T h_{t-1}``.

    Valid where the step adds ``h_{t-1} W_hh^T`` to ``x_proj_t`` unchanged (RNN, LSTM with the bias folded), so that
    the gradient of the pre-activation equals the gradient of ``x_proj_t``. The steps then use ``W_hh.detach()``.
    """

    @staticmethod
    def forward(ctx, x_proj: Tensor, w_hh: Tensor, previous: _PreviousStates) -> Tensor:
        ctx.previous = previous
        return x_proj.view_as(x_proj)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_x_proj: Tensor) -> tuple[Tensor, Tensor, None]:
        h_prev = ctx.previous.h  # (T, B, H)
        grad_w_hh = grad_x_proj.flatten(0, 1).t() @ h_prev.flatten(0, 1)  # (G*H, H)
        return grad_x_proj, grad_w_hh, None


def run_direction(
    step: StepFn,
    x_proj: Tensor,
    state: State,
    w_hh: Tensor,
    b_hh: Tensor | None,
    *,
    mask: Tensor | None,
    reverse: bool,
    record: bool,
    batch_weight_grad: bool = False,
) -> tuple[Tensor, State, dict[str, Tensor] | None]:
    """Run one direction of one layer over time.

    Args:
        step: the cell's step function ``(x_proj_t, state, w_hh, b_hh, record) -> (state, gates | None)``.
        x_proj: ``(T, B, G*H)`` input projections of all steps.
        state: initial state, each ``(B, H)``.
        mask: ``(T, B, 1)`` bool, True where step t is inside sequence b; None when every sequence is full length.
        reverse: walk t = T-1 … 0.
        record: also return the per-step activations, each stacked to ``(B, T, H)``.
        batch_weight_grad: the step adds ``h W_hh^T`` to ``x_proj_t`` as it is (see :class:`_RecurrentWeightGrad`).
    Returns:
        ``(outputs (T, B, H), final state, recorded activations or None)``.
    """
    previous = None
    if batch_weight_grad and torch.is_grad_enabled() and w_hh.requires_grad:
        previous = _PreviousStates()
        x_proj = _RecurrentWeightGrad.apply(x_proj, w_hh, previous)  # (T, B, G*H)
        w_hh = w_hh.detach()  # (G*H, H): no per-step weight gradient
        h_prev: list[Tensor] = [x_proj] * x_proj.shape[0]
    inputs = x_proj.unbind(0)  # T × (B, G*H)
    masks = mask.unbind(0) if mask is not None else None  # T × (B, 1)
    time_steps = range(len(inputs) - 1, -1, -1) if reverse else range(len(inputs))
    outputs: list[Tensor] = [inputs[0]] * len(inputs)  # filled below; placeholder keeps the list's length
    recorded: list[dict[str, Tensor]] = [{}] * len(inputs)
    hidden: list[Tensor] = [inputs[0]] * len(inputs)
    for t in time_steps:
        if previous is not None:
            h_prev[t] = state[0].detach()  # (B, H)
        new_state, gates = step(inputs[t], state, w_hh, b_hh, record)
        if masks is None:
            state = new_state
            outputs[t] = new_state[0]  # (B, H)
        else:
            m = masks[t]  # (B, 1)
            state = tuple(torch.where(m, new, old) for new, old in zip(new_state, state))
            outputs[t] = new_state[0] * m  # (B, H), zero past the sequence's end
        if record:
            hidden[t] = new_state[0]
            values = {**(gates or {}), "h": new_state[0]}
            recorded[t] = values if masks is None else {k: v * masks[t] for k, v in values.items()}
    out = torch.stack(outputs)  # (T, B, H)
    if previous is not None:
        previous.h = torch.stack(h_prev)  # (T, B, H)
    trace = None
    if record:
        trace = {name: torch.stack([r[name] for r in recorded], dim=1) for name in recorded[0]}  # name → (B, T, H)
        trace["h_steps"] = hidden  # T × (B, H), the tensors of the graph
    return out, state, trace


def run_layers(
    step: StepFn,
    weights: list[tuple[Tensor, Tensor, Tensor | None, Tensor | None]],
    x: Tensor,
    initial: State,
    *,
    num_layers: int,
    num_directions: int,
    fold_hh_bias: bool,
    lengths: Tensor | None,
    dropout: float,
    training: bool,
    record: bool,
    cell: str,
) -> tuple[Tensor, State, Trace | None]:
    """Run a stacked (bi)directional recurrence over a time-major batch.

    Args:
        step: the cell's step function (see :func:`run_direction`).
        weights: ``(w_ih, w_hh, b_ih, b_hh)`` for each layer and direction, index ``layer * D + direction``.
        x: ``(T, B, I)`` input, time-major.
        initial: initial states, each ``(L*D, B, H)``.
        fold_hh_bias: add ``b_hh`` to the input projection (RNN, LSTM); the GRU keeps it inside the reset product.
        lengths: ``(B,)`` valid steps per sequence, or None.
        dropout: dropout on the outputs of every layer but the last, when ``training``.
        record: also return a :class:`Trace`.
    Returns:
        ``(output (T, B, D*H), final states each (L*D, B, H), trace or None)``.
    """
    mask = None
    if lengths is not None:
        steps = torch.arange(x.shape[0], device=x.device)  # (T,)
        mask = (steps[:, None] < lengths.to(x.device)[None, :]).unsqueeze(-1)  # (T, B, 1)
    trace = Trace(cell, num_layers, num_directions, lengths) if record else None
    finals: list[State] = []
    layer_input = x  # (T, B, I) then (T, B, D*H)
    for layer in range(num_layers):
        outs = []
        for direction in range(num_directions):
            index = layer * num_directions + direction
            w_ih, w_hh, b_ih, b_hh = weights[index]
            if fold_hh_bias and b_ih is not None:
                x_proj = rf.input_projection(layer_input, w_ih, b_ih + b_hh)  # (T, B, G*H)
                b_step = None
            else:
                x_proj = rf.input_projection(layer_input, w_ih, b_ih)  # (T, B, G*H)
                b_step = b_hh
            state0 = tuple(s[index] for s in initial)  # each (B, H)
            out, state, recorded = run_direction(
                step,
                x_proj,
                state0,
                w_hh,
                b_step,
                mask=mask,
                reverse=direction == 1,
                record=record,
                batch_weight_grad=fold_hh_bias,
            )
            outs.append(out)
            finals.append(state)
            if trace is not None:
                trace.hidden_steps[layer, direction] = recorded.pop("h_steps")
                trace.steps[layer, direction] = recorded
        layer_input = outs[0] if num_directions == 1 else torch.cat(outs, dim=-1)  # (T, B, D*H)
        if dropout > 0 and training and layer < num_layers - 1:
            layer_input = F.dropout(layer_input, p=dropout, training=True)
    final = tuple(torch.stack([s[k] for s in finals]) for k in range(len(initial)))  # each (L*D, B, H)
    return layer_input, final, trace
