"""Where a series comes from: a built-in name, a CSV/Parquet path, or a table in memory; which columns are what.

The guesses a user does not want to spell out are made here and said: the time column (by name, date parts, or the
first column whose values parse as dates), the target (the only numeric column left), ``covariates='all'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.data.datasets import BUILTINS, BuiltinSeries, load_builtin
from rnnlab.data.series import SeriesSpec, guess_time_column, read_table
from rnnlab.errors import RnnlabError


@dataclass(frozen=True)
class DataOptions:
    """Where the series comes from and which columns are what."""

    data: str  # a built-in name (see `rnnlab forecast datasets`) or a CSV/Parquet path
    targets: tuple[str, ...] = ()  # target columns; default: the built-in's, or the only numeric column
    time: str | None = None  # time column (or date parts 'year,month,day'); default: found by name or by parsing
    covariates: tuple[str, ...] = ()  # further input columns; ('all',) for every other column
    fill: str | None = "interpolate"  # 'interpolate', 'ffill' or 'zero' for missing values; 'none' refuses them
    encoding: str = "utf-8"  # of a CSV file


@dataclass(frozen=True)
class SpanOptions:
    """What the user said about the protocol (None: inferred, see :mod:`rnnlab.data.protocol`)."""

    horizon: int | None = None
    val_size: int | None = None
    test_size: int | None = None
    stride: int | None = None
    cycles: tuple[float, ...] | None = None
    period: int | None = None
    mase_period: int | None = None


def load_data(options: DataOptions, log=print) -> tuple[pd.DataFrame, SeriesSpec, str, BuiltinSeries | None]:
    """The table, the column spec, a name for messages, and the built-in entry if it is one."""
    if options.data in BUILTINS:
        entry, frame = load_builtin(options.data)
        spec = SeriesSpec(
            targets=options.targets or (entry.target,), time=options.time or entry.time,
            covariates=_covariates(frame, options, entry.time), fill=options.fill,
        )  # fmt: skip
        return frame, spec, options.data, entry
    path = Path(options.data)
    if not path.exists() and not path.suffix:
        raise RnnlabError(f"no file or built-in series {options.data!r}; built-in: {', '.join(BUILTINS)}")
    frame = read_table(path, options.encoding)
    time_column = options.time
    if time_column is None:
        time_column, note = guess_time_column(frame, exclude=(*options.targets, *options.covariates))
        if note:
            log(f"note: {note} (--time to choose another)")
    time_parts = [c.strip() for c in time_column.split(",")] if time_column else []
    covariates = _covariates(frame, options, time_column)
    targets = options.targets
    if not targets:
        others = [c for c in frame.columns if c not in time_parts and c not in covariates]
        numeric = [c for c in others if c in frame.select_dtypes("number").columns]
        numeric = others if len(others) == 1 else numeric  # one candidate: take it, and let the checks speak
        if len(numeric) != 1:
            raise RnnlabError(
                f"say which column to forecast with --target; columns of {path}: {', '.join(map(str, frame.columns))}"
            )
        targets = (numeric[0],)
    return frame, SeriesSpec(tuple(targets), time_column, covariates, options.fill), str(path), None


def _covariates(frame: pd.DataFrame, options: DataOptions, time_column: str | None) -> tuple[str, ...]:
    """The covariate columns: as given, or with ``all`` every column but the time and targets (and a running row
    number, which says nothing about the future)."""
    if options.covariates != ("all",):
        return tuple(options.covariates)
    skip = {*(c.strip() for c in (time_column or "").split(",") if c.strip()), *options.targets}
    chosen = []
    for column in frame.columns:
        values = frame[column]
        if column in skip:
            continue
        if pd.api.types.is_integer_dtype(values) and len(values) > 2 and (values.diff().iloc[1:] == 1).all():
            continue  # a row number
        chosen.append(str(column))
    return tuple(chosen)


def table_of(data, *, target: str | tuple[str, ...] | None = None, time: str | None = None,
             covariates: tuple[str, ...] = (), fill: str = "interpolate", log=print,
             ) -> tuple[pd.DataFrame, SeriesSpec, str, BuiltinSeries | None]:  # fmt: skip
    """What a Python user hands ``fit``: a DataFrame (a time column or a DatetimeIndex), a Series (its name is the
    target, its index the time), a 1-D array, a CSV/Parquet path or a built-in name."""
    targets = (target,) if isinstance(target, str) else tuple(target or ())
    if isinstance(data, (str, Path)):
        return load_data(DataOptions(str(data), targets, time, tuple(covariates), fill), log)
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name if data.name is not None else (targets[0] if targets else "value"))
    elif isinstance(data, np.ndarray) or (isinstance(data, (list, tuple)) and data and np.isscalar(data[0])):
        values = np.asarray(data, dtype=np.float64)
        if values.ndim != 1:
            raise RnnlabError(f"an array of values must be 1-D (one series), got shape {values.shape}; give a "
                              "DataFrame for several columns")  # fmt: skip
        data = pd.DataFrame({targets[0] if targets else "value": values})
    if not isinstance(data, pd.DataFrame):
        raise RnnlabError(f"fit takes a DataFrame, a Series, an array, a CSV/Parquet path or a built-in name; "
                          f"got {type(data).__name__}")  # fmt: skip
    frame = data
    if isinstance(frame.index, pd.DatetimeIndex) and time is None:  # the index is the time: make it a column
        name = frame.index.name or "time"
        frame = frame.reset_index(names=name)
        time = name
    if time is None:
        time, note = guess_time_column(frame, exclude=(*targets, *covariates))
        if note:
            log(f"note: {note}")
    options = DataOptions("data", targets, time, tuple(covariates), fill)
    covariate_columns = _covariates(frame, options, time)
    if not targets:
        parts = [c.strip() for c in (time or "").split(",")]
        numeric = [c for c in frame.select_dtypes("number").columns if c not in parts and c not in covariate_columns]
        if len(numeric) != 1:
            raise RnnlabError(f"say which column to forecast: fit(data, target=...); columns: "
                              f"{', '.join(map(str, frame.columns))}")  # fmt: skip
        targets = (str(numeric[0]),)
    return frame, SeriesSpec(targets, time, covariate_columns, fill), "data", None
