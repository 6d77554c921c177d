r"""Forecast accuracy: MAE and RMSE (statsmodels' ``eval_measures``), sMAPE and MASE.

.. math::
    \mathrm{sMAPE} = \frac{100}{n}\sum_t \frac{2\,|y_t - \hat y_t|}{|y_t| + |\hat y_t|},\qquad
    \mathrm{MASE} = \frac{\mathrm{MAE}}{\frac{1}{N-m}\sum_{t>m} |y_t - y_{t-m}|}

The MASE scale is the in-sample MAE of the seasonal-naive forecast (period ``m``) on the training part, as in the M4
competition; below 1 means better than that naive forecast was in-sample.
"""

from __future__ import annotations

import numpy as np
from statsmodels.tools import eval_measures


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(eval_measures.meanabs(np.ravel(actual), np.ravel(predicted)))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(eval_measures.rmse(np.ravel(actual), np.ravel(predicted)))


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """sMAPE in percent as the M3 and M4 tables define it: ``200/h Σ |y - ŷ| / (|y| + |ŷ|)``."""
    actual, predicted = np.ravel(actual), np.ravel(predicted)
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2 * np.abs(actual - predicted), denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    return float(100 * ratio.mean())


def mase_scale(train: np.ndarray, period: int) -> float:
    """In-sample MAE of the seasonal-naive forecast of period ``period`` (1: naive) on ``train`` ``(N,)``; NaN when
    the training part is constant (no scale: MASE is not defined, and the tables say so rather than pick one)."""
    train = np.ravel(train)
    if len(train) <= period:
        raise ValueError(f"MASE needs more than {period} training points, got {len(train)}")
    scale = float(np.mean(np.abs(train[period:] - train[:-period])))
    if scale <= 1e-9 * (float(np.mean(np.abs(train))) + 1e-12):  # an exactly periodic series: fall back to naive
        scale = float(np.mean(np.abs(np.diff(train)))) if period != 1 else 0.0
    return scale if scale > 0 else float("nan")  # a constant training part: MASE is not defined


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray, scale: float) -> dict[str, float]:
    """MAE, RMSE, sMAPE and MASE of a set of forecasts against the truth (any matching shapes)."""
    error = mae(actual, predicted)
    return {"mase": error / scale, "mae": error, "rmse": rmse(actual, predicted), "smape": smape(actual, predicted)}


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """MAPE in percent, as the Tourism competition scores: ``100/h Σ |y - ŷ| / |y|``."""
    actual, predicted = np.ravel(actual), np.ravel(predicted)
    return float(100 * np.mean(np.abs(actual - predicted) / np.abs(actual)))


def owa(smape_model: float, mase_model: float, smape_naive2: float, mase_naive2: float) -> float:
    """The M4 competition's overall weighted average: the mean of sMAPE and MASE, each relative to Naive2's."""
    return 0.5 * (smape_model / smape_naive2 + mase_model / mase_naive2)
