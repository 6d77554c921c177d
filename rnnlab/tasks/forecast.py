"""The forecasting jobs behind ``rnnlab forecast ...`` and ``make demo``: load, train, evaluate, plot, predict.

Each job takes plain options, prints what it does, and writes into a run folder: ``best.safetensors`` (the model),
``last.safetensors`` (to resume), ``metrics.jsonl`` (the log), ``evaluation.json`` (the table), ``forecast.png`` and
``training.png``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnlab.checkpoint import atomic_write_bytes, atomic_write_text, write_table
from rnnlab.data.datasets import BUILTINS, BuiltinSeries, load_builtin
from rnnlab.data.series import SeriesSpec, read_table
from rnnlab.errors import RnnlabError
from rnnlab.evaluation import Row, evaluate_forecaster, format_table
from rnnlab.models.forecaster import ForecastConfig, Forecaster
from rnnlab.train import TrainConfig

DEMO_CONFIG = ForecastConfig(lookback=96, horizon=48, base="seasonal", period=336, cycles=(48, 336), hidden_size=64)


@dataclass(frozen=True)
class DataOptions:
    """Where the series comes from and which columns are what."""

    data: str  # a built-in name (see `rnnlab forecast datasets`) or a CSV/Parquet path
    targets: tuple[str, ...] = ()  # target columns; default: the built-in's, or the only numeric column
    time: str | None = None  # time column; default: the built-in's, or a column named time/date/timestamp
    covariates: tuple[str, ...] = ()  # further input columns
    fill: str | None = None  # 'ffill', 'interpolate' or 'zero' for missing values; None rejects them


def load_data(options: DataOptions) -> tuple[pd.DataFrame, SeriesSpec, str, BuiltinSeries | None]:
    """The table, the column spec, a name for messages, and the built-in entry if it is one."""
    if options.data in BUILTINS:
        entry, frame = load_builtin(options.data)
        spec = SeriesSpec(
            targets=options.targets or (entry.target,), time=options.time or entry.time,
            covariates=options.covariates, fill=options.fill,
        )  # fmt: skip
        return frame, spec, options.data, entry
    path = Path(options.data)
    if not path.exists() and not path.suffix:
        raise RnnlabError(f"no file or built-in series {options.data!r}; built-in: {', '.join(BUILTINS)}")
    frame = read_table(path)
    time_column = options.time
    if time_column is None:
        time_column = next(
            (c for c in frame.columns if str(c).lower() in ("time", "date", "timestamp", "datetime")), None
        )
    targets = options.targets
    if not targets:
        others = [c for c in frame.columns if c != time_column and c not in options.covariates]
        numeric = [c for c in others if c in frame.select_dtypes("number").columns]
        numeric = others if len(others) == 1 else numeric  # one candidate: take it, and let the checks speak
        if len(numeric) != 1:
            raise RnnlabError(
                f"say which column to forecast with --target; columns of {path}: {', '.join(map(str, frame.columns))}"
            )
        targets = (numeric[0],)
    return frame, SeriesSpec(tuple(targets), time_column, tuple(options.covariates), options.fill), str(path), None


def _given(value: int | None, name: str, default: int) -> int:
    """An option the user gave (which must be a positive whole number), or its default."""
    if value is None:
        return default
    if value < 1:
        raise RnnlabError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    return value


def default_sizes(length: int, horizon: int, entry: BuiltinSeries | None) -> int:
    """Validation and test size when not given: the built-in's protocol, two of the longest cycles, or 4 horizons,
    at most 15% each."""
    if entry is not None and entry.holdout:
        return entry.holdout
    if entry is not None and entry.cycles:
        return min(2 * max(entry.cycles), int(0.15 * length))
    return max(min(4 * horizon, int(0.15 * length)), horizon)


def train_run(
    options: DataOptions,
    config: ForecastConfig,
    train_config: TrainConfig,
    *,
    run_dir: str | Path,
    resume: bool = False,
    val_size: int | None = None,
    test_size: int | None = None,
    stride: int | None = None,
    mase_period: int | None = None,
    log=print,
    show_table: bool = True,
) -> tuple[Forecaster, Row, list[Row]]:
    """Train, evaluate beside the baselines on the test span, write plots and the table into ``run_dir``."""
    frame, spec, source, entry = load_data(options)
    cycles = config.cycles or (entry.cycles if entry else ())
    val_size = val_size if val_size is not None else default_sizes(len(frame), config.horizon, entry)
    test_size = test_size if test_size is not None else val_size
    stride = _given(stride, "stride", config.horizon)
    mase_period = _given(mase_period, "mase_period", min(cycles) if cycles else 1)
    if 0 < test_size < config.horizon:
        raise RnnlabError(f"--test-size {test_size} is shorter than the horizon {config.horizon}; use ≥ it, or 0")
    forecaster = Forecaster(config, train_config)
    start = time.perf_counter()
    forecaster.fit(
        frame, spec, val_size=val_size, test_size=test_size, run_dir=run_dir, resume=resume, source=source, log=log
    )
    seconds = time.perf_counter() - start
    model_row, baselines = evaluate_and_report(
        forecaster, frame, source, run_dir=Path(run_dir), val_size=val_size, test_size=test_size,
        stride=stride, mase_period=mase_period, cycles=cycles,
        name=f"{config.cell} (rnnlab)", seconds=seconds, log=log, show_table=show_table,
    )  # fmt: skip
    return forecaster, model_row, baselines


def evaluate_and_report(
    forecaster: Forecaster, frame: pd.DataFrame, source: str, *, run_dir: Path | None, val_size: int, test_size: int,
    stride: int, mase_period: int, cycles: tuple[int, ...], name: str, seconds: float | None = None, log=print,
    show_table: bool = True,
) -> tuple[Row, list[Row]]:  # fmt: skip
    data = forecaster._data(frame, source)
    if test_size <= 0:
        log("no test span (--test-size 0): nothing to evaluate")
        return Row(name, {"mase": float("nan"), "mae": float("nan"), "rmse": float("nan"), "smape": float("nan")}), []
    model_row, baselines, forecasts, origins = evaluate_forecaster(
        forecaster, data, name=name, val_size=val_size, test_size=test_size, stride=stride,
        mase_period=mase_period, cycles=cycles,
    )  # fmt: skip
    if seconds is not None:
        model_row.seconds = seconds
    title = (
        f"{source}: rolling origin, {len(origins)} origins every {stride} steps, horizon {forecaster.config.horizon}, "
        f"MASE scale = in-sample seasonal naive m={mase_period}"
    )
    if show_table:
        log(format_table([model_row, *baselines], title))
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
    horizon, lookback, cell = forecaster.config.horizon, forecaster.config.lookback, forecaster.config.cell
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
    window = torch.from_numpy(data.features[origin - lookback : origin])[None]  # (1, L, F)
    gates = trace_model(forecaster.net, window)[0].trace[0, 0]
    labels = [f"{v:.4g}" for v in truth[origin - lookback : origin]]
    report = Report(f"forecast: {source}, {cell}")
    report.notes.append(
        f"Rolling-origin evaluation on the last {len(truth) - int(origins[0])} points; every method forecasts "
        f"{horizon} steps from each origin using only the data before it."
    )
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


def evaluate_run(checkpoint: str, options: DataOptions, *, val_size, test_size, stride, mase_period, log=print):
    forecaster = Forecaster.load(checkpoint)
    spec = forecaster.spec
    options = DataOptions(options.data, spec.targets, spec.time, spec.covariates, options.fill or spec.fill)
    frame, _, source, entry = load_data(options)
    cycles = forecaster.config.cycles or (entry.cycles if entry else ())
    val_size = val_size if val_size is not None else default_sizes(len(frame), forecaster.config.horizon, entry)
    test_size = test_size if test_size is not None else val_size
    return evaluate_and_report(
        forecaster, frame, source, run_dir=None, val_size=val_size, test_size=test_size,
        stride=_given(stride, "stride", forecaster.config.horizon),
        mase_period=_given(mase_period, "mase_period", min(cycles) if cycles else 1),
        cycles=cycles, name=f"{forecaster.config.cell} ({Path(checkpoint).name})", log=log,
    )  # fmt: skip


def predict_run(checkpoint: str, options: DataOptions, output: str | None, log=print) -> pd.DataFrame:
    """Forecast the horizon after the end of the data; write a CSV (atomically) or print it."""
    forecaster = Forecaster.load(checkpoint)
    spec = forecaster.spec
    frame, _, source, _ = load_data(DataOptions(options.data, spec.targets, spec.time, spec.covariates, options.fill))
    result = forecaster.predict(frame, source=source)
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
        config = ForecastConfig(**{**DEMO_CONFIG.__dict__, "cell": cell})
        train_config = TrainConfig(epochs=epochs, patience=8, lr=2e-3, progress=False)
        log(f"--- training {cell} ---")
        forecaster, row, baselines = train_run(
            DataOptions("electricity"), config, train_config, run_dir=run_root / cell, log=log, show_table=False,
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
