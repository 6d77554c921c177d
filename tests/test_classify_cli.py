"""``rnnlab classify``: train → report → predict on a small table, and one-line errors for bad input."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from tests.conftest import run_cli as run

GOOD, BAD = ["great", "lovely", "superb", "moving"], ["awful", "dull", "poor", "bland"]


def write_reviews(path, n: int = 300) -> str:
    rng = random.Random(0)
    rows = []
    for _ in range(n):
        positive = rng.random() < 0.5
        words = [rng.choice(["the", "film", "was", "a", "plot", "really"]) for _ in range(5)]
        words.insert(rng.randrange(5), rng.choice(GOOD if positive else BAD))
        rows.append({"review": " ".join(words), "sentiment": "pos" if positive else "neg"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def test_train_report_and_predict(tmp_path, capsys):
    data = write_reviews(tmp_path / "reviews.csv")
    run_dir = tmp_path / "run"
    code, out, _ = run(capsys, "classify", "train", "--data", data, "--text-column", "review", "--label-column",
                       "sentiment", "--epochs", "6", "--lr", "1e-2", "--hidden-size", "16", "--embedding-dim", "16",
                       "--no-progress", "--run-dir", str(run_dir))  # fmt: skip
    assert code == 0, out
    assert "lstm" in out and "(rnnlab)" in out and "tf-idf + logistic regression" in out and "confusion matrix" in out
    assert "validation accuracy: network" in out and "n-gram model" in out
    for name in ("best.safetensors", "metrics.jsonl", "evaluation.json", "report.html"):
        assert (run_dir / name).is_file(), name
    assert "word by word" in (run_dir / "report.html").read_text()
    write_reviews(tmp_path / "held_out.csv", n=60)
    columns = ["--text-column", "review", "--label-column", "sentiment"]
    checkpoint = ["--checkpoint", str(run_dir / "best.safetensors")]
    code, out, _ = run(capsys, "classify", "evaluate", *checkpoint, "--data", str(tmp_path / "held_out.csv"))
    assert code == 0 and "accuracy" in out  # the checkpoint remembers the review and sentiment columns
    frame = pd.read_csv(tmp_path / "held_out.csv")
    frame.loc[0, "sentiment"] = "mixed"
    frame.to_csv(tmp_path / "odd.csv", index=False)
    code, _, err = run(capsys, "classify", "evaluate", *checkpoint, "--data", str(tmp_path / "odd.csv"), *columns)
    assert code == 2 and "labels ['mixed'] in" in err and "never seen in training" in err
    output = tmp_path / "labels.csv"
    code, out, _ = run(capsys, "classify", "predict", "--checkpoint", str(run_dir / "best.safetensors"),
                       "a superb film", "the plot was dull", "--output", str(output))  # fmt: skip
    assert code == 0
    predictions = pd.read_csv(output)
    assert list(predictions.columns) == ["text", "label", "p_neg", "p_pos"]
    assert predictions["label"].tolist() == ["pos", "neg"]


def test_an_ensemble_trains_its_members_and_predicts_from_the_run_folder(tmp_path, capsys):
    data = write_reviews(tmp_path / "reviews.csv")
    run_dir = tmp_path / "run"
    code, out, _ = run(capsys, "classify", "train", "--data", data, "--text-column", "review", "--label-column",
                       "sentiment", "--epochs", "4", "--lr", "1e-2", "--hidden-size", "8", "--embedding-dim", "8",
                       "--ensemble", "2", "--no-progress", "--run-dir", str(run_dir))  # fmt: skip
    assert code == 0 and "bilstm ×2" in out
    assert (run_dir / "member-1" / "best.safetensors").is_file() and (
        run_dir / "member-2" / "best.safetensors"
    ).is_file()
    code, out, _ = run(capsys, "classify", "predict", "--checkpoint", str(run_dir), "a superb film")
    assert code == 0 and "pos" in out


@pytest.mark.parametrize(
    ("frame", "options", "message"),
    [
        (
            {"review": ["a", "b", "c"]},
            ["--text-column", "review"],
            "column 'label' not found in .*; columns are: review",
        ),
        ({"text": ["a", "b", "c"], "label": ["x", "x", "x"]}, [], r"a single class \('x'\)"),
        ({"text": ["a", " ", "c", "d"], "label": ["x", "y", "x", "y"]}, [], r"1 empty texts \(line 3\)"),
    ],
)
def test_bad_training_data_is_a_one_line_error(tmp_path, capsys, frame, options, message):
    pd.DataFrame(frame).to_csv(tmp_path / "d.csv", index=False)
    code, _, err = run(capsys, "classify", "train", "--data", str(tmp_path / "d.csv"), *options)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert pd.Series([err]).str.contains(message, regex=True).all(), err


def test_predict_with_a_forecast_checkpoint_or_no_text_is_refused(tmp_path, capsys):
    from rnnlab.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "f.safetensors", {}, {"task": "forecast"})
    code, _, err = run(capsys, "classify", "predict", "--checkpoint", str(tmp_path / "f.safetensors"), "hi")
    assert code == 2 and "'forecast' task, not of 'classify'" in err


def test_long_texts_are_shown_as_coloured_text_and_short_ones_as_a_plot():
    import numpy as np

    from rnnlab.tasks.classify import coloured_text

    words = [f"w{i}" for i in range(60)]
    probabilities = np.stack([np.linspace(0.1, 0.9, 60), np.linspace(0.9, 0.1, 60)], axis=1)  # (T, C)
    page = coloured_text(words, probabilities, ["neg", "pos"])
    assert page.count("<span title=") == 60
    assert 'title="neg 0.10, pos 0.90"' in page  # the first word: 'pos' leads strongly
    first, last = page.split("<span title=")[1], page.split("<span title=")[-1]
    assert "#4575b4" in first and "#d73027" in last  # the leading class's colour follows the prediction
    assert 'title="neg 0.51, pos 0.49" style="background:#d7302703"' in page  # a near tie: nearly clear
