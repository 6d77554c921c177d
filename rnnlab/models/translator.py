"""A trained translation model with its tokenizer: sentences in, translations out (greedy or beam search).

:class:`Tokenizer` turns sentences into ids on both sides (vocabularies built from the training pairs),
:func:`collate` pads a batch, and :class:`Translator` loads a checkpoint of ``rnnlab translate train`` and decodes
with :mod:`rnnlab.decoding`. The training job is :mod:`rnnlab.tasks.translate`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnlab.checkpoint import load_checkpoint, load_error, strip_prefix
from rnnlab.data.pairs import Pair, join_tokens, tokenize_sentence
from rnnlab.data.text import BOS, EOS, PAD, UNK, Vocabulary
from rnnlab.decoding import beam_search, check_beam, greedy_search
from rnnlab.errors import RnnlabError
from rnnlab.models.seq2seq import Seq2Seq, Seq2SeqConfig

TASK = "translate"


@dataclass
class Tokenizer:
    """Sentences ⇄ ids on both sides."""

    source_vocab: Vocabulary  # specials <pad>, <unk>
    target_vocab: Vocabulary  # specials <pad>, <unk>, <s>, </s>
    level: str  # 'word' or 'char'
    lowercase: bool = True

    @classmethod
    def build(cls, pairs: Sequence[Pair], *, level: str, max_vocab: int | None, lowercase: bool = True) -> Tokenizer:
        source = Vocabulary.build((tokenize_sentence(p.source, level, lowercase=lowercase) for p in pairs),
                                  max_size=max_vocab, specials=(PAD, UNK))  # fmt: skip
        target = Vocabulary.build((tokenize_sentence(p.target, level, lowercase=lowercase) for p in pairs),
                                  max_size=max_vocab, specials=(PAD, UNK, BOS, EOS))  # fmt: skip
        return cls(source, target, level, lowercase)

    def tokens(self, text: str) -> list[str]:
        """A sentence of either side as tokens (both sides are tokenised alike)."""
        return tokenize_sentence(text, self.level, lowercase=self.lowercase)

    def target_text(self, ids: Sequence[int]) -> str:
        return join_tokens(self.target_vocab.decode(ids), self.level)

    def reference_text(self, text: str) -> str:
        """A reference as the model would write it (same case and tokens), for BLEU, chrF and exact match."""
        return join_tokens(self.tokens(text), self.level)

    def to_dict(self) -> dict[str, Any]:
        return {"source_vocab": json.loads(self.source_vocab.to_json()),
                "target_vocab": json.loads(self.target_vocab.to_json()), "level": self.level,
                "lowercase": self.lowercase}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokenizer:
        source = Vocabulary(data["source_vocab"]["tokens"], unknown=data["source_vocab"]["unknown"])
        target = Vocabulary(data["target_vocab"]["tokens"], unknown=data["target_vocab"]["unknown"])
        return cls(source, target, data["level"], data["lowercase"])


def encode_pairs(tokenizer: Tokenizer, pairs: Sequence[Pair]) -> list[tuple[list[int], list[int]]]:
    """(source ids, target ids + </s>) per pair."""
    eos = tokenizer.target_vocab.id(EOS)
    return [(tokenizer.source_vocab.encode(tokenizer.tokens(p.source)),
             [*tokenizer.target_vocab.encode(tokenizer.tokens(p.target)), eos]) for p in pairs]  # fmt: skip


def collate(examples: Sequence[tuple[list[int], list[int]]], bos: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Padded source ``(B, S)``, lengths ``(B,)``, decoder input ``<s> y`` ``(B, T)``, decoder target ``y </s>``."""
    sources, targets = [e[0] for e in examples], [e[1] for e in examples]
    lengths = torch.tensor([max(len(s), 1) for s in sources])  # (B,)
    source = torch.zeros(len(examples), int(lengths.max()), dtype=torch.long)  # (B, S), 0 = <pad>
    steps = max(len(t) for t in targets)
    target_in = torch.zeros(len(examples), steps, dtype=torch.long)  # (B, T)
    target_out = torch.zeros(len(examples), steps, dtype=torch.long)  # (B, T)
    for b, (s, t) in enumerate(zip(sources, targets, strict=True)):
        source[b, : len(s)] = torch.tensor(s, dtype=torch.long)
        target_in[b, 0] = bos
        target_in[b, 1 : len(t)] = torch.tensor(t[:-1], dtype=torch.long)
        target_out[b, : len(t)] = torch.tensor(t, dtype=torch.long)
    return source, lengths, target_in, target_out


def log_step(model: Seq2Seq, previous: Tensor, state):
    logits, state, weights = model.step(previous, state)
    return logits.log_softmax(-1), state, weights


@dataclass
class Translation:
    text: str  # the target sentence as the model writes it (tokens joined)
    tokens: list[str]  # target tokens
    source_tokens: list[str]
    score: float  # log p(y | x), </s> included
    normalized: float  # the score beam search ranks by
    attention: np.ndarray | None  # (T + 1, S): a row per target token and </s>
    finished: bool  # False when cut at the length limit


class Translator:
    """A trained model with its tokenizer: sentences in, translations out (greedy or beam search)."""

    def __init__(self, model: Seq2Seq, tokenizer: Tokenizer) -> None:
        self.model, self.tokenizer = model.eval(), tokenizer

    @classmethod
    def load(cls, path: str | Path) -> Translator:
        tensors, document = load_checkpoint(path, task=TASK)
        try:
            model = Seq2Seq(Seq2SeqConfig(**document["model"]))
            model.load_state_dict(strip_prefix("model", tensors))
            tokenizer = Tokenizer.from_dict(document["tokenizer"])
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise RnnlabError(f"{path} does not hold a usable translation model: {load_error(exc)}") from exc
        return cls(model, tokenizer)

    def translate(self, sentences: Sequence[str], *, beam: int = 1, n_best: int = 1, alpha: float = 0.6,
                  max_length: int | None = None, batch_size: int = 64,
                  strict: bool = False) -> list[list[Translation]]:  # fmt: skip
        """``n_best`` translations per sentence (best first). ``strict``: a sentence with no known word is an error
        (otherwise it is translated from ``<unk>`` tokens, as the test set is)."""
        check_beam(beam, max_length or 1, n_best)
        tokens = [self.tokenizer.tokens(s) for s in sentences]
        for sentence, words in zip(sentences, tokens, strict=True):
            if not words:
                raise RnnlabError(f"nothing to translate in {sentence!r}")
            if strict and not any(w in self.tokenizer.source_vocab for w in words):
                raise RnnlabError(
                    f"every {'word' if self.tokenizer.level == 'word' else 'character'} of {sentence!r} is unknown to "
                    f"the model (its source vocabulary has {len(self.tokenizer.source_vocab)} entries)"
                )
        target = self.tokenizer.target_vocab
        bos, eos = target.id(BOS), target.id(EOS)
        out: list[list[Translation]] = []
        with torch.no_grad():
            for i in range(0, len(tokens), batch_size):
                chunk = tokens[i : i + batch_size]
                ids = [(self.tokenizer.source_vocab.encode(t), [eos]) for t in chunk]
                source, lengths, _, _ = collate(ids, bos)
                state = self.model.start(source, lengths)
                limit = max_length or 2 * int(lengths.max()) + 10
                step = lambda p, s: log_step(self.model, p, s)  # noqa: E731
                if beam == 1:
                    results = [[h] for h in greedy_search(step, state, len(chunk), bos=bos, eos=eos, max_length=limit)]
                else:
                    results = beam_search(step, lambda s, index: s.select(index), state, len(chunk), bos=bos, eos=eos,
                                          max_length=limit, beam_size=beam, alpha=alpha, n_best=n_best)  # fmt: skip
                for words, hypotheses in zip(chunk, results, strict=True):
                    out.append([Translation(self.tokenizer.target_text(h.tokens), target.decode(h.tokens), words,
                                            h.score, h.normalized, None if h.attention is None
                                            else h.attention.numpy(), h.finished) for h in hypotheses])  # fmt: skip
        return out
