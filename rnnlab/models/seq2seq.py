"""Encoder–decoder with attention (Luong et al. 2015; additive scores as Bahdanau et al. 2014).

Encoder: source ids ``(B, S)`` → embedding → (bidirectional) rnnlab LSTM/GRU with the true lengths → keys ``(B, S, H)``.
A bidirectional encoder has ``H/2`` units per direction, so its outputs and final states (both directions
concatenated) have the decoder's size ``H`` and start the decoder as they are (as OpenNMT's ``brnn`` does).

Decoder, one step per target token (Luong's attentional decoder):

    x_t = [E_y[y_{t-1}] ; h̃_{t-1}]                 (B, E+H)   input feeding (without it: E_y[y_{t-1}] only)
    h_t, s_t = rnn(x_t, s_{t-1})                   (B, H)
    c_t, α_t = attention(h_t, keys)                (B, H), (B, S)
    h̃_t = tanh(W_c [c_t ; h_t])                    (B, H)     attentional hidden state
    p(y_t | y_<t, x) = softmax(W_o h̃_t + b_o)      (B, V)

Training feeds the reference ``y_{t-1}`` (teacher forcing) with probability ``teacher_forcing``, the model's own
previous guess otherwise (scheduled sampling, Bengio et al. 2015). :meth:`Seq2Seq.start` / :meth:`Seq2Seq.step` /
:meth:`DecoderState.select` are what :mod:`rnnlab.decoding` needs for greedy and beam search.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from rnnlab.nn import LAYERS, checks
from rnnlab.nn.attention import KINDS, Attention, Memory


@dataclass(frozen=True)
class Seq2SeqConfig:
    """The network's shape."""

    source_vocab: int  # source tokens (pad = 0)
    target_vocab: int  # target tokens (pad = 0)
    cell: str = "lstm"  # encoder and decoder: a key of rnnlab.nn.LAYERS (lstm, gru, rnn, mingru, minlstm)
    embedding_dim: int = 256  # both sides
    hidden_size: int = 256  # decoder size; a bidirectional encoder has half of it per direction
    num_layers: int = 1  # encoder and decoder layers
    bidirectional: bool = True  # encoder reads both ways
    attention: str = "general"  # 'dot', 'general' or 'additive'
    input_feeding: bool = True  # feed h̃_{t-1} into the decoder's next step
    dropout: float = 0.2  # embeddings, between layers, before the output layer

    def __post_init__(self) -> None:
        checks.one_of("cell", self.cell, tuple(LAYERS))
        checks.one_of("attention", self.attention, KINDS)
        for name in ("source_vocab", "target_vocab", "embedding_dim", "hidden_size", "num_layers"):
            checks.positive_int(name, getattr(self, name))
        checks.dropout_probability(self.dropout)
        if self.bidirectional and self.hidden_size % 2:
            raise ValueError(
                f"a bidirectional encoder needs an even hidden_size (H/2 per direction), got {self.hidden_size}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DecoderState(NamedTuple):
    """Everything one decoding step needs; rows are hypotheses."""

    rnn: Any  # (L, N, H), or a pair of them (LSTM)
    feed: Tensor  # (N, H) h̃ of the previous step (zeros at the start)
    memory: Memory  # keys (N, S, H), their projection, mask (N, S)

    def select(self, index: Tensor) -> DecoderState:
        """The hypotheses ``index`` ``(N',)``, e.g. the surviving beams."""
        rnn = (
            tuple(s.index_select(1, index) for s in self.rnn)
            if isinstance(self.rnn, tuple)
            else self.rnn.index_select(1, index)
        )
        return DecoderState(rnn, self.feed.index_select(0, index), self.memory.select(index))


class Seq2Seq(nn.Module):
    """``forward(source, lengths, target_in)`` → logits ``(B, T, V)`` and attention weights ``(B, T, S)``."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        layer = LAYERS[c.cell]
        between = c.dropout if c.num_layers > 1 else 0.0
        encoder_size = c.hidden_size // 2 if c.bidirectional else c.hidden_size
        self.source_embedding = nn.Embedding(c.source_vocab, c.embedding_dim, padding_idx=0)
        self.target_embedding = nn.Embedding(c.target_vocab, c.embedding_dim, padding_idx=0)
        self.encoder = layer(c.embedding_dim, encoder_size, num_layers=c.num_layers, bidirectional=c.bidirectional,
                             batch_first=True, dropout=between)  # fmt: skip
        feed = c.hidden_size if c.input_feeding else 0
        self.decoder = layer(c.embedding_dim + feed, c.hidden_size, num_layers=c.num_layers, batch_first=True,
                             dropout=between)  # fmt: skip
        self.attention = Attention(c.attention, c.hidden_size, c.hidden_size)
        self.combine = nn.Linear(2 * c.hidden_size, c.hidden_size, bias=False)  # W_c
        self.dropout = nn.Dropout(c.dropout)
        self.output = nn.Linear(c.hidden_size, c.target_vocab)  # W_o, b_o

    def start(self, source: Tensor, lengths: Tensor) -> DecoderState:
        """Encode ``source`` ``(B, S)`` (pad 0, true ``lengths`` ``(B,)``) into the decoder's first state."""
        embedded = self.dropout(self.source_embedding(source))  # (B, S, E)
        keys, final = self.encoder(embedded, lengths=lengths)  # (B, S, H); final (L*D, B, H/D) or a pair
        mask = torch.arange(source.shape[1])[None, :] < lengths[:, None]  # (B, S)
        rnn = tuple(self._bridge(s) for s in final) if isinstance(final, tuple) else self._bridge(final)
        feed = torch.zeros_like(keys[:, 0])  # (B, H); from a tensor, so an exported graph keeps B free
        return DecoderState(rnn, feed, self.attention.prepare(keys, mask))

    def _bridge(self, final: Tensor) -> Tensor:
        """Encoder final states ``(L*D, B, H/D)`` → initial decoder states ``(L, B, H)``, directions side by side."""
        if not self.config.bidirectional:
            return final
        layers, batch = self.config.num_layers, final.shape[1]
        return final.view(layers, 2, batch, -1).permute(0, 2, 1, 3).reshape(layers, batch, -1)  # (L, B, H)

    def step(self, previous: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState, Tensor]:
        """One target token: previous ids ``(N,)`` → logits ``(N, V)``, the next state, attention ``(N, S)``."""
        inputs = self.dropout(self.target_embedding(previous))  # (N, E)
        if self.config.input_feeding:
            inputs = torch.cat([inputs, state.feed], dim=-1)  # (N, E+H)
        output, rnn = self.decoder(inputs.unsqueeze(1), state.rnn)  # (N, 1, H)
        hidden = output.squeeze(1)  # (N, H)
        context, weights = self.attention(hidden, state.memory)  # (N, H), (N, S)
        attentional = torch.tanh(self.combine(torch.cat([context, hidden], dim=-1)))  # h̃ (N, H)
        logits = self.output(self.dropout(attentional))  # (N, V)
        return logits, DecoderState(rnn, attentional, state.memory), weights

    def forward(
        self, source: Tensor, lengths: Tensor, target_in: Tensor, *, teacher_forcing: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:  # fmt: skip
        """``target_in`` ``(B, T)`` starts with ``<s>``; returns logits ``(B, T, V)`` and weights ``(B, T, S)``."""
        return self.decode(self.start(source, lengths), target_in, teacher_forcing=teacher_forcing, generator=generator)

    def decode(
        self, state: DecoderState, target_in: Tensor, *, teacher_forcing: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:  # fmt: skip
        """The decoder over ``target_in`` ``(B, T)`` from an encoded ``state`` (:meth:`start`), as :meth:`forward`."""
        previous = target_in[:, 0]  # (B,) <s>
        all_logits, all_weights = [], []
        for t in range(target_in.shape[1]):
            if t > 0:
                previous = target_in[:, t]
                if teacher_forcing < 1.0:  # scheduled sampling: the model's own guess where the coin says so
                    guess = all_logits[-1].argmax(-1)  # (B,)
                    own = torch.rand(len(guess), generator=generator) >= teacher_forcing  # (B,)
                    previous = torch.where(own, guess, previous)
            logits, state, weights = self.step(previous, state)
            all_logits.append(logits)
            all_weights.append(weights)
        return torch.stack(all_logits, dim=1), torch.stack(all_weights, dim=1)  # (B, T, V), (B, T, S)
