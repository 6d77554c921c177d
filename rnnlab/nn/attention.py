"""Attention over encoder states: dot and general (Luong et al. 2015), additive (Bahdanau et al. 2014).

For a decoder state (the query) ``q`` ``(B, Q)`` and encoder states (the keys, also the values) ``k_s`` ``(B, S, K)``:

    dot:       score_s = q · k_s                            (Q == K)
    general:   score_s = q · (W_a k_s)                      W_a: (Q, K)
    additive:  score_s = v_a · tanh(W_q q + W_k k_s)         W_q: (A, Q), W_k: (A, K), v_a: (A,)

    α = softmax(score) over the real source positions (padding masked out)      (B, S)
    context = Σ_s α_s k_s                                                        (B, K)

The key-side projection (``W_a k_s`` or ``W_k k_s``) does not depend on the query, so :meth:`Attention.prepare`
computes it once per source sentence, and each decoding step reuses it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

KINDS = ("dot", "general", "additive")


class Memory(NamedTuple):
    """What the decoder attends over."""

    keys: Tensor  # (B, S, K) encoder outputs
    projected: Tensor  # (B, S, Q) for general, (B, S, A) for additive, the keys themselves for dot
    mask: Tensor  # (B, S) True at real source positions

    def select(self, index: Tensor) -> Memory:
        """The rows ``index`` (beam search: each hypothesis attends over its own sentence)."""
        return Memory(*(t.index_select(0, index) for t in self))


class Attention(nn.Module):
    """``Attention(kind, query_size, key_size)``; ``forward(query, memory)`` → ``(context (B, K), weights (B, S))``."""

    def __init__(self, kind: str, query_size: int, key_size: int, attention_size: int | None = None) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"attention must be one of {', '.join(KINDS)}, got {kind!r}")
        if kind == "dot" and query_size != key_size:
            raise ValueError(
                f"dot attention needs equal query and key sizes, got {query_size} and {key_size}; "
                "use 'general' or 'additive' (a bidirectional encoder doubles the key size)"
            )
        self.kind = kind
        if kind == "general":
            self.key_proj = nn.Linear(key_size, query_size, bias=False)  # W_a
        elif kind == "additive":
            size = attention_size or query_size
            self.key_proj = nn.Linear(key_size, size, bias=False)  # W_k
            self.query_proj = nn.Linear(query_size, size, bias=True)  # W_q (and a bias)
            self.v = nn.Linear(size, 1, bias=False)  # v_a

    def prepare(self, keys: Tensor, mask: Tensor) -> Memory:
        """The query-independent part, once per source batch: keys ``(B, S, K)``, mask ``(B, S)``."""
        projected = keys if self.kind == "dot" else self.key_proj(keys)  # (B, S, Q) or (B, S, A)
        return Memory(keys, projected, mask)

    def scores(self, query: Tensor, memory: Memory) -> Tensor:
        """Unnormalised scores ``(B, S)`` for a query ``(B, Q)``."""
        if self.kind == "additive":
            hidden = torch.tanh(memory.projected + self.query_proj(query).unsqueeze(1))  # (B, S, A)
            return self.v(hidden).squeeze(-1)  # (B, S)
        return torch.bmm(memory.projected, query.unsqueeze(-1)).squeeze(-1)  # (B, S)

    def forward(self, query: Tensor, memory: Memory) -> tuple[Tensor, Tensor]:
        scores = self.scores(query, memory).masked_fill(~memory.mask, float("-inf"))  # (B, S)
        weights = scores.softmax(dim=-1)  # (B, S), zero at padding
        context = torch.bmm(weights.unsqueeze(1), memory.keys).squeeze(1)  # (B, K)
        return context, weights
