r"""A tag for every step: words (part of speech) or numeric rows (a phase, an anomaly), BiLSTM + CRF.

Text (Lample et al. 2016; Ma and Hovy 2016): each word is the concatenation of a word embedding (lower-cased; words
seen once are replaced by ``<unk>`` with probability :math:`\alpha/(\alpha+1)` during training, so the unknown-word
vector is learnt) and a character CNN over its letters, case kept (so a word never seen still gets a representation
from its shape and suffix):

.. math::
    x_t = [\,E_w\,w_t \;;\; \max_j \mathrm{relu}(W_c * E_c\,c_{t,j-1:j+1})\,],\qquad
    h_t = [\overrightarrow{\mathrm{LSTM}}(x)_t ; \overleftarrow{\mathrm{LSTM}}(x)_t],\qquad e_t = W_o\,h_t + b_o

Numeric rows: :math:`x_t` is the row of features standardised with the training mean and deviation. The per-step
scores :math:`e_t` feed a linear-chain CRF (:mod:`rnnlab.models.crf`; trained on the sentence's log-likelihood,
decoded by Viterbi) or, with ``head='softmax'``, a softmax per step. Early stopping watches the validation token
accuracy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.checkpoint import fingerprint, load_checkpoint, save_checkpoint, strip_prefix, with_prefix
from rnnlab.data.tagged import Tagged
from rnnlab.errors import RnnlabError
from rnnlab.models.crf import CRF
from rnnlab.nn import LAYERS, checks
from rnnlab.train import FitResult, TrainConfig, fit

HEADS = ("crf", "softmax")
PAD, UNK = 0, 1  # word and character indices


@dataclass(frozen=True)
class TaggerConfig:
    cell: str = "lstm"
    head: str = "crf"  # 'crf' (Viterbi over tag transitions) or 'softmax' (each step alone)
    word_dim: int = 100
    char_dim: int = 30
    char_filters: int = 50  # the character CNN's width-3 filters: 0 turns the character encoder off
    hidden_size: int = 128  # per direction
    num_layers: int = 1
    dropout: float = 0.5  # on the word vectors and the BiLSTM's outputs
    unk_alpha: float = 0.25  # word dropout: a word seen n times becomes <unk> with probability alpha / (alpha + n)
    batch_size: int = 16

    def __post_init__(self) -> None:
        checks.one_of("cell", self.cell, tuple(LAYERS))
        checks.one_of("head", self.head, HEADS)
        for name in ("word_dim", "char_dim", "hidden_size", "num_layers", "batch_size"):
            checks.positive_int(name, getattr(self, name))
        if not isinstance(self.char_filters, int) or self.char_filters < 0:
            raise RnnlabError(f"char_filters must be a whole number ≥ 0, got {self.char_filters!r}")
        checks.dropout_probability(self.dropout)
        if not self.unk_alpha >= 0:
            raise RnnlabError(f"unk_alpha must be ≥ 0, got {self.unk_alpha!r}")


@dataclass
class Vocabulary:
    """What the network reads: words (lower-cased) and characters for text, feature scaling for numbers."""

    tags: list[str]
    words: list[str] = None  # index 2.. (0 padding, 1 <unk>)
    chars: list[str] = None
    counts: list[int] = None  # training count of each word in ``words``
    features: list[str] = None
    mean: list[float] = None
    std: list[float] = None

    @classmethod
    def build(cls, train: Tagged, extra: Tagged | None = None, tags: list[str] | None = None) -> Vocabulary:
        """From the training data (and extra training data); ``tags`` (default: those seen) when the corpus declares
        its tag set."""
        tags = sorted(set(tags or ()) | {t for part in (train, extra) if part for t in part.tag_set()})
        if train.numeric:
            rows = np.concatenate(train.steps)
            std = rows.std(axis=0)
            return cls(tags, features=list(train.features), mean=rows.mean(axis=0).tolist(),
                       std=np.where(std > 0, std, 1.0).tolist())  # fmt: skip
        counts = Counter(w.lower() for part in (train, extra) if part for sentence in part.steps for w in sentence)
        chars = Counter(c for part in (train, extra) if part for sentence in part.steps for w in sentence for c in w)
        words = sorted(counts, key=lambda w: (-counts[w], w))
        return cls(tags, words=words, chars=sorted(chars), counts=[counts[w] for w in words])

    @property
    def numeric(self) -> bool:
        return self.features is not None


class TaggerNet(nn.Module):
    """``(B, T)`` word indices and ``(B, T, L)`` characters (or ``(B, T, F)`` rows) → ``(B, T, K)`` tag scores."""

    def __init__(self, vocab: Vocabulary, config: TaggerConfig) -> None:
        super().__init__()
        self.numeric = vocab.numeric
        if self.numeric:
            size = len(vocab.features)
            self.register_buffer("mean", torch.tensor(vocab.mean, dtype=torch.float32))
            self.register_buffer("std", torch.tensor(vocab.std, dtype=torch.float32))
        else:
            self.word_embedding = nn.Embedding(len(vocab.words) + 2, config.word_dim, padding_idx=PAD)
            size = config.word_dim
            if config.char_filters:
                self.char_embedding = nn.Embedding(len(vocab.chars) + 2, config.char_dim, padding_idx=PAD)
                self.char_cnn = nn.Conv1d(config.char_dim, config.char_filters, kernel_size=3, padding=1)
                size += config.char_filters
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = LAYERS[config.cell](size, config.hidden_size, num_layers=config.num_layers, batch_first=True,
                                       bidirectional=True)  # fmt: skip
        self.output = nn.Linear(2 * config.hidden_size, len(vocab.tags))
        self.crf = CRF(len(vocab.tags)) if config.head == "crf" else None

    def forward(self, inputs: Tensor, chars: Tensor | None, lengths: Tensor) -> Tensor:
        if self.numeric:
            x = (inputs - self.mean) / self.std  # (B, T, F)
        else:
            x = self.word_embedding(inputs)  # (B, T, Dw)
            if chars is not None and hasattr(self, "char_cnn"):
                b, t, length = chars.shape
                letters = self.char_embedding(chars.reshape(b * t, length)).transpose(1, 2)  # (B*T, Dc, L)
                shapes = torch.relu(self.char_cnn(letters)).amax(dim=2).reshape(b, t, -1)  # (B, T, C)
                x = torch.cat([x, shapes], dim=-1)
            x = self.dropout(x)
        outputs, _ = self.rnn(x, lengths=lengths)  # (B, T, 2H)
        return self.output(self.dropout(outputs))  # (B, T, K)


class Tagger:
    """Train on tagged sequences; tag new ones.

    >>> from rnnlab.data.tagged import wsj_split
    >>> train, validation, test = wsj_split()
    >>> tagger = Tagger(head="crf").fit(train, validation, run_dir="runs/tag")
    >>> tagger.predict([["The", "cat", "sat", "."]])   # [['DT', 'NN', 'VBD', '.']]
    """

    def __init__(self, config: TaggerConfig | None = None, train_config: TrainConfig | None = None,
                 **options: Any) -> None:  # fmt: skip
        known = {f.name for f in fields(TaggerConfig)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise RnnlabError(f"unknown option {', '.join(unknown)}; options: {', '.join(sorted(known))}")
        self.config = replace(config or TaggerConfig(), **options)
        self.train_config = train_config or TrainConfig(epochs=30, lr=2e-3, patience=5, lr_patience=2, progress=False)
        self.vocab: Vocabulary | None = None
        self.net: TaggerNet | None = None
        self.result: FitResult | None = None

    # ----- training ----------------------------------------------------------------------------------------------
    def fit(self, train: Tagged, validation: Tagged, *, silver: Tagged | None = None, tags: list[str] | None = None,
            run_dir: str | Path, resume: bool = False, log=print) -> Tagger:  # fmt: skip
        """Train on ``train`` (and the ``silver`` sequences, machine-tagged extra data, if given); keep the weights
        with the best validation token accuracy. ``tags``: the full tag set, when it holds tags training lacks."""
        if silver is not None and silver.numeric != train.numeric:
            raise RnnlabError("the silver data must be of the same kind (text or numeric) as the training data")
        self.vocab = Vocabulary.build(train, silver, tags)
        torch.manual_seed(self.train_config.seed)
        self.net = TaggerNet(self.vocab, self.config)
        data = train if silver is None else Tagged(train.steps + silver.steps, train.tags + silver.tags,
                                                   train.source, train.features)  # fmt: skip
        task = _TaggingTask(self, data, validation)
        log(f"{len(data):,} training sequences ({data.tokens():,} steps{', with the silver data' if silver else ''}), "
            f"{len(validation):,} validation; {len(self.vocab.tags)} tags"
            + ("" if self.vocab.numeric else f", {len(self.vocab.words):,} words"))  # fmt: skip
        self.result = fit(self.net, task, self.train_config, run_dir, metadata=self.metadata(), resume=resume, log=log)
        self.net.eval()
        return self

    # ----- encoding ----------------------------------------------------------------------------------------------
    def encode(self, sequences: list, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor | None, Tensor]:
        """Sequences (word lists or ``(T, F)`` arrays) → inputs ``(B, T)`` or ``(B, T, F)``, characters
        ``(B, T, L)`` or None, lengths ``(B,)``. With a ``generator``, rare words become ``<unk>`` at random."""
        lengths = torch.tensor([len(s) for s in sequences])
        width = int(lengths.max())
        if self.vocab.numeric:
            inputs = torch.zeros(len(sequences), width, len(self.vocab.features))
            for row, s in enumerate(sequences):
                inputs[row, : len(s)] = torch.as_tensor(np.asarray(s, dtype=np.float32))
            return inputs, None, lengths
        index = self._word_index()
        words = torch.zeros(len(sequences), width, dtype=torch.long)
        for row, s in enumerate(sequences):
            words[row, : len(s)] = torch.tensor([index.get(w.lower(), UNK) for w in s])
        if generator is not None and self.config.unk_alpha > 0:
            counts = self._counts()[words]  # (B, T)
            chance = self.config.unk_alpha / (self.config.unk_alpha + counts.clamp(min=1))
            drop = (torch.rand(words.shape, generator=generator) < chance) & (counts > 0) & (counts <= 1)
            words = torch.where(drop, torch.full_like(words, UNK), words)
        chars = None
        if self.config.char_filters:
            letters = self._char_index()
            longest = max(1, min(20, max(len(w) for s in sequences for w in s)))
            chars = torch.zeros(len(sequences), width, longest, dtype=torch.long)
            for row, s in enumerate(sequences):
                for col, w in enumerate(s):
                    if len(w) > longest:  # a long word: its start and its end (the suffix tells the most)
                        w = w[: longest // 2] + w[-(longest - longest // 2) :]
                    chars[row, col, : len(w)] = torch.tensor([letters.get(c, UNK) for c in w])
        return words, chars, lengths

    def _word_index(self) -> dict[str, int]:
        if getattr(self, "_words", None) is None:
            self._words = {w: i + 2 for i, w in enumerate(self.vocab.words)}
        return self._words

    def _char_index(self) -> dict[str, int]:
        if getattr(self, "_chars", None) is None:
            self._chars = {c: i + 2 for i, c in enumerate(self.vocab.chars)}
        return self._chars

    def _counts(self) -> Tensor:
        if getattr(self, "_count_table", None) is None:
            self._count_table = torch.tensor([0, 0, *self.vocab.counts])
        return self._count_table

    def loss(self, sequences: list, tags: list[list[str]], generator: torch.Generator | None = None,
             model: nn.Module | None = None) -> Tensor:  # fmt: skip
        """Mean negative log-likelihood per step (CRF) or cross-entropy per step (softmax)."""
        inputs, chars, lengths = self.encode(sequences, generator)
        tag_index = {t: i for i, t in enumerate(self.vocab.tags)}
        targets = torch.zeros(len(tags), int(lengths.max()), dtype=torch.long)
        for row, labels in enumerate(tags):
            targets[row, : len(labels)] = torch.tensor([tag_index[t] for t in labels])
        emissions = (model or self.net)(inputs, chars, lengths)
        mask = torch.arange(emissions.shape[1])[None, :] < lengths[:, None]  # (B, T)
        if self.net.crf is not None:
            return -self.net.crf.log_likelihood(emissions, targets, mask).sum() / lengths.sum()
        return nn.functional.cross_entropy(emissions[mask], targets[mask])

    # ----- tagging -----------------------------------------------------------------------------------------------
    def predict(self, sequences: list, batch_size: int = 256) -> list[list[str]]:
        """A tag for every step of every sequence (word lists, or ``(T, F)`` arrays for a numeric tagger)."""
        self._require_fitted()
        for number, s in enumerate(sequences):
            if len(s) == 0:
                raise RnnlabError(f"sequence {number + 1} has no steps; every sequence needs at least one")
            shape = np.shape(s) if self.vocab.numeric else None
            if shape is not None and (len(shape) != 2 or shape[1] != len(self.vocab.features)):
                raise RnnlabError(f"sequence {number + 1}: expected rows of {len(self.vocab.features)} features "
                                  f"({', '.join(self.vocab.features)})")  # fmt: skip
            if not self.vocab.numeric and not all(isinstance(w, str) for w in s):
                raise RnnlabError(f"sequence {number + 1}: expected a list of words (strings)")
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))  # similar lengths batch together
        out: list[list[str] | None] = [None] * len(sequences)
        was_training = self.net.training
        self.net.eval()
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                chosen = order[start : start + batch_size]
                inputs, chars, lengths = self.encode([sequences[i] for i in chosen])
                emissions = self.net(inputs, chars, lengths)
                if self.net.crf is not None:
                    mask = torch.arange(emissions.shape[1])[None, :] < lengths[:, None]
                    paths = self.net.crf.decode(emissions, mask)
                else:
                    best = emissions.argmax(-1).tolist()
                    paths = [row[:length] for row, length in zip(best, lengths.tolist())]
                for i, path in zip(chosen, paths):
                    out[i] = [self.vocab.tags[k] for k in path]
        self.net.train(was_training)
        return out

    def known_words(self) -> set[str]:
        """The words (lower-cased) of the training data: a test word outside it is 'unknown'."""
        return set() if self.vocab.numeric else set(self.vocab.words)

    # ----- persistence -------------------------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        return {"task": "tag", "tagger": asdict(self.config), "vocabulary": asdict(self.vocab)}

    def save(self, path: str | Path) -> None:
        self._require_fitted()
        save_checkpoint(path, with_prefix("model", self.net.state_dict()), self.metadata())

    @classmethod
    def load(cls, path: str | Path) -> Tagger:
        tensors, metadata = load_checkpoint(path, task="tag")
        tagger = cls(TaggerConfig(**metadata["tagger"]))
        tagger.vocab = Vocabulary(**metadata["vocabulary"])
        tagger.net = TaggerNet(tagger.vocab, tagger.config)
        tagger.net.load_state_dict(strip_prefix("model", tensors))
        tagger.net.eval()
        return tagger

    def _require_fitted(self) -> None:
        if self.net is None:
            raise RnnlabError("this tagger is not trained yet: call fit() first, or Tagger.load(path)")


class _TaggingTask:
    """Batches of sequences of similar length; validation token accuracy decides the best epoch."""

    def __init__(self, tagger: Tagger, train: Tagged, validation: Tagged) -> None:
        self.tagger, self.train, self.validation = tagger, train, validation
        self.generator = torch.Generator().manual_seed(tagger.train_config.seed + 1)

    def fingerprint(self) -> str:
        sample = [np.frombuffer(" ".join(t).encode(), dtype=np.uint8) for t in self.train.tags[:2000]]
        return fingerprint(*[torch.from_numpy(s.copy()) for s in sample if len(s)])

    def batches(self, epoch: int, generator: torch.Generator):
        size = self.tagger.config.batch_size
        order = torch.randperm(len(self.train), generator=generator).tolist()
        pool = size * 50  # sort by length within pools of 50 batches: little padding, still shuffled
        batches = []
        for start in range(0, len(order), pool):
            part = sorted(order[start : start + pool], key=lambda i: len(self.train.tags[i]))
            batches.extend(part[i : i + size] for i in range(0, len(part), size))
        shuffled = torch.randperm(len(batches), generator=generator).tolist()
        return [batches[i] for i in shuffled]

    def loss(self, model: nn.Module, batch: list[int], state: Any) -> tuple[Tensor, None]:
        sequences = [self.train.steps[i] for i in batch]
        tags = [self.train.tags[i] for i in batch]
        return self.tagger.loss(sequences, tags, self.generator, model), None

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        predicted = self.tagger.predict(self.validation.steps)
        right = sum(p == g for ps, gs in zip(predicted, self.validation.tags) for p, g in zip(ps, gs))
        accuracy = right / max(1, self.validation.tokens())
        return {"val_loss": 1.0 - accuracy, "val_accuracy": accuracy}

    def batch_size(self, batch: list[int]) -> int:
        return len(batch)
