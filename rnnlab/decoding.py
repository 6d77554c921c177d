"""Greedy and beam search over any step function, batched over sentences.

A decoder is given as two functions, so that a test can hand-build the distributions:

- ``step(previous (N,), state) → (log_probs (N, V), state, attention (N, S) or None)``: one token for each of ``N``
  hypotheses;
- ``select(state, index (N',)) → state``: the hypotheses ``index`` (the ones that survive a beam step).

Beam search keeps ``beam_size`` open hypotheses per sentence. At each step every open hypothesis is extended by every
token; the ``2·beam_size`` best extensions are looked at in order: one that ends with ``</s>`` becomes a finished
hypothesis (if it ranks within the beam), the others refill the beam. Finished hypotheses are ranked by their
length-normalised score (Wu et al. 2016)

    score(Y) = log p(Y | X) / lp(Y),      lp(Y) = ((5 + |Y|) / 6)^α        α = 0: the raw log-probability

where ``|Y|`` counts the tokens including ``</s>``. A sentence is done when it has ``beam_size`` finished hypotheses and
its best open one, normalised at the current length, cannot beat the worst of them; at ``max_length`` the open
hypotheses are finished as they are (marked ``finished=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

Step = Callable[[Tensor, Any], tuple[Tensor, Any, Tensor | None]]
Select = Callable[[Any, Tensor], Any]


@dataclass
class Hypothesis:
    tokens: list[int]  # the output ids, without <s> and </s>
    score: float  # log p(tokens, </s> | source)
    normalized: float  # score / lp(len + 1)
    attention: Tensor | None  # (len + 1, S): the weights used for each output token (the last for </s>)
    finished: bool  # ended with </s> (False: cut at max_length)


def length_penalty(length: int, alpha: float) -> float:
    """``((5 + length) / 6) ** alpha`` (Wu et al. 2016)."""
    return ((5.0 + length) / 6.0) ** alpha


def check_beam(beam_size: int, max_length: int, n_best: int = 1) -> None:
    from rnnlab.errors import RnnlabError

    if not isinstance(beam_size, int) or beam_size < 1:
        raise RnnlabError(f"beam size must be a positive whole number, got {beam_size!r} (1 is greedy search)")
    if max_length < 1:
        raise RnnlabError(f"max length must be positive, got {max_length!r}")
    if not 1 <= n_best <= beam_size:
        raise RnnlabError(f"n-best must be between 1 and the beam size {beam_size}, got {n_best!r}")


def greedy_search(step: Step, state: Any, batch: int, *, bos: int, eos: int, max_length: int) -> list[Hypothesis]:
    """The most likely token at every step, for ``batch`` sentences at once."""
    check_beam(1, max_length)
    previous = torch.full((batch,), bos, dtype=torch.long)  # (B,)
    tokens, scores, weights = [], torch.zeros(batch, dtype=torch.float64), []
    done = torch.zeros(batch, dtype=torch.bool)
    for _ in range(max_length):
        log_probs, state, attention = step(previous, state)  # (B, V), (B, S)
        best, previous = log_probs.max(dim=-1)  # (B,), (B,)
        scores += torch.where(done, 0.0, best.double())
        tokens.append(previous)
        if attention is not None:
            weights.append(attention)
        done |= previous == eos
        if bool(done.all()):
            break
    tokens_t = torch.stack(tokens, dim=1)  # (B, T)
    attention_t = torch.stack(weights, dim=1) if weights else None  # (B, T, S)
    out = []
    for b in range(batch):
        row = tokens_t[b].tolist()
        finished = eos in row
        length = row.index(eos) if finished else len(row)
        steps = length + 1 if finished else length
        out.append(Hypothesis(row[:length], float(scores[b]), float(scores[b]), None if attention_t is None
                              else attention_t[b, :steps], finished))  # fmt: skip
    return out


def beam_search(
    step: Step,
    select: Select,
    state: Any,
    batch: int,
    *,
    bos: int,
    eos: int,
    max_length: int,
    beam_size: int = 5,
    alpha: float = 0.6,
    n_best: int = 1,
) -> list[list[Hypothesis]]:
    """The ``n_best`` best hypotheses of each of ``batch`` sentences, best first."""
    check_beam(beam_size, max_length, n_best)
    k = beam_size
    state = select(state, torch.arange(batch).repeat_interleave(k))  # (B*K) rows: K copies of each sentence
    scores = torch.full((batch, k), float("-inf"), dtype=torch.float64)
    scores[:, 0] = 0.0  # one open hypothesis per sentence at the start, so the first step has no duplicates
    previous = torch.full((batch * k,), bos, dtype=torch.long)  # (B*K,)
    history = torch.empty(batch * k, 0, dtype=torch.long)  # (B*K, t) tokens so far
    attention_history: Tensor | None = None  # (B*K, t, S)
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    done = [False] * batch
    for t in range(1, max_length + 1):
        log_probs, state, attention = step(previous, state)  # (B*K, V), (B*K, S)
        vocab = log_probs.shape[-1]
        candidates = (scores.unsqueeze(-1) + log_probs.double().view(batch, k, vocab)).view(batch, k * vocab)
        top_scores, top_index = candidates.topk(min(2 * k, k * vocab), dim=-1)  # (B, 2K)
        origin_rows, new_tokens, new_scores = [], [], []
        for b in range(batch):
            kept: list[tuple[int, int, float]] = []
            for rank, (score, index) in enumerate(zip(top_scores[b].tolist(), top_index[b].tolist(), strict=True)):
                if done[b] or score == float("-inf") or len(kept) == k:
                    break
                row, token = b * k + index // vocab, index % vocab
                if token == eos:
                    if rank < k:  # an ending that ranks within the beam
                        weights = None if attention is None else _attention(attention_history, attention, row)
                        finished[b].append(Hypothesis(history[row].tolist(), score,
                                                      score / length_penalty(t, alpha), weights, True))  # fmt: skip
                    continue
                kept.append((row, token, score))
            while len(kept) < k:  # a finished sentence (or a tiny vocabulary): pad with dead rows
                kept.append((b * k, eos, float("-inf")))
            origin_rows += [row for row, _, _ in kept]
            new_tokens += [token for _, token, _ in kept]
            new_scores += [score for _, _, score in kept]
        origin = torch.tensor(origin_rows)  # (B*K,)
        previous = torch.tensor(new_tokens)  # (B*K,)
        scores = torch.tensor(new_scores, dtype=torch.float64).view(batch, k)
        history = torch.cat([history[origin], previous[:, None]], dim=1)  # (B*K, t)
        if attention is not None:
            step_weights = attention[origin].unsqueeze(1)  # (B*K, 1, S)
            attention_history = step_weights if attention_history is None else torch.cat(
                [attention_history[origin], step_weights], dim=1)  # fmt: skip
        state = select(state, origin)
        for b in range(batch):
            if not done[b] and len(finished[b]) >= k:
                worst = sorted(h.normalized for h in finished[b])[-k]  # the k-th best
                best_open = float(scores[b].max()) / length_penalty(t, alpha)
                done[b] = best_open <= worst
        if all(done):
            break
    for b in range(batch):
        if not done[b]:  # cut at max_length: the open hypotheses compete with the finished ones
            for j in range(k):
                row, score = b * k + j, float(scores[b, j])
                if score > float("-inf"):
                    weights = None if attention_history is None else attention_history[row]
                    normalized = score / length_penalty(history.shape[1], alpha)
                    finished[b].append(Hypothesis(history[row].tolist(), score, normalized, weights, False))
    return [sorted(f, key=lambda h: -h.normalized)[:n_best] for f in finished]


def _attention(history: Tensor | None, current: Tensor, row: int) -> Tensor:
    """The weights of hypothesis ``row`` so far plus this step's: ``(t, S)``."""
    now = current[row].unsqueeze(0)  # (1, S)
    return now if history is None else torch.cat([history[row], now], dim=0)
