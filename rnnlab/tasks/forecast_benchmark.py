"""``rnnlab forecast benchmark``: rnnlab's defaults beside naive, seasonal naive, ETS and Theta on real series.

Every series is run as a new user would: only the data, the target, the horizon and the protocol's test span are
given; the calendar, the validation span and the model's configuration are left to the defaults. The summary is the
geometric mean over the series of rnnlab's MASE relative to ETS's (below 1: better than ETS), and how often rnnlab
beats the seasonal naive and stays within 5% of the best baseline.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.checkpoint import atomic_write_text, write_table
from rnnlab.data.series import SeriesSpec
from rnnlab.data.suites import suite
from rnnlab.errors import RnnlabError
from rnnlab.tasks.forecast import SpanOptions, train_frame
from rnnlab.train import TrainConfig


def benchmark_run(
    name: str, *, series: tuple[str, ...] = (), budget: float = 180.0, run_dir: str | Path, output: str | None = None,
    log=print,
) -> pd.DataFrame:  # fmt: skip
    """Run the defaults on each series of suite ``name`` (or only ``series``); print and return the table."""
    entries = suite(name)
    if series:
        unknown = [s for s in series if s not in {e.name for e in entries}]
        if unknown:
            raise RnnlabError(
                f"no series {', '.join(unknown)} in suite {name!r}; it has {', '.join(e.name for e in entries)}"
            )
        entries = [e for e in entries if e.name in series]
    run_dir = Path(run_dir)
    rows = []
    for entry in entries:
        start = time.perf_counter()
        frame = entry.load()
        spans = SpanOptions(horizon=entry.horizon, test_size=entry.test_size)
        forecaster, model_row, baselines = train_frame(
            frame, SeriesSpec((entry.target,), entry.time), entry.name, None, {}, TrainConfig(progress=False),
            run_dir=run_dir / entry.name, spans=spans, budget=budget, log=lambda _: None, show_table=False,
        )  # fmt: skip
        scores = {row.name: row.metrics["mase"] for row in baselines}
        ets = next(v for k, v in scores.items() if k.startswith("ETS"))
        theta = next(v for k, v in scores.items() if k.startswith("Theta"))
        seasonal = min([v for k, v in scores.items() if k.startswith("seasonal naive")] or [scores["naive"]])
        best_name = min(scores, key=scores.get)
        mase = model_row.metrics["mase"]
        chosen = [t["label"] for t in forecaster.info.get("search", []) if t.get("chosen")]
        rows.append({
            "series": entry.name, "frequency": forecaster.info["plan"]["frequency"], "points": len(frame),
            "horizon": entry.horizon, "periods": ",".join(f"{p:g}" for p in forecaster.info["plan"]["periods"]) or "-",
            "rnnlab": mase, "naive": scores["naive"], "seasonal naive": seasonal, "ETS": ets, "Theta": theta,
            "rnnlab / ETS": mase / ets, "rnnlab / best": mase / scores[best_name], "best baseline": best_name,
            "configuration": " + ".join(chosen), "seconds": time.perf_counter() - start,
        })  # fmt: skip
        r = rows[-1]
        log(
            f"{entry.name:<16} rnnlab {mase:6.3f}  seasonal naive {seasonal:6.3f}  ETS {ets:6.3f}  Theta {theta:6.3f}"
            f"  rnnlab/ETS {r['rnnlab / ETS']:.3f}  rnnlab/best {r['rnnlab / best']:.3f}  ({r['seconds']:.0f} s)"
        )
    table = pd.DataFrame(rows)
    geomean = math.exp(float(np.mean(np.log(table["rnnlab / ETS"]))))
    summary = {
        "suite": name, "series": len(table), "geometric mean of rnnlab / ETS": geomean,
        "beats the seasonal naive": int((table["rnnlab"] < table["seasonal naive"]).sum()),
        "within 5% of the best baseline": int((table["rnnlab / best"] <= 1.05).sum()),
        "seconds": float(table["seconds"].sum()),
    }  # fmt: skip
    shown = table.drop(columns=["configuration", "points"]).round(3)
    log("\n" + shown.to_string(index=False))
    log(
        f"\n{name}: geometric mean of MASE relative to ETS {geomean:.3f}; rnnlab beats the seasonal naive on "
        f"{summary['beats the seasonal naive']}/{len(table)} series and is within 5% of the best baseline on "
        f"{summary['within 5% of the best baseline']}/{len(table)}; {summary['seconds'] / 60:.1f} minutes"
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "benchmark.json", json.dumps({"summary": summary, "rows": rows}, indent=2))
    if output:
        write_table(table, output, "rows", log)
    return table
