"""Sampling text from a language model, one token at a time, the recurrent state carried (no re-reading).

The next token is drawn from the softmax of the logits divided by the temperature ``τ``,

    p_i ∝ exp(z_i / τ)        τ → 0: greedy; τ = 1: the model's distribution; τ > 1: flatter

restricted first to the ``top_k`` most likely tokens and then to the smallest set whose probability reaches ``top_p``
(nucleus sampling, Holtzman et al. 2020). A ``torch.Generator`` seeded by ``seed`` makes the same seed and prime give
the same text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from rnnlab.data.corpus import detokenize, tokenize
from rnnlab.data.text import Vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.models.language_model import LanguageModel


def check_sampling(temperature: float, top_k: int, top_p: float) -> None:
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
        raise RnnlabError(
            f"temperature must be > 0, got {temperature!r} (1 samples the model as is; lower is safer, higher wilder)"
        )
    if top_k < 0:
        raise RnnlabError(f"top-k must be ≥ 0 (0 keeps every token), got {top_k!r}")
    if not 0 < top_p <= 1:
        raise RnnlabError(f"top-p must be in (0, 1] (1 keeps every token), got {top_p!r}")


def filter_logits(logits: Tensor, *, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> Tensor:
    """Logits ``(..., V)`` scaled by ``1/τ``, with tokens outside top-k / top-p set to ``-inf``."""
    check_sampling(temperature, top_k, top_p)
    return _filter(logits, temperature, top_k, top_p)


def _filter(logits: Tensor, temperature: float, top_k: int, top_p: float) -> Tensor:
    """:func:`filter_logits` without the checks (the sampling loop checks once)."""
    logits = logits / temperature  # (..., V)
    if 0 < top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]  # (..., 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1:
        ordered, order = logits.sort(dim=-1, descending=True)  # (..., V)
        before = ordered.softmax(-1).cumsum(-1) - ordered.softmax(-1)  # probability of the tokens ranked above
        drop = before >= top_p  # the most likely token always stays (its 'before' is 0)
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return logits


def sample_tokens(
    model: LanguageModel,
    vocab: Vocabulary,
    level: str,
    prime: str,
    length: int,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int = 0,
) -> Iterator[str]:
    """Yield ``length`` sampled tokens after ``prime``, one at a time (for streaming output).

    The prime is read in one call; after that each step feeds only the last token and the carried state.
    """
    check_sampling(temperature, top_k, top_p)
    if length < 1:
        raise RnnlabError(f"length must be a positive number of tokens, got {length!r}")
    prime_tokens = tokenize(prime, level)
    if not prime_tokens:
        raise RnnlabError("the prime text is empty; give at least one character")
    if level == "char":
        missing = sorted({c for c in prime_tokens if c not in vocab})
        if missing:
            raise RnnlabError(
                f"the prime has characters the model never saw: {', '.join(repr(c) for c in missing[:10])}"
            )
    ids = vocab.encode(prime_tokens)
    if vocab.unknown is not None and all(i == vocab.id(vocab.unknown) for i in ids):
        raise RnnlabError(f"every word of the prime {prime!r} is outside the vocabulary")
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits, state = model(torch.tensor([ids]))  # (1, P, V)
            last = logits[0, -1]  # (V,)
            for _ in range(length):
                probabilities = _filter(last, temperature, top_k, top_p).softmax(-1)  # (V,)
                token = int(torch.multinomial(probabilities, 1, generator=generator))
                yield vocab.tokens[token]
                logits, state = model(torch.tensor([[token]]), state)  # (1, 1, V): one step, state carried
                last = logits[0, -1]
    finally:
        model.train(was_training)


def sample_text(model: LanguageModel, vocab: Vocabulary, level: str, prime: str, length: int, **options) -> str:
    """The prime followed by ``length`` sampled tokens, as text."""
    tokens = list(sample_tokens(model, vocab, level, prime, length, **options))
    return detokenize([*tokenize(prime, level), *tokens], level)
