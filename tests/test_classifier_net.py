"""The classifier network: pooling never sees padding, for every pooling and direction, text and numeric input."""

from __future__ import annotations

import pytest
import torch

from rnnlab.models.classifier import ClassifierConfig, SequenceClassifierNet, pool


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["last", "mean", "max", "meanmax"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_a_padded_batch_gives_each_sequence_the_logits_it_gets_alone(cell, pooling, bidirectional):
    config = ClassifierConfig(cell=cell, pooling=pooling, bidirectional=bidirectional, hidden_size=8,
                              embedding_dim=6, num_layers=2)  # fmt: skip
    net = SequenceClassifierNet(config, classes=3, vocab_size=30).eval()
    lengths = torch.tensor([7, 3, 5])
    tokens = torch.randint(2, 30, (3, 7))
    alone = torch.cat([net(tokens[i : i + 1, : lengths[i]], lengths[i : i + 1]) for i in range(3)])
    padded = tokens.clone()
    for i, length in enumerate(lengths):
        padded[i, length:] = torch.randint(2, 30, (7 - length,))  # garbage past the end must not matter
    torch.testing.assert_close(net(padded, lengths), alone, rtol=1e-5, atol=1e-6)


def test_numeric_sequences_and_last_pooling_of_a_bidirectional_layer():
    config = ClassifierConfig(pooling="last", hidden_size=4, bidirectional=True)
    net = SequenceClassifierNet(config, classes=2, input_size=3).eval()
    x = torch.randn(2, 6, 3)
    lengths = torch.tensor([6, 4])
    outputs, (h_n, _) = net.rnn(x, lengths=lengths)
    pooled = pool(outputs, lengths, "last", bidirectional=True)
    torch.testing.assert_close(pooled, torch.cat([h_n[0], h_n[1]], dim=-1))  # both directions' final states


def test_bad_configurations_quote_the_value():
    with pytest.raises(ValueError, match="'attention'"):
        ClassifierConfig(pooling="attention")
    with pytest.raises(ValueError, match="exactly one"):
        SequenceClassifierNet(ClassifierConfig(), classes=2)


def test_text_classifier_learns_word_polarity_and_round_trips_through_its_checkpoint(tmp_path):
    from rnnlab.models.classifier import TextClassifier
    from rnnlab.train import TrainConfig

    good, bad = ["great", "fine", "lovely", "superb"], ["awful", "dull", "poor", "bland"]
    rng = torch.Generator().manual_seed(0)

    def sample(n):
        texts, labels = [], []
        for _ in range(n):
            positive = bool(torch.randint(0, 2, (1,), generator=rng))
            words = good if positive else bad
            filler = ["the", "film", "was", "really", "a", "plot"]
            sentence = [filler[int(i)] for i in torch.randint(0, 6, (4,), generator=rng)]
            sentence.insert(
                int(torch.randint(0, 4, (1,), generator=rng)), words[int(torch.randint(0, 4, (1,), generator=rng))]
            )
            texts.append(" ".join(sentence))
            labels.append("pos" if positive else "neg")
        return texts, labels

    texts, labels = sample(400)
    val_texts, val_labels = sample(100)
    config = ClassifierConfig(hidden_size=16, embedding_dim=16, dropout=0.1)
    classifier = TextClassifier(config).fit(texts, labels, val_texts=val_texts, val_labels=val_labels,
                                            run_dir=tmp_path, train_config=TrainConfig(epochs=8, lr=1e-2,
                                            monitor="val_error", progress=False), log=lambda s: None)  # fmt: skip
    assert classifier.predict(["the film was superb", "a dull plot"]) == ["pos", "neg"]
    words, probabilities = classifier.prefix_probabilities("the plot was lovely")
    assert words == ["the", "plot", "was", "lovely"] and probabilities.shape == (4, 2)
    assert probabilities[-1, classifier.classes.index("pos")] > 0.5
    loaded = TextClassifier.load(tmp_path / "best.safetensors")
    texts_to_check = ["the film was superb", "really bland"]
    assert (loaded.predict_proba(texts_to_check) == classifier.predict_proba(texts_to_check)).all()
