"""Many series in one table: long format (an id column, a time column, the target) or wide (one column per series).

Each series is checked as a single series is (:func:`~rnnlab.data.series.prepare_series`: numbers, times, missing
values filled and counted, a few missing steps added), and every message names the series. Series may have different
lengths and start dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnlab.data.series import SeriesSpec, prepare_series
from rnnlab.errors import RnnlabError


@dataclass(frozen=True)
class PanelSeries:
    """One series of a panel: its id and values ``(n,)`` (float64, no missing values)."""

    id: str
    values: np.ndarray


@dataclass
class Panel:
    """The series of a table, the times of each (or None), and what was decided on the way."""

    series: list[PanelSeries]
    times: dict[str, pd.DatetimeIndex | None]
    notes: list[str] = field(default_factory=list)
    time_column: str | None = None


def read_panel(
    frame: pd.DataFrame,
    *,
    id_column: str | None,
    target: str | None,
    time: str | None,
    source: str,
    fill: str = "interpolate",
    min_length: int = 1,
    strict: bool = False,
) -> Panel:
    """The panel in ``frame``: long format with ``id_column`` (and ``target``), or wide (every column but the time is a
    series). Series shorter than ``min_length`` are skipped with a note (or refused with ``strict``)."""
    notes: list[str] = []
    if id_column is not None:
        if id_column not in frame.columns:
            raise RnnlabError(f"id column {id_column!r} not found in {source}; columns are: "
                              f"{', '.join(map(str, frame.columns))}")  # fmt: skip
        missing = frame[id_column].isna()
        if missing.any():
            raise RnnlabError(f"the id column {id_column!r} of {source} has {int(missing.sum())} missing values "
                              f"(first at line {int(np.flatnonzero(missing.to_numpy())[0]) + 2})")  # fmt: skip
        if target is None:
            raise RnnlabError(f"say which column to forecast with --target; columns of {source}: "
                              f"{', '.join(map(str, frame.columns))}")  # fmt: skip
        groups = [(str(key), group.drop(columns=[id_column])) for key, group in frame.groupby(id_column, sort=False)]
        columns = {key: target for key, _ in groups}
    else:
        others = [c for c in frame.columns if c not in (time or "").split(",")]
        groups = [(str(c), frame[[c] + ([time] if time else [])].dropna(subset=[c])) for c in others]
        columns = {str(c): c for c in others}
        notes.append(f"wide table: {len(groups)} series, one per column")
    series, times, short = [], {}, []
    for key, group in groups:
        spec = SeriesSpec((columns[key],), time, (), fill)
        try:
            prepared = prepare_series(group.reset_index(drop=True), spec, f"series {key!r} of {source}")
        except RnnlabError as exc:
            raise RnnlabError(str(exc)) from exc
        if len(prepared) < min_length:
            short.append(key)
            continue
        notes += [n for n in prepared.notes if "missing" in n][:1]
        series.append(PanelSeries(key, prepared.targets[:, 0]))
        times[key] = prepared.times
    if short:
        message = (f"{len(short)} series have fewer than {min_length} points (the horizon plus a few steps of "
                   f"history): {', '.join(short[:5])}{', ...' if len(short) > 5 else ''}")  # fmt: skip
        if strict:
            raise RnnlabError(message + "; without --strict they are skipped")
        notes.append(message + ": skipped (--strict refuses them)")
    if not series:
        raise RnnlabError(f"no series of {source} is long enough (each needs at least {min_length} points)")
    return Panel(series, times, notes, time)
