"""Training on several processes: one DDP step equals the single-process step on the whole batch; only rank 0
writes; a killed two-process run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rnnlab.checkpoint import load_checkpoint
from rnnlab.distributed import shard
from tests.helpers.ddp_step import run

HELPER = Path(__file__).parent / "helpers" / "ddp_step.py"
ROOT = Path(__file__).resolve().parents[1]


def torchrun(*args: str, nproc: int = 2, timeout: float = 120) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=timeout, cwd=ROOT)


def test_shards_are_contiguous_and_cover_the_batch():
    batch = torch.arange(10)
    assert torch.cat([shard(batch, r, 2)[0] for r in range(2)]).tolist() == list(range(10))
    assert shard(batch, 1, 3)[0].tolist() == [4, 5, 6]
    pair = (torch.zeros(4, 3), torch.ones(4, 3))
    assert shard(pair, 1, 2)[0][0].shape == (2, 3)
    assert shard(torch.arange(1), 1, 2) == (torch.arange(1), 0.0)  # an empty share computes, weighted 0


def test_two_processes_take_the_same_steps_as_one_on_the_whole_batch(tmp_path):
    result = torchrun(str(HELPER), str(tmp_path / "ddp"), "3")
    assert result.returncode == 0, result.stderr[-2000:]
    run(str(tmp_path / "single"), 3)  # the same three steps in this process, each on the whole batch of 8
    distributed, _ = load_checkpoint(tmp_path / "ddp" / "last.safetensors")
    single, _ = load_checkpoint(tmp_path / "single" / "last.safetensors")
    keys = [k for k in single if k.startswith("model.")]
    assert keys
    for key in keys:
        torch.testing.assert_close(distributed[key], single[key], rtol=1e-5, atol=1e-6)
    lines = (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3  # written once (by rank 0), not twice


@pytest.mark.filterwarnings("ignore")
def test_a_killed_two_process_forecast_run_resumes(tmp_path):
    import numpy as np
    import pandas as pd

    t = np.arange(3000)
    data = tmp_path / "load.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=3000, freq="h"),
                  "load": 10 + np.sin(2 * np.pi * t / 24)}).to_csv(data, index=False)  # fmt: skip
    run_dir = tmp_path / "run"
    argv = [sys.executable, "-m", "rnnlab", "forecast", "train", "--data", str(data), "--run-dir", str(run_dir),
            "--auto", "off", "--hidden-size", "16", "--lookback", "48", "--horizon", "6", "--epochs", "8",
            "--patience", "8", "--no-progress", "--checkpoint-seconds", "0", "--nproc", "2"]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment, cwd=ROOT,
                               start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (run_dir / "last.safetensors").exists():
        time.sleep(0.1)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGKILL)  # the launchers; torchrun's workers live in sessions of their own
    process.wait(timeout=30)
    assert _lock_released(run_dir / ".lock", seconds=5), "a worker outlived its killed launcher"
    _, meta = load_checkpoint(run_dir / "last.safetensors")
    assert meta["training"]["epoch"] <= 8, "the run finished before it was killed"
    resumed = subprocess.run([*argv, "--resume"], capture_output=True, text=True, env=environment, cwd=ROOT,
                             timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stdout[-6000:] + resumed.stderr[-6000:]
    assert "resuming from" in resumed.stdout and resumed.stdout.count("resuming from") == 1  # rank 0 speaks
    assert "lstm (rnnlab)" in resumed.stdout


def _lock_released(lock, seconds: float) -> bool:
    """True once nothing holds ``lock`` (rank 0 holds it while it trains), polled for at most ``seconds``."""
    import fcntl

    deadline = time.monotonic() + seconds
    with open(lock, "a") as handle:
        while time.monotonic() < deadline:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                time.sleep(0.1)
                continue
            fcntl.flock(handle, fcntl.LOCK_UN)
            return True
    return False
