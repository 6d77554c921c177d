"""Many-to-one: a sequence (token ids or feature vectors) → (embedding →) RNN/LSTM/GRU → pooling → class logits.

Padding never reaches the representation: the recurrent layer gets the true ``lengths`` (torch's packed kernels on
the fused path, masking on the loop), and the pooling ignores the steps past each length:

- ``last``: the state after each sequence's last real token (for a bidirectional layer, the forward direction at the
  last token and the backward direction at the first, i.e. both directions' final states);
- ``mean``: the average of the outputs over the real steps;
- ``max``: the maximum over the real steps;
- ``meanmax``: both, concatenated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnlab.nn import checks
from rnnlab.nn.init import keras_init_
from rnnlab.nn.layers import GRU, LSTM, RNN

LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
POOLINGS = ("last", "mean", "max", "meanmax")


@dataclass(frozen=True)
class ClassifierConfig:
    """The network's shape."""

    cell: str = "lstm"  # 'lstm', 'gru' or 'rnn'
    hidden_size: int = 64  # per direction
    num_layers: int = 1  # stacked layers
    bidirectional: bool = True  # read the sequence both ways
    pooling: str = "meanmax"  # 'last', 'mean', 'max' or 'meanmax'
    embedding_dim: int = 128  # token embedding size (text only)
    dropout: float = 0.3  # on the embeddings, between layers and before the head
    init: str = "keras"  # 'keras' (Glorot, orthogonal, forget bias 1) or 'torch'

    def __post_init__(self) -> None:
        checks.one_of("cell", self.cell, tuple(LAYERS))
        checks.one_of("pooling", self.pooling, POOLINGS)
        checks.one_of("init", self.init, ("keras", "torch"))
        checks.positive_int("hidden_size", self.hidden_size)
        checks.positive_int("num_layers", self.num_layers)
        checks.positive_int("embedding_dim", self.embedding_dim)
        checks.dropout_probability(self.dropout)


def pool(outputs: Tensor, lengths: Tensor, how: str, *, bidirectional: bool) -> Tensor:
    """Pool ``outputs`` ``(B, T, D*H)`` over the real steps of each sequence → ``(B, D*H)`` (``2*D*H`` for meanmax)."""
    steps = torch.arange(outputs.shape[1], device=outputs.device)  # (T,)
    mask = (steps[None, :] < lengths.to(outputs.device)[:, None]).unsqueeze(-1)  # (B, T, 1)
    if how == "last":
        last = outputs[torch.arange(len(outputs)), lengths - 1]  # (B, D*H): forward final state at the last token
        if bidirectional:
            half = outputs.shape[-1] // 2
            last = torch.cat([last[:, :half], outputs[:, 0, half:]], dim=-1)  # backward final state is at t = 0
        return last
    mean = (outputs * mask).sum(dim=1) / lengths.to(outputs)[:, None]  # (B, D*H)
    largest = outputs.masked_fill(~mask, float("-inf")).max(dim=1).values  # (B, D*H)
    return {"mean": mean, "max": largest, "meanmax": torch.cat([mean, largest], dim=-1)}[how]


class SequenceClassifierNet(nn.Module):
    """Token ids ``(B, T)`` (``vocab_size`` > 0) or features ``(B, T, F)`` (``input_size`` > 0) → logits ``(B, C)``."""

    def __init__(self, config: ClassifierConfig, *, classes: int, vocab_size: int = 0, input_size: int = 0) -> None:
        super().__init__()
        if (vocab_size > 0) == (input_size > 0):
            raise ValueError("give exactly one of vocab_size (token ids) and input_size (feature vectors)")
        self.config, self.classes = config, classes
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=0) if vocab_size else None
        features = config.embedding_dim if vocab_size else input_size
        dropout_between = config.dropout if config.num_layers > 1 else 0.0
        self.rnn = LAYERS[config.cell](features, config.hidden_size, num_layers=config.num_layers, batch_first=True,
                                       bidirectional=config.bidirectional, dropout=dropout_between)  # fmt: skip
        if config.init == "keras":
            keras_init_(self.rnn)
        width = config.hidden_size * (2 if config.bidirectional else 1) * (2 if config.pooling == "meanmax" else 1)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(width, classes)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        inputs = self.embedding(x) if self.embedding is not None else x  # (B, T, E) or (B, T, F)
        outputs, _ = self.rnn(self.dropout(inputs), lengths=lengths)  # (B, T, D*H), zero past each length
        pooled = pool(outputs, lengths, self.config.pooling, bidirectional=self.config.bidirectional)
        return self.head(self.dropout(pooled))  # (B, C)
