"""The language model: shapes, weight tying, carried state, and sampling (top-k, top-p, seeds, one step a token)."""

from __future__ import annotations

import pytest
import torch

from rnnlab.data.corpus import Corpus
from rnnlab.errors import RnnlabError
from rnnlab.models.language_model import LanguageModel, LanguageModelConfig, evaluate_loss
from rnnlab.sampling import filter_logits, sample_text, sample_tokens
from tests.conftest import randomize_

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 4


@pytest.fixture
def corpus():
    return Corpus.from_text(TEXT, level="char", source="t")


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_shapes_and_state(cell, corpus):
    model = LanguageModel(LanguageModelConfig(len(corpus.vocab), cell=cell, embedding_dim=8, hidden_size=12,
                                              num_layers=2))  # fmt: skip
    logits, state = model(torch.randint(0, len(corpus.vocab), (3, 7)))
    assert logits.shape == (3, 7, len(corpus.vocab))
    h = state[0] if cell == "lstm" else state
    assert h.shape == (2, 3, 12)


def test_carried_state_equals_one_long_pass(corpus):
    model = randomize_(LanguageModel(LanguageModelConfig(len(corpus.vocab), embedding_dim=8, hidden_size=12)), 0.3)
    model.eval()
    ids = corpus.train[:40].unsqueeze(0)  # (1, 40)
    whole, _ = model(ids)
    first, state = model(ids[:, :25])
    second, _ = model(ids[:, 25:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole, rtol=1e-5, atol=1e-6)


def test_tied_weights_share_the_embedding_and_need_equal_sizes():
    model = LanguageModel(LanguageModelConfig(30, embedding_dim=16, hidden_size=16, tie_weights=True))
    assert model.head.weight is model.embedding.weight
    untied = LanguageModel(LanguageModelConfig(30, embedding_dim=16, hidden_size=16))
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in untied.parameters()) - 30 * 16
    with pytest.raises(ValueError, match="embedding_dim == hidden_size"):
        LanguageModelConfig(30, embedding_dim=8, hidden_size=16, tie_weights=True)


def test_whole_split_loss_matches_a_direct_computation(corpus):
    model = randomize_(LanguageModel(LanguageModelConfig(len(corpus.vocab), embedding_dim=8, hidden_size=12)), 0.3)
    model.eval()
    ids = corpus.train[:101]
    logits, _ = model(ids[:-1].unsqueeze(0))  # one stream reads everything
    direct = torch.nn.functional.cross_entropy(logits[0], ids[1:]).item()
    assert evaluate_loss(model, ids, streams=1, bptt=7) == pytest.approx(direct, rel=1e-5)


def test_top_k_and_top_p_filters():
    logits = torch.log(torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05]))
    kept = torch.isfinite(filter_logits(logits, top_k=2))
    assert kept.tolist() == [True, True, False, False, False]
    kept = torch.isfinite(filter_logits(logits, top_p=0.8))  # 0.5 + 0.2 = 0.7 < 0.8, so 0.15 is needed too
    assert kept.tolist() == [True, True, True, False, False]
    kept = torch.isfinite(filter_logits(logits, top_p=0.01))  # the most likely token always stays
    assert kept.tolist() == [True, False, False, False, False]
    scaled = filter_logits(logits, temperature=0.5)
    torch.testing.assert_close(scaled, logits * 2)


def test_same_seed_same_sample_and_steps_match_re_reading(corpus):
    model = randomize_(LanguageModel(LanguageModelConfig(len(corpus.vocab), embedding_dim=8, hidden_size=12)), 0.3)
    one = sample_text(model, corpus.vocab, "char", "All:", 60, seed=5)
    two = sample_text(model, corpus.vocab, "char", "All:", 60, seed=5)
    other = sample_text(model, corpus.vocab, "char", "All:", 60, seed=6)
    assert one == two and one != other and one.startswith("All:") and len(one) == 64
    # greedy (tiny temperature) sampling one step at a time = re-reading the whole text each time
    text = sample_text(model, corpus.vocab, "char", "All:", 20, temperature=1e-4)
    model.eval()
    for position in range(4, len(text)):
        logits, _ = model(torch.tensor([corpus.vocab.encode(list(text[:position]))]))
        assert corpus.vocab.tokens[int(logits[0, -1].argmax())] == text[position]


def test_sampling_errors(corpus):
    model = LanguageModel(LanguageModelConfig(len(corpus.vocab), embedding_dim=8, hidden_size=12))
    with pytest.raises(RnnlabError, match="temperature must be > 0"):
        next(sample_tokens(model, corpus.vocab, "char", "All", 5, temperature=0))
    with pytest.raises(RnnlabError, match="characters the model never saw: 'Z'"):
        next(sample_tokens(model, corpus.vocab, "char", "ZAll", 5))
    with pytest.raises(RnnlabError, match="top-p"):
        next(sample_tokens(model, corpus.vocab, "char", "All", 5, top_p=0))


def test_word_level_sampling_joins_words_and_refuses_an_unknown_prime():
    corpus = Corpus.from_text(TEXT * 2, level="word", source="t")
    model = randomize_(LanguageModel(LanguageModelConfig(len(corpus.vocab), embedding_dim=8, hidden_size=12)), 0.3)
    text = sample_text(model, corpus.vocab, "word", "Speak ,", 12, seed=0)
    assert text.startswith("Speak,") and "  " not in text
    with pytest.raises(RnnlabError, match="every word of the prime 'Zounds' is outside the vocabulary"):
        next(sample_tokens(model, corpus.vocab, "word", "Zounds", 5))
