"""Bad input and faults across every subcommand: exit 2, one line on stderr, no traceback, and nothing lost.

``test_bad_input`` runs a table of well over 150 cases (every numeric option of every subcommand with values out of
range or not numbers, and files that are missing, empty, binary, in another encoding, corrupted, of another task, or
an output that would overwrite an input) and checks after each one that every file that existed is byte-identical.
The fault tests fill a disk, make it read-only, run two trainings into one folder, flip a bit in a checkpoint and
resume on other data.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.cli import build_parser, main
from rnnlab.commands import common

ROOT = Path(__file__).resolve().parents[1]
SPEECH = "ROMEO:\nBut soft, what light through yonder window breaks?\nJULIET:\nAy me!\n\n"


def series_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"),
                         "load": 100 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(size=n)})  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """Good and bad files, and a small trained model of each task."""
    w = tmp_path_factory.mktemp("world")
    series_frame().to_csv(w / "series.csv", index=False)
    series_frame(seed=1).to_csv(w / "other.csv", index=False)
    (w / "empty.csv").write_text("")
    (w / "header.csv").write_text("time,load\n")
    (w / "binary.bin").write_bytes(b"\x00\x01\x02" * 100)
    (w / "latin1.csv").write_bytes("time,load,ville\n2024-01-01,1.0,Orléans\n".encode("latin-1"))
    (w / "folder").mkdir()
    text = series_frame().astype({"load": object})
    text.loc[7, "load"] = "lots"
    text.to_csv(w / "text.csv", index=False)
    infinite = series_frame()
    infinite.loc[9, "load"] = np.inf
    infinite.to_csv(w / "inf.csv", index=False)
    pd.concat([series_frame(), series_frame().iloc[:1]]).to_csv(w / "duplicate.csv", index=False)
    irregular = series_frame()
    irregular["time"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(np.random.default_rng(0).uniform(
        0, 1e7, len(irregular))), unit="s")  # fmt: skip
    irregular.to_csv(w / "irregular.csv", index=False)
    rows = [{"text": f"{w} film", "label": "pos" if w in ("great", "fine") else "neg"}
            for w in ("great", "fine", "awful", "dull") for _ in range(30)]  # fmt: skip
    pd.DataFrame(rows).to_csv(w / "reviews.csv", index=False)
    (w / "corpus.txt").write_text(SPEECH * 30, encoding="utf-8")
    words = [("hi", "salut"), ("cat", "chat"), ("dog", "chien"), ("red", "rouge"), ("sun", "soleil")]
    (w / "pairs.tsv").write_text("".join(f"{a} {c}\t{b} {d}\n" for a, b in words for c, d in words))
    (w / "bom.tsv").write_bytes("\ufeffhi\tsalut\ncat\tchat\n".encode())
    torch.save({"w": torch.zeros(1)}, w / "pickle.pt")
    quiet = ["--no-progress"]
    assert main(["forecast", "train", "--data", str(w / "series.csv"), "--auto", "off", "--horizon", "6",
                 "--lookback", "12", "--hidden-size", "4", "--epochs", "1", "--run-dir", str(w / "forecast"),
                 *quiet]) == 0  # fmt: skip
    assert main(["classify", "train", "--data", str(w / "reviews.csv"), "--text-column", "text", "--label-column",
                 "label", "--epochs", "1", "--hidden-size", "4", "--embedding-dim", "4", "--run-dir",
                 str(w / "classify"), *quiet]) == 0  # fmt: skip
    assert main(["text", "train", str(w / "corpus.txt"), "--hidden-size", "8", "--embedding-dim", "4",
                 "--batch-size", "4", "--bptt", "16", "--epochs", "1", "--run-dir", str(w / "text"),
                 *quiet]) == 0  # fmt: skip
    assert main(["translate", "train", "--data", str(w / "pairs.tsv"), "--epochs", "1", "--hidden-size", "8",
                 "--embedding-dim", "4", "--run-dir", str(w / "translate"), *quiet]) == 0  # fmt: skip
    flipped = bytearray((w / "forecast" / "best.safetensors").read_bytes())
    flipped[-3] ^= 0x40  # a bit in the last weight
    (w / "flipped.safetensors").write_bytes(bytes(flipped))
    return w


def numeric_options() -> list[tuple[list[str], str, str]]:
    """(subcommand path, option, a value it must refuse) for every numeric option of every subcommand."""
    checkers = {common.POSITIVE: ["0", "-3", "2.5", "abc"], common.COUNT: ["-1", "x"],
                common.RATE: ["0", "-1e-3", "nan", "inf"], common.NONNEGATIVE: ["-1", "nan"],
                common.PROBABILITY: ["1", "-0.1", "1.5"], common.FRACTION: ["0", "1", "2"],
                common.FINITE: ["nan", "inf", "1e999x"]}  # fmt: skip
    cases = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif action.option_strings and action.type in checkers:
                cases.extend((path, action.option_strings[0], value) for value in checkers[action.type])
            elif action.option_strings and getattr(action.type, "__name__", "") == "check":  # real(...) ranges
                cases.extend((path, action.option_strings[0], value) for value in ("nan", "-5", "1e999x"))

    walk(build_parser(), [])
    return cases


def file_cases(w: Path) -> list[tuple[list[str], str]]:
    train = ["forecast", "train", "--auto", "off", "--epochs", "1", "--run-dir", str(w / "new-run")]
    predict = ["forecast", "predict", "--checkpoint", str(w / "forecast")]
    classify = ["classify", "train", "--epochs", "1", "--run-dir", str(w / "new-run")]
    return [
        ([*train, "--data", str(w / "missing.csv")], "file not found"),
        ([*train, "--data", str(w / "empty.csv")], "is empty"),
        ([*train, "--data", str(w / "header.csv")], "header but no rows"),
        ([*train, "--data", str(w / "folder")], "is a folder"),
        ([*train, "--data", str(w / "text.csv")], "is not numeric: 'lots' at line 9"),
        ([*train, "--data", str(w / "inf.csv")], "infinite value"),
        ([*train, "--data", str(w / "duplicate.csv")], "repeats"),
        ([*train, "--data", str(w / "irregular.csv")], "irregular .* pass --period"),
        ([*train, "--data", str(w / "latin1.csv"), "--target", "load"], "not valid utf-8: byte 0xe9 .* --encoding"),
        ([*train, "--data", str(w / "series.csv"), "--target", "demand"], "column 'demand' not found"),
        ([*train, "--data", str(w / "series.csv"), "--cycles", "0"], "--cycles must be periods longer than 1"),
        ([*train, "--data", str(w / "series.csv"), "--test-size", "3", "--horizon", "6"], "shorter than the horizon"),
        ([*train, "--data", str(w / "series.csv"), "--val-size", "200", "--test-size", "200"], "too few"),
        ([*train, "--data", "electricty"], "no file or built-in series"),
        ([*train, "--data", str(w / "series.csv"), "--run-dir", str(w / "forecast")], "already holds a checkpoint"),
        ([*train, "--data", str(w / "series.csv"), "--run-dir", str(w / "nothing"), "--resume"], "nothing to resume"),
        (
            [
                *train,
                "--data",
                str(w / "other.csv"),
                "--run-dir",
                str(w / "forecast"),
                "--resume",
                "--horizon",
                "6",
                "--lookback",
                "12",
                "--hidden-size",
                "4",
            ],
            "--resume with other data",
        ),
        ([*predict, "--data", str(w / "series.csv"), "--output", str(w / "series.csv")], "would overwrite"),
        (
            [*predict, "--data", str(w / "series.csv"), "--output", str(w / "forecast" / "best.safetensors")],
            "would overwrite",
        ),
        (
            ["forecast", "predict", "--checkpoint", str(w / "classify"), "--data", str(w / "series.csv")],
            "'classify' task, not of 'forecast'",
        ),
        (
            ["forecast", "predict", "--checkpoint", str(w / "pickle.pt"), "--data", str(w / "series.csv")],
            "not a readable rnnlab checkpoint",
        ),
        (
            ["forecast", "predict", "--checkpoint", str(w / "flipped.safetensors"), "--data", str(w / "series.csv")],
            "corrupted: its weights do not match the checksum",
        ),
        (
            ["forecast", "predict", "--checkpoint", str(w / "binary.bin"), "--data", str(w / "series.csv")],
            "not a readable rnnlab checkpoint",
        ),
        (
            ["forecast", "evaluate", "--checkpoint", str(w / "nowhere"), "--data", str(w / "series.csv")],
            "checkpoint not found",
        ),
        (["forecast", "benchmark", "--series", "nile"], "no series nile"),
        (["forecast", "benchmark", "--suite", "m5-daily"], "no competition 'm5-daily'"),
        ([*classify, "--data", str(w / "reviews.csv"), "--text-column", "body"], "body"),
        ([*classify, "--class-files", f"pos={w / 'corpus.txt'},neg={w / 'corpus.txt'}"], "given for two classes"),
        ([*classify, "--class-files", f"pos={w / 'corpus.txt'},pos={w / 'pairs.tsv'}"], "class 'pos' is given twice"),
        ([*classify, "--class-files", f"pos={w / 'binary.bin'},neg={w / 'corpus.txt'}"], "looks binary"),
        ([*classify, "--class-files", "pos"], "expected LABEL=FILE"),
        (["classify", "predict", "--checkpoint", str(w / "classify")], "no text to classify"),
        (
            [
                "classify",
                "predict",
                "--checkpoint",
                str(w / "classify"),
                "--input",
                str(w / "corpus.txt"),
                "--output",
                str(w / "corpus.txt"),
            ],
            "would overwrite",
        ),
        (["classify", "predict", "--checkpoint", str(w / "text"), "hello"], "'text' task, not of 'classify'"),
        (["text", "train", str(w / "empty.csv"), "--run-dir", str(w / "new-run")], "is empty"),
        (["text", "train", str(w / "binary.bin"), "--run-dir", str(w / "new-run")], "looks binary"),
        (["text", "train", str(w / "latin1.csv"), "--run-dir", str(w / "new-run")], "not valid utf-8"),
        (
            ["text", "train", str(w / "corpus.txt"), "--encoding", "klingon", "--run-dir", str(w / "new-run")],
            "unknown encoding",
        ),
        (["text", "generate", "--checkpoint", str(w / "text"), "--prime", "Zq"], "never saw"),
        (["text", "generate", "--checkpoint", str(w / "forecast")], "'forecast' task, not of 'text'"),
        (["translate", "train", "--run-dir", str(w / "new-run")], "--data FILE.tsv or --builtin"),
        (["translate", "train", "--data", str(w / "empty.csv"), "--run-dir", str(w / "new-run")], "is empty"),
        (["translate", "run", "--checkpoint", str(w / "translate"), "xyzzy"], "unknown to the model"),
        (["translate", "run", "--checkpoint", str(w / "translate"), "hi", "--beam", "2", "--n-best", "3"], "n-best"),
        (
            [
                "translate",
                "run",
                "--checkpoint",
                str(w / "translate"),
                "hi",
                "--attention",
                str(w / "translate" / "best.safetensors"),
            ],
            "would overwrite",
        ),
        (["translate", "run", "--checkpoint", str(w / "text"), "hi"], "'text' task, not of 'translate'"),
        (["inspect", "--cell", "lstm", "--text", ""], "--text is empty"),
        (["inspect"], "give either --checkpoint"),
        (["inspect", "--checkpoint", str(w / "classify"), "--data", "sine"], "reads forecast checkpoints"),
        (["experiment", "memory", "--lengths", "0,5"], "argument --lengths"),
        (["experiment", "memory", "--lengths", ","], "argument --lengths"),
        (["compare", "--task", "copy", "--max-steps", "0"], "argument --max-steps"),
        (["summary", "--cell", "elman"], "argument --cell: invalid choice"),
        (["forecast", "train", "--data", str(w / "series.csv"), "--auto", "maybe"], "argument --auto"),
        (["no-such-command"], "invalid choice"),
    ]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != ".lock"}


def run_case(capsys, argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    _, err = capsys.readouterr()
    return code, err


def test_bad_input(world, capsys):
    numeric = numeric_options()
    files = file_cases(world)
    assert len(numeric) + len(files) >= 150
    before = snapshot(world)
    failures = []
    for path, option, value in numeric:
        code, err = run_case(capsys, [*path, option, value])
        lines = err.strip().splitlines()
        if code != 2 or len(lines) != 1 or not lines[0].startswith("rnnlab: error: ") or option not in lines[0]:
            failures.append((path, option, value, code, err))
    import re

    for argv, pattern in files:
        code, err = run_case(capsys, argv)
        lines = err.strip().splitlines()
        if code != 2 or len(lines) != 1 or "Traceback" in err or not re.search(pattern, lines[0]):
            failures.append((argv[:3], pattern, code, err))
    assert failures == []
    assert snapshot(world) == before  # every file that existed is byte-identical
    assert not (world / "new-run").exists() and not (world / "nothing").exists()  # a refused run leaves nothing


def test_a_second_training_into_a_busy_run_folder_is_refused_with_the_holders_pid(tmp_path, capsys):
    series_frame(3000).to_csv(tmp_path / "long.csv", index=False)
    argv = ["forecast", "train", "--data", str(tmp_path / "long.csv"), "--auto", "off", "--horizon", "6",
            "--hidden-size", "64", "--epochs", "200", "--patience", "200", "--run-dir", str(tmp_path / "run"),
            "--no-progress"]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([sys.executable, "-m", "rnnlab", *argv], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=environment, cwd=ROOT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (tmp_path / "run" / "last.safetensors").exists():
            time.sleep(0.1)
        code, err = run_case(capsys, [*argv[:-3], "--run-dir", str(tmp_path / "run"), "--resume"])
        assert code == 2 and f"is in use by another rnnlab run (pid {first.pid})" in err
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)


def _mount(*args: str) -> bool:
    return shutil.which("mount") is not None and subprocess.run(["mount", *args], capture_output=True).returncode == 0


def test_a_full_or_read_only_disk_is_one_line_and_the_old_model_survives(tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)):
        pytest.skip("this machine does not let the tests mount a tmpfs (no CAP_SYS_ADMIN)")
    try:
        series_frame().to_csv(tmp_path / "s.csv", index=False)
        common_args = ["forecast", "train", "--data", str(tmp_path / "s.csv"), "--auto", "off", "--horizon", "6",
                       "--lookback", "12", "--epochs", "1", "--no-progress"]  # fmt: skip
        assert main([*common_args, "--hidden-size", "4", "--run-dir", str(disk / "small")]) == 0
        capsys.readouterr()
        kept = snapshot(disk)
        code, err = run_case(capsys, [*common_args, "--hidden-size", "1024", "--run-dir", str(disk / "big")])
        assert code == 2 and len(err.strip().splitlines()) == 1 and "No space left on device" in err
        assert {k: v for k, v in snapshot(disk).items() if "/small/" in k} == kept
        assert not list(disk.rglob("*.tmp"))
        assert _mount("-o", "remount,ro", str(disk))
        code, err = run_case(capsys, [*common_args, "--hidden-size", "4", "--run-dir", str(disk / "again")])
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Read-only file system" in err
        assert snapshot(disk) == kept
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
