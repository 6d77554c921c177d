"""A Keras-like model summary (layer, output shape, parameters) and parameter counts in torch's and Keras' conventions.

torch (and cuDNN) keep two bias vectors per gate block, ``b_ih`` and ``b_hh``; Keras' ``SimpleRNN`` and ``LSTM`` keep
one. So ``SimpleRNN(10)`` on 1 input feature has 120 parameters in Keras and ``RNN(1, 10)`` has 130 here. Keras'
``GRU`` (with ``reset_after=True``, its default) keeps two, like torch, so GRU counts agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.nn.cells import GRUCell, _CellBase
from rnnlab.nn.layers import GRU, _RecurrentLayer

_CONVENTIONS = ("torch", "keras")


def count_parameters(model: nn.Module, *, convention: str = "torch", trainable_only: bool = False) -> int:
    """Number of parameters; ``convention="keras"`` leaves out the second bias of RNN and LSTM blocks, as Keras does."""
    if convention not in _CONVENTIONS:
        raise ValueError(f"convention must be 'torch' or 'keras', got {convention!r}")
    total = sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
    if convention == "keras":
        total -= sum(_second_bias_size(m) for m in model.modules())
    return total


def _second_bias_size(module: nn.Module) -> int:
    """Parameters in the ``bias_hh`` vectors that Keras would not have (none for a GRU)."""
    if isinstance(module, (GRU, GRUCell)) or not isinstance(module, (_RecurrentLayer, _CellBase)):
        return 0
    return sum(p.numel() for name, p in module.named_parameters(recurse=False) if name.startswith("bias_hh"))


def _symbolic_shape(module: nn.Module) -> str:
    """The output shape of a known module without running it, batch and time as letters."""
    if isinstance(module, _RecurrentLayer):
        features = module.hidden_size * module.num_directions
        return f"(B, T, {features})" if module.batch_first else f"(T, B, {features})"
    if isinstance(module, _CellBase):
        return f"(B, {module.hidden_size})"
    if isinstance(module, nn.Linear):
        return f"(..., {module.out_features})"
    if isinstance(module, nn.Embedding):
        return f"(..., {module.embedding_dim})"
    return "?"


def _shape_of(output: Any) -> str:
    first = output[0] if isinstance(output, (tuple, list)) else output
    if isinstance(first, nn.utils.rnn.PackedSequence):
        return f"packed {tuple(first.data.shape)}"
    return str(tuple(first.shape)) if isinstance(first, Tensor) else "?"


def summary(
    model: nn.Module, example_input: Any = None, *, print_fn: Callable[[str], None] | None = print
) -> str | None:
    """Print a table of the model's layers, their output shapes and parameter counts (as Keras' ``summary`` does;
    with ``print_fn=None`` return the text instead).

    Args:
        model: any ``nn.Module``; rows are the modules that own parameters directly.
        example_input: optional input (or tuple of inputs); when given, one forward pass records the real shapes.
        print_fn: where to print; None to return the text and print nothing.
    """
    rows = [(name or type(model).__name__, m) for name, m in model.named_modules() if _owns_parameters(m)]
    shapes = {id(m): _symbolic_shape(m) for _, m in rows}
    if example_input is not None:
        hooks = [m.register_forward_hook(_recorder(shapes)) for _, m in rows]
        try:
            with torch.no_grad():
                model(*example_input) if isinstance(example_input, tuple) else model(example_input)
        finally:
            for hook in hooks:
                hook.remove()
    table = [("Layer (type)", "Output Shape", "Param #")]
    for name, module in rows:
        own = sum(p.numel() for p in module.parameters(recurse=False))
        table.append((f"{name} ({type(module).__name__})", shapes[id(module)], f"{own:,}"))
    widths = [max(len(r[i]) for r in table) + 2 for i in range(3)]
    line = "-" * sum(widths)

    def fmt(r):
        return r[0].ljust(widths[0]) + r[1].ljust(widths[1]) + r[2].rjust(widths[2])

    total = count_parameters(model)
    trainable = count_parameters(model, trainable_only=True)
    keras = count_parameters(model, convention="keras")
    lines = [f'Model: "{type(model).__name__}"', line, fmt(table[0]), "=" * sum(widths)]
    lines += [fmt(r) for r in table[1:]]
    lines += [
        "=" * sum(widths),
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        line,
    ]
    if any(name.startswith("bias_hh") for name, _ in model.named_parameters()):
        lines.append("Counted as torch counts them: two bias vectors (b_ih, b_hh) per gate block.")
    if keras != total:
        lines.append(f"Keras keeps one bias in SimpleRNN and LSTM: {keras:,} params there.")
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text if print_fn is None else None


def _owns_parameters(module: nn.Module) -> bool:
    return any(True for _ in module.parameters(recurse=False))


def _recorder(shapes: dict[int, str]):
    def hook(module: nn.Module, args: Any, output: Any) -> None:
        shapes[id(module)] = _shape_of(output)

    return hook
