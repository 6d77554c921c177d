"""Statistical baselines evaluated on the same forecast origins as the networks.

- naive: every future value is the last observed one;
- seasonal naive (period m): the value one season earlier, ``ŷ_{o+h} = y_{o+h-m}`` (repeating the last season);
- ETS (statsmodels' Holt-Winters ``ExponentialSmoothing``): additive damped trend and, when a period fits twice
  into the history, additive seasonality, i.e. ETS(A,Ad,A). Its parameters (and initial states) are estimated once
  on the data before the first origin; the forecasts from every origin come from one pass of its filter over the
  data before that origin;
- Theta (statsmodels' ``ThetaModel``), the M3 competition's winner, refitted at each origin.
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
    r"""ETS(A,Ad,A) (or ETS(A,Ad,N) without a usable period): parameters fitted once by statsmodels' Holt-Winters,
    then run as a filter over any history, so the forecast from every origin costs one pass.

    The recursions are statsmodels' (``holt_win_add_add_dam``), with :math:`\ell_i, b_i` the state before ``y_i``:

    .. math::
        \ell_i = \alpha (y_{i-1} - s_{i-1}) + (1-\alpha)(\ell_{i-1} + \phi b_{i-1}),\quad
        b_i = \beta (\ell_i - \ell_{i-1}) + (1-\beta)\phi b_{i-1},\quad
        s_{i-1+m} = \gamma (y_{i-1} - \ell_{i-1} - \phi b_{i-1}) + (1-\gamma) s_{i-1}

    and the forecast of ``y_{o+h-1}`` from origin ``o`` is
    :math:`\ell_o + (\phi + \dots + \phi^h) b_o + s_{o + (h-1) \bmod m}` (Hyndman et al.'s equations; for
    the steps ``h`` that are multiples of ``m`` statsmodels' own ``forecast`` uses the season from before the last
    observation's update, so the two differ there and agree everywhere else; the tests check both).
    """

    def __init__(self, period: int | None) -> None:
        self.period = period
        self.params: dict[str, float] | None = None
        self.initial: dict[str, object] | None = None  # initial level, trend and seasons of the fitted model

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
        history = np.asarray(history, dtype=np.float64)
        if self.period and (self.period < 2 or len(history) < max(2 * self.period + 2, 10 + 2 * (self.period // 2))):
            self.period = None  # too short for a seasonal model (statsmodels' heuristic start needs this much)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = self._model(history).fit()
        keys = ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")
        self.params = {k: float(fitted.params[k]) for k in keys if fitted.params.get(k) is not None}
        seasons = np.asarray(fitted.params.get("initial_seasons", []), dtype=np.float64)
        self.initial = {"level": float(fitted.params["initial_level"]),
                        "trend": float(fitted.params["initial_trend"]), "seasons": seasons.tolist()}  # fmt: skip
        return self

    def to_dict(self) -> dict:
        return {"period": self.period, "params": self.params, "initial": self.initial}

    @classmethod
    def from_dict(cls, data: dict) -> ETS:
        ets = cls(data["period"])
        ets.params, ets.initial = data["params"], data["initial"]
        return ets

    def states(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the filter over ``y`` ``(N,)``: levels ``(N+1,)``, trends ``(N+1,)`` (index i: before ``y_i``) and
        seasons ``(N+m,)`` (index i: the season of ``y_i``; zeros without a period)."""
        if self.params is None:
            raise RuntimeError("fit the ETS model first")
        y = np.asarray(y, dtype=np.float64)
        n, m = len(y), self.period or 1
        alpha = self.params["smoothing_level"]
        beta = self.params.get("smoothing_trend", 0.0)
        gamma = self.params.get("smoothing_seasonal", 0.0) if self.period else 0.0
        phi = self.params.get("damping_trend", 1.0)
        level, trend, season = np.empty(n + 1), np.empty(n + 1), np.zeros(n + m)
        level[0], trend[0] = self.initial["level"], self.initial["trend"]
        if self.period:
            season[:m] = self.initial["seasons"]
        for i in range(1, n + 1):  # plain floats: a NumPy scalar per operation would be 5x slower
            previous, damped, s = level[i - 1], phi * trend[i - 1], season[i - 1]
            level[i] = alpha * (y[i - 1] - s) + (1 - alpha) * (previous + damped)
            trend[i] = beta * (level[i] - previous) + (1 - beta) * damped
            season[i - 1 + m] = gamma * (y[i - 1] - previous - damped) + (1 - gamma) * s if self.period else 0.0
        return level, trend, season

    def forecasts_at(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """Forecasts ``(O, horizon)`` from each origin ``o`` (using ``y[:o]`` only): one filter pass over ``y``."""
        origins = np.asarray(origins, dtype=np.int64)
        level, trend, season = self.states(np.asarray(y, dtype=np.float64)[: int(origins.max(initial=0))])
        phi = self.params.get("damping_trend", 1.0)
        damping = np.cumsum(phi ** np.arange(1, horizon + 1))  # (H,) φ + … + φ^h
        steps = np.arange(horizon) % (self.period or 1)  # (H,)
        return level[origins, None] + damping[None] * trend[origins, None] + season[origins[:, None] + steps[None]]

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray:
        if self.params is None:
            self.fit(history)
        return self.forecasts_at(history, np.array([len(history)]), horizon)[0]


def theta(period: int | None) -> Forecast:
    """The Theta method (Assimakopoulos & Nikolopoulos 2000; statsmodels' ``ThetaModel``), refitted at each origin,
    deseasonalised (multiplicatively) when the period fits twice and the series is positive."""

    def forecast(history: np.ndarray, horizon: int) -> np.ndarray:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        seasonal = bool(period and period > 1 and len(history) >= 2 * period)
        method = "multiplicative" if seasonal and history.min() > 0 else "additive"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ThetaModel(history, period=period if seasonal else 1, deseasonalize=seasonal, method=method)
            return np.asarray(model.fit().forecast(horizon))

    return forecast


class ETSState:
    """The state of a fitted :class:`ETS` after a history, advanced one value at a time (streaming, O(1) each)."""

    def __init__(self, model: ETS, history: np.ndarray) -> None:
        level, trend, season = model.states(history)
        n, m = len(history), model.period or 1
        self.model, self.m = model, m
        self.level, self.trend = float(level[n]), float(trend[n])
        self.seasons = list(season[n : n + m])  # the seasons of the next m values
        params = model.params or {}
        self.alpha, self.beta = params["smoothing_level"], params.get("smoothing_trend", 0.0)
        self.gamma = params.get("smoothing_seasonal", 0.0) if model.period else 0.0
        self.phi = params.get("damping_trend", 1.0)

    def one_step(self) -> float:
        """The forecast of the next value."""
        return self.level + self.phi * self.trend + self.seasons[0]

    def update(self, value: float) -> None:
        previous, damped, s = self.level, self.phi * self.trend, self.seasons.pop(0)
        self.level = self.alpha * (value - s) + (1 - self.alpha) * (previous + damped)
        self.trend = self.beta * (self.level - previous) + (1 - self.beta) * damped
        self.seasons.append(self.gamma * (value - previous - damped) + (1 - self.gamma) * s if self.model.period else 0)

    def forecast(self, horizon: int) -> np.ndarray:
        damping = np.cumsum(self.phi ** np.arange(1, horizon + 1))
        return self.level + damping * self.trend + np.asarray(self.seasons)[np.arange(horizon) % self.m]


def seasonality_test(values: np.ndarray, period: int) -> bool:
    """The M4 competition's test for seasonality (90%): the autocorrelation at lag ``period`` exceeds
    ``1.645 · sqrt((1 + 2 Σ_{k<period} acf_k²) / n)``."""
    values = np.asarray(values, dtype=np.float64)
    if period < 2 or len(values) < 3 * period:
        return False
    centred = values - values.mean()
    denominator = float(centred @ centred)
    if denominator <= 0:
        return False
    acf = [float(centred[k:] @ centred[:-k]) / denominator for k in range(1, period + 1)]
    limit = 1.645 * np.sqrt((1 + 2 * sum(a * a for a in acf[:-1])) / len(values))
    return abs(acf[-1]) > limit


def seasonal_indices(values: np.ndarray, period: int) -> np.ndarray:
    """Multiplicative seasonal indices ``(period,)`` of classical decomposition (statsmodels' ``seasonal_decompose``)
    for a positive series that passes :func:`seasonality_test`; ones otherwise. Index ``i`` is the season of
    ``values[i]`` (and of every ``period``-th value after it)."""
    values = np.asarray(values, dtype=np.float64)
    if not seasonality_test(values, period) or values.min() <= 0:
        return np.ones(max(period, 1))
    from statsmodels.tsa.seasonal import seasonal_decompose

    return np.asarray(seasonal_decompose(values, model="multiplicative", period=period).seasonal[:period])


def naive2(period: int) -> Forecast:
    """Naive2, the M competitions' reference: the naive forecast of the seasonally adjusted series (classical
    multiplicative decomposition when the seasonality test passes), re-seasonalised."""

    def forecast(history: np.ndarray, horizon: int) -> np.ndarray:
        indices = seasonal_indices(history, period) if period > 1 else np.ones(1)
        m = len(indices)
        adjusted_last = history[-1] / indices[(len(history) - 1) % m]
        return adjusted_last * indices[(len(history) + np.arange(horizon)) % m]

    return forecast


class Theta:
    r"""The Theta method as a filter (Hyndman & Billah 2003's form, theta = 2), fitted once, run at every origin.

    The series is seasonally adjusted first when the M4 seasonality test passes (classical decomposition, seasonal
    indices from the fitting data: multiplicative for a positive series, else additive), then

    .. math::
        \hat d_{o+h-1} = \tilde\ell_o + \tfrac12 b_0(o) [h - 1 + 1/\alpha - (1-\alpha)^o / \alpha]

    with :math:`\tilde\ell_o` simple exponential smoothing of the adjusted values before ``o`` (initial level the first
    value; :math:`\alpha` fitted once by statsmodels) and :math:`b_0(o)` the least-squares slope of the adjusted values
    before ``o`` against time (from running sums, so every origin costs O(1)). This is statsmodels' ``ThetaModel``
    with ``use_mle=False``, which the tests check.
    """

    def __init__(self, period: int | None) -> None:
        self.period = period if period and period > 1 else None
        self.alpha = 0.5
        self.indices: list[float] = []  # seasonal indices, index i: the season of values[i] (empty: none)
        self.multiplicative = True

    def fit(self, history: np.ndarray, *, multiplicative: bool | None = None) -> Theta:
        """Seasonal indices and α from ``history``; ``multiplicative`` (default: when every value is positive)."""
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        history = np.asarray(history, dtype=np.float64)
        self.multiplicative = bool(history.min() > 0) if multiplicative is None else multiplicative
        self.indices = []
        if self.period and seasonality_test(history, self.period):
            from statsmodels.tsa.seasonal import seasonal_decompose

            model = "multiplicative" if self.multiplicative else "additive"
            self.indices = np.asarray(seasonal_decompose(history, model=model, period=self.period).seasonal[
                : self.period]).tolist()  # fmt: skip
        adjusted = self.adjust(history, 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = ExponentialSmoothing(adjusted, initial_level=adjusted[0], initialization_method="known").fit()
        self.alpha = float(np.clip(fitted.params["smoothing_level"], 1e-4, 1.0))
        return self

    def _season(self, positions: np.ndarray) -> np.ndarray:
        return np.asarray(self.indices)[np.asarray(positions) % len(self.indices)]

    def adjust(self, values: np.ndarray, start: int) -> np.ndarray:
        """Seasonally adjusted values; ``start``: the position of ``values[0]`` in the series."""
        if not self.indices:
            return np.asarray(values, dtype=np.float64)
        season = self._season(start + np.arange(len(values)))
        return values / season if self.multiplicative else values - season

    def readjust(self, adjusted: np.ndarray, positions: np.ndarray) -> np.ndarray:
        if not self.indices:
            return adjusted
        season = self._season(positions)
        return adjusted * season if self.multiplicative else adjusted + season

    def forecasts_at(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """Forecasts ``(O, horizon)`` from each origin ``o ≥ 2`` (using ``y[:o]`` only)."""
        origins = np.asarray(origins, dtype=np.int64)
        d = self.adjust(np.asarray(y, dtype=np.float64)[: int(origins.max(initial=0))], 0)
        alpha = self.alpha
        level = np.empty(len(d) + 1)  # level[i]: SES after d[:i] (level[1] = d[0], the known initial level)
        level[0] = level[1] = d[0]
        for i in range(1, len(d)):
            level[i + 1] = alpha * d[i] + (1 - alpha) * level[i]
        t = np.arange(len(d), dtype=np.float64)
        sums = [np.concatenate([[0.0], np.cumsum(v)]) for v in (t, d, t * d, t * t)]  # prefix sums
        n = origins.astype(np.float64)
        st, sd, std, stt = (s[origins] for s in sums)
        slope = (n * std - st * sd) / np.maximum(n * stt - st * st, 1e-12)  # OLS slope of d[:o] on 0..o-1
        steps = np.arange(1, horizon + 1)[None, :]
        drift = 0.5 * slope[:, None] * (steps - 1 + 1 / alpha - (1 - alpha) ** n[:, None] / alpha)
        forecast = level[origins][:, None] + drift  # (O, H) adjusted
        return self.readjust(forecast, origins[:, None] + steps - 1)

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray:
        return self.forecasts_at(history, np.array([len(history)]), horizon)[0]

    def one_step(self, y: np.ndarray) -> np.ndarray:
        """The one-step forecasts ``ŷ_{t|t-1}`` ``(N,)`` of every value (NaN for the first two)."""
        y = np.asarray(y, dtype=np.float64)
        out = np.full(len(y), np.nan)
        if len(y) > 2:
            out[2:] = self.forecasts_at(y, np.arange(2, len(y)), 1)[:, 0]
        return out

    def to_dict(self) -> dict:
        return {"period": self.period, "alpha": self.alpha, "indices": self.indices,
                "multiplicative": self.multiplicative}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Theta:
        model = cls(data["period"])
        model.alpha, model.indices, model.multiplicative = data["alpha"], list(data["indices"]), data["multiplicative"]
        return model


class ThetaState:
    """A fitted :class:`Theta` after a history, advanced one value at a time (O(1) each): the SES level and the
    running sums of the least-squares slope."""

    def __init__(self, model: Theta, history: np.ndarray) -> None:
        self.model = model
        d = model.adjust(np.asarray(history, dtype=np.float64), 0)
        t = np.arange(len(d), dtype=np.float64)
        self.n = len(d)
        self.sums = [float(t.sum()), float(d.sum()), float((t * d).sum()), float((t * t).sum())]
        level = d[0]
        for value in d[1:]:
            level = model.alpha * value + (1 - model.alpha) * level
        self.level = level

    def forecast(self, horizon: int) -> np.ndarray:
        alpha, n = self.model.alpha, float(self.n)
        st, sd, std, stt = self.sums
        slope = (n * std - st * sd) / max(n * stt - st * st, 1e-12)
        steps = np.arange(1, horizon + 1)
        adjusted = self.level + 0.5 * slope * (steps - 1 + 1 / alpha - (1 - alpha) ** n / alpha)
        return self.model.readjust(adjusted, self.n + steps - 1)

    def one_step(self) -> float:
        return float(self.forecast(1)[0])

    def update(self, value: float) -> None:
        d = float(self.model.adjust(np.array([value]), self.n)[0])
        self.level = self.model.alpha * d + (1 - self.model.alpha) * self.level
        t = float(self.n)
        self.sums = [self.sums[0] + t, self.sums[1] + d, self.sums[2] + t * d, self.sums[3] + t * t]
        self.n += 1
