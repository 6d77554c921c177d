"""Covariates as users have them: numbers, booleans and categories, encoded into model inputs.

Numeric and boolean columns pass through as numbers (the series transform standardises them on the training part).
A categorical column (text, such as a wind direction 'NW', 'SE', 'cv') becomes one-hot columns, one per category
seen in the training part (the ``MAX_CATEGORIES`` most frequent; the rarer ones share one 'other' column). A value
never seen in training encodes as none of the known categories (all zeros), and the encoder says how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_CATEGORIES = 30
OTHER = "(other)"


@dataclass
class CovariateEncoder:
    """Per column ``{"name", "kind": "numeric"}`` or ``{"name", "kind": "categorical", "categories": [...]}``."""

    columns: list[dict] = field(default_factory=list)

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> CovariateEncoder:
        """Learn the categories of the text columns of ``frame`` (the training part)."""
        columns = []
        for name in frame.columns:
            column = frame[name]
            if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
                columns.append({"name": str(name), "kind": "numeric"})
                continue
            counts = column.astype(str).value_counts()
            categories = sorted(counts.index[:MAX_CATEGORIES].tolist())
            if len(counts) > MAX_CATEGORIES:
                categories.append(OTHER)
            columns.append({"name": str(name), "kind": "categorical", "categories": categories})
        return cls(columns)

    @property
    def width(self) -> int:
        return sum(1 if c["kind"] == "numeric" else len(c["categories"]) for c in self.columns)

    @property
    def feature_names(self) -> list[str]:
        names = []
        for c in self.columns:
            names += [c["name"]] if c["kind"] == "numeric" else [f"{c['name']}={v}" for v in c["categories"]]
        return names

    def transform(self, frame: pd.DataFrame, source: str = "data") -> tuple[np.ndarray, list[str]]:
        """Inputs ``(N, width)`` float64 for the rows of ``frame``, and notes on unseen categories."""
        parts, notes = [np.zeros((len(frame), 0))], []
        for c in self.columns:
            column = frame[c["name"]]
            if c["kind"] == "numeric":
                parts.append(pd.to_numeric(column, errors="coerce").to_numpy(np.float64)[:, None])
                continue
            text = column.astype(str)
            known = c["categories"]
            if OTHER in known:  # rare and unseen values share the 'other' column
                text = text.where(text.isin(known), OTHER)
            onehot = (text.to_numpy()[:, None] == np.asarray(known, dtype=object)[None, :]).astype(np.float64)
            unseen = text[~text.isin(known)]
            if len(unseen):
                examples = ", ".join(repr(v) for v in unseen.unique()[:3])
                notes.append(
                    f"column '{c['name']}' of {source} has {len(unseen)} values never seen in training ({examples}); "
                    "they are encoded as none of the known categories"
                )
            parts.append(onehot)
        return np.concatenate(parts, axis=1), notes

    def to_dict(self) -> dict:
        return {"columns": self.columns}

    @classmethod
    def from_dict(cls, data: dict) -> CovariateEncoder:
        return cls(list(data.get("columns", [])))
