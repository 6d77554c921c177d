"""Attention against a NumPy computation of the same equations: dot, general, additive; masking; size errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.nn.attention import Attention
from tests.conftest import randomize_


def numpy_attention(kind, module, query, keys, mask):
    q, k = query.double().numpy(), keys.double().numpy()  # (B, Q), (B, S, K)
    if kind == "dot":
        scores = np.einsum("bq,bsq->bs", q, k)
    elif kind == "general":
        w = module.key_proj.weight.double().detach().numpy()  # (Q, K)
        scores = np.einsum("bq,qk,bsk->bs", q, w, k)
    else:
        wk = module.key_proj.weight.double().detach().numpy()  # (A, K)
        wq = module.query_proj.weight.double().detach().numpy()  # (A, Q)
        bq = module.query_proj.bias.double().detach().numpy()
        v = module.v.weight.double().detach().numpy()[0]  # (A,)
        hidden = np.tanh(np.einsum("ak,bsk->bsa", wk, k) + (q @ wq.T + bq)[:, None, :])
        scores = hidden @ v
    scores = np.where(mask.numpy(), scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bs,bsk->bk", weights, k), weights


@pytest.mark.parametrize("kind", ["dot", "general", "additive"])
def test_attention_matches_numpy_and_ignores_padding(kind):
    size_q, size_k = (6, 6) if kind == "dot" else (6, 10)
    module = randomize_(Attention(kind, size_q, size_k), 0.5).double()
    query, keys = torch.randn(3, size_q).double(), torch.randn(3, 5, size_k).double()
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    context, weights = module(query, module.prepare(keys, mask))
    want_context, want_weights = numpy_attention(kind, module, query, keys, mask)
    np.testing.assert_allclose(weights.detach().numpy(), want_weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(context.detach().numpy(), want_context, rtol=1e-10, atol=1e-12)
    assert (weights[~mask] == 0).all() and torch.allclose(weights.sum(-1), torch.ones(3, dtype=torch.float64))
    # padding cannot leak: changing the padded keys changes nothing
    noisy = keys.clone()
    noisy[~mask] = 100.0
    again, _ = module(query, module.prepare(noisy, mask))
    torch.testing.assert_close(again, context)


def test_dot_attention_needs_equal_sizes_and_kinds_are_checked():
    with pytest.raises(ValueError, match="use 'general' or 'additive'"):
        Attention("dot", 8, 16)
    with pytest.raises(ValueError, match="dot, general, additive"):
        Attention("multiplicative", 8, 8)


def test_gradients_reach_queries_keys_and_weights():
    module = randomize_(Attention("additive", 4, 6), 0.5)
    query = torch.randn(2, 4, requires_grad=True)
    keys = torch.randn(2, 3, 6, requires_grad=True)
    context, _ = module(query, module.prepare(keys, torch.ones(2, 3, dtype=torch.bool)))
    context.sum().backward()
    assert query.grad.abs().sum() > 0 and keys.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
