"""Statistical baselines evaluated on the same forecast origins as the networks.

- naive: every future value is the last observed one;
- seasonal naive (period m): the value one season earlier, ``ŷ_{o+h} = y_{o+h-m}`` (repeating the last season);
- ETS (statsmodels' Holt-Winters ``ExponentialSmoothing``): additive damped trend and, when a period fits twice
  into the history, additive seasonality, i.e. ETS(A,Ad,A). Its parameters are estimated once on the data before
  the first origin; at each origin the model is re-run over all data before that origin with those parameters.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

Forecast = Callable[[np.ndarray, int], np.ndarray]  # (history (N,), horizon) -> (horizon,)


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(history[-1], horizon)


def seasonal_naive(period: int) -> Forecast:
    def forecast(history: np.ndarray, horizon: int) -> np.ndarray:
        season = history[-period:]
        return np.resize(season, horizon) if horizon > period else season[:horizon].copy()

    return forecast


class ETS:
    """ETS(A,Ad,A) (or ETS(A,Ad,N) without a usable period), fitted once, re-run at every origin."""

    def __init__(self, period: int | None) -> None:
        self.period = period
        self.params: dict[str, float] | None = None

    def name(self) -> str:
        return f"ETS(A,Ad,A) m={self.period}" if self.period else "ETS(A,Ad,N)"

    def _model(self, history: np.ndarray):
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        seasonal = self.period if self.period and len(history) >= 2 * self.period else None
        return ExponentialSmoothing(
            history,
            trend="add",
            damped_trend=True,
            seasonal="add" if seasonal else None,
            seasonal_periods=seasonal,
            initialization_method="heuristic" if seasonal else "estimated",
        )

    def fit(self, history: np.ndarray) -> ETS:
        if self.period and len(history) < 2 * self.period:
            self.period = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = self._model(history).fit()
        keys = ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")
        self.params = {k: float(fitted.params[k]) for k in keys if fitted.params.get(k) is not None}
        return self

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray:
        if self.params is None:
            self.fit(history)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = self._model(history).fit(**self.params, optimized=False)
        return np.asarray(result.forecast(horizon))
