"""Sentence pairs for translation: reading a TSV, normalising, tokenising, filtering and splitting by source.

- :func:`read_pairs`: one pair a line, ``source<TAB>target``, further columns ignored (the Tatoeba/Anki files carry an
  attribution). A line with one column or an empty side is a one-line error naming the file and line number.
- :func:`normalize`: Unicode NFKC (so ``é`` is one code point whichever way it was typed, and the narrow no-break
  spaces French puts before ``?`` and ``!`` become spaces), whitespace collapsed.
- :func:`tokenize_sentence`: words and punctuation, lower-cased (default), or characters (``level='char'``).
- :func:`split_by_source`: train / validation / test parts such that all the translations of one source sentence fall
  in the same part (the same English sentence often has several French translations; otherwise the test set would
  hold sentences seen in training).
"""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.text import read_text, word_tokens
from rnnlab.errors import RnnlabError


@dataclass(frozen=True)
class Pair:
    source: str  # normalised text
    target: str


def normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def read_pairs(path: str | Path, *, encoding: str = "utf-8") -> list[Pair]:
    """The pairs of a TSV file (``source<TAB>target[<TAB>anything]``), normalised."""
    pairs = []
    for number, line in enumerate(read_text(path, encoding=encoding).splitlines(), start=1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) < 2:
            raise RnnlabError(f"{path}, line {number}: one column; expected source<TAB>target: {line[:60]!r}")
        source, target = normalize(columns[0]), normalize(columns[1])
        if not source or not target:
            side = "source" if not source else "target"
            raise RnnlabError(f"{path}, line {number}: the {side} is empty; every pair needs both sentences")
        pairs.append(Pair(source, target))
    return pairs


def tokenize_sentence(text: str, level: str = "word", *, lowercase: bool = True) -> list[str]:
    if level == "word":
        return word_tokens(text, lowercase=lowercase)
    if level == "char":
        return list(text.lower() if lowercase else text)
    raise ValueError(f"level must be 'word' or 'char', got {level!r}")


def join_tokens(tokens: list[str], level: str) -> str:
    """Tokens back to a string: words with spaces between (punctuation stays a separate token), characters joined."""
    return "".join(tokens) if level == "char" else " ".join(tokens)


def split_by_source(
    pairs: list[Pair], *, test_fraction: float, val_fraction: float, seed: int = 0
) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """Train, validation and test pairs; all pairs that share a source sentence (compared lower-cased) stay together.

    The fractions are of the distinct source sentences.
    """
    for name, value in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0 < value < 0.5:
            raise ValueError(f"{name} must be in (0, 0.5), got {value!r}")
    groups: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        groups[pair.source.lower()].append(pair)
    sources = sorted(groups)
    random.Random(seed).shuffle(sources)
    n_test = max(1, round(len(sources) * test_fraction))
    n_val = max(1, round(len(sources) * val_fraction))
    if len(sources) - n_test - n_val < 1:
        raise RnnlabError(f"only {len(sources)} distinct source sentences: too few to split")
    parts = sources[:n_test], sources[n_test : n_test + n_val], sources[n_test + n_val :]
    test, val, train = ([pair for source in part for pair in groups[source]] for part in parts)
    return train, val, test
