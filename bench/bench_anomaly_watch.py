"""Issue 15's streaming measurement: ``rnnlab anomaly watch`` on one core, and its alerts against ``score``'s.

    python bench/bench_anomaly_watch.py            # ~1 minute

For each scorer, a detector is trained (a few epochs: speed does not depend on how well) on the injected
electricity series, then 100,000 values (the series repeated) are fed to ``watch`` as text lines, the way a pipe
feeds it, pinned to one core with one torch thread. Printed: points per second, and whether the alerts are exactly
the points ``score`` flags on the same values. The peer is the pace of the data: 20,000 points/s is the issue's bar.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnlab.data.anomalies import injected_suite
from rnnlab.models.detector import AnomalyDetector
from rnnlab.tasks.anomaly import watch_run
from rnnlab.train import TrainConfig

POINTS = 100_000


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    torch.set_num_threads(1)
    series = injected_suite(names=("electricity",))[0]
    values = np.resize(series.values, POINTS)
    text = "".join(f"{v:.6g}\n" for v in values)
    values = np.array([float(v) for v in text.split()])  # exactly what watch reads
    print(f"{'scorer':16}{'points/s':>12}  alerts = score's flags")
    for scorer in ("reconstruction", "prediction", "combined"):
        with tempfile.TemporaryDirectory() as folder:
            detector = AnomalyDetector(scorer=scorer, train_config=TrainConfig(epochs=3, progress=False))
            detector.fit(series.values, normal_end=series.train_end, run_dir=folder, log=lambda m: None)
            flagged = np.flatnonzero(detector.score(values)["flag"].to_numpy()).tolist()
            out, err = io.StringIO(), io.StringIO()
            started = time.perf_counter()
            watch_run(folder, io.StringIO(text), out=out, err=err)
            seconds = time.perf_counter() - started
        alerted = [int(line.split()[2]) for line in out.getvalue().splitlines() if line.startswith("alert")]
        same = "yes" if alerted == flagged else f"NO ({len(alerted)} alerts, {len(flagged)} flags)"
        print(f"{scorer:16}{POINTS / seconds:12,.0f}  {same} ({len(alerted)} alerts)", flush=True)


if __name__ == "__main__":
    main()
