"""Time series from CSV or Parquet (read by pandas): columns checked, missing values reported, gaps detected.

Everything a user can get wrong here is a :class:`~rnnlab.errors.RnnlabError` whose one-line message names the file,
the column or the value and says what would be right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.errors import RnnlabError

FILLS = ("ffill", "interpolate", "zero")


@dataclass(frozen=True)
class SeriesSpec:
    """Which columns are what."""

    targets: tuple[str, ...]  # the columns to forecast
    time: str | None = None  # the time column, or date parts 'year,month,day[,hour]'; None for plain rows
    covariates: tuple[str, ...] = ()  # further input columns, observed up to the forecast origin
    fill: str | None = None  # how to fill missing values: 'ffill', 'interpolate', 'zero'; None rejects them


@dataclass
class Series:
    """A validated series: float64 arrays, one row per time step."""

    targets: np.ndarray  # (N, K)
    covariates: np.ndarray  # (N, C)
    times: pd.DatetimeIndex | None  # (N,) or None
    spec: SeriesSpec
    source: str  # file or dataset name, for messages
    notes: list[str] = field(default_factory=list)  # what was filled or found (gaps), to print

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def freq(self) -> pd.Timedelta | None:
        """The regular step of the time index (its most common difference), or None."""
        if self.times is None or len(self.times) < 2:
            return None
        return pd.Series(self.times[1:] - self.times[:-1]).mode().iloc[0]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (or TSV) or Parquet file; a missing, empty or unreadable file is a one-line error."""
    path = Path(path)
    if not path.exists():
        raise RnnlabError(f"file not found: {path}")
    if path.is_dir():
        raise RnnlabError(f"{path} is a folder; give a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise RnnlabError(f"{path} is empty")
    try:
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix in (".tsv", ".tab"):
            frame = pd.read_csv(path, sep="\t")
        else:
            frame = pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RnnlabError(f"cannot read {path} as a table: {reason}") from exc
    if frame.empty:
        raise RnnlabError(f"{path} has a header but no rows")
    return frame


def prepare_series(frame: pd.DataFrame, spec: SeriesSpec, source: str) -> Series:
    """Check and convert a table: columns exist, values are numbers, no unhandled gaps or missing values."""
    notes: list[str] = []
    time_columns = [c.strip() for c in spec.time.split(",")] if spec.time else []
    wanted = [*spec.targets, *spec.covariates, *time_columns]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise RnnlabError(
            f"column {', '.join(repr(c) for c in missing)} not found in {source}; columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )
    if not spec.targets:
        raise RnnlabError(f"no target column given for {source}; columns are: {', '.join(map(str, frame.columns))}")
    if spec.fill is not None and spec.fill not in FILLS:
        raise RnnlabError(f"fill must be one of {', '.join(FILLS)}; got {spec.fill!r}")

    times = None
    if len(time_columns) > 1:
        times = _assemble_times(frame, time_columns, source)
    elif spec.time:
        times = _parse_times(frame[spec.time], spec.time, source)
    if times is not None:
        order = np.argsort(times.values, kind="stable")
        if not (order == np.arange(len(order))).all():
            frame, times = frame.iloc[order].reset_index(drop=True), times[order]
            notes.append(f"rows sorted by '{spec.time}'")
        duplicated = times[times.duplicated()]
        if len(duplicated):
            raise RnnlabError(
                f"column '{spec.time}' of {source} repeats {duplicated[0]} ({len(duplicated)} duplicates)"
            )

    values = {c: _numeric(frame[c], c, source) for c in [*spec.targets, *spec.covariates]}
    for column, series in values.items():
        count = int(series.isna().sum())
        if count == 0:
            continue
        lines = np.flatnonzero(series.isna().to_numpy()) + 2  # +2: the header line, and lines count from 1
        where = ", ".join(map(str, lines[:3])) + (", ..." if count > 3 else "")
        if spec.fill is None:
            raise RnnlabError(
                f"column '{column}' of {source} has {count} missing values (line{'s' * (count > 1)} {where}); "
                f"pass --fill {'|'.join(FILLS)} to fill them"
            )
        values[column] = _fill(series, spec.fill)
        notes.append(f"filled {count} missing values of '{column}' ({spec.fill})")

    result = Series(
        targets=np.stack([values[c].to_numpy(np.float64) for c in spec.targets], axis=1),
        covariates=np.stack([values[c].to_numpy(np.float64) for c in spec.covariates], axis=1)
        if spec.covariates
        else np.zeros((len(frame), 0)),
        times=times,
        spec=spec,
        source=source,
        notes=notes,
    )
    gaps = find_gaps(result)
    if gaps:
        notes.append(gaps)
    return result


def find_gaps(series: Series) -> str | None:
    """A note on holes in a regular time index (steps longer than the usual step), or None."""
    if series.times is None or len(series) < 3:
        return None
    steps = pd.Series(series.times[1:] - series.times[:-1])
    usual = series.freq
    long = steps[steps > usual]
    if long.empty:
        return None
    worst = long.idxmax()
    missing = int(sum(round(s / usual) - 1 for s in long))
    return (
        f"the time index of {series.source} has {len(long)} gaps ({missing} missing steps of {usual}; "
        f"the longest, {long.max()}, after {series.times[worst]}): windows across them mix far-apart times"
    )


def _parse_times(column: pd.Series, name: str, source: str) -> pd.DatetimeIndex:
    try:
        times = pd.DatetimeIndex(pd.to_datetime(column, errors="raise", format="mixed"))
    except (ValueError, TypeError) as exc:
        bad = column[pd.to_datetime(column, errors="coerce", format="mixed").isna()]
        example = bad.iloc[0] if len(bad) else column.iloc[0]
        raise RnnlabError(f"column '{name}' of {source} is not a date/time: cannot parse {example!r}") from exc
    if times.isna().any():
        raise RnnlabError(f"column '{name}' of {source} has {int(times.isna().sum())} empty times")
    return times


def _assemble_times(frame: pd.DataFrame, columns: list[str], source: str) -> pd.DatetimeIndex:
    """A time index from date-part columns such as year, month, day (and hour, minute)."""
    parts = {"year", "month", "day", "hour", "minute", "second"}
    unknown = [c for c in columns if c.lower() not in parts]
    if unknown or not {"year", "month", "day"} <= {c.lower() for c in columns}:
        raise RnnlabError(
            f"date parts of {source} must include year, month and day (and may add hour, minute, second); "
            f"got {', '.join(columns)}"
        )
    try:
        return pd.DatetimeIndex(pd.to_datetime(frame[columns].rename(columns=str.lower)))
    except (ValueError, TypeError) as exc:
        raise RnnlabError(f"the date parts {', '.join(columns)} of {source} do not form dates: {exc}") from exc


def _numeric(column: pd.Series, name: str, source: str) -> pd.Series:
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise RnnlabError(
            f"column '{name}' of {source} is not numeric: {column.iloc[row]!r} at line {row + 2} "
            f"({int(bad.sum())} such values)"
        )
    return converted.astype(np.float64)


def _fill(series: pd.Series, how: str) -> pd.Series:
    if how == "zero":
        return series.fillna(0.0)
    if how == "interpolate":
        return series.interpolate(limit_direction="both")
    return series.ffill().bfill()


def split_points(length: int, val_size: int, test_size: int) -> tuple[int, int]:
    """Chronological split: ``(val_start, test_start)``; train is ``[0, val_start)``."""
    test_start = length - test_size
    val_start = test_start - val_size
    if val_start <= 0:
        raise RnnlabError(f"the series has {length} points, too few for {val_size} validation and {test_size} test")
    return val_start, test_start
