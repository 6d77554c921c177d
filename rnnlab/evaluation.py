"""Rolling-origin evaluation of a forecaster beside the statistical baselines, on the same origins.

From each origin ``o`` (every ``stride`` steps through the test span) every method forecasts the next ``horizon``
values using only the data before ``o``. Errors are pooled over all origins and steps; the MASE scale is the in-sample
MAE of the seasonal naive of period ``mase_period`` on the training part (per target, then averaged).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rnnlab.baselines import ETS, naive, seasonal_naive, theta
from rnnlab.metrics import forecast_metrics, mase_scale


@dataclass
class Row:
    name: str  # the model or baseline
    metrics: dict[str, float]  # mase, mae, rmse, smape
    params: int | None = None  # trainable parameters (networks)
    seconds: float | None = None  # training time (networks) or forecasting time (baselines)


def rolling_origins(length: int, test_start: int, horizon: int, stride: int) -> np.ndarray:
    """Origins every ``stride`` steps from ``test_start``, the last one's horizon ending at the end of the data."""
    return np.arange(test_start, length - horizon + 1, stride, dtype=np.int64)


def default_stride(span: int, horizon: int) -> int:
    """Steps between origins so that a span of ``span`` points gives about 12 origins (never more than the
    horizon apart, never less than 1)."""
    return max(1, min(horizon, (span - horizon) // 11))


def score(
    truth: np.ndarray,
    forecasts: np.ndarray,
    origins: np.ndarray,
    scales: np.ndarray,
    observed: np.ndarray | None = None,
) -> dict[str, float]:
    """Metrics of ``forecasts`` ``(O, H, K)`` against ``truth`` ``(N, K)``, averaged over the K targets; with
    ``observed`` ``(N, K)``, only the values that were in the data (not filled) count."""
    horizon = forecasts.shape[1]
    index = origins[:, None] + np.arange(horizon)[None, :]  # (O, H)
    actual = truth[index]  # (O, H, K)
    keep = observed[index] if observed is not None else np.ones(actual.shape, dtype=bool)
    per_target = [
        forecast_metrics(actual[..., k][keep[..., k]], forecasts[..., k][keep[..., k]], scales[k])
        for k in range(truth.shape[1])
        if keep[..., k].any()
    ]
    if not per_target:
        return {"mase": float("nan"), "mae": float("nan"), "rmse": float("nan"), "smape": float("nan")}
    return {key: float(np.mean([m[key] for m in per_target])) for key in per_target[0]}


def baseline_forecasts(
    truth: np.ndarray, origins: np.ndarray, horizon: int, cycles: tuple[int, ...], *, fit_end: int | None = None
) -> dict[str, np.ndarray]:
    """Forecasts ``(O, H, K)`` of the naive, the seasonal naive of each cycle, ETS (seasonal with the longest cycle
    that fits twice, fitted once on the data before ``fit_end``, default the first origin) and Theta."""
    fit_end = int(origins.min()) if fit_end is None else fit_end
    periods = sorted({round(m) for m in cycles if round(m) > 1})
    usable = [m for m in periods if 2 * m <= fit_end]
    main = max(usable) if usable else None
    methods: list[tuple[str, object]] = [("naive", naive)]
    methods += [(f"seasonal naive m={m}", seasonal_naive(m)) for m in periods]
    methods += [("theta", theta(main))]
    out = {}
    for name, method in methods:
        out[name] = np.stack(
            [np.stack([method(truth[:o, k], horizon) for o in origins]) for k in range(truth.shape[1])], axis=-1
        )
    ets = [ETS(main).fit(truth[:fit_end, k]) for k in range(truth.shape[1])]
    out[ets[0].name()] = np.stack([e.forecasts_at(truth[:, k], origins, horizon) for k, e in enumerate(ets)], -1)
    out[f"Theta m={main}" if main else "Theta"] = out.pop("theta")
    return out


def baseline_rows(
    truth: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    cycles: tuple[int, ...],
    scales: np.ndarray,
    observed: np.ndarray | None = None,
) -> list[Row]:
    """Naive, seasonal naive for each cycle, ETS and Theta on ``origins``, scored."""
    rows = []
    start = time.perf_counter()
    for name, forecasts in baseline_forecasts(truth, origins, horizon, cycles).items():
        rows.append(Row(name, score(truth, forecasts, origins, scales, observed)))
    seconds = (time.perf_counter() - start) / max(len(rows), 1)
    for row in rows:
        row.seconds = seconds
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
    observed = data.series.observed
    start = time.perf_counter()
    forecasts = forecaster.forecast_at(data, origins)
    params = sum(p.numel() for net in forecaster.nets for p in net.parameters())
    model_row = Row(name, score(truth, forecasts, origins, scales, observed), params, time.perf_counter() - start)
    return model_row, baseline_rows(truth, origins, horizon, cycles, scales, observed), forecasts, origins
