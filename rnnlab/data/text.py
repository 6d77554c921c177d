"""Text in: reading files with clear errors about encodings, tokenisers, and a vocabulary saved as JSON.

Shared by the language model (characters or words), the classifier (words) and translation (words or characters).

- :func:`read_text` decodes a file strictly: an undecodable byte is a one-line error naming the file, the byte offset
  and the byte, and suggesting ``--encoding latin-1`` (the other common copy of many corpora); a NUL byte means a
  binary file; an empty file is refused.
- :func:`word_tokens` lower-cases and splits punctuation off words (``"Don't stop!"`` → ``don't``, ``stop``, ``!``);
  :func:`char_tokens` keeps every character.
- :class:`Vocabulary` maps tokens to ids: special tokens first, then by frequency (ties alphabetically, so the same
  text always gives the same ids), with a size limit and an unknown token.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.errors import RnnlabError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
_WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]", re.UNICODE)


def read_text(path: str | Path, *, encoding: str = "utf-8") -> str:
    """The whole file as a string; missing, empty, binary or undecodable files are one-line errors."""
    path = Path(path)
    if not path.exists():
        raise RnnlabError(f"file not found: {path}")
    if path.is_dir():
        raise RnnlabError(f"{path} is a folder; give a text file")
    raw = path.read_bytes()
    if not raw.strip():
        raise RnnlabError(f"{path} is empty")
    nul = raw.find(b"\x00")
    if nul >= 0 and encoding.lower().replace("-", "") not in ("utf16", "utf32"):
        raise RnnlabError(f"{path} looks binary (a NUL byte at byte offset {nul}); give a text file")
    try:
        text = raw.decode(encoding)
    except LookupError as exc:
        raise RnnlabError(f"unknown encoding {encoding!r}; try utf-8 or latin-1") from exc
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1]
        hint = " (pass --encoding latin-1 if the file is Latin-1)" if encoding.lower() in ("utf-8", "utf8") else ""
        raise RnnlabError(
            f"{path} is not valid {encoding}: byte 0x{bad.hex()} at byte offset {exc.start}{hint}"
        ) from exc
    return text.removeprefix("\ufeff")  # a byte-order mark (Windows editors write one) is not a character


def read_text_files(path: str | Path, *, encoding: str = "utf-8", pattern: str = "*.txt") -> str:
    """A file, or every file matching ``pattern`` in a folder (sorted by name), joined by blank lines."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob(pattern) if p.is_file())
        if not files:
            raise RnnlabError(f"no {pattern} files in {path}")
        return "\n\n".join(read_text(p, encoding=encoding) for p in files)
    return read_text(path, encoding=encoding)


def word_tokens(text: str, *, lowercase: bool = True) -> list[str]:
    """Words (with inner apostrophes) and punctuation marks as separate tokens."""
    return _WORD.findall(text.lower() if lowercase else text)


def char_tokens(text: str) -> list[str]:
    return list(text)


@dataclass
class Vocabulary:
    """Token ⇄ id. ``tokens[i]`` is the token of id ``i``; the specials come first (``<pad>`` is 0 when present)."""

    tokens: list[str]
    unknown: str | None = UNK  # the token unknown ones map to; None: unknown tokens are an error
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("a vocabulary cannot hold a token twice")
        if self.unknown is not None and self.unknown not in self.tokens:
            raise ValueError(f"the unknown token {self.unknown!r} is not in the vocabulary")
        self._index = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def build(
        cls,
        sequences: Iterable[Sequence[str]],
        *,
        max_size: int | None = None,
        min_count: int = 1,
        specials: Sequence[str] = (PAD, UNK),
        unknown: str | None = UNK,
    ) -> Vocabulary:
        """Most frequent tokens first (ties alphabetical), at most ``max_size`` in all (specials included)."""
        if max_size is not None and max_size <= len(specials):
            raise ValueError(f"max_size must leave room beyond the {len(specials)} special tokens, got {max_size!r}")
        counts = Counter(token for sequence in sequences for token in sequence)
        ranked = sorted(
            (t for t, c in counts.items() if c >= min_count and t not in specials), key=lambda t: (-counts[t], t)
        )
        room = None if max_size is None else max_size - len(specials)
        return cls([*specials, *ranked[:room]], unknown=unknown if unknown in specials else None)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def id(self, token: str) -> int:
        return self._index[token]

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; unknown ones map to the unknown token, or are an error that lists them."""
        if self.unknown is None:
            missing = sorted({t for t in tokens if t not in self._index})
            if missing:
                shown = ", ".join(repr(t) for t in missing[:10]) + (" ..." if len(missing) > 10 else "")
                raise RnnlabError(f"{len(missing)} token(s) not in the vocabulary: {shown}")
            return [self._index[t] for t in tokens]
        fallback = self._index[self.unknown]
        return [self._index.get(t, fallback) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def to_json(self) -> str:
        return json.dumps({"tokens": self.tokens, "unknown": self.unknown}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        data = json.loads(text)
        return cls(list(data["tokens"]), unknown=data.get("unknown"))
