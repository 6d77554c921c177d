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
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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
    from rnnlab.checkpoint import atomic_write_bytes

    atomic_write_bytes(path, figure_png(fig))


def _time_labels(ax, labels: Sequence[str] | None, steps: int) -> None:
    """The input sequence along the time axis: characters for text, values for series."""
    if labels is None:
        return
    every = max(1, steps // 60)
    ticks = list(range(0, steps, every))
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(labels[t]) for t in ticks], fontsize=7, rotation=90 if every > 1 or steps > 40 else 0)


def gate_heatmaps(
    gates: dict[str, np.ndarray], *, labels: Sequence[str] | None = None, units: int = 32, title: str = "gates"
):
    """One heatmap per gate, unit × time, for one sequence.

    Args:
        gates: name → ``(T, H)`` activations of one sequence (e.g. ``trace[0, 0]["f"][b]``).
        labels: the input at each step, shown along the time axis.
        units: show at most this many units (the first ones).
    """
    if not gates:
        raise ValueError("no gates to plot (an Elman RNN has none: plot its hidden states instead)")
    plt = _pyplot()
    names = list(gates)
    steps = next(iter(gates.values())).shape[0]
    size = (min(16, 4 + steps * 0.12), 1.6 + 1.5 * len(names))
    fig, axes = plt.subplots(len(names), 1, figsize=size, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        values = np.asarray(gates[name])[:, :units].T  # (units, T)
        bounded = name in ("i", "f", "o", "r", "z")  # sigmoid gates live in [0, 1]
        limit = 1.0 if bounded else float(np.abs(values).max()) or 1.0
        image = ax.imshow(values, aspect="auto", interpolation="nearest", cmap="viridis" if bounded else "RdBu_r",
                          vmin=0.0 if bounded else -limit, vmax=limit)  # fmt: skip
        ax.set_ylabel(f"{name}\nunit")
        fig.colorbar(image, ax=ax, pad=0.01)
        _time_labels(ax, labels, steps)
    axes[0, 0].set_title(title)
    axes[-1, 0].set_xlabel("time step")
    fig.tight_layout()
    return fig


def hidden_states(hidden: np.ndarray, *, labels: Sequence[str] | None = None, units: int = 8, title: str = "h_t"):
    """The evolution of a few hidden units over time for one sequence; ``hidden`` is ``(T, H)``."""
    plt = _pyplot()
    hidden = np.asarray(hidden)
    busiest = np.argsort(-hidden.std(axis=0))[:units]  # the units that move most
    fig, ax = plt.subplots(figsize=(min(16, 4 + hidden.shape[0] * 0.12), 3.6))
    for unit in busiest:
        ax.plot(hidden[:, unit], linewidth=1.2, label=f"unit {unit}")
    ax.set_title(title)
    ax.set_xlabel("time step")
    ax.set_ylabel("h")
    ax.legend(fontsize="x-small", ncol=4, loc="upper left")
    _time_labels(ax, labels, hidden.shape[0])
    fig.tight_layout()
    return fig


def gradient_flow_plot(curves: dict[str, np.ndarray], *, title: str = "gradient flow through time"):
    """‖∂L/∂h_t‖ against t on a log scale, one line per cell (the loss is at the last step)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, norms in curves.items():
        norms = np.asarray(norms, dtype=float)
        ax.semilogy(np.arange(1, len(norms) + 1), np.where(norms > 0, norms, np.nan), label=name, linewidth=1.6)
    ax.set_xlabel("time step t (the loss is at the last step)")
    ax.set_ylabel("‖∂L/∂h_t‖")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def attention_heatmap(weights: np.ndarray, source: Sequence[str], target: Sequence[str], *, title: str = "attention"):
    """Attention weights ``(target steps, source steps)``: which source token each output token looked at."""
    plt = _pyplot()
    weights = np.asarray(weights)
    fig, ax = plt.subplots(figsize=(1.5 + 0.4 * len(source), 1.2 + 0.35 * len(target)))
    ax.imshow(weights, aspect="auto", cmap="Greys", vmin=0, vmax=max(weights.max(), 1e-9))
    _label_grid(ax, source, target, "source", "output", rotation=60)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _label_grid(ax, columns: Sequence[str], rows: Sequence[str], x_name: str, y_name: str, *, rotation: int) -> None:
    """Name every column and row of a matrix plot."""
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels(columns, rotation=rotation, ha="right")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows)
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)


def figure_png(fig) -> bytes:
    """A figure as PNG bytes (and closed)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    _pyplot().close(fig)
    return buffer.getvalue()


def confusion_plot(matrix: np.ndarray, classes: Sequence[str], *, title: str = "confusion matrix"):
    """Counts ``(C, C)``, rows the true class, columns the predicted one."""
    plt = _pyplot()
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(2.2 + 0.7 * len(classes), 1.8 + 0.6 * len(classes)))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
    _label_grid(ax, classes, classes, "predicted", "true", rotation=45)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def prefix_plot(words: Sequence[str], probabilities: np.ndarray, classes: Sequence[str]):
    """The probability of each class after each word: how the prediction evolves along the sentence."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(min(14, 2 + 0.45 * len(words)), 3))
    for k, name in enumerate(classes):
        ax.plot(np.asarray(probabilities)[:, k], marker="o", label=name)
    ax.set_xticks(range(len(words)))
    ax.set_xticklabels(words, rotation=60, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def anomaly_plot(values: np.ndarray, smoothed: np.ndarray, threshold: np.ndarray, flags: np.ndarray,
                 labels: np.ndarray | None, normal_end: int, *, title: str = "anomalies"):  # fmt: skip
    """Two panels over the steps: the series with the flagged runs (red) and the labelled anomalies (green), and the
    smoothed score against its threshold; the normal part the detector learnt from is shaded grey."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    steps = np.arange(len(values))
    top.plot(steps, values, lw=0.6, color="#333")
    for ax in (top, bottom):
        ax.axvspan(0, normal_end, color="#ddd", alpha=0.5, lw=0)
    for mask, color in ((labels, "tab:green"), (flags, "tab:red")):
        if mask is None:
            continue
        padded = np.concatenate([[0], np.asarray(mask, dtype=int) != 0, [0]]).astype(int)
        edges = np.flatnonzero(np.diff(padded))
        for start, end in zip(edges[::2], edges[1::2]):
            top.axvspan(start - 0.5, end - 0.5, color=color, alpha=0.3, lw=0)
    bottom.plot(steps, smoothed, lw=0.6, label="score (smoothed)")
    bottom.plot(steps, threshold, lw=0.8, color="tab:red", label="threshold")
    bottom.set_yscale("symlog")
    bottom.legend(loc="upper left", fontsize=8)
    top.set_title(f"{title}: red = flagged, green = labelled, grey = normal part learnt from", fontsize=10)
    bottom.set_xlabel("step")
    fig.tight_layout()
    return fig
