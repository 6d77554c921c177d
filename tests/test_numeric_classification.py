"""Numeric sequence classification: variable lengths, scaling on the training part, class weights, long-format CSV,
the built-in UCR/UEA sets beside 1-NN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.cli import main
from rnnlab.data.labelled import read_sequence_table
from rnnlab.errors import RnnlabError
from rnnlab.models.classifier import ClassifierConfig, NumericClassifier, _SequenceTask
from rnnlab.train import TrainConfig


def waves(n: int, seed: int):
    """Class 'sine' oscillates, class 'ramp' climbs; lengths 10–30; two features on different scales."""
    rng = np.random.default_rng(seed)
    sequences, labels = [], []
    for _ in range(n):
        length, kind = int(rng.integers(10, 31)), str(rng.choice(["sine", "ramp"]))
        t = np.arange(length)
        signal = np.sin(t / 2) if kind == "sine" else t / length
        sequences.append(np.stack([signal * 100 + 500, rng.normal(size=length)], axis=1))  # (T, 2)
        labels.append(kind)
    return sequences, labels


def test_numeric_classifier_separates_variable_length_sequences(tmp_path):
    x, y = waves(160, 0)
    val_x, val_y = waves(40, 1)
    config = ClassifierConfig(hidden_size=16, dropout=0.1, pooling="mean")
    train_config = TrainConfig(epochs=15, lr=1e-2, monitor="val_error", progress=False)
    model = NumericClassifier(config).fit(x, y, val_sequences=val_x, val_labels=val_y, run_dir=tmp_path,
                                          train_config=train_config, log=lambda s: None)  # fmt: skip
    test_x, test_y = waves(60, 2)
    assert np.mean(np.array(model.predict(test_x)) == np.array(test_y)) > 0.9
    assert model.mean[0] == pytest.approx(np.concatenate(x)[:, 0].mean())  # scaling from the training part


def test_balanced_class_weights_are_inverse_frequencies():
    labels = torch.tensor([0, 0, 0, 1])
    task = _SequenceTask((torch.zeros(4, 2, dtype=torch.long), torch.ones(4, dtype=torch.long), labels),
                         (None, None, None), 2, balanced=True)  # fmt: skip
    torch.testing.assert_close(task.weight, torch.tensor([4 / 6, 4 / 2]))


def test_long_format_table_and_its_errors(tmp_path):
    rows = [
        {"id": i, "t": t, "x": float(t * (i + 1)), "label": "a" if i % 2 else "b"} for i in range(4) for t in range(3)
    ]
    pd.DataFrame(rows).sample(frac=1, random_state=0).to_csv(tmp_path / "s.csv", index=False)
    data = read_sequence_table(tmp_path / "s.csv", id="id", label="label", time="t")
    assert len(data) == 4 and data.sequences[0].shape == (3, 1) and data.classes == ["a", "b"]
    np.testing.assert_array_equal(data.sequences[data.labels.index("b")][:, 0], [0.0, 1.0, 2.0])
    frame = pd.DataFrame(rows)
    frame.loc[4, "x"] = np.nan
    frame.to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(RnnlabError, match=r"sequence 1 of .* has 1 NaN or infinite values"):
        read_sequence_table(tmp_path / "nan.csv", id="id", label="label", time="t")
    with pytest.raises(RnnlabError, match="column 'speaker' not found"):
        read_sequence_table(tmp_path / "s.csv", id="speaker", label="label")


def test_builtin_set_beside_one_nearest_neighbour(tmp_path, capsys):
    pytest.importorskip("sktime")
    args = ["classify", "train", "--builtin", "italy-power-demand", "--epochs", "3", "--hidden-size", "8",
            "--no-progress", "--run-dir", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "italy-power-demand: " in out and "1-NN (Euclidean)" in out and "lstm (rnnlab)" in out
    assert (tmp_path / "report.html").is_file()
    code = main(["classify", "train", "--builtin", "mnist", "--run-dir", str(tmp_path / "x")])
    assert code == 2 and "no built-in sequence set 'mnist'" in capsys.readouterr().err


def test_long_format_sequences_through_the_command_line(tmp_path, capsys):
    x, y = waves(120, 3)
    rows = [{"id": i, "step": t, "a": s[t, 0], "b": s[t, 1], "kind": label}
            for i, (s, label) in enumerate(zip(x, y)) for t in range(len(s))]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "waves.csv", index=False)
    args = ["classify", "train", "--sequences", str(tmp_path / "waves.csv"), "--id-column", "id", "--time-column",
            "step", "--label-column", "kind", "--epochs", "5", "--lr", "1e-2", "--hidden-size", "8", "--no-progress",
            "--run-dir", str(tmp_path / "run")]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1-NN (Euclidean)" in out and "precision" in out and "ramp" in out
