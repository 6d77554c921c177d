"""Traces of any model built from rnnlab layers: gates and hidden states per layer, direction and step, and the
gradient flowing back through time.

``record(model)`` makes every rnnlab RNN/LSTM/GRU inside ``model`` run its step loop and keep a
:class:`~rnnlab.nn.loop.Trace` for as long as the block lasts, without touching the model's ``forward``::

    with record(model) as traces:
        model(x)
    traces[0].trace[0, 0]["f"]       # forget gate of the first recurrent layer: (B, T, H)

``gradient_flow`` measures ``‖∂L/∂h_t‖`` for every step ``t`` of a loss taken at the last step: in a plain RNN it
shrinks geometrically going back in time (the vanishing gradient), in an LSTM the cell state carries it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.nn.layers import GRU, LSTM, RNN, _RecurrentLayer
from rnnlab.nn.loop import Trace


@dataclass
class LayerTrace:
    name: str  # the layer's path in the model, e.g. "rnn"
    layer: _RecurrentLayer
    trace: Trace  # trace[layer, direction][gate] → (B, T, H)


@contextmanager
def record(model: nn.Module) -> Iterator[list[LayerTrace]]:
    """Within the block, every rnnlab recurrent layer of ``model`` runs the step loop and appends its trace."""
    layers = [(name or type(m).__name__, m) for name, m in model.named_modules() if isinstance(m, _RecurrentLayer)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no rnnlab RNN/LSTM/GRU layer to trace")
    traces: list[LayerTrace] = []
    for name, layer in layers:
        layer.__dict__["_recorder"] = lambda lay, trace, x, name=name: traces.append(LayerTrace(name, lay, trace))
    try:
        yield traces
    finally:
        for _, layer in layers:
            layer.__dict__.pop("_recorder", None)


def trace_model(model: nn.Module, *inputs: Any, **kwargs: Any) -> list[LayerTrace]:
    """Run ``model(*inputs, **kwargs)`` once without gradients and return the trace of each recurrent layer."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), record(model) as traces:
            model(*inputs, **kwargs)
    finally:
        model.train(was_training)
    return traces


def gradient_flow(
    model: nn.Module, *inputs: Any, loss: Callable[[Any], Tensor] | None = None
) -> dict[tuple[str, int, int], np.ndarray]:
    """``‖∂L/∂h_t‖`` (mean over the batch) for every step, per recurrent layer, stacked layer and direction.

    Args:
        model: a model containing rnnlab layers (or one layer).
        inputs: its inputs.
        loss: from the model's output to a scalar; default: the sum of the last step of the first output, which for
            a layer is ``h_T`` of the top layer (batch-first or time-major, as the layer is).
    Returns:
        ``{(layer name, stacked layer, direction): (T,) array}``.
    """
    with record(model) as traces:
        output = model(*inputs)
    if loss is None:
        first = output[0] if isinstance(output, (tuple, list)) else output
        layer = traces[-1].layer
        loss_value = (first[:, -1] if layer.batch_first else first[-1]).sum()
    else:
        loss_value = loss(output)
    keys, tensors = [], []
    for item in traces:
        for key, steps in item.trace.hidden_steps.items():
            keys.append((item.name, *key))
            tensors.append(steps)
    flat = [t for steps in tensors for t in steps]
    grads = torch.autograd.grad(loss_value, flat, allow_unused=True)
    result, at = {}, 0
    for key, steps in zip(keys, tensors):
        norms = [0.0 if g is None else g.norm(dim=-1).mean().item() for g in grads[at : at + len(steps)]]
        result[key] = np.array(norms)
        at += len(steps)
    return result


def vanishing_gradients(
    *, hidden_size: int = 64, steps: int = 100, batch: int = 32, input_size: int = 8, init: str = "torch", seed: int = 0
) -> dict[str, np.ndarray]:
    """``‖∂L/∂h_t‖`` of an untrained tanh RNN, LSTM and GRU on the same random input, in float64 (no underflow).

    ``init`` is ``"torch"`` (torch's default) or ``"keras"`` (orthogonal recurrent weights, forget bias 1).
    """
    from rnnlab.nn.init import keras_init_

    if init not in ("torch", "keras"):
        raise ValueError(f"init must be 'torch' or 'keras', got {init!r}")
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, steps, input_size, generator=generator, dtype=torch.float64)
    curves = {}
    for name, cls in (("rnn", RNN), ("lstm", LSTM), ("gru", GRU)):
        torch.manual_seed(seed)
        layer = cls(input_size, hidden_size, batch_first=True).double()
        if init == "keras":
            keras_init_(layer)
        curves[name] = next(iter(gradient_flow(layer, x).values()))
    return curves
