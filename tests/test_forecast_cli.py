"""``rnnlab forecast``: train → evaluate → predict on a CSV, one-line errors for bad input, SIGKILL and --resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from rnnlab.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.cli import main

SMALL = ["--hidden-size", "8", "--lookback", "24", "--horizon", "6", "--epochs", "2", "--no-progress", "--auto", "off",
         "--val-size", "48", "--test-size", "48"]  # fmt: skip


def write_csv(path, n: int = 400) -> str:
    t = np.arange(n)
    frame = pd.DataFrame({
        "time": pd.date_range("2024-01-01", periods=n, freq="h"),
        "load": 100 + 10 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(size=n),
    })  # fmt: skip
    frame.to_csv(path, index=False)
    return str(path)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_evaluate_predict_on_a_csv(tmp_path, capsys):
    data = write_csv(tmp_path / "load.csv")
    run = tmp_path / "run"
    code, out, _ = run_cli(capsys, "forecast", "train", "--data", data, "--cycles", "24", "--run-dir", str(run), *SMALL)
    assert code == 0
    assert "seasonal naive m=24" in out and "naive" in out and "ETS(A,Ad" in out and "lstm (rnnlab)" in out
    for name in ("best.safetensors", "last.safetensors", "metrics.jsonl", "evaluation.json", "forecast.png",
                 "training.png"):  # fmt: skip
        assert (run / name).is_file(), name
    rows = json.loads((run / "evaluation.json").read_text())["rows"]
    assert {r["name"] for r in rows} >= {"lstm (rnnlab)", "naive", "seasonal naive m=24"}

    code, out, _ = run_cli(capsys, "forecast", "evaluate", "--checkpoint", str(run / "best.safetensors"),
                           "--data", data, "--test-size", "48", "--val-size", "48")  # fmt: skip
    assert code == 0 and "MASE" in out

    output = tmp_path / "forecast.csv"
    code, out, _ = run_cli(capsys, "forecast", "predict", "--checkpoint", str(run / "best.safetensors"),
                           "--data", data, "--output", str(output))  # fmt: skip
    assert code == 0
    forecast = pd.read_csv(output)
    assert list(forecast.columns) == ["time", "step", "load"] and len(forecast) == 6
    assert forecast["time"].iloc[0] == "2024-01-17 16:00:00"


def test_datasets_lists_the_builtins(capsys):
    code, out, _ = run_cli(capsys, "forecast", "datasets")
    assert code == 0
    for name in ("electricity", "msft", "seattle-weather", "sunspots", "co2", "sine", "two-sines"):
        assert name in out
    assert "4032" in out and "30 min" in out


def bad_inputs(tmp_path):
    good = write_csv(tmp_path / "good.csv")
    (tmp_path / "empty.csv").write_text("")
    frame = pd.read_csv(good).astype({"load": object})
    frame.loc[5, "load"] = "high"
    frame.to_csv(tmp_path / "text.csv", index=False)
    frame = pd.read_csv(good)
    frame.loc[[3, 9], "load"] = np.nan
    frame.to_csv(tmp_path / "nans.csv", index=False)
    pd.read_csv(good).iloc[:30].to_csv(tmp_path / "short.csv", index=False)
    save_checkpoint(tmp_path / "text.safetensors", {}, {"task": "text"})
    (tmp_path / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    train = ["forecast", "train", "--run-dir", str(tmp_path / "r"), *SMALL]
    predict = ["forecast", "predict", "--data", good]
    return [
        ([*train, "--data", str(tmp_path / "missing.csv")], "file not found: .*missing.csv"),
        ([*train, "--data", str(tmp_path / "empty.csv")], "empty.csv is empty"),
        ([*train, "--data", good, "--target", "demand"], "column 'demand' not found in .*; columns are: time, load"),
        ([*train, "--data", str(tmp_path / "text.csv")], "column 'load' of .* is not numeric: 'high' at line 7"),
        ([*train, "--data", str(tmp_path / "nans.csv"), "--fill", "none"],
         "2 missing values \\(lines 5, 11\\); pass --fill"),
        ([*train, "--data", str(tmp_path / "short.csv"), "--val-size", "6", "--test-size", "6"],
         "18 training points, too few for lookback 24 \\+ horizon 6"),
        ([*train, "--data", good, "--test-size", "3"], "--test-size 3 is shorter than the horizon 6"),
        ([*train, "--data", good, "--horizon", "0"], "argument --horizon: must be a whole number ≥ 1, got 0"),
        ([*train, "--data", good, "--stride", "0"], "argument --stride: must be a whole number ≥ 1, got 0"),
        ([*predict, "--checkpoint", str(tmp_path / "text.safetensors")], "'text' task, not of 'forecast'"),
        ([*predict, "--checkpoint", str(tmp_path / "broken.safetensors")], "not a readable rnnlab checkpoint"),
        ([*predict, "--checkpoint", str(tmp_path / "nothing.safetensors")], "checkpoint not found"),
        ([*train, "--data", "electricty"], "no file or built-in series 'electricty'"),
    ]  # fmt: skip


def test_bad_input_is_one_line_on_stderr_with_exit_2(tmp_path, capsys):
    for argv, pattern in bad_inputs(tmp_path):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2, argv
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rnnlab: error: "), err
        assert re.search(pattern, lines[0]), (pattern, lines[0])


def test_sigkill_mid_training_then_resume_finishes_and_no_checkpoint_is_ever_half_written(tmp_path):
    data = write_csv(tmp_path / "load.csv", n=3000)
    run = tmp_path / "run"
    argv = [sys.executable, "-m", "rnnlab.cli", "forecast", "train", "--data", data, "--run-dir", str(run),
            "--hidden-size", "32", "--lookback", "48", "--horizon", "6", "--epochs", "30", "--patience", "30",
            "--no-progress", "--checkpoint-seconds", "0", "--val-size", "200", "--test-size", "100",
            "--auto", "off"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (run / "best.safetensors").exists():
        time.sleep(0.05)
    for _ in range(5):  # while it saves after every batch, every checkpoint on disk loads
        time.sleep(0.1)
        for path in run.glob("*.safetensors"):
            load_checkpoint(path)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    _, meta = load_checkpoint(run / "last.safetensors")
    assert meta["training"]["epoch"] < 31, "the run finished training before it was killed; make it longer"
    for path in run.glob("*.safetensors"):
        load_checkpoint(path)  # whole, whatever the moment of the kill

    resumed = subprocess.run([*argv, "--resume"], capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming from" in resumed.stdout and "lstm (rnnlab)" in resumed.stdout
    assert not list(run.glob(".*.tmp"))
    epochs = [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert epochs[-1] == 30


@pytest.mark.filterwarnings("ignore")
def test_make_demo_job_prints_one_table_with_three_networks_and_the_baselines(tmp_path, capsys):
    pytest.importorskip("pmdarima")
    code, out, _ = run_cli(capsys, "demo", "--run-dir", str(tmp_path), "--epochs", "1")
    assert code == 0
    table = out[out.index("electricity, 14 origins") :]
    for name in ("lstm (rnnlab)", "gru (rnnlab)", "rnn (rnnlab)", "seasonal naive m=336", "ETS(A,Ad,A) m=336",
                 "seasonal naive m=48", "naive"):  # fmt: skip
        assert name in table
    assert "0.270" in table  # the weekly seasonal naive of the protocol
    assert (tmp_path / "lstm" / "forecast.png").is_file()
