"""A text corpus for language modelling: tokens, vocabulary, the train/validation split and contiguous batches.

As char-rnn does it: the training text is cut into ``B`` contiguous streams (one per batch row), and each batch is the
next ``T`` tokens of every stream, so the hidden state at the end of one batch is the right start for the next one
(stateful truncated BPTT). Each epoch starts the streams at a different offset, so batch boundaries move.

The validation text is the *end* of the corpus (the last ``val_fraction``, as nanoGPT splits tiny-shakespeare), and
every validation token is scored exactly once, by reading it as ``B`` contiguous streams with the state carried.

Word level keeps line breaks as tokens (verse and play format live in them) and the case of words; ids of words
beyond ``max_vocab`` become ``<unk>``. :func:`detokenize` joins words back with spaces, none before punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from rnnlab.data.text import UNK, Vocabulary, read_text_files
from rnnlab.errors import RnnlabError

_LM_WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]|\n", re.UNICODE)
_NO_SPACE_BEFORE = set(".,;:!?)]}'\n")


def tokenize(text: str, level: str) -> list[str]:
    """Characters, or words + punctuation + line breaks (``level='word'``)."""
    if level == "char":
        return list(text)
    if level == "word":
        return _LM_WORD.findall(text)
    raise ValueError(f"level must be 'char' or 'word', got {level!r}")


def detokenize(tokens: list[str], level: str) -> str:
    previous, pieces = None, []
    for token in tokens:
        pieces.append(text_piece(previous, token, level))
        previous = token
    return "".join(pieces)


def text_piece(previous: str | None, token: str, level: str) -> str:
    """How ``token`` is written after ``previous``: itself, or with a space before it (words, not punctuation)."""
    if level == "char" or previous is None or previous == "\n" or previous in "([{" or token in _NO_SPACE_BEFORE:
        return token
    return " " + token


@dataclass
class Corpus:
    """Token ids of a text, split into a training part and the validation part at its end."""

    vocab: Vocabulary
    level: str  # 'char' or 'word'
    train: Tensor  # (N_train,) int64 token ids
    val: Tensor  # (N_val,) int64
    source: str  # the file or folder it came from, for messages

    @classmethod
    def from_text(
        cls, text: str, *, level: str = "char", val_fraction: float = 0.1, max_vocab: int | None = None, source: str
    ) -> Corpus:
        if not 0 < val_fraction < 0.5:
            raise ValueError(f"val_fraction must be in (0, 0.5), got {val_fraction!r}")
        tokens = tokenize(text, level)
        if len(tokens) < 100:
            raise RnnlabError(f"{source} has only {len(tokens)} {level} tokens; a language model needs at least 100")
        if level == "char":  # every character of the text is in the vocabulary; no unknown token
            vocab = Vocabulary.build([tokens], specials=(), unknown=None)
        else:
            vocab = Vocabulary.build([tokens], max_size=max_vocab, specials=(UNK,), unknown=UNK)
        ids = torch.tensor(vocab.encode(tokens), dtype=torch.long)  # (N,)
        n_val = max(int(len(ids) * val_fraction), 2)
        return cls(vocab, level, ids[:-n_val], ids[-n_val:], source)

    @classmethod
    def from_files(cls, path: str | Path, *, encoding: str = "utf-8", **options) -> Corpus:
        return cls.from_text(read_text_files(path, encoding=encoding), source=str(path), **options)


def training_batches(ids: Tensor, batch_size: int, bptt: int, offset: int = 0) -> list[tuple[Tensor, Tensor]]:
    """Contiguous (inputs, targets) pairs, each ``(B, T)``; row ``b`` of batch ``k+1`` continues that of batch ``k``.

    ``offset`` (< ``bptt``) drops that many tokens at the start, so that batch boundaries move from epoch to epoch.
    """
    usable = ids[offset:]
    length = (len(usable) - 1) // batch_size  # tokens per stream (the last target needs one more)
    if length < 2:
        raise RnnlabError(f"the training text is too short for batch size {batch_size}; lower --batch-size")
    inputs = usable[: batch_size * length].view(batch_size, length)  # (B, L)
    targets = usable[1 : batch_size * length + 1].view(batch_size, length)  # (B, L)
    return [(inputs[:, s : s + bptt], targets[:, s : s + bptt]) for s in range(0, length, bptt)]


def evaluation_batches(ids: Tensor, streams: int, bptt: int) -> list[tuple[Tensor, Tensor]]:
    """Every token of ``ids`` after the first is a target exactly once; the state is carried along each stream.

    The ``N - 1`` targets are cut into ``streams`` rows; a short last row is padded with ``-1`` targets (ignored).
    """
    n = len(ids) - 1
    streams = max(1, min(streams, n))
    length = -(-n // streams)  # ceil
    inputs = torch.zeros(streams * length, dtype=torch.long)
    targets = torch.full((streams * length,), -1, dtype=torch.long)
    inputs[:n], targets[:n] = ids[:-1], ids[1:]
    inputs, targets = inputs.view(streams, length), targets.view(streams, length)  # (S, L)
    return [(inputs[:, s : s + bptt], targets[:, s : s + bptt]) for s in range(0, length, bptt)]
