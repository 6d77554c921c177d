"""Time series from CSV or Parquet (read by pandas): columns checked, missing values reported, gaps detected.

Everything a user can get wrong here is a :class:`~rnnlab.errors.RnnlabError` whose one-line message names the file,
the column or the value and says what would be right.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.errors import RnnlabError

FILLS = ("interpolate", "ffill", "zero", "none")  # 'none' refuses missing values
TIME_NAMES = ("time", "date", "timestamp", "datetime", "date_time", "ds", "period", "month", "week", "quarter", "year")
DATE_PARTS = ("year", "month", "day", "hour", "minute", "second")


@dataclass(frozen=True)
class SeriesSpec:
    """Which columns are what."""

    targets: tuple[str, ...]  # the columns to forecast
    time: str | None = None  # the time column, or date parts 'year,month,day[,hour]'; None for plain rows
    covariates: tuple[str, ...] = ()  # further input columns, observed up to the forecast origin
    fill: str | None = "interpolate"  # missing values: 'interpolate', 'ffill', 'zero'; 'none' (or None) refuses them

    def __post_init__(self) -> None:  # SeriesSpec("load") means one target, not the letters l, o, a, d
        if isinstance(self.targets, str):
            object.__setattr__(self, "targets", (self.targets,))
        if isinstance(self.covariates, str):
            object.__setattr__(self, "covariates", (self.covariates,))


@dataclass
class Series:
    """A validated series: float64 targets, covariates as read (numbers, or text for categories), one row per step."""

    targets: np.ndarray  # (N, K), missing values filled
    covariate_frame: pd.DataFrame  # (N, C) numeric columns as float64 (filled), categorical ones as text
    times: pd.DatetimeIndex | None  # (N,) or None
    spec: SeriesSpec
    source: str  # file or dataset name, for messages
    notes: list[str] = field(default_factory=list)  # what was filled or found (gaps), to print
    observed: np.ndarray | None = None  # (N, K) True where the target was in the data (not filled)

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def freq(self) -> pd.Timedelta | None:
        """The regular step of the time index (its most common difference), or None."""
        if self.times is None or len(self.times) < 2:
            return None
        return pd.Series(self.times[1:] - self.times[:-1]).mode().iloc[0]


def read_table(path: str | Path, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV (or TSV) or Parquet file; a missing, empty, undecodable or unreadable file is a one-line error
    (a byte-order mark is dropped)."""
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
        else:
            codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
            frame = pd.read_csv(path, sep="\t" if suffix in (".tsv", ".tab") else ",", encoding=codec)
    except UnicodeDecodeError as exc:
        hint = " (pass --encoding latin-1 if the file is Latin-1)" if "utf" in encoding.lower() else ""
        raise RnnlabError(f"{path} is not valid {encoding}: byte 0x{exc.object[exc.start:exc.start + 1].hex()} at "
                          f"byte offset {exc.start}{hint}") from exc  # fmt: skip
    except LookupError as exc:
        raise RnnlabError(f"unknown encoding {encoding!r}; try utf-8 or latin-1") from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RnnlabError(f"cannot read {path} as a table: {reason}") from exc
    if frame.empty:
        raise RnnlabError(f"{path} has a header but no rows")
    return frame


def guess_time_column(frame: pd.DataFrame, exclude: tuple[str, ...] = ()) -> tuple[str | None, str | None]:
    """The time column of a table a user did not name, and a note saying how it was found (or None, None).

    Date-part columns (year, month, day and maybe hour, minute, second, in any case) come first; then a column with
    a usual name (time, date, timestamp, ds, month, ...); then the first text column whose values all parse as dates.
    """
    lower = {str(c).lower(): c for c in frame.columns if c not in exclude}
    if {"year", "month", "day"} <= set(lower):
        parts = [str(lower[p]) for p in DATE_PARTS if p in lower]
        if all(pd.api.types.is_numeric_dtype(frame[lower[p]]) for p in ("year", "month", "day")):
            return ",".join(parts), f"time assembled from the date-part columns {', '.join(parts)}"
    for name in TIME_NAMES:
        column = lower.get(name)
        if column is not None and _parses_as_times(frame[column]):
            return str(column), None if name in TIME_NAMES[:4] else f"time column: '{column}'"
    for column in frame.columns:
        if column in exclude or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        if _parses_as_times(frame[column]):
            return str(column), f"time column: '{column}' (its values parse as dates)"
    return None, None


def _parses_as_times(column: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if pd.api.types.is_numeric_dtype(column):
        return False
    sample = column.dropna().astype(str).head(50)
    try:
        _to_times(sample)
    except (ValueError, TypeError, OverflowError):
        return False
    return len(sample) > 0


def prepare_series(frame: pd.DataFrame, spec: SeriesSpec, source: str) -> Series:
    """Check and convert a table: columns exist, values are numbers, times parse; fill (and count) missing values."""
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
    fill = spec.fill or "none"
    if fill not in FILLS:
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

    values = {c: _numeric(frame[c], c, source) for c in spec.targets}
    covariates = {}
    for c in spec.covariates:
        if _is_numeric(frame[c]):
            values[c] = _numeric(frame[c], c, source)
        else:  # a category: text, kept as read; a missing value is its own category
            covariates[c] = frame[c].astype(object).where(frame[c].notna(), "(missing)").astype(str)
    observed = np.stack([values[c].notna().to_numpy() for c in spec.targets], axis=1)
    for column, series in values.items():
        count = int(series.isna().sum())
        if count == 0:
            continue
        if count == len(series):
            raise RnnlabError(f"column '{column}' of {source} has no values (all {count} are missing)")
        lines = np.flatnonzero(series.isna().to_numpy()) + 2  # +2: the header line, and lines count from 1
        where = ", ".join(map(str, lines[:3])) + (", ..." if count > 3 else "")
        if fill == "none":
            raise RnnlabError(
                f"column '{column}' of {source} has {count} missing values (line{'s' * (count > 1)} {where}); "
                f"pass --fill {'|'.join(FILLS[:3])} to fill them"
            )
        values[column] = _fill(series, fill)
        scored = " (forecast errors are measured on the values present only)" if column in spec.targets else ""
        notes.append(
            f"filled {count} missing values of '{column}' (line{'s' * (count > 1)} {where}) by {fill}{scored}; "
            "--fill none refuses them"
        )
    covariate_frame = pd.DataFrame(  # by position: a frame sliced from a larger one keeps its own index labels
        {c: (values[c] if c in values else covariates[c]).to_numpy() for c in spec.covariates}, index=range(len(frame))
    )
    result = Series(
        targets=np.stack([values[c].to_numpy(np.float64) for c in spec.targets], axis=1),
        covariate_frame=covariate_frame,
        times=times,
        spec=spec,
        source=source,
        notes=notes,
        observed=observed,
    )
    if fill != "none":
        result = _fill_gaps(result, fill)
    gaps = find_gaps(result)
    if gaps:
        notes.append(gaps)
    return result


def _fill_gaps(series: Series, fill: str) -> Series:
    """A regular index (steps of a fixed length up to a week) with a few missing steps (at most 5%) gets rows for
    them, filled like missing values and not scored. Weekends of business-day data and larger holes are left alone
    (and reported by :func:`find_gaps`)."""
    times = series.times
    if times is None or len(times) < 3:
        return series
    usual = series.freq
    if usual > pd.Timedelta(days=7) or (
        usual == pd.Timedelta(days=1) and np.isin(times.dayofweek, (5, 6)).mean() < 0.02
    ):
        return series
    full = pd.date_range(times[0], times[-1], freq=usual)
    if len(full) == len(times) or len(full) - len(times) > 0.05 * len(times) or not times.isin(full).all():
        return series
    position = full.get_indexer(times)  # (N,) rows of the data in the full grid
    targets = np.full((len(full), series.targets.shape[1]), np.nan)
    targets[position] = series.targets
    observed = np.zeros(targets.shape, dtype=bool)
    observed[position] = series.observed
    covariates = series.covariate_frame.set_axis(position).reindex(range(len(full)))
    targets = np.stack([_fill(pd.Series(column), fill).to_numpy() for column in targets.T], axis=1)
    for name in covariates.columns:
        column = covariates[name]
        numeric = pd.api.types.is_numeric_dtype(column)
        covariates[name] = _fill(column, fill) if numeric else column.ffill().bfill()
    inserted = len(full) - len(times)
    series.notes.append(
        f"the time index of {series.source} misses {inserted} steps of {usual} (first after "
        f"{times[int(np.flatnonzero(np.diff(position) > 1)[0])]}): added them, filled by {fill}, and not scored"
    )
    return Series(targets, covariates, pd.DatetimeIndex(full), series.spec, series.source, series.notes, observed)


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


def _to_times(column: pd.Series) -> pd.DatetimeIndex:
    """Dates and times as pandas reads them, plus the year-quarter ('1956 Q1') and ISO year-week ('1991 W06')
    labels that fpp3/tsibble files use; time zones become UTC."""
    text = column.astype(str).str.strip()
    quarter = text.str.fullmatch(r"\d{4}\s*-?\s*Q[1-4]")
    if quarter.all():
        return pd.PeriodIndex(text.str.replace(r"[\s-]", "", regex=True), freq="Q").to_timestamp()
    week = text.str.fullmatch(r"\d{4}\s*-?\s*W\d{1,2}")
    if week.all():
        return pd.DatetimeIndex(pd.to_datetime(text.str.replace(r"[\s-]", "", regex=True) + "-1", format="%GW%V-%u"))
    if pd.api.types.is_datetime64_any_dtype(column):
        times = pd.DatetimeIndex(column)
    else:
        try:
            try:  # one format, inferred from the first value: fast
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "could not infer format": it parses them anyway
                    times = pd.DatetimeIndex(pd.to_datetime(column, errors="raise"))
            except ValueError:
                times = pd.DatetimeIndex(pd.to_datetime(column, errors="raise", format="mixed"))
        except ValueError as exc:  # mixed time zones: one clock
            if "tz" not in str(exc).lower() and "zone" not in str(exc).lower():
                raise
            times = pd.DatetimeIndex(pd.to_datetime(column, errors="raise", format="mixed", utc=True))
    return times.tz_convert(None) if times.tz is not None else times


def _parse_times(column: pd.Series, name: str, source: str) -> pd.DatetimeIndex:
    try:
        times = _to_times(column)
    except (ValueError, TypeError, OverflowError) as exc:
        bad = column[pd.to_datetime(column, errors="coerce", format="mixed", utc=True).isna()]
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


def _is_numeric(column: pd.Series) -> bool:
    """Numbers (or booleans), possibly missing: no value that is text."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return True
    converted = pd.to_numeric(column, errors="coerce")
    return not (converted.isna() & column.notna()).any()


def _numeric(column: pd.Series, name: str, source: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(column):
        column = column.astype(np.float64)
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise RnnlabError(
            f"column '{name}' of {source} is not numeric: {column.iloc[row]!r} at line {row + 2} "
            f"({int(bad.sum())} such values)"
        )
    converted = converted.astype(np.float64)
    infinite = np.isinf(converted.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise RnnlabError(
            f"column '{name}' of {source} has an infinite value ({column.iloc[row]}) at line {row + 2} "
            f"({int(infinite.sum())} such values); replace them with numbers or leave them empty"
        )
    return converted


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
