"""The encoder–decoder: step-by-step decoding equals the teacher-forced pass, state selection, and it learns."""

from __future__ import annotations

import random

import pytest
import torch

from rnnlab.data.pairs import Pair
from rnnlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnlab.models.translator import Translator, collate
from rnnlab.tasks.translate import score_translations, train_translation
from rnnlab.train import TrainConfig
from tests.conftest import randomize_


@pytest.mark.parametrize("cell, attention, bidirectional, feeding, layers", [
    ("lstm", "general", True, True, 1),
    ("gru", "additive", False, False, 2),
    ("lstm", "dot", True, False, 2),
])  # fmt: skip
def test_stepping_equals_the_teacher_forced_pass(cell, attention, bidirectional, feeding, layers):
    config = Seq2SeqConfig(11, 13, cell=cell, embedding_dim=6, hidden_size=8, num_layers=layers,
                           bidirectional=bidirectional, attention=attention, input_feeding=feeding)  # fmt: skip
    model = randomize_(Seq2Seq(config), 0.4).eval()
    source, lengths, target_in, _ = collate([([3, 4, 5, 6], [7, 8, 1]), ([5, 2], [9, 1])], bos=2)
    logits, weights = model(source, lengths, target_in)
    assert logits.shape == (2, 3, 13) and weights.shape == (2, 3, 4)
    assert (weights[1, :, 2:] == 0).all()  # the second source has two tokens
    state = model.start(source, lengths)
    for t in range(3):
        step_logits, state, _ = model.step(target_in[:, t], state)
        torch.testing.assert_close(step_logits, logits[:, t])
    # selecting rows of the state = decoding those sentences alone
    alone = model.start(source[1:, :2], lengths[1:])
    picked = model.start(source, lengths).select(torch.tensor([1]))
    a, _, _ = model.step(torch.tensor([2]), alone)
    b, _, _ = model.step(torch.tensor([2]), picked)
    torch.testing.assert_close(a, b)


def test_scheduled_sampling_feeds_the_models_own_guesses():
    config = Seq2SeqConfig(9, 10, embedding_dim=6, hidden_size=8)
    model = randomize_(Seq2Seq(config), 0.4).eval()
    source, lengths, target_in, _ = collate([([3, 4, 5], [7, 8, 6, 1]), ([5, 2, 4], [9, 5, 7, 1])], bos=2)
    forced, _ = model(source, lengths, target_in, teacher_forcing=1.0)
    own, _ = model(source, lengths, target_in, teacher_forcing=0.0)  # every step fed the previous argmax
    state, previous, stepped = model.start(source, lengths), target_in[:, 0], []
    for _ in range(target_in.shape[1]):
        logits, state, _ = model.step(previous, state)
        stepped.append(logits)
        previous = logits.argmax(-1)
    torch.testing.assert_close(own, torch.stack(stepped, dim=1))
    torch.testing.assert_close(own[:, 0], forced[:, 0])  # the first step is always fed <s>
    assert not torch.allclose(own, forced)


def test_odd_hidden_size_with_a_bidirectional_encoder_is_refused():
    with pytest.raises(ValueError, match="even hidden_size"):
        Seq2SeqConfig(5, 5, hidden_size=7)


def test_sacrebleu_scores_with_several_references():
    scores = score_translations(["le chat est noir .", "bonjour"], [["le chat est noir ."], ["salut", "bonjour"]])
    assert scores["exact"] == 1.0 and scores["bleu"] == pytest.approx(100.0) and scores["chrf"] == pytest.approx(100.0)
    worse = score_translations(["le chien est noir .", "au revoir"], [["le chat est noir ."], ["salut", "bonjour"]])
    assert worse["exact"] == 0.0 and worse["bleu"] < 50


def test_learns_to_reverse_words_and_beam_is_not_worse(tmp_path):
    rng = random.Random(0)
    words = ["red", "green", "blue", "black", "white", "pink", "gray", "brown"]
    pairs = []
    for _ in range(1500):
        sentence = [rng.choice(words) for _ in range(rng.randint(2, 5))]
        pairs.append(Pair(" ".join(sentence), " ".join(reversed(sentence)).upper()))
    train, val, test = pairs[:1300], pairs[1300:1400], pairs[1400:]
    config = TrainConfig(epochs=12, lr=1e-2, patience=12, progress=False)
    translator, summary = train_translation(
        train, val, test, level="word", model_config={"embedding_dim": 16, "hidden_size": 32, "dropout": 0.0},
        train_config=config, run_dir=tmp_path / "run", source="reversal", beam=3, log=lambda _: None)  # fmt: skip
    assert summary["test"]["greedy"]["exact"] > 0.9
    assert summary["test"]["beam 3"]["bleu"] >= summary["test"]["greedy"]["bleu"] - 1.0
    best = translator.translate(["red blue green"], beam=3, n_best=2)[0]
    assert best[0].text == "green blue red" and best[0].score >= best[1].score
    assert best[0].attention.shape == (4, 3)
    assert best[0].attention[0].argmax() == 2  # the first output word looks at the last source word
    loaded = Translator.load(tmp_path / "run")
    assert loaded.translate(["red blue green"])[0][0].text == "green blue red"
    for name in ("report.html", "translations.tsv", "evaluation.json", "source_vocab.json", "target_vocab.json"):
        assert (tmp_path / "run" / name).exists()
