"""The memory tasks' data and baselines, determinism of the sweep, and the experiment, inspect and compare commands."""

from __future__ import annotations

import json
import math

import pytest
import torch

from rnnlab.cli import main
from rnnlab.experiments.memory import COPY_LENGTH, MemoryConfig, adding_batch, baseline, copy_batch, run_one


def test_adding_batch_marks_one_value_in_each_half_and_sums_them():
    x, y = adding_batch(500, 40, torch.Generator().manual_seed(0))
    markers = x[..., 1]
    assert torch.all(markers.sum(1) == 2)
    assert torch.all(markers[:, :20].sum(1) == 1) and torch.all(markers[:, 20:].sum(1) == 1)
    torch.testing.assert_close(y[:, 0], (x[..., 0] * markers).sum(1))


def test_adding_baseline_of_predicting_one_is_a_sixth():
    _, y = adding_batch(200_000, 10, torch.Generator().manual_seed(0))
    assert (y - 1.0).square().mean().item() == pytest.approx(baseline("adding", 10), abs=0.002)
    assert baseline("adding", 10) == pytest.approx(0.1667, abs=1e-4)


def test_copy_batch_layout_and_its_baseline_cross_entropy():
    steps = 30
    x, y = copy_batch(64, steps, torch.Generator().manual_seed(0))
    assert x.shape == (64, steps + 20, 10) and y.shape == (64, steps + 20)
    symbols = x[:, :COPY_LENGTH].argmax(-1)
    torch.testing.assert_close(y[:, -COPY_LENGTH:], symbols)
    assert torch.all(x[:, steps + COPY_LENGTH - 1].argmax(-1) == 9)  # the delimiter
    # blanks with certainty until the recall, then uniform over the 8 symbols
    logits = torch.full((64, steps + 20, 9), -1e9)
    logits[:, :-COPY_LENGTH, 0] = 0.0
    logits[:, -COPY_LENGTH:, 1:] = 0.0
    ce = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten()).item()
    assert ce == pytest.approx(baseline("copy", steps)) == pytest.approx(10 * math.log(8) / (steps + 20))


@pytest.mark.parametrize("task", ["adding", "copy"])
def test_same_seed_gives_the_same_run(task):
    config = MemoryConfig(task=task, max_steps=20, eval_every=10, test_size=50, hidden_size=8)
    a = run_one("lstm", 12, config, log=lambda s: None)
    b = run_one("lstm", 12, config, log=lambda s: None)
    assert a.curve == b.curve and a.metric == b.metric


def test_memory_command_prints_the_table_and_writes_plot_and_json(tmp_path, capsys):
    args = [
        "experiment",
        "memory",
        "--lengths",
        "8,12",
        "--max-steps",
        "30",
        "--cells",
        "rnn,gru",
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "cell      T  test metric  baseline  solved   steps  time s" in out
    assert out.count("rnn ") >= 2 and out.count("gru ") >= 2
    saved = json.loads((tmp_path / "memory.json").read_text())
    assert [(r["cell"], r["steps"]) for r in saved["results"]] == [("rnn", 8), ("gru", 8), ("rnn", 12), ("gru", 12)]
    assert (tmp_path / "memory.png").stat().st_size > 0


def test_gradients_command_reports_both_initialisations(tmp_path, capsys):
    assert main(["experiment", "gradients", "--steps", "30", "--hidden-size", "16", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "keras init" in out and "torch init" in out and "lstm / rnn" in out
    assert (tmp_path / "gradients-keras.png").is_file() and (tmp_path / "gradients-torch.png").is_file()


@pytest.mark.parametrize("source", [["--text", "to be or not to be"], ["--example", "sine"]], ids=["text", "series"])
def test_inspect_an_untrained_cell(tmp_path, capsys, source):
    assert main(["inspect", "--cell", "lstm", *source, "--out", str(tmp_path)]) == 0
    for name in ("gates.png", "hidden.png", "gradients.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_inspect_needs_exactly_one_model(capsys):
    assert main(["inspect", "--example", "sine"]) == 2
    assert "either --checkpoint" in capsys.readouterr().err


def test_compare_on_the_adding_task(tmp_path, capsys):
    assert main(["compare", "--task", "adding", "--length", "10", "--max-steps", "20", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for cell in ("rnn", "lstm", "gru"):
        assert f"\n{cell} " in out
    assert "params" in out
