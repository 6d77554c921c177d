"""A recurrent language model: token ids → embedding → RNN/LSTM/GRU → linear head → next-token logits.

    e_t = E[x_t]                                 (B, T, E)   embedding
    h_t, s_t = cell(dropout(e_t), s_{t-1})       (B, T, H)   rnnlab layer, state s carried between calls
    z_t = W dropout(h_t) + b                     (B, T, V)   logits of x_{t+1}

With ``tie_weights`` the head reuses the embedding matrix, ``W = E`` (Press & Wolf 2017, Inan et al. 2017), which
needs ``embedding_dim == hidden_size``; it saves ``V·H`` parameters and usually helps word-level models.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.checkpoint import fingerprint
from rnnlab.data.corpus import Corpus, evaluation_batches, training_batches
from rnnlab.nn import LAYERS, checks
from rnnlab.nn.init import keras_init_


@dataclass(frozen=True)
class LanguageModelConfig:
    """The network's shape."""

    vocab_size: int  # tokens in the vocabulary
    cell: str = "lstm"  # a key of rnnlab.nn.LAYERS: lstm, gru, rnn (tanh), mingru, minlstm
    embedding_dim: int = 128  # token embedding size
    hidden_size: int = 512  # size of h in every layer
    num_layers: int = 2  # stacked layers
    dropout: float = 0.2  # on the embeddings, between layers and before the head
    tie_weights: bool = False  # the head reuses the embedding matrix (embedding_dim must equal hidden_size)
    init: str = "torch"  # 'torch' (uniform ±1/√H) or 'keras' (Glorot, orthogonal, forget bias 1)

    def __post_init__(self) -> None:
        checks.one_of("cell", self.cell, tuple(LAYERS))
        checks.one_of("init", self.init, ("torch", "keras"))
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            checks.positive_int(name, getattr(self, name))
        checks.dropout_probability(self.dropout)
        if self.tie_weights and self.embedding_dim != self.hidden_size:
            raise ValueError(
                f"tied weights need embedding_dim == hidden_size, got {self.embedding_dim} and {self.hidden_size}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class LanguageModel(nn.Module):
    """``forward(ids (B, T), state)`` → ``(logits (B, T, V), state)``; ``state`` is None or the layer's final state."""

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        between = config.dropout if config.num_layers > 1 else 0.0  # inter-layer dropout
        self.rnn = LAYERS[config.cell](config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
                                       batch_first=True, dropout=between)  # fmt: skip
        if config.init == "keras":
            keras_init_(self.rnn)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_weights:
            self.head.weight = self.embedding.weight  # (V, H) shared with (V, E)

    def forward(self, ids: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        embedded = self.dropout(self.embedding(ids))  # (B, T, E)
        outputs, state = self.rnn(embedded, state)  # (B, T, H); state (L, B, H) or a pair of them (LSTM)
        return self.head(self.dropout(outputs)), state  # (B, T, V)


class LanguageModelTask:
    """The :class:`~rnnlab.train.TrainingTask` of language modelling: contiguous ``(B, T)`` batches whose state flows
    from one batch to the next; the whole validation text scored with the state carried."""

    def __init__(self, corpus: Corpus, *, batch_size: int, bptt: int, eval_streams: int = 64) -> None:
        self.corpus, self.batch, self.bptt, self.eval_streams = corpus, batch_size, bptt, eval_streams

    def fingerprint(self) -> str:
        return fingerprint(self.corpus.train, self.corpus.val)

    def batches(self, epoch: int, generator: torch.Generator) -> list[tuple[Tensor, Tensor]]:
        offset = int(torch.randint(0, self.bptt, (1,), generator=generator))  # batch boundaries move every epoch
        return training_batches(self.corpus.train, self.batch, self.bptt, offset)

    def loss(self, model: nn.Module, batch: tuple[Tensor, Tensor], state: Any) -> tuple[Tensor, Any]:
        inputs, targets = batch  # (B, T) each
        logits, state = model(inputs, state)  # (B, T, V)
        return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten()), state

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        nats = evaluate_loss(model, self.corpus.val, streams=self.eval_streams, bptt=256)
        return describe_loss(nats, self.corpus.level)

    def batch_size(self, batch: tuple[Tensor, Tensor]) -> int:
        return batch[0].numel()  # tokens


def evaluate_loss(model: nn.Module, ids: Tensor, *, streams: int = 64, bptt: int = 256) -> float:
    """Mean cross-entropy (nats per token) over every token of ``ids`` after the first, the state carried."""
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for inputs, targets in evaluation_batches(ids, streams, bptt):
            logits, state = model(inputs, state)  # (S, T, V)
            total += nn.functional.cross_entropy(
                logits.flatten(0, 1), targets.flatten(), ignore_index=-1, reduction="sum"
            ).item()
            count += int((targets >= 0).sum())
    return total / count


def describe_loss(nats: float, level: str) -> dict[str, float]:
    """``val_loss`` in nats per token, with bits per character (char level) or perplexity (word level)."""
    if level == "char":
        return {"val_loss": nats, "val_bpc": nats / math.log(2)}
    return {"val_loss": nats, "val_ppl": math.exp(min(nats, 50.0))}
