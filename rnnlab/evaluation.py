"""Rolling-origin evaluation of a forecaster beside the statistical baselines, on the same origins.

From each origin ``o`` (every ``stride`` steps through the test span) every method forecasts the next ``horizon``
values using only the data before ``o``. Errors are pooled over all origins and steps; the MASE scale is the in-sample
MAE of the seasonal naive of period ``mase_period`` on the training part (per target, then averaged).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rnnlab.baselines import ETS, naive, seasonal_naive
from rnnlab.metrics import forecast_metrics, mase_scale


@dataclass
class Row:
    name: str  # the model or baseline
    metrics: dict[str, float]  # mase, mae, rmse, smape
    params: int | None = None  # trainable parameters (networks)
    seconds: float | None = None  # training time (networks) or forecasting time (baselines)


def rolling_origins(length: int, test_start: int, horizon: int, stride: int) -> np.ndarray:
    return np.arange(test_start, length - horizon + 1, stride, dtype=np.int64)


def score(truth: np.ndarray, forecasts: np.ndarray, origins: np.ndarray, scales: np.ndarray) -> dict[str, float]:
    """Metrics of ``forecasts`` ``(O, H, K)`` against ``truth`` ``(N, K)``, averaged over the K targets."""
    horizon = forecasts.shape[1]
    actual = truth[origins[:, None] + np.arange(horizon)[None, :]]  # (O, H, K)
    per_target = [forecast_metrics(actual[..., k], forecasts[..., k], scales[k]) for k in range(truth.shape[1])]
    return {key: float(np.mean([m[key] for m in per_target])) for key in per_target[0]}


def baseline_rows(
    truth: np.ndarray, origins: np.ndarray, horizon: int, cycles: tuple[int, ...], scales: np.ndarray
) -> list[Row]:
    """Naive, seasonal naive for each cycle, and ETS (seasonal with the longest cycle that fits) on ``origins``."""
    methods: list[tuple[str, object]] = [("naive", lambda h, n: naive(h, n))]
    methods += [(f"seasonal naive m={m}", seasonal_naive(m)) for m in cycles]
    usable = [m for m in cycles if 2 * m <= origins.min()]
    ets_period = max(usable) if usable else None
    rows = []
    for name, method in [*methods, ("ets", None)]:
        start = time.perf_counter()
        forecasts = np.zeros((len(origins), horizon, truth.shape[1]))
        for k in range(truth.shape[1]):
            if name == "ets":
                method = ETS(ets_period).fit(truth[: origins.min(), k])
                name = method.name()
            for i, o in enumerate(origins):
                forecasts[i, :, k] = method(truth[:o, k], horizon)
        rows.append(Row(name, score(truth, forecasts, origins, scales), seconds=time.perf_counter() - start))
    return rows


def mase_scales(truth: np.ndarray, train_end: int, period: int) -> np.ndarray:
    return np.array([mase_scale(truth[:train_end, k], period) for k in range(truth.shape[1])])


def format_table(rows: list[Row], title: str) -> str:
    """A plain-text table, best MASE first, with the networks' parameters and times."""
    header = f"{'model':<28}{'MASE':>8}{'MAE':>12}{'RMSE':>12}{'sMAPE %':>9}{'params':>9}{'time s':>9}"
    lines = [title, header, "-" * len(header)]
    for row in sorted(rows, key=lambda r: r.metrics["mase"]):
        m = row.metrics
        params = f"{row.params:,}" if row.params is not None else ""
        seconds = f"{row.seconds:.1f}" if row.seconds is not None else ""
        lines.append(
            f"{row.name:<28}{m['mase']:>8.3f}{m['mae']:>12.4g}{m['rmse']:>12.4g}{m['smape']:>9.2f}{params:>9}{seconds:>9}"
        )
    return "\n".join(lines)


def evaluate_forecaster(
    forecaster,
    data,
    *,
    name: str,
    val_size: int,
    test_size: int,
    stride: int,
    mase_period: int,
    cycles: tuple[int, ...],
) -> tuple[Row, list[Row], np.ndarray, np.ndarray]:
    """The forecaster and the baselines on the rolling origins of the last ``test_size`` points of ``data``.

    Returns ``(model row, baseline rows, forecasts (O, H, K), origins)``.
    """
    truth = data.series.targets  # (N, K)
    horizon = forecaster.config.horizon
    test_start = len(truth) - test_size
    origins = rolling_origins(len(truth), test_start, horizon, stride)
    if len(origins) == 0:
        raise ValueError(f"the test span of {test_size} points is shorter than the horizon {horizon}")
    scales = mase_scales(truth, test_start - val_size, mase_period)
    start = time.perf_counter()
    forecasts = forecaster.forecast_at(data, origins)
    params = sum(p.numel() for p in forecaster.net.parameters())
    model_row = Row(name, score(truth, forecasts, origins, scales), params, time.perf_counter() - start)
    return model_row, baseline_rows(truth, origins, horizon, cycles, scales), forecasts, origins
