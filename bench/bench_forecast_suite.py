"""rnnlab's forecasting defaults on the ``single`` suite beside naive, seasonal naive, ETS and Theta.

The same as ``rnnlab forecast benchmark --suite single``: 14 real series of every common frequency, each given only
data, target, horizon and test span; prints per series and in aggregate (geometric mean of MASE relative to ETS).
About 6 minutes on 2 cores. ``python bench/bench_forecast_suite.py [--budget S] [--series a,b]``.
"""

from __future__ import annotations

import argparse
import tempfile

from rnnlab.tasks.forecast_benchmark import benchmark_run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=180.0)
    parser.add_argument("--series", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        series = tuple(s for s in args.series.split(",") if s)
        benchmark_run("single", series=series, budget=args.budget, run_dir=runs)
