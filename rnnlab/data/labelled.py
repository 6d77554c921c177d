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


@dataclass
class LabelledSequences:
    sequences: list[np.ndarray]  # each (T_i, F), float64
    labels: list[str]
    source: str

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))


UCR_SETS = {  # name → sktime loader; all ship with sktime and load offline, with their standard train/test splits
    "japanese-vowels": "load_japanese_vowels",  # 12 cepstral channels, 9 speakers, 7–29 steps (variable length)
    "basic-motions": "load_basic_motions",  # 6 accelerometer/gyroscope channels, 4 activities, 100 steps
    "gunpoint": "load_gunpoint",  # 1 channel, 2 classes, 150 steps
    "italy-power-demand": "load_italy_power_demand",  # 1 channel, 2 classes, 24 steps
    "arrowhead": "load_arrow_head",  # 1 channel, 3 classes, 251 steps
}


def load_ucr(name: str, split: str) -> LabelledSequences:
    """A built-in UCR/UEA set's ``"train"`` or ``"test"`` split, from sktime (lazily imported)."""
    if name not in UCR_SETS:
        raise RnnlabError(f"no built-in sequence set {name!r}; built-in: {', '.join(UCR_SETS)}")
    try:
        import sktime.datasets as sets
    except ImportError as exc:
        raise RnnlabError(f"the built-in set {name!r} comes with sktime: pip install sktime") from exc
    frame, labels = getattr(sets, UCR_SETS[name])(split=split, return_X_y=True)  # nested: one Series per cell
    sequences = [
        np.stack([np.asarray(frame.iloc[i, j], dtype=np.float64) for j in range(frame.shape[1])], axis=1)
        for i in range(len(frame))
    ]  # each (T_i, F)
    return check_sequences(LabelledSequences(sequences, [str(v) for v in labels], f"{name} ({split})"))


def check_sequences(data: LabelledSequences) -> LabelledSequences:
    for i, sequence in enumerate(data.sequences):
        if not np.isfinite(sequence).all():
            raise RnnlabError(f"sequence {i} of {data.source} has {int((~np.isfinite(sequence)).sum())} NaN or "
                              "infinite values; fill or drop them first")  # fmt: skip
        if len(sequence) == 0:
            raise RnnlabError(f"sequence {i} of {data.source} is empty")
    if not data.sequences:
        raise RnnlabError(f"{data.source} has no sequences")
    if len(data.classes) < 2:
        raise RnnlabError(f"{data.source} has a single class ({data.classes[0]!r}); a classifier needs at least two")
    return data


def read_sequence_table(path: str | Path, *, id: str, label: str, time: str | None = None) -> LabelledSequences:
    """Long format: one row per (sequence, step), columns ``id``, optional ``time``, features..., ``label``."""
    frame = read_table(path)
    wanted = [c for c in (id, label, time) if c]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise RnnlabError(
            f"column {', '.join(repr(c) for c in missing)} not found in {path}; columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )
    features = [c for c in frame.columns if c not in wanted]
    for column in (id, label):
        empty = frame[column].isna()
        if empty.any():
            raise RnnlabError(f"column {column!r} of {path} has {int(empty.sum())} missing values (first at line "
                              f"{int(np.flatnonzero(empty.to_numpy())[0]) + 2})")  # fmt: skip
    if not features:
        raise RnnlabError(f"{path} has no feature columns besides {', '.join(wanted)}")
    if time:
        frame = frame.sort_values([id, time], kind="stable")
    sequences, labels = [], []
    for key, group in frame.groupby(id, sort=False):
        values = group[features].apply(lambda col: col.astype(float) if col.dtype.kind in "if" else col)
        try:
            sequences.append(values.to_numpy(dtype=np.float64))
        except ValueError as exc:
            raise RnnlabError(f"sequence {key!r} of {path} has non-numeric features: {exc}") from exc
        if group[label].nunique() != 1:
            raise RnnlabError(f"sequence {key!r} of {path} has more than one label: {sorted(group[label].unique())}")
        labels.append(str(group[label].iloc[0]))
    return check_sequences(LabelledSequences(sequences, labels, str(path)))
