"""Greedy and beam search on hand-built distributions, where the best answer is known."""

from __future__ import annotations

import math

import pytest
import torch

from rnnlab.decoding import beam_search, greedy_search, length_penalty
from rnnlab.errors import RnnlabError

BOS, EOS, A, B, C = 0, 1, 2, 3, 4
VOCAB = 5


def table_decoder(table: dict[tuple[int, ...], dict[int, float]]):
    """A decoder whose next-token probabilities depend on the prefix, from ``table`` (missing: </s> for sure).

    The state is the prefix of each row (a list), so ``select`` just picks rows.
    """

    def step(previous, state):
        prefixes = [p + ([int(t)] if int(t) != BOS else []) for p, t in zip(state, previous, strict=True)]
        rows = []
        for prefix in prefixes:
            probs = table.get(tuple(prefix), {EOS: 1.0})
            row = torch.full((VOCAB,), 1e-12)
            for token, p in probs.items():
                row[token] = p
            rows.append(torch.log(row / row.sum()))
        return torch.stack(rows), prefixes, torch.ones(len(prefixes), 2) / 2

    def select(state, index):
        return [list(state[i]) for i in index.tolist()]

    return step, select


# greedy takes A (0.6) and then has only weak continuations; B (0.4) leads to C with 0.9 and then </s>.
TRAP = {
    (): {A: 0.6, B: 0.4},
    (A,): {A: 0.3, B: 0.3, C: 0.3, EOS: 0.1},
    (A, A): {EOS: 1.0}, (A, B): {EOS: 1.0}, (A, C): {EOS: 1.0},
    (B,): {C: 0.9, EOS: 0.1},
    (B, C): {EOS: 1.0},
}  # fmt: skip


def test_greedy_falls_into_the_trap_and_beam_finds_the_best():
    step, select = table_decoder(TRAP)
    greedy = greedy_search(step, [[]], 1, bos=BOS, eos=EOS, max_length=10)[0]
    assert greedy.tokens[0] == A and greedy.score == pytest.approx(math.log(0.6 * 0.3))
    best = beam_search(step, select, [[]], 1, bos=BOS, eos=EOS, max_length=10, beam_size=2, alpha=0.0)[0][0]
    assert best.tokens == [B, C] and best.finished
    assert best.score == pytest.approx(math.log(0.4 * 0.9))  # 0.36 > 0.18


def test_n_best_lists_the_hypotheses_in_order_of_probability():
    step, select = table_decoder(TRAP)
    hyps = beam_search(step, select, [[]], 1, bos=BOS, eos=EOS, max_length=10, beam_size=4, alpha=0.0, n_best=4)[0]
    probabilities = [math.exp(h.score) for h in hyps]
    assert hyps[0].tokens == [B, C]
    assert probabilities == sorted(probabilities, reverse=True)
    assert probabilities == pytest.approx([0.36, 0.18, 0.18, 0.18])  # B C, then A with A | B | C (ties)
    assert all(h.attention.shape == (len(h.tokens) + 1, 2) for h in hyps)


def test_length_normalisation_prefers_the_longer_hypothesis():
    table = {(): {EOS: 0.5, A: 0.5}, (A,): {A: 1.0}, (A, A): {A: 1.0}, (A, A, A): {EOS: 1.0}}
    step, select = table_decoder(table)
    raw = beam_search(step, select, [[]], 1, bos=BOS, eos=EOS, max_length=10, beam_size=2, alpha=0.0, n_best=2)[0]
    assert raw[0].score == pytest.approx(raw[1].score)  # both log 0.5; the raw score cannot tell them apart
    normalised = beam_search(step, select, [[]], 1, bos=BOS, eos=EOS, max_length=10, beam_size=2, alpha=1.0)[0][0]
    assert normalised.tokens == [A, A, A]
    assert normalised.normalized == pytest.approx(math.log(0.5) / ((5 + 4) / 6) ** 1.0)  # GNMT, by hand


@pytest.mark.parametrize("alpha", [0.6, 2.0])
def test_the_length_penalty_is_gnmts_with_its_exponent(alpha):
    """Independent of the function under test: ((5 + |Y|) / 6)^α by hand, |Y| counting </s>."""
    assert length_penalty(4, alpha) == pytest.approx((9 / 6) ** alpha)
    table = {(): {EOS: 0.5, A: 0.5}, (A,): {A: 1.0}, (A, A): {A: 1.0}, (A, A, A): {EOS: 1.0}}
    step, select = table_decoder(table)
    hyps = beam_search(step, select, [[]], 1, bos=BOS, eos=EOS, max_length=10, beam_size=2, alpha=alpha, n_best=2)[0]
    by_length = {len(h.tokens): h for h in hyps}
    assert by_length[3].normalized == pytest.approx(math.log(0.5) / (9 / 6) ** alpha)
    assert by_length[0].normalized == pytest.approx(math.log(0.5) / (6 / 6) ** alpha)


def test_a_hypothesis_finished_early_survives_when_the_rest_reach_the_length_limit():
    """</s> at step 1 with probability 0.3; the other branch never ends. At max_length the finished one must be
    returned first: its score log 0.3 beats the unfinished log 0.7 + 3 log 0.5."""
    table = {(): {EOS: 0.3, A: 0.7}, (A,): {A: 0.5, B: 0.5}, (A, A): {A: 0.5, B: 0.5}, (A, B): {A: 0.5, B: 0.5},
             (A, A, A): {A: 1.0}, (A, A, B): {A: 1.0}, (A, B, A): {A: 1.0}, (A, B, B): {A: 1.0}}  # fmt: skip
    step, select = table_decoder(table)
    hyps = beam_search(step, select, [[]], 1, bos=BOS, eos=EOS, max_length=4, beam_size=2, alpha=0.0, n_best=2)[0]
    assert hyps[0].tokens == [] and hyps[0].finished and hyps[0].score == pytest.approx(math.log(0.3))
    assert not hyps[1].finished


def test_batched_beam_search_equals_one_sentence_at_a_time():
    tables = [TRAP, {(): {C: 0.7, A: 0.3}, (C,): {C: 0.5, EOS: 0.5}, (C, C): {EOS: 1.0}}]
    merged_steps = [table_decoder(t) for t in tables]

    def step(previous, state):  # row i belongs to sentence state[i][0]
        out, new_state, weights = [], [], []
        for (sentence, prefix), token in zip(state, previous, strict=True):
            logp, (nxt,), w = merged_steps[sentence][0](token.view(1), [prefix])
            out.append(logp[0])
            new_state.append((sentence, nxt))
            weights.append(w[0])
        return torch.stack(out), new_state, torch.stack(weights)

    def select(state, index):
        return [(state[i][0], list(state[i][1])) for i in index.tolist()]

    batched = beam_search(step, select, [(0, []), (1, [])], 2, bos=BOS, eos=EOS, max_length=8, beam_size=3, n_best=2)
    for sentence, (single_step, single_select) in enumerate(merged_steps):
        alone = beam_search(single_step, single_select, [[]], 1, bos=BOS, eos=EOS, max_length=8, beam_size=3, n_best=2)
        assert [h.tokens for h in batched[sentence]] == [h.tokens for h in alone[0]]
        assert [h.score for h in batched[sentence]] == pytest.approx([h.score for h in alone[0]])


def test_max_length_cuts_unfinished_hypotheses():
    step, select = table_decoder({(): {A: 1.0}, (A,): {A: 1.0}, (A, A): {A: 1.0}, (A, A, A): {A: 1.0}})
    hyp = beam_search(step, select, [[]], 1, bos=BOS, eos=EOS, max_length=3, beam_size=2)[0][0]
    assert hyp.tokens == [A, A, A] and not hyp.finished
    greedy = greedy_search(step, [[]], 1, bos=BOS, eos=EOS, max_length=3)[0]
    assert greedy.tokens == [A, A, A] and not greedy.finished


@pytest.mark.parametrize("beam, n_best, message", [(0, 1, "beam size"), (-3, 1, "beam size"), (2, 3, "n-best")])
def test_bad_beam_settings_are_refused(beam, n_best, message):
    step, select = table_decoder(TRAP)
    with pytest.raises(RnnlabError, match=message):
        beam_search(step, select, [[]], 1, bos=BOS, eos=EOS, max_length=5, beam_size=beam, n_best=n_best)
