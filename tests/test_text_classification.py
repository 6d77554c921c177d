"""Text classification beyond the network: the n-gram model, the blend chosen on validation, truncation, the
pretrained encoder, and the Python face."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from rnnlab.errors import RnnlabError
from rnnlab.models.classifier import TextClassifier, truncate
from rnnlab.models.ngrams import NGramModel, best_blend
from tests.conftest import run_cli

GOOD, BAD = ["great", "lovely", "superb", "moving"], ["awful", "dull", "poor", "bland"]


def reviews(n: int = 200, seed: int = 0, words: int = 6) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        positive = rng.random() < 0.5
        sentence = [rng.choice(["the", "film", "was", "a", "plot", "really", "and", "it"]) for _ in range(words)]
        sentence.insert(rng.randrange(words), rng.choice(GOOD if positive else BAD))
        texts.append(" ".join(sentence))
        labels.append("pos" if positive else "neg")
    return texts, labels


def test_truncation_keeps_the_head_the_tail_or_half_of_each():
    tokens = list(range(10))
    assert truncate(tokens, 4, "head") == [0, 1, 2, 3]
    assert truncate(tokens, 4, "tail") == [6, 7, 8, 9]
    assert truncate(tokens, 5, "both") == [0, 1, 2, 8, 9]
    assert truncate(tokens, 20, "tail") == tokens


def test_the_ngram_model_equals_scikit_learn_and_round_trips_without_pickle():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = reviews()
    model = NGramModel.fit(texts, labels, ["neg", "pos"], c=3.0)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    reference = LogisticRegression(C=3.0, max_iter=3000).fit(vectorizer.fit_transform(texts), labels)
    new, _ = reviews(20, seed=1)
    np.testing.assert_allclose(model.predict_proba(new), reference.predict_proba(vectorizer.transform(new)),
                               rtol=1e-6, atol=1e-9)  # fmt: skip
    again = NGramModel.restore(model.metadata(), model.tensors())
    np.testing.assert_allclose(again.predict_proba(new), model.predict_proba(new))


def test_the_blend_weight_is_the_one_with_the_best_validation_accuracy():
    labels = ["a", "b", "a", "b"]
    network = np.array([[0.6, 0.4], [0.6, 0.4], [0.6, 0.4], [0.6, 0.4]])  # always 'a': half right
    linear = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9]])  # all right
    weight, accuracy = best_blend(network, linear, labels, ["a", "b"])
    assert accuracy == 1.0 and weight < 0.8  # the network may keep some say, never enough to flip the linear model
    weight, accuracy = best_blend(linear, network, labels, ["a", "b"])
    assert accuracy == 1.0 and weight > 0.2


def test_the_python_face_trains_blends_predicts_and_loads(tmp_path):
    texts, labels = reviews(300)
    classifier = TextClassifier(hidden_size=8, embedding_dim=8, layers=1)
    lines = []
    classifier.fit(texts, labels, run_dir=tmp_path / "run", log=lines.append)
    assert any("validation accuracy: network" in line for line in lines)
    assert classifier.predict(["a superb film", "the plot was dull"]) == ["pos", "neg"]
    loaded = TextClassifier.load(tmp_path / "run")
    np.testing.assert_allclose(loaded.predict_proba(texts[:5]), classifier.predict_proba(texts[:5]), rtol=1e-5)
    assert loaded.blend == classifier.blend and loaded.linear is not None
    with pytest.raises(RnnlabError, match="TextClassifier has no option 'hidden'"):
        TextClassifier(hidden=8)
    with pytest.raises(RnnlabError, match=r"fit takes texts and their labels: fit\(texts, labels\)"):
        TextClassifier().fit(texts)
    with pytest.raises(RnnlabError, match="not trained yet"):
        TextClassifier().predict(["hi"])


def test_pretraining_copies_the_language_models_embedding_and_first_layer(tmp_path):
    from rnnlab.data.text import Vocabulary, word_tokens
    from rnnlab.models.classifier import ClassifierConfig, SequenceClassifierNet
    from rnnlab.models.pretraining import fine_tuning_groups, pretrain_encoder

    texts, _ = reviews(2000, words=10)
    vocab = Vocabulary.build(word_tokens(t) for t in texts)
    net = SequenceClassifierNet(ClassifierConfig(hidden_size=8, embedding_dim=8), classes=2, vocab_size=len(vocab))
    before = net.rnn.weight_hh_l0.detach().clone(), net.rnn.weight_hh_l0_reverse.detach().clone()
    result = pretrain_encoder(net, vocab, texts, run_dir=tmp_path, epochs=6, log=lambda s: None)
    assert result.perplexity < 0.8 * len(vocab)  # better than a uniform guess over the vocabulary
    assert not torch.equal(net.rnn.weight_hh_l0, before[0])  # forward direction: the language model's
    assert torch.equal(net.rnn.weight_hh_l0_reverse, before[1])  # backward direction: as it was
    groups = fine_tuning_groups(net)
    assert [g["lr_scale"] for g in groups] == pytest.approx([1.0, 1 / 2.6, 1 / 2.6**2])
    assert sum(len(g["params"]) for g in groups) == len(list(net.parameters()))


def test_unlabeled_text_gets_the_same_one_line_errors_as_text_train(tmp_path, capsys):
    texts, labels = reviews(60)
    import pandas as pd

    pd.DataFrame({"text": texts, "label": labels}).to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01" * 50)
    (tmp_path / "latin.txt").write_bytes("très bien".encode("latin-1"))
    base = ["classify", "train", "--data", str(tmp_path / "r.csv"), "--run-dir", str(tmp_path / "run")]
    for name, message in (("empty.txt", "is empty"), ("binary.txt", "looks binary"), ("latin.txt", "not valid utf-8")):
        code, _, err = run_cli(capsys, *base, "--unlabeled", str(tmp_path / name))
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists()
