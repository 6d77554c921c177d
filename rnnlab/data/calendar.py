"""The calendar of a series, read from the data: its frequency, and the seasonal periods the data confirms.

A time index implies candidate periods (half-hourly: a day is 48 steps and a week 336; hourly 24 and 168; daily 7
and 365.25; weekly 52.18; monthly 12; quarterly 4; yearly none). A candidate is *kept* only when the training part
holds at least two of its cycles and its autocorrelation confirms it: after removing a centred moving average of the
period's length (which takes out the trend and anything slower than the cycle), the autocorrelation at lag m must be
at least ``MIN_ACF``, and a period that is a multiple of a shorter kept one (a week of days) must add to it: its
autocorrelation must beat the one at ``m - p`` (six days) by ``MIN_GAIN``. Without a time index the strongest
autocorrelation peak (if any clears the same bar) is the candidate.

Everything decided here is said in :attr:`Calendar.notes`, which the forecasting job prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnlab.errors import RnnlabError

MIN_ACF = 0.2  # autocorrelation at the period, after removing the moving average, to keep a period
MIN_GAIN = 0.05  # how much a multiple of a kept period must add over m - p

# (name, typical step in seconds, candidate periods in steps, default horizon)
_FREQUENCIES = (
    ("yearly", 365.25 * 86400, (), 6),
    ("quarterly", 91.31 * 86400, (4,), 8),
    ("monthly", 30.44 * 86400, (12,), 12),
    ("weekly", 7 * 86400, (52.18,), 13),
    ("daily", 86400, (7, 365.25), 14),
    ("hourly", 3600, (24, 168), 24),
    ("half-hourly", 1800, (48, 336), 48),
)


@dataclass
class Calendar:
    """What the data says about time: a frequency name, the kept periods (steps, shortest first), and why."""

    frequency: str  # 'hourly', 'daily', '15 minutes', 'business daily', 'steps' (no time index), ...
    candidates: tuple[float, ...]  # the periods the frequency implies
    periods: tuple[float, ...] = ()  # those the training data confirms, shortest first
    notes: list[str] = field(default_factory=list)
    default_horizon: int = 24

    @property
    def main_period(self) -> int:
        """The seasonal-naive period: the longest kept period, rounded (0 when none)."""
        return round(self.periods[-1]) if self.periods else 0

    @property
    def mase_period(self) -> int:
        """m of the MASE scale: the shortest kept period, rounded, or 1 (the naive)."""
        return round(self.periods[0]) if self.periods else 1


def frequency_of(times: pd.DatetimeIndex | None) -> tuple[str, tuple[float, ...], int]:
    """The frequency's name, its candidate periods (in rows) and a default horizon, from a time index (or none).

    An index whose steps have no usual length (fewer than half within 15% of the median step) is a
    :class:`~rnnlab.errors.RnnlabError` that says to pass the period. Sub-daily data recorded only part of the day or
    week (business hours) gets its periods in rows: the usual number of rows per day and per week.
    """
    if times is None or len(times) < 3:
        return "steps", (), 24
    deltas = np.asarray((times[1:] - times[:-1]).total_seconds())  # seconds (whatever the index's unit)
    step = float(np.median(deltas))
    if step <= 0 or np.mean(np.abs(deltas - step) <= 0.15 * step) < 0.5:
        low, high = (pd.Timedelta(seconds=float(v)) for v in np.percentile(deltas, [10, 90]))
        raise RnnlabError(
            f"the times are irregular (steps from {low} to {high}, no usual step), so no frequency can be inferred; "
            "pass --period M (the seasonal period in rows, or 1 for none) or resample the data to a regular step"
        )
    if 86400 * 0.99 <= step <= 86400 * 1.01 and _business_days(times):
        return "business daily", (5,), 10
    for name, seconds, periods, horizon in _FREQUENCIES:
        if abs(step - seconds) <= 0.08 * seconds:
            return name, _rows_per_cycle(times, step, periods), horizon
    if step < 86400 and 86400 % step == 0:  # 5, 10, 15 minutes, 2 hours ...
        per_day = int(86400 // step)
        minutes = step / 60
        name = f"{minutes:g} minutes" if minutes < 60 else f"{minutes / 60:g} hours"
        return name, _rows_per_cycle(times, step, (per_day, 7 * per_day)), per_day
    return f"every {pd.Timedelta(seconds=step)}", (), 24


def _rows_per_cycle(times: pd.DatetimeIndex, step: float, periods: tuple[float, ...]) -> tuple[float, ...]:
    """Sub-daily periods counted in rows: a day of business hours is fewer rows than 24 hours of steps."""
    if step >= 86400 or not periods:
        return periods
    per_day = pd.Series(1, index=times).groupby(times.normalize()).size()
    usual_day = int(per_day.iloc[1:-1].median()) if len(per_day) > 2 else int(per_day.median())
    if usual_day >= 0.9 * (86400 / step):
        return periods
    days_per_week = pd.Series(1, index=per_day.index).groupby(per_day.index.to_period("W")).size().median()
    return (float(usual_day), float(usual_day * days_per_week))


def _business_days(times: pd.DatetimeIndex) -> bool:
    """Daily data with (almost) no Saturdays and Sundays: trading or working days."""
    weekend = np.isin(times.dayofweek, (5, 6)).mean()
    return weekend < 0.02 and len(times) >= 20


def _acf(values: np.ndarray, lags: list[int]) -> dict[int, float]:
    """Autocorrelation of ``values`` at ``lags`` (values centred once, as statsmodels' acf does)."""
    x = values - values.mean()
    denominator = float(x @ x)
    if denominator <= 0:
        return {lag: 0.0 for lag in lags}
    return {lag: float(x[lag:] @ x[:-lag]) / denominator if 0 < lag < len(x) else 0.0 for lag in lags}


def _remove_moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """``values`` minus their centred moving average of ``window`` steps (edges trimmed)."""
    average = pd.Series(values).rolling(window, center=True).mean().to_numpy()
    keep = np.isfinite(average)
    return values[keep] - average[keep]


def seasonal_strength(values: np.ndarray, period: float, shorter: float | None = None) -> tuple[float, float]:
    """(autocorrelation at ``period``, at ``period - shorter``) after removing a moving average of ``period``."""
    m = round(period)
    residual = _remove_moving_average(values, m)
    lags = [m] + ([m - round(shorter)] if shorter else [])
    acf = _acf(residual, lags)
    return acf[m], acf[lags[-1]] if shorter else 0.0


def detect_periods(values: np.ndarray, candidates: tuple[float, ...]) -> tuple[tuple[float, ...], list[str]]:
    """The candidates the (training) ``values`` confirm, shortest first, and a note on each decision."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    kept: list[float] = []
    notes = []
    for period in sorted(candidates):
        m = round(period)
        if len(values) < 2 * m + 2:
            notes.append(f"period {period:g} not used: {len(values)} training points hold fewer than two cycles")
            continue
        shorter = next((p for p in reversed(kept) if m % round(p) == 0 and round(p) < m), None)
        acf, acf_shorter = seasonal_strength(values, period, shorter)
        if acf < MIN_ACF:
            notes.append(f"period {period:g} not used: autocorrelation {acf:.2f} at lag {m} (needs ≥ {MIN_ACF})")
        elif shorter and acf < acf_shorter + MIN_GAIN:
            notes.append(
                f"period {period:g} not used: autocorrelation {acf:.2f} at lag {m} adds nothing to the period "
                f"{shorter:g} ({acf_shorter:.2f} at lag {m - round(shorter)})"
            )
        else:
            kept.append(period)
            notes.append(f"period {period:g} kept: autocorrelation {acf:.2f} at lag {m}")
    return tuple(kept), notes


def strongest_cycle(values: np.ndarray, *, max_period: int | None = None) -> float | None:
    """Without a time index: the lag of the highest autocorrelation peak (after removing the trend), or None."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    limit = min(max_period or len(values) // 3, len(values) // 3)
    if limit < 4:
        return None
    detrended = values - pd.Series(values).rolling(limit, center=True, min_periods=1).mean().to_numpy()
    acf = _acf(detrended, list(range(1, limit + 1)))
    peaks = [lag for lag in range(3, limit) if acf[lag] > acf[lag - 1] and acf[lag] >= acf[lag + 1]]
    if not peaks:
        return None
    best = max(peaks, key=lambda lag: acf[lag])
    return float(best) if acf[best] >= MIN_ACF else None
