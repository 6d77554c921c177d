"""Labelled texts for classification: a CSV/TSV with a text and a label column, or one file per class.

Every problem is a one-line :class:`~rnnlab.errors.RnnlabError` naming the file and what would be right: a missing
column (the columns are listed), empty texts (counted, with their lines), a single class, undecodable bytes (the
byte offset; ``--encoding latin-1`` for the Latin-1 copies of the sentence-polarity set).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.data.series import read_table
from rnnlab.data.text import read_text
from rnnlab.errors import RnnlabError


@dataclass
class LabelledTexts:
    texts: list[str]  # one example each
    labels: list[str]  # its class, as written in the data
    source: str  # for messages

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))


def _check(examples: LabelledTexts, where: list[str]) -> LabelledTexts:
    empty = [i for i, text in enumerate(examples.texts) if not str(text).strip()]
    if empty:
        shown = ", ".join(where[i] for i in empty[:3]) + (", ..." if len(empty) > 3 else "")
        raise RnnlabError(f"{examples.source} has {len(empty)} empty texts ({shown}); remove them or fill them in")
    if len(examples.classes) < 2:
        found = examples.classes[0] if examples.classes else "none"
        raise RnnlabError(f"{examples.source} has a single class ({found!r}); a classifier needs at least two")
    return examples


def read_labelled_table(path: str | Path, *, text: str = "text", label: str = "label") -> LabelledTexts:
    """Texts and labels from two columns of a CSV/TSV/Parquet table."""
    frame = read_table(path)
    missing = [c for c in (text, label) if c not in frame.columns]
    if missing:
        raise RnnlabError(
            f"column {', '.join(repr(c) for c in missing)} not found in {path}; columns are: "
            f"{', '.join(map(str, frame.columns))} (name them with --text-column and --label-column)"
        )
    texts = ["" if v != v else str(v) for v in frame[text].tolist()]  # v != v: NaN, an empty cell
    labels = frame[label]
    if labels.isna().any():
        line = int(np.flatnonzero(labels.isna().to_numpy())[0]) + 2
        raise RnnlabError(
            f"column '{label}' of {path} has {int(labels.isna().sum())} empty labels (first at line {line})"
        )
    where = [f"line {i + 2}" for i in range(len(texts))]
    return _check(LabelledTexts(texts, [str(v) for v in labels.tolist()], str(path)), where)


def read_class_files(files: dict[str, str | Path], *, encoding: str = "utf-8") -> LabelledTexts:
    """One file per class, one example per line (blank lines skipped), e.g. ``{"pos": "rt-polarity.pos", ...}``."""
    if len(files) < 2:
        raise RnnlabError(f"give one file per class, at least two; got {len(files)}")
    texts, labels = [], []
    for label, path in files.items():
        lines = [line for line in read_text(path, encoding=encoding).splitlines() if line.strip()]
        texts += lines
        labels += [label] * len(lines)
    return _check(LabelledTexts(texts, labels, ", ".join(map(str, files.values()))), [""] * len(texts))
