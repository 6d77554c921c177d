"""``rnnlab translate``: train on a built-in set → run with beam, n-best and an attention map; one-line errors."""

from __future__ import annotations

import pytest

from rnnlab.cli import main
from tests.conftest import run_cli as run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("translate") / "run"
    code = main(["translate", "train", "--builtin", "numbers", "--pairs", "600", "--epochs", "2", "--hidden-size",
                 "32", "--embedding-dim", "16", "--beam", "3", "--no-progress", "--run-dir", str(folder)])  # fmt: skip
    assert code == 0
    return folder


def test_run_with_beam_n_best_and_attention(run_dir, tmp_path, capsys):
    png = tmp_path / "attention.png"
    code, out, _ = run(capsys, "translate", "run", "--checkpoint", str(run_dir), "twenty-one", "--beam", "3",
                       "--n-best", "2", "--attention", str(png))  # fmt: skip
    assert code == 0 and "  1. " in out and "  2. " in out and png.read_bytes()[:4] == b"\x89PNG"
    text = (run_dir / "report.html").read_text()
    assert "attention (beam 3):" in text and "greedy" in text and "beam 3" in text


@pytest.mark.parametrize("args, message", [
    (["--beam", "0"], "argument --beam: must be a whole number ≥ 1, got 0"),
    (["--beam", "2", "--n-best", "3"], "n-best must be between 1 and the beam size 2"),
])  # fmt: skip
def test_bad_run_options(run_dir, capsys, args, message):
    code, _, err = run(capsys, "translate", "run", "--checkpoint", str(run_dir), "one", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_a_sentence_of_unknown_words_is_refused(run_dir, capsys):
    code, _, err = run(capsys, "translate", "run", "--checkpoint", str(run_dir), "zzz qqq")
    assert code == 2 and "every word of 'zzz qqq' is unknown" in err


@pytest.mark.parametrize("content, message", [
    ("one\tun\ntwo\n", "line 2: one column"),
    ("one\tun\ntwo\t\n", "line 2: the target is empty"),
])  # fmt: skip
def test_bad_tsv_lines(tmp_path, capsys, content, message):
    path = tmp_path / "pairs.tsv"
    path.write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "translate", "train", "--data", str(path), "--run-dir", str(tmp_path / "run"))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_train_needs_data_and_a_valid_beam(capsys, tmp_path):
    code, _, err = run(capsys, "translate", "train")
    assert code == 2 and "--data FILE.tsv or --builtin" in err
    code, _, err = run(capsys, "translate", "train", "--builtin", "dates", "--beam", "0")
    assert code == 2 and "argument --beam: must be a whole number ≥ 1" in err
    code, _, err = run(capsys, "translate", "train", "--builtin", "dates", "--teacher-forcing", "1.5")
    assert code == 2 and "teacher forcing ratios are in [0, 1]" in err and len(err.strip().splitlines()) == 1
