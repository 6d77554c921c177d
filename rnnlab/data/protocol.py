"""How a series is split and scored when the user does not say: horizon, test and validation spans, the stride
between forecast origins, and the seasonal periods (from :mod:`rnnlab.data.calendar`).

Defaults scale with the series so that evaluation has about a dozen rolling origins without starving training:

- horizon: what the frequency suggests (a day of half-hours or hours, two weeks of days, a year of months, ...);
- test span: ten horizons, but at least two and at most 15% of the series (never less than one horizon);
- validation span: as long as the test span, but at most a third of what precedes it;
- stride: about twelve origins through a span (at most one horizon apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnlab.data.calendar import Calendar, detect_periods, frequency_of
from rnnlab.data.datasets import BuiltinSeries
from rnnlab.data.series import Series, SeriesSpec, prepare_series
from rnnlab.data.sources import SpanOptions
from rnnlab.errors import RnnlabError
from rnnlab.evaluation import default_stride


@dataclass
class Plan:
    """What a run decided about its data."""

    horizon: int
    val_size: int
    test_size: int
    stride: int
    calendar: Calendar
    cycles: tuple[float, ...]  # calendar features
    period: int  # the seasonal period of the bases (0: none)
    mase_period: int  # m of the MASE scale
    length: int = 0  # points in the series
    notes: list[str] = field(default_factory=list)

    @property
    def train_points(self) -> int:
        return self.length - self.val_size - self.test_size

    def describe(self) -> list[str]:
        periods = ", ".join(f"{p:g}" for p in self.cycles) or "none"
        return [
            *self.notes,
            f"horizon {self.horizon}; test: the last {self.test_size} points, validation: the {self.val_size} "
            f"before; origins every {self.stride} steps; seasonal periods: {periods}; MASE scale m={self.mase_period}",
        ]


def default_test_size(length: int, horizon: int) -> int:
    return max(horizon, min(10 * horizon, max(2 * horizon, int(0.15 * length)), length // 5))


def default_val_size(length: int, horizon: int, test_size: int) -> int:
    return max(horizon, min(test_size, (length - test_size) // 3))


def _given(value: int | None, name: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise RnnlabError(f"--{name.replace('_', '-')} must be a whole number ≥ 1, got {value!r}")
    return value


def make_plan(
    series: Series,
    *,
    horizon: int | None = None,
    val_size: int | None = None,
    test_size: int | None = None,
    stride: int | None = None,
    cycles: tuple[float, ...] | None = None,
    period: int | None = None,
    mase_period: int | None = None,
    protocol_holdout: int = 0,
) -> Plan:
    """The plan for ``series``: each argument the user gave is kept (and checked), the rest inferred.

    ``protocol_holdout``: a built-in series' standard test (and validation) span.
    """
    horizon, stride = _given(horizon, "horizon"), _given(stride, "stride")
    mase_period, period = _given(mase_period, "mase_period"), (None if period is None else _given(period, "period"))
    if val_size is not None and val_size < 0:
        raise RnnlabError(f"--val-size must be ≥ 0, got {val_size}")
    if test_size is not None and test_size < 0:
        raise RnnlabError(f"--test-size must be ≥ 0, got {test_size}")
    if cycles is not None and any(not c > 1 for c in cycles):
        raise RnnlabError(f"--cycles must be periods longer than 1 step, got {', '.join(f'{c:g}' for c in cycles)}")
    n = len(series)
    try:
        frequency, candidates, default_horizon = frequency_of(series.times)
    except RnnlabError:
        if cycles is None and period is None:
            raise
        frequency, candidates, default_horizon = "irregular", (), 24
    notes = []
    if series.times is not None:
        notes.append(f"frequency: {frequency}")
    horizon = horizon or default_horizon
    test_size = test_size if test_size is not None else protocol_holdout or default_test_size(n, horizon)
    val_size = val_size if val_size is not None else protocol_holdout or default_val_size(n, horizon, test_size)
    if 0 < test_size < horizon:
        raise RnnlabError(f"--test-size {test_size} is shorter than the horizon {horizon}; use ≥ it, or 0")
    if n - test_size - val_size < 2:
        raise RnnlabError(
            f"{series.source} has {n} points, too few for {val_size} validation and {test_size} test points "
            f"(and horizon {horizon})"
        )
    before_test = series.targets[: n - test_size, 0]
    if cycles is not None:
        kept = tuple(float(c) for c in cycles)
        notes.append("seasonal periods as given: " + (", ".join(f"{c:g}" for c in kept) or "none"))
        calendar = Calendar(frequency, kept, kept, [], default_horizon)
    elif period is not None:
        kept = (float(period),) if period > 1 else ()
        calendar = Calendar(frequency, kept, kept, [], default_horizon)
    else:
        if series.times is None:
            from rnnlab.data.calendar import strongest_cycle

            cycle = strongest_cycle(before_test)
            candidates = (cycle,) if cycle else ()
            notes.append(
                "no time column: " + (f"strongest autocorrelation at lag {cycle:g}" if cycle else "no clear cycle")
            )
        kept, decisions = detect_periods(before_test[np.isfinite(before_test)], candidates)
        notes += decisions
        calendar = Calendar(frequency, candidates, kept, decisions, default_horizon)
    period = period if period is not None else calendar.main_period
    return Plan(
        horizon=horizon,
        val_size=val_size,
        test_size=test_size,
        stride=stride or default_stride(test_size or horizon, horizon),
        calendar=calendar,
        cycles=calendar.periods,
        period=period if period and period > 1 else 0,
        mase_period=mase_period or calendar.mase_period,
        length=n,
        notes=notes,
    )


def plan_for(
    frame: pd.DataFrame, spec: SeriesSpec, source: str, entry: BuiltinSeries | None, spans: SpanOptions
) -> Plan:
    """The run's plan (horizon, spans, calendar) from the user's options and the data."""
    series = prepare_series(frame, spec, source)
    horizon = spans.horizon if spans.horizon is not None else (48 if entry and entry.name == "electricity" else None)
    return make_plan(
        series, horizon=horizon, val_size=spans.val_size, test_size=spans.test_size, stride=spans.stride,
        cycles=spans.cycles, period=spans.period, mase_period=spans.mase_period,
        protocol_holdout=entry.holdout if entry else 0,
    )  # fmt: skip
