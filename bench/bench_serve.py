"""Load test of ``rnnlab serve`` on loopback: 16 concurrent clients for 30 s against /forecast and /classify, then
the streaming update's latency per point. Trains two small models first (about a minute), starts each server as a
subprocess, stops everything by itself.

Each endpoint gets a warm-up round of 30 s, then the measured one: requests per second, p50 and p99 latency, errors,
and the server's resident memory every 5 s (flat means no leak). Run: python bench/bench_serve.py (about 4 minutes)
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

CLIENTS, SECONDS = 16, 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(checkpoint: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "rnnlab", "serve", "--checkpoint", str(checkpoint), "--port",
                                str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(600):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server for {checkpoint} did not start")


def load(url: str, path: str, body: dict, pid: int) -> dict:
    import httpx

    latencies, errors, memory = [], [0], []
    stop = time.monotonic() + SECONDS

    def watch_memory() -> None:  # the server's resident memory every 5 s: flat, or growing?
        while time.monotonic() < stop:
            memory.append(round(rss_mb(pid)))
            time.sleep(5)

    def client() -> None:
        with httpx.Client(timeout=30) as session:
            while time.monotonic() < stop:
                began = time.perf_counter()
                reply = session.post(f"{url}{path}", json=body)
                latencies.append(time.perf_counter() - began)
                errors[0] += reply.status_code != 200

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)] + [threading.Thread(target=watch_memory)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ms = np.array(latencies) * 1000
    return {"requests/s": len(ms) / SECONDS, "p50 ms": np.percentile(ms, 50), "p99 ms": np.percentile(ms, 99),
            "errors": errors[0], "memory MB every 5 s": memory}  # fmt: skip


def main() -> None:
    import httpx
    import pandas as pd

    from rnnlab import Forecaster, TextClassifier, TrainConfig

    folder = Path(tempfile.mkdtemp(prefix="rnnlab-bench-serve-"))
    t = np.arange(3000)
    series = pd.DataFrame({"y": 10 + np.sin(2 * np.pi * t / 24) + 0.2 * np.random.default_rng(0).normal(size=3000)})
    Forecaster(auto=False, epochs=3, horizon=24, lookback=96).fit(series, target="y", run_dir=folder / "forecast",
                                                                   log=lambda *_: None)  # fmt: skip
    words = ["good", "bad", "film", "plot", "fun", "dull", "great", "awful", "acting", "long"]
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, 20)) for _ in range(400)]
    labels = ["pos" if t.count("good") + t.count("great") > t.count("bad") + t.count("awful") else "neg" for t in texts]
    TextClassifier(wide=False).fit(texts, labels, run_dir=folder / "classify", log=lambda *_: None,
                                   train_config=TrainConfig(epochs=2, progress=False))  # fmt: skip
    cases = [("forecast", "/forecast", {"history": series["y"].tolist()[-500:]}),
             ("classify", "/classify", {"texts": texts[:8]})]  # fmt: skip
    for name, path, body in cases:
        process, url = start(folder / name)
        try:
            load(url, path, body, process.pid)  # a first round warms the server up (allocator, caches)
            result = load(url, path, body, process.pid)
            shown = ", ".join(f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items())
            print(f"{name:9} {CLIENTS} clients × {SECONDS} s after a warm-up round: {shown}")
            if name == "forecast":
                httpx.post(f"{url}/series/s1/update", json={"values": series["y"].tolist()[:2000]})
                timings = []
                for value in series["y"].tolist()[2000:2500]:
                    began = time.perf_counter()
                    httpx.post(f"{url}/series/s1/update", json={"values": [value]})
                    timings.append(time.perf_counter() - began)
                ms = np.array(timings) * 1000
                print(f"streaming update, one point per request: p50 {np.percentile(ms, 50):.2f} ms, "
                      f"p99 {np.percentile(ms, 99):.2f} ms (HTTP round trip included)")  # fmt: skip
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
