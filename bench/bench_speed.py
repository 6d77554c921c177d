"""Issue 14's measurements: rnnlab's allocator setting, its hand-fused GRU, the minimal RNNs, and its thread choice on
a busy machine.

    python bench/bench_speed.py                # everything, ~13 minutes on 2 cores
    python bench/bench_speed.py --only gru     # or allocator, minimal, threads

1. allocator: whole ``rnnlab forecast train`` processes (electricity, 3 epochs, --auto off), timed alternately, median
   of 3: as a user runs it (rnnlab sets glibc's thresholds itself), with the Makefile's old ``GLIBC_TUNABLES``, and
   bare (``RNNLAB_ALLOCATOR=off``); then a training step of ``torch.nn.LSTM`` in a plain process against the same step
   in a process where ``rnnlab.tune_allocator()`` ran.
2. gru: one training step (forward, backward, Adam) of rnnlab's GRU (and of the same with the batch in one block,
   its matrix products multi-threaded) against ``torch.nn.GRU`` and ``torch.nn.LSTM`` on the same input,
   interleaved rounds, median; the two sizes of the issue, then a sweep of batch and length.
3. minimal: one training step of MinGRU and MinLSTM (the sequential scan, gates fused in C++, and the paper's
   log-space parallel scan) against ``torch.nn.GRU`` and rnnlab's GRU at T = 100, 1,000 and 4,000, interleaved rounds.
4. threads: a text classifier's training step (batch 64 × 200 tokens, BiLSTM 64) idle, then while another process
   keeps one core busy, with two threads (torch's default) and with the threads rnnlab chooses.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUNABLES = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824"


def run_process(environment: dict[str, str]) -> float:
    with tempfile.TemporaryDirectory() as runs:
        command = [
            sys.executable,
            "-m",
            "rnnlab",
            "forecast",
            "train",
            "--data",
            "electricity",
            "--auto",
            "off",
            "--epochs",
            "3",
            "--patience",
            "3",
            "--no-progress",
            "--run-dir",
            f"{runs}/r",
            "--threads",
            "2",
        ]
        start = time.perf_counter()
        subprocess.run(command, env=environment, cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start


STEP = """
import sys, time, statistics, torch
if sys.argv[1] == "tuned":
    import rnnlab
    rnnlab.tune_allocator()
torch.set_num_threads(2)
m = torch.nn.LSTM(32, 128); head = torch.nn.Linear(128, 1); x = torch.randn(100, 64, 32)
opt = torch.optim.Adam([*m.parameters(), *head.parameters()])
times = []
for i in range(25):
    t = time.perf_counter(); out, _ = m(x); loss = head(out[-1]).square().mean()
    opt.zero_grad(); loss.backward(); opt.step(); times.append(time.perf_counter() - t)
print(statistics.median(times[5:]) * 1000)
"""


def allocator() -> None:
    base = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    setups = {"as a user runs it": base, "GLIBC_TUNABLES (old Makefile)": {**base, "GLIBC_TUNABLES": TUNABLES},
              "bare (RNNLAB_ALLOCATOR=off)": {**base, "RNNLAB_ALLOCATOR": "off"}}  # fmt: skip
    times = {name: [] for name in setups}
    for _ in range(3):
        for name, environment in setups.items():
            times[name].append(run_process(environment))
    median = {name: statistics.median(t) for name, t in times.items()}
    print("whole rnnlab forecast train processes (electricity, 3 epochs), median of 3, alternated:")
    for name, seconds in median.items():
        ratio = seconds / median["GLIBC_TUNABLES (old Makefile)"]
        print(f"  {name:<32}{seconds:7.2f} s   {ratio:5.2f}x the tunables")
    steps = {}
    for mode in ("plain", "tuned", "plain", "tuned", "plain", "tuned"):
        out = subprocess.run([sys.executable, "-c", STEP, mode], env=base, capture_output=True, text=True, check=True)
        steps.setdefault(mode, []).append(float(out.stdout))
    plain, tuned = statistics.median(steps["plain"]), statistics.median(steps["tuned"])
    print(
        f"torch.nn.LSTM training step (B64 T100 H128): plain process {plain:.1f} ms, after rnnlab.tune_allocator() "
        f"{tuned:.1f} ms: {plain / tuned:.2f}x faster\n"
    )


def training_step(layer, optimizer, x) -> float:
    """Seconds for one forward, backward and Adam step of ``layer`` on ``x``."""
    start = time.perf_counter()
    out, _ = layer(x)
    loss = out.square().mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start


def interleaved(candidates: dict, x, rounds: int, warm: int = 2, environments: dict | None = None) -> dict[str, float]:
    """Median milliseconds per training step of each layer, the layers taking turns round after round;
    ``environments``: variables set while a candidate runs (``{name: {"RNNLAB_GRU_BLOCKS": "1"}}``)."""
    import torch

    optimizers = {k: torch.optim.Adam(v.parameters(), lr=1e-3) for k, v in candidates.items()}
    samples = {k: [] for k in candidates}
    for index in range(rounds + warm):
        for name, layer in candidates.items():
            saved = {key: os.environ.get(key) for key in (environments or {}).get(name, {})}
            os.environ.update((environments or {}).get(name, {}))
            seconds = training_step(layer, optimizers[name], x)
            for key, value in saved.items():  # put back what was there
                if value is None:
                    del os.environ[key]
                else:
                    os.environ[key] = value
            if index >= warm:
                samples[name].append(seconds)
    return {k: statistics.median(v) * 1000 for k, v in samples.items()}


def gru(rounds: int = 15) -> None:
    import torch

    import rnnlab
    from rnnlab.nn.fused_gru import extension

    rnnlab.tune_allocator()
    torch.set_num_threads(2)
    print(f"hand-fused GRU: C++ step loop {'built' if extension() is not None else 'NOT built (Python loop)'}")

    def compare(batch: int, steps: int, features: int, hidden: int, layers: int, rounds: int) -> dict[str, float]:
        reference = torch.nn.GRU(features, hidden, num_layers=layers)
        ours = rnnlab.GRU(features, hidden, num_layers=layers)
        ours.load_state_dict(reference.state_dict())
        one_block = rnnlab.GRU(features, hidden, num_layers=layers)
        one_block.load_state_dict(reference.state_dict())
        candidates = {"torch.nn.GRU": reference, "rnnlab GRU": ours, "rnnlab GRU, 1 block": one_block,
                      "torch.nn.LSTM": torch.nn.LSTM(features, hidden, num_layers=layers)}  # fmt: skip
        environments = {"rnnlab GRU, 1 block": {"RNNLAB_GRU_BLOCKS": "1"}}
        return interleaved(candidates, torch.randn(steps, batch, features), rounds, environments=environments)

    print(f"{'size':<28}{'torch.nn.GRU':>14}{'rnnlab GRU':>12}{'speed-up':>10}{'1 block':>10}{'torch.nn.LSTM':>15}")
    for label, size in (("B64 T100 I32 H128", (64, 100, 32, 128, 1)), ("B64 T100 I64 H256 x2", (64, 100, 64, 256, 2))):
        ms = compare(*size, rounds)
        print(f"{label:<28}{ms['torch.nn.GRU']:>12.1f}ms{ms['rnnlab GRU']:>10.1f}ms"
              f"{ms['torch.nn.GRU'] / ms['rnnlab GRU']:>9.2f}x{ms['rnnlab GRU, 1 block']:>8.1f}ms"
              f"{ms['torch.nn.LSTM']:>13.1f}ms")  # fmt: skip
    print("\nsweep (I32 H128, 1 layer): torch.nn.GRU / rnnlab GRU")
    lengths = (10, 100, 1000)
    print(f"{'batch':<8}" + "".join(f"{'T=' + str(t):>10}" for t in lengths))
    for batch in (1, 16, 64, 256):
        row = []
        for steps in lengths:
            ms = compare(batch, steps, 32, 128, 1, rounds=5 if steps == 1000 else 9)
            row.append(ms["torch.nn.GRU"] / ms["rnnlab GRU"])
        print(f"{batch:<8}" + "".join(f"{r:>9.2f}x" for r in row))
    print()


def minimal() -> None:
    import torch

    import rnnlab
    from rnnlab.nn.fused_minimal import extension

    rnnlab.tune_allocator()
    torch.set_num_threads(2)
    built = "built" if extension() is not None else "NOT built (torch operations and a Python loop)"
    print(f"minimal RNNs, B64 I128 H128, one layer, training step (ms); the C++ pass of the sequential scan: {built}")
    names = ("torch.nn.GRU", "rnnlab GRU", "MinGRU", "MinLSTM", "MinGRU log-scan", "MinLSTM log-scan")
    print(f"{'T':>6}" + "".join(f"{n:>17}" for n in names) + f"{'nn.GRU/MinGRU':>15}{'nn.GRU/MinLSTM':>16}")
    for steps, rounds in ((100, 9), (1000, 5), (4000, 3)):
        candidates = {"torch.nn.GRU": torch.nn.GRU(128, 128), "rnnlab GRU": rnnlab.GRU(128, 128),
                      "MinGRU": rnnlab.MinGRU(128, 128), "MinLSTM": rnnlab.MinLSTM(128, 128),
                      "MinGRU log-scan": rnnlab.MinGRU(128, 128, scan="log"),
                      "MinLSTM log-scan": rnnlab.MinLSTM(128, 128, scan="log")}  # fmt: skip
        ms = interleaved(candidates, torch.randn(steps, 64, 128), rounds, warm=1)
        print(f"{steps:>6}" + "".join(f"{ms[n]:>17.1f}" for n in names)
              + f"{ms['torch.nn.GRU'] / ms['MinGRU']:>14.2f}x{ms['torch.nn.GRU'] / ms['MinLSTM']:>15.2f}x")  # fmt: skip
    print()


CLASSIFIER_STEP = """
import sys, time, statistics, torch
from rnnlab.models.classifier import ClassifierConfig, SequenceClassifierNet
from rnnlab.runtime import choose_threads
if sys.argv[1] == "rnnlab":
    choose_threads(None, log=lambda s: None)
else:
    torch.set_num_threads(int(sys.argv[1]))
net = SequenceClassifierNet(ClassifierConfig(hidden_size=64), classes=2, vocab_size=20000)
opt = torch.optim.Adam(net.parameters())
tokens = torch.randint(1, 20000, (64, 200)); lengths = torch.full((64,), 200); y = torch.randint(0, 2, (64,))
times = []
for i in range(8):
    t = time.perf_counter(); loss = torch.nn.functional.cross_entropy(net(tokens, lengths), y)
    opt.zero_grad(); loss.backward(); opt.step(); times.append(time.perf_counter() - t)
print(torch.get_num_threads(), statistics.median(times[2:]))
"""


def threads() -> None:
    def measure(mode: str) -> tuple[int, float]:
        out = subprocess.run([sys.executable, "-c", CLASSIFIER_STEP, mode], capture_output=True, text=True, check=True)
        count, seconds = out.stdout.split()
        return int(count), float(seconds)

    _, idle = measure("2")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # another process keeps one core busy
    try:
        time.sleep(1.0)
        _, two = measure("2")
        chosen, ours = measure("rnnlab")
    finally:
        busy.kill()
    print("text-classifier training step (batch 64 x 200 tokens, BiLSTM 64):")
    print(
        f"  idle, 2 threads {idle:.2f} s; one core busy: 2 threads {two:.2f} s ({two / idle:.1f}x idle), "
        f"rnnlab's choice ({chosen} thread{'s' * (chosen > 1)}) {ours:.2f} s ({ours / idle:.1f}x idle)\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("allocator", "gru", "minimal", "threads"), default=None)
    args = parser.parse_args()
    for name, job in (("allocator", allocator), ("gru", gru), ("minimal", minimal), ("threads", threads)):
        if args.only in (None, name):
            job()
