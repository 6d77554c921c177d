"""The calendar read from the data (frequency, periods confirmed by autocorrelation) and the default protocol."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.calendar import detect_periods, frequency_of, strongest_cycle
from rnnlab.data.protocol import make_plan
from rnnlab.data.series import SeriesSpec, guess_time_column, prepare_series
from rnnlab.errors import RnnlabError

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    ("freq", "name", "periods"),
    [
        ("30min", "half-hourly", (48, 336)),
        ("h", "hourly", (24, 168)),
        ("D", "daily", (7, 365.25)),
        ("W-SUN", "weekly", (52.18,)),
        ("MS", "monthly", (12,)),
        ("QS", "quarterly", (4,)),
        ("YS", "yearly", ()),
        ("15min", "15 minutes", (96, 672)),
        ("B", "business daily", (5,)),
    ],
)
def test_the_frequency_and_its_candidate_periods(freq, name, periods):
    times = pd.date_range("2020-01-01", periods=200, freq=freq)
    assert frequency_of(times)[:2] == (name, periods)


def test_business_hours_count_periods_in_rows():
    days = pd.bdate_range("2024-01-01", periods=30)
    times = pd.DatetimeIndex([d + pd.Timedelta(hours=h) for d in days for h in range(9, 17)])  # 8 rows a day
    assert frequency_of(times)[:2] == ("hourly", (8.0, 40.0))


def test_irregular_times_are_a_clear_error_that_names_the_fix():
    seconds = np.sort(RNG.uniform(0, 1e7, size=300))
    times = pd.DatetimeIndex(pd.Timestamp("2020-01-01") + pd.to_timedelta(seconds, unit="s"))
    with pytest.raises(RnnlabError, match=r"irregular .* pass --period M"):
        frequency_of(times)


def test_periods_are_kept_only_when_the_autocorrelation_confirms_them():
    t = np.arange(24 * 7 * 12)
    daily = np.sin(2 * np.pi * t / 24) + 0.1 * RNG.standard_normal(len(t))
    kept, notes = detect_periods(daily, (24, 168))
    assert kept == (24,)  # a week of days repeats the day: it adds nothing
    assert "adds nothing to the period 24" in notes[1]
    weekly = daily + 0.8 * (t % 168 >= 120)  # quieter weekends
    assert detect_periods(weekly, (24, 168))[0] == (24, 168)
    smooth = np.cumsum(RNG.standard_normal(4000)) * 0.1 + np.sin(2 * np.pi * np.arange(4000) / 365.25)
    kept, notes = detect_periods(smooth, (7, 365.25))  # daily weather: a yearly cycle, no weekly one
    assert kept == (365.25,) and "period 7 not used" in notes[0]
    assert detect_periods(daily[:40], (24,))[0] == ()  # fewer than two cycles


def test_without_a_time_index_the_strongest_cycle_is_found():
    t = np.arange(600)
    assert strongest_cycle(np.sin(2 * np.pi * t / 30) + 0.05 * RNG.standard_normal(600)) == 30
    assert strongest_cycle(RNG.standard_normal(600)) is None


def test_time_columns_are_found_by_name_date_parts_or_parsing():
    parts = pd.DataFrame({"No": [1, 2], "Year": [2010, 2010], "month": [1, 1], "day": [1, 1], "hour": [0, 1],
                          "pm2.5": [1.0, 2.0]})  # fmt: skip
    column, note = guess_time_column(parts)
    assert column == "Year,month,day,hour" and "date-part columns" in note
    assert guess_time_column(pd.DataFrame({"ds": ["2020-01-01"], "y": [1.0]}))[0] == "ds"
    assert guess_time_column(pd.DataFrame({"when": ["2020-01-01", "2020-01-02"], "y": [1.0, 2]}))[0] == "when"
    assert guess_time_column(pd.DataFrame({"y": [1.0, 2.0]})) == (None, None)


@pytest.mark.parametrize(
    ("labels", "first", "second"),
    [
        (["1956 Q1", "1956 Q2"], "1956-01-01", "1956-04-01"),  # fpp3 quarters
        (["1991 W06", "1991 W07"], "1991-02-04", "1991-02-11"),  # ISO weeks
        (["1987 Jan", "1987 Feb"], "1987-01-01", "1987-02-01"),
        (["2011-12-31T13:00:00Z", "2011-12-31T13:30:00Z"], "2011-12-31 13:00", "2011-12-31 13:30"),
    ],
)
def test_tsibble_style_time_labels_parse(labels, first, second):
    series = prepare_series(pd.DataFrame({"t": labels, "y": [1.0, 2.0]}), SeriesSpec(("y",), "t"), "d.csv")
    assert list(series.times) == [pd.Timestamp(first), pd.Timestamp(second)]


def test_a_few_missing_steps_are_added_filled_and_not_scored():
    times = pd.date_range("2024-01-01", periods=200, freq="h").delete([50, 51, 120])
    frame = pd.DataFrame({"time": times, "y": np.arange(197.0), "wind": ["N"] * 197})
    series = prepare_series(frame, SeriesSpec(("y",), "time", ("wind",)), "d.csv")
    assert len(series) == 200 and series.observed[:, 0].sum() == 197
    assert not series.observed[50:52, 0].any() and series.covariate_frame["wind"].iloc[50] == "N"
    assert series.targets[50, 0] == pytest.approx(49 + 1 / 3)  # interpolated between 49 and 50
    assert any("misses 3 steps" in note for note in series.notes)
    daily = pd.bdate_range("2024-01-01", periods=100)  # trading days: weekends are not holes
    series = prepare_series(pd.DataFrame({"d": daily, "y": np.arange(100.0)}), SeriesSpec(("y",), "d"), "p.csv")
    assert len(series) == 100


def _series(n: int, freq: str = "h", period: int = 24):
    t = np.arange(n)
    frame = pd.DataFrame({"time": pd.date_range("2020-01-01", periods=n, freq=freq),
                          "y": 10 + np.sin(2 * np.pi * t / period) + 0.1 * RNG.standard_normal(n)})  # fmt: skip
    return prepare_series(frame, SeriesSpec(("y",), "time"), "s.csv")


def test_default_spans_give_about_a_dozen_origins_without_starving_training():
    plan = make_plan(_series(43_800))  # five years of hours
    assert plan.horizon == 24 and plan.test_size == 240 and plan.val_size == 240
    origins = len(range(plan.length - plan.test_size, plan.length - plan.horizon + 1, plan.stride))
    assert origins >= 10 and plan.cycles == (24,) and plan.mase_period == 24
    short = make_plan(_series(144, "MS", 12), horizon=12)
    assert short.test_size == 24 and short.val_size == 24 and short.stride == 1 and short.cycles == (12,)
    given = make_plan(_series(500), horizon=6, test_size=60, val_size=30, stride=6, cycles=(24, 168))
    assert (given.test_size, given.val_size, given.stride, given.cycles) == (60, 30, 6, (24.0, 168.0))


def test_bad_plans_are_one_line_errors():
    with pytest.raises(RnnlabError, match="--horizon must be a whole number ≥ 1, got 0"):
        make_plan(_series(200), horizon=0)
    with pytest.raises(RnnlabError, match=r"--cycles must be periods longer than 1 step, got 0"):
        make_plan(_series(200), cycles=(0,))
    with pytest.raises(RnnlabError, match="too few for 20 validation and 20 test points"):
        make_plan(_series(40), horizon=4, val_size=20, test_size=20)
    with pytest.raises(RnnlabError, match="shorter than the horizon"):
        make_plan(_series(200), horizon=24, test_size=10)
