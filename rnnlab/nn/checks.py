"""Argument checks shared by the cells and layers: each raises ``ValueError`` quoting the bad value."""

from __future__ import annotations

from torch import Tensor

CELL_TYPES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
IMPLS = ("auto", "fused", "loop", "torch")


def positive_int(name: str, value: object) -> int:
    """``value`` as an int ≥ 1, or a ``ValueError`` that quotes it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def in_unit_interval(name: str, value: object, requirement: str = "in [0, 1)") -> float:
    """``value`` as a float in [0, 1), or a ``ValueError`` that quotes it (NaN fails the comparison: refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 <= value < 1.0):
        raise ValueError(f"{name} must be {requirement}, got {value!r}")
    return float(value)


def dropout_probability(value: object) -> float:
    """``value`` as a float in [0, 1), or a ``ValueError`` that quotes it."""
    return in_unit_interval("dropout", value, "a probability in [0, 1)")


def one_of(name: str, value: object, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a ``ValueError`` listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}")
    return value  # type: ignore[return-value]


def feature_size(x: Tensor, expected: int, owner: str) -> None:
    """The last dimension of ``x`` must be ``expected`` (the module's ``input_size``)."""
    if x.shape[-1] != expected:
        raise ValueError(
            f"input has {x.shape[-1]} features (shape {tuple(x.shape)}) but this {owner} expects input_size={expected}"
        )


def state_shape(name: str, state: Tensor, expected: tuple[int, ...], owner: str) -> None:
    """An initial state must have exactly the shape torch would expect."""
    if tuple(state.shape) != expected:
        raise ValueError(f"{name} has shape {tuple(state.shape)} but this {owner} expects {expected}")
