"""Plots as pure functions: take data, return a matplotlib Figure (never ``show()``); matplotlib is imported lazily."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def training_curves(history: Sequence[dict[str, Any]], *, title: str = "training"):
    """Train and validation loss per epoch (and any other validation metric on a second panel)."""
    plt = _pyplot()
    epochs = [h["epoch"] for h in history]
    extra = [k for k in history[0] if k.startswith("val_") and k != "val_loss"] if history else []
    fig, axes = plt.subplots(1, 2 if extra else 1, figsize=(10 if extra else 6, 3.6), squeeze=False)
    ax = axes[0, 0]
    ax.plot(epochs, [h["train_loss"] for h in history], label="train loss")
    ax.plot(epochs, [h["val_loss"] for h in history], label="validation loss")
    best = min(history, key=lambda h: h["val_loss"]) if history else None
    if best:
        ax.axvline(best["epoch"], color="grey", linestyle=":", label=f"best (epoch {best['epoch']})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    if extra:
        for key in extra:
            axes[0, 1].plot(epochs, [h[key] for h in history], label=key.replace("_", " "))
        axes[0, 1].set_xlabel("epoch")
        axes[0, 1].legend()
    fig.tight_layout()
    return fig


def forecast_plot(
    x: np.ndarray,
    history: np.ndarray,
    forecasts: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    truth: tuple[np.ndarray, np.ndarray] | None = None,
    title: str = "forecast",
    ylabel: str = "",
):
    """History, truth and one or more forecasts. ``forecasts`` maps a label to ``(x, values)``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 3.8))
    ax.plot(x, history, color="black", linewidth=1, label="history")
    if truth is not None:
        ax.plot(*truth, color="black", linewidth=1, linestyle="--", label="truth")
    for label, (fx, values) in forecasts.items():
        ax.plot(fx, values, linewidth=1.5, label=label)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", fontsize="small")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def save_figure(fig, path) -> None:
    """Write a figure as PNG atomically and close it."""
    import io

    from rnnlab.checkpoint import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    _pyplot().close(fig)
    atomic_write_bytes(path, buffer.getvalue())
