"""Cost of one new point in a streaming forecaster (LSTM, hidden size 128), against the alternatives, in one run.

- ``forecaster.update(point)``: rnnlab's O(1) step (features of the point + one recurrent step on the carried state);
- re-reading the lookback window: ``forecast_at`` over the last ``lookback`` points from a zero state, as a
  windowed model must do for every new point;
- peers: ``torch.nn.LSTM`` called with one time step and a carried state, and ``torch.nn.LSTMCell`` stepped.

``update`` is measured after a short (1,000 points) and a long (100,000 points) history, to show that its cost does
not grow with the history.

    python bench/bench_streaming.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

TUNABLES = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824"


def per_call_us(fn, calls: int, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean time of ``calls`` calls, in µs."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def main() -> None:
    if os.environ.get("GLIBC_TUNABLES") != TUNABLES:
        os.environ["GLIBC_TUNABLES"] = TUNABLES
        os.execv(sys.executable, [sys.executable, *sys.argv])
    import tempfile

    import numpy as np
    import pandas as pd
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from rnnlab.data.series import SeriesSpec
    from rnnlab.models.forecaster import ForecastConfig, Forecaster
    from rnnlab.train import TrainConfig

    hidden, lookback = 128, 96
    t = np.arange(100_000 + 6_000)
    values = np.sin(2 * np.pi * t / 48) + 0.1 * np.random.default_rng(0).standard_normal(len(t))
    frame = pd.DataFrame({"value": values})
    config = ForecastConfig(hidden_size=hidden, lookback=lookback, horizon=48, base="seasonal", period=336,
                            cycles=(48, 336))  # fmt: skip
    forecaster = Forecaster(config, TrainConfig(epochs=1, progress=False))
    with tempfile.TemporaryDirectory() as run_dir:
        forecaster.fit(frame.iloc[:3000], SeriesSpec(("value",)), val_size=300, test_size=0, run_dir=run_dir,
                       log=lambda s: None)  # fmt: skip
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; LSTM hidden {hidden}, lookback {lookback}")
    print("µs per new point (median of 5 runs)\n")

    results = {}
    for history in (1_000, 100_000):
        forecaster.start_stream(frame.iloc[:history])
        stream = iter(values[history:])
        results[f"rnnlab update, history {history:,}"] = per_call_us(lambda s=stream: forecaster.update(next(s)), 1000)

    data = forecaster._data(frame.iloc[:5000], "bench")
    origin = np.array([4000])
    results["re-read the window (forecast_at)"] = per_call_us(lambda: forecaster.forecast_at(data, origin), 200)

    features = forecaster.net.rnn.input_size
    peer = torch.nn.LSTM(features, hidden)
    cell = torch.nn.LSTMCell(features, hidden)
    x = torch.randn(1, 1, features)
    state = (torch.zeros(1, 1, hidden), torch.zeros(1, 1, hidden))
    cell_state = (torch.zeros(1, hidden), torch.zeros(1, hidden))
    with torch.inference_mode():
        results["torch.nn.LSTM, T=1"] = per_call_us(lambda: peer(x, state), 1000)
        results["torch.nn.LSTMCell step"] = per_call_us(lambda: cell(x[0], cell_state), 1000)

    base = results["torch.nn.LSTMCell step"]
    for name, us in results.items():
        print(f"{name:<36}{us:>9.1f} µs   {us / base:>5.2f}x LSTMCell")
    long, short = results["rnnlab update, history 100,000"], results["rnnlab update, history 1,000"]
    print(f"\nupdate after 100,000 points / after 1,000 points: {long / short:.2f}")


if __name__ == "__main__":
    main()
