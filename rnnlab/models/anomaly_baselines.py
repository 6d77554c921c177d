r"""The baselines an anomaly detector must beat, as raw scores ``(N,)`` (higher = more anomalous), all causal.

- **rolling z-score**: :math:`|x_t - \bar x_{t-w:t}| / s_{t-w:t}` over the previous ``w`` points (pandas' rolling);
- **seasonal-naive residual z-score**: :math:`r_t = x_t - x_{t-m}`, scored :math:`|r_t - \mu_r| / \sigma_r` with
  :math:`\mu_r, \sigma_r` from the normal part (``m = 1`` when the series has no period);
- **IsolationForest on windows** (scikit-learn): the window of ``w`` values ending at ``t``, minus its last-but-one
  value (so level does not matter, shape does), fitted on the normal part; the score is ``-score_samples``.

Each is followed by the same smoothing and threshold as the networks (:mod:`rnnlab.models.thresholds`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BASELINES = ("rolling z-score", "seasonal-naive z-score", "isolation forest")


def rolling_z(values: np.ndarray, window: int) -> np.ndarray:
    series = pd.Series(np.asarray(values, dtype=np.float64))
    past = series.shift(1).rolling(window, min_periods=max(2, window // 4))
    deviation = past.std().to_numpy()
    z = np.abs(series.to_numpy() - past.mean().to_numpy()) / np.where(deviation > 0, deviation, np.nan)
    return np.nan_to_num(z, nan=0.0)


def seasonal_z(values: np.ndarray, period: int, normal_end: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    m = period if 1 < period < normal_end // 2 else 1
    residual = np.zeros(len(values))
    residual[m:] = values[m:] - values[:-m]
    normal = residual[m:normal_end]
    sd = float(normal.std()) or 1.0
    z = np.abs(residual - normal.mean()) / sd
    z[:m] = 0.0
    return z


def window_rows(values: np.ndarray, window: int) -> np.ndarray:
    """Row ``t`` holds ``x_{t-w+1..t}`` minus ``x_{t-1}`` ``(N, w)``; the first rows repeat the first value."""
    values = np.asarray(values, dtype=np.float64)
    padded = np.concatenate([np.full(window, values[0]), values])
    rows = np.lib.stride_tricks.sliding_window_view(padded, window)[1:]  # (N, w) ending at t
    return rows - rows[:, -2:-1]


def isolation_forest(values: np.ndarray, window: int, fit_end: int, seed: int = 0) -> np.ndarray:
    from sklearn.ensemble import IsolationForest

    rows = window_rows(values, window)
    scale = float(np.std(np.diff(values[:fit_end]))) or 1.0
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(rows[window:fit_end] / scale)
    scores = -forest.score_samples(rows / scale)
    scores[:window] = np.median(scores[window:fit_end])
    return scores


def baseline_scores(name: str, values: np.ndarray, *, period: int, fit_end: int, normal_end: int) -> np.ndarray:
    """One baseline's raw scores; windows are one period long (16 points without a period)."""
    window = int(np.clip(period, 8, 64)) if period > 1 else 16
    if name == "rolling z-score":
        return rolling_z(values, window)
    if name == "seasonal-naive z-score":
        return seasonal_z(values, period, normal_end)
    if name == "isolation forest":
        return isolation_forest(values, window, fit_end)
    raise ValueError(f"no baseline {name!r}; baselines: {', '.join(BASELINES)}")
