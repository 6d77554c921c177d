"""The forecasting jobs behind ``rnnlab forecast ...`` and ``make demo``: load, train, evaluate, plot, predict.

Each job takes plain options, prints what it does, and writes into a run folder: ``best.safetensors`` (the model),
``last.safetensors`` (to resume), ``metrics.jsonl`` (the log), ``evaluation.json`` (the table), ``forecast.png`` and
``training.png``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnlab.checkpoint import atomic_write_bytes, atomic_write_text, check_output, write_table
from rnnlab.data.datasets import BuiltinSeries
from rnnlab.data.protocol import Plan, plan_for
from rnnlab.data.series import SeriesSpec
from rnnlab.data.sources import DataOptions, SpanOptions, load_data
from rnnlab.errors import RnnlabError
from rnnlab.evaluation import Row, evaluate_forecaster, format_table
from rnnlab.models.autoconfig import auto_fit, default_config
from rnnlab.models.forecaster import ForecastConfig, Forecaster
from rnnlab.train import TrainConfig

DEMO_CONFIG = ForecastConfig(lookback=96, horizon=48, base="seasonal", period=336, cycles=(48, 336), hidden_size=64)


def train_run(
    options: DataOptions,
    model: dict,
    train_config: TrainConfig,
    *,
    run_dir: str | Path,
    spans: SpanOptions | None = None,
    auto: bool = True,
    budget: float = 180.0,
    ensemble: int = 6,
    resume: bool = False,
    log=print,
    show_table: bool = True,
) -> tuple[Forecaster, Row, list[Row]]:
    """Train, evaluate beside the baselines on the test span, write plots and the table into ``run_dir``.

    ``model`` holds the :class:`ForecastConfig` fields the user set; with ``auto`` the others are searched
    (:mod:`rnnlab.models.autoconfig`), without it they take their defaults.
    """
    frame, spec, source, entry = load_data(options, log)
    return train_frame(frame, spec, source, entry, model, train_config, run_dir=run_dir, spans=spans, auto=auto,
                       budget=budget, ensemble=ensemble, resume=resume, log=log, show_table=show_table)  # fmt: skip


def train_frame(
    frame: pd.DataFrame,
    spec: SeriesSpec,
    source: str,
    entry: BuiltinSeries | None,
    model: dict,
    train_config: TrainConfig,
    *,
    run_dir: str | Path,
    spans: SpanOptions | None = None,
    auto: bool = True,
    budget: float = 180.0,
    ensemble: int = 6,
    resume: bool = False,
    log=print,
    show_table: bool = True,
) -> tuple[Forecaster, Row, list[Row]]:
    """:func:`train_run` on a table already loaded."""
    spans = spans or SpanOptions()
    if resume and not any((Path(run_dir) / name).exists() for name in ("last.safetensors", "search.json")):
        raise RnnlabError(f"nothing to resume in {run_dir}: it holds no interrupted run")
    plan = plan_for(frame, spec, source, entry, spans)
    for line in plan.describe():
        log(line)
    template = default_config(plan, model)
    start = time.perf_counter()
    if auto:
        forecaster, _ = auto_fit(
            frame, spec, plan, template, train_config, fixed=model, budget=budget, ensemble=ensemble,
            run_dir=run_dir, resume=resume, source=source, log=log,
        )  # fmt: skip
    else:
        forecaster = Forecaster(replace(template, ensemble=model.get("ensemble", 1)), train_config)
        forecaster.fit(frame, spec, val_size=plan.val_size, test_size=plan.test_size, run_dir=run_dir, resume=resume,
                       source=source, log=log)  # fmt: skip
    seconds = time.perf_counter() - start
    forecaster.info["plan"] = {"frequency": plan.calendar.frequency, "periods": list(plan.cycles),
                               "notes": plan.describe()}  # fmt: skip
    forecaster.save(Path(run_dir) / "best.safetensors")
    model_row, baselines = evaluate_and_report(
        forecaster, frame, source, run_dir=Path(run_dir), plan=plan, name=_name(forecaster), seconds=seconds,
        log=log, show_table=show_table,
    )  # fmt: skip
    return forecaster, model_row, baselines


def _name(forecaster: Forecaster) -> str:
    cells = sorted({m.config.cell for m in forecaster.members})
    count = len(forecaster.members)
    return f"{'/'.join(cells)} (rnnlab{f', {count} nets' if count > 1 else ''})"


def evaluate_and_report(
    forecaster: Forecaster, frame: pd.DataFrame, source: str, *, run_dir: Path | None, plan: Plan, name: str,
    seconds: float | None = None, log=print, show_table: bool = True,
) -> tuple[Row, list[Row]]:  # fmt: skip
    data = forecaster._data(frame, source)
    if plan.test_size <= 0:
        log("no test span (--test-size 0): nothing to evaluate")
        return Row(name, {"mase": float("nan"), "mae": float("nan"), "rmse": float("nan"), "smape": float("nan")}), []
    model_row, baselines, forecasts, origins = evaluate_forecaster(
        forecaster, data, name=name, val_size=plan.val_size, test_size=plan.test_size, stride=plan.stride,
        mase_period=plan.mase_period, cycles=plan.cycles,
    )  # fmt: skip
    if seconds is not None:
        model_row.seconds = seconds
    title = (
        f"{source}: rolling origin, {len(origins)} origins every {plan.stride} steps, horizon "
        f"{forecaster.config.horizon}, MASE scale = in-sample seasonal naive m={plan.mase_period}"
    )
    if show_table:
        log(format_table([model_row, *baselines], title))
        best = min(baselines, key=lambda r: r.metrics["mase"])
        if best.metrics["mase"] < model_row.metrics["mase"]:
            log(f"on this test span {best.name} beats the network (MASE {best.metrics['mase']:.3f} vs "
                f"{model_row.metrics['mase']:.3f})")  # fmt: skip
    if run_dir is not None:
        rows = sorted([model_row, *baselines], key=lambda r: (r is not model_row, r.metrics["mase"]))
        table = [{"name": r.name, **r.metrics, "params": r.params, "seconds": r.seconds} for r in rows]
        atomic_write_text(run_dir / "evaluation.json", json.dumps({"source": source, "rows": table}, indent=2))
        write_plots(forecaster, data, forecasts, origins, run_dir, source, table)
        if show_table:
            log(f"run folder: {run_dir} (report.html, best.safetensors, metrics.jsonl, evaluation.json, forecast.png)")
    return model_row, baselines


def write_plots(
    forecaster: Forecaster, data, forecasts: np.ndarray, origins: np.ndarray, run_dir: Path, source: str, table: list
) -> None:
    """forecast.png, training.png and report.html (those two, gate heatmaps of the last test window, the table)."""
    from rnnlab.inspection.plots import figure_png, forecast_plot, gate_heatmaps, hidden_states, training_curves
    from rnnlab.inspection.report import Report
    from rnnlab.inspection.trace import trace_model

    truth = data.series.targets[:, 0]
    x = data.series.times if data.series.times is not None else np.arange(len(truth))
    first = forecaster.members[0]
    horizon, lookback, cell = forecaster.config.horizon, first.config.lookback, first.config.cell
    shown = origins[-3:]
    start = max(0, int(shown[0]) - 4 * horizon)
    end = int(shown[-1]) + horizon
    lines = {f"forecast from {x[o]}": (x[o : o + horizon], forecasts[len(origins) - len(shown) + i, :, 0])
             for i, o in enumerate(shown)}  # fmt: skip
    pngs = {"forecast.png": figure_png(forecast_plot(
        x[start : shown[0]], truth[start : shown[0]], lines, truth=(x[shown[0] : end], truth[shown[0] : end]),
        title=f"{source}: {cell} forecasts at the last {len(shown)} test origins", ylabel=forecaster.spec.targets[0],
    ))}  # fmt: skip
    if forecaster.result is not None and forecaster.result.history:
        pngs["training.png"] = figure_png(training_curves(forecaster.result.history, title=f"{source}: {cell}"))
    for name, png in pngs.items():
        atomic_write_bytes(run_dir / name, png)

    origin = int(origins[-1])
    window = torch.from_numpy(data.features(first.transform)[origin - lookback : origin])[None]  # (1, L, F)
    gates = trace_model(forecaster.net, window)[0].trace[0, 0]
    labels = [f"{v:.4g}" for v in truth[origin - lookback : origin]]
    report = Report(f"forecast: {source}, {cell}")
    report.notes.append(
        f"Rolling-origin evaluation on the last {len(truth) - int(origins[0])} points; every method forecasts "
        f"{horizon} steps from each origin using only the data before it."
    )
    report.notes += forecaster.info.get("plan", {}).get("notes", [])
    search = forecaster.info.get("search", [])
    if search:
        report.table("automatic configuration: the candidates on validation (the best first)",
                     ["configuration", "validation MASE", "best epoch", "time s"],
                     [[t["label"], t["val_mase"], t["best_epoch"], f"{t['seconds']:.1f}"] for t in search],
                     highlight={i for i, t in enumerate(search) if t.get("chosen")})  # fmt: skip
    rows = [[r["name"], r["mase"], r["mae"], r["rmse"], r["smape"], r["params"], f"{r['seconds']:.2f}"] for r in table]
    header = ["model", "MASE", "MAE", "RMSE", "sMAPE %", "params", "time s"]
    report.table("the model, then the baselines by MASE (time: training, or forecasting for baselines)", header, rows,
                 highlight={0})  # fmt: skip
    captions = {"training.png": "training curves", "forecast.png": "forecasts at the last test origins"}
    for name, png in pngs.items():
        report.figure(captions[name], png)
    gate_values = {k: v[0].numpy() for k, v in gates.items() if k != "h"}  # an Elman RNN has none
    if gate_values:
        report.figure(
            f"gates of the first layer on the last test window ({lookback} steps, values along the time axis)",
            figure_png(gate_heatmaps(gate_values, labels=labels)),
        )
    report.figure("hidden state on the same window", figure_png(hidden_states(gates["h"][0].numpy(), labels=labels)))
    report.config = forecaster.metadata() | {"training": dataclasses.asdict(forecaster.train_config)}
    report.write(run_dir / "report.html")


def evaluate_run(checkpoint: str, options: DataOptions, spans: SpanOptions | None = None, log=print):
    """A trained forecaster beside the baselines on the test span of (other) data; the column choices come from the
    checkpoint."""
    spans = spans or SpanOptions()
    forecaster = Forecaster.load(checkpoint)
    frame, spec, source, entry = _load_for(forecaster, options, log)
    plan_spans = replace(spans, horizon=forecaster.config.horizon)
    if spans.cycles is None and spans.period is None:
        plan_spans = replace(plan_spans, cycles=tuple(forecaster.config.cycles) or None)
    plan = plan_for(frame, spec, source, entry, plan_spans)
    return evaluate_and_report(forecaster, frame, source, run_dir=None, plan=plan,
                               name=f"{_name(forecaster)} {Path(checkpoint).name}", log=log)  # fmt: skip


def _load_for(forecaster: Forecaster, options: DataOptions, log):
    spec = forecaster.spec
    fill = options.fill if options.fill != DataOptions.fill else spec.fill
    return load_data(DataOptions(options.data, spec.targets, spec.time, spec.covariates, fill, options.encoding), log)


def predict_run(checkpoint: str, options: DataOptions, output: str | None, log=print) -> pd.DataFrame:
    """Forecast the horizon after the end of the data; write a CSV (atomically) or print it."""
    forecaster = Forecaster.load(checkpoint)
    frame, _, source, _ = _load_for(forecaster, options, log)
    check_output(output, options.data, checkpoint)
    result = forecaster.predict(frame, source=source)
    result = result.reset_index() if result.index.name != "row" else result  # the times as a column of the CSV
    write_table(result, output, "forecast steps", log)
    return result


def datasets_table() -> str:
    from rnnlab.data.datasets import list_builtins

    rows = list_builtins()
    header = f"{'name':<17}{'points':>8}  {'frequency':<15}{'span':<25}{'target':<10}description"
    lines = [header, "-" * (len(header) + 30)]
    for r in rows:
        lines.append(
            f"{r['name']:<17}{r['points']!s:>8}  {r['frequency']:<15}{r['span']:<25}{r['target']:<10}{r['description']}"
        )
    return "\n".join(lines)


def demo_run(run_root: str | Path, *, epochs: int = 30, log=print) -> list[Row]:
    """``make demo``: LSTM, GRU and RNN forecasters on the electricity series, one table beside the baselines."""
    run_root = Path(run_root)
    log("rnnlab demo: forecasting half-hourly electricity demand one day (48 steps) ahead")
    log("protocol: test = last 672 points (2 weeks), validation = the 672 before, 14 rolling origins every 48 steps")
    log(f"model: {DEMO_CONFIG.lookback} steps in, residual of the weekly seasonal naive out (base='seasonal', m=336)\n")
    rows, baselines = [], []
    for cell in ("lstm", "gru", "rnn"):
        config = replace(DEMO_CONFIG, cell=cell)
        train_config = TrainConfig(epochs=epochs, patience=8, lr=2e-3, progress=False)
        log(f"--- training {cell} ---")
        forecaster, row, baselines = train_run(
            DataOptions("electricity"), asdict(config), train_config, run_dir=run_root / cell, auto=False, log=log,
            show_table=False,
        )  # fmt: skip
        rows.append(row)
        log(
            f"{cell}: best epoch {forecaster.result.best_epoch}, {row.seconds:.0f} s, "
            f"test MASE {row.metrics['mase']:.3f}\n"
        )
    log(
        format_table(
            [*rows, *baselines], "electricity, 14 origins × 48 steps (MASE scale: in-sample seasonal naive m=48)"
        )
    )
    log(f"\nreports, plots and checkpoints: {run_root}/<cell>/ (report.html, forecast.png, best.safetensors)")
    return [*rows, *baselines]
