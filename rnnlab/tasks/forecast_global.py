"""Many series, one model: ``rnnlab forecast train --id COLUMN`` and the M1/M3/Tourism benchmarks.

A panel (long format with an id column, or a wide table) trains one :class:`~rnnlab.models.global_forecaster.
GlobalForecaster`; the last ``test_size`` points of every series (default: one horizon) are held out and scored per
series and in aggregate beside Naive2, the seasonal naive, ETS and Theta, as the M competitions score: sMAPE (or
MAPE for Tourism), MASE against the in-sample seasonal naive, and OWA against Naive2.

The default configuration came from M3 monthly (``docs`` and the README give the figures): the network corrects the
Theta method's forecast, on log values, with one error scale for all series (so the loss weighs relative errors, as
sMAPE does), reading only the recent one-step errors of Theta (no level: the level of a trending series tells the
network where in the series it is, and it overfits to that).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.baselines import ETS, Theta, naive2, seasonal_naive
from rnnlab.checkpoint import atomic_write_text, check_output, write_table
from rnnlab.data.calendar import frequency_of
from rnnlab.data.competitions import PUBLISHED, load_competition, metric_name
from rnnlab.data.panel import Panel, PanelSeries, read_panel
from rnnlab.data.series import guess_time_column, read_table
from rnnlab.errors import RnnlabError
from rnnlab.metrics import mape, mase_scale, owa, smape
from rnnlab.models.forecaster import ForecastConfig
from rnnlab.models.global_forecaster import GlobalConfig, GlobalForecaster
from rnnlab.train import TrainConfig

STATISTICAL = ("Naive2", "seasonal naive", "ETS", "Theta")


@dataclass(frozen=True)
class GlobalOptions:
    """What the user said about the global model (None: the defaults)."""

    cell: str = "lstm"
    hidden_size: int = 64
    lookback: int | None = None  # default: two horizons or two periods, whichever is longer
    base: str = "theta"
    transform: str | None = None  # default: log when every series is positive
    ensemble: int = 5
    id_embedding: int = 0
    lr: float = 1e-3
    budget: float = 600.0  # seconds of training in all
    seed: int = 0


def global_model(options: GlobalOptions, horizon: int, period: int, positive: bool) -> GlobalForecaster:
    config = ForecastConfig(
        cell=options.cell, hidden_size=options.hidden_size, horizon=horizon, base=options.base,
        lookback=options.lookback or max(2 * horizon, 2 * period, 8), period=period if period > 1 else 0,
        transform=options.transform or ("log" if positive else "none"), ensemble=options.ensemble, batch_size=256,
    )  # fmt: skip
    train = TrainConfig(epochs=200, patience=10, lr=options.lr, seed=options.seed, progress=False)
    return GlobalForecaster(config, train, GlobalConfig(id_embedding=options.id_embedding, level="none",
                                                        shared_scale=True))  # fmt: skip


def _label(model: GlobalForecaster) -> str:
    if model.validation.get("use_network", True):
        return f"rnnlab (global {model.config.cell})"
    return f"rnnlab ({model.config.base} on logs: net lost on validation)"


def score_panel(
    train: list[PanelSeries], test: dict[str, np.ndarray], forecasts: dict[str, np.ndarray], period: int, metric: str
) -> dict[str, float]:
    """The competition scores of ``forecasts``: mean sMAPE (or MAPE) and MASE over the series."""
    accuracy = mape if metric == "MAPE" else smape
    values = [accuracy(test[s.id], forecasts[s.id]) for s in train]
    scales = [mase_scale(s.values, period if len(s.values) > period else 1) for s in train]
    mases = [float(np.mean(np.abs(test[s.id] - forecasts[s.id]))) / scale for s, scale in zip(train, scales)]
    return {metric: float(np.mean(values)), "MASE": float(np.mean(mases))}


def statistical_forecasts(train: list[PanelSeries], horizon: int, period: int) -> dict[str, dict[str, np.ndarray]]:
    """Naive2, the seasonal naive, ETS(A,Ad,A) and Theta for every series: ``{method: {id: (H,)}}``."""
    m = period if period > 1 else None
    out: dict[str, dict[str, np.ndarray]] = {name: {} for name in STATISTICAL}
    for s in train:
        out["Naive2"][s.id] = naive2(period)(s.values, horizon)
        out["seasonal naive"][s.id] = seasonal_naive(period if len(s.values) >= period else 1)(s.values, horizon)
        out["ETS"][s.id] = ETS(m).fit(s.values)(s.values, horizon)
        out["Theta"][s.id] = Theta(m).fit(s.values)(s.values, horizon)
    return out


def compare(train: list[PanelSeries], test: dict[str, np.ndarray], forecasts: dict[str, dict[str, np.ndarray]],
            period: int, metric: str) -> list[dict]:  # fmt: skip
    """One row per method with its scores and OWA against Naive2."""
    scores = {name: score_panel(train, test, f, period, metric) for name, f in forecasts.items()}
    naive = scores["Naive2"]
    return [{"method": name, **s, "OWA": owa(s[metric], s["MASE"], naive[metric], naive["MASE"])}
            for name, s in scores.items()]  # fmt: skip


def format_rows(rows: list[dict], metric: str, title: str, published: dict[str, float] | None = None) -> str:
    lines = [title, f"{'method':<34}{metric:>8}{'MASE':>8}{'OWA':>8}", "-" * 58]
    for row in sorted(rows, key=lambda r: r[metric]):
        lines.append(f"{row['method']:<34}{row[metric]:>8.2f}{row['MASE']:>8.3f}{row['OWA']:>8.3f}")
    for name, value in (published or {}).items():
        lines.append(f"{name + ' (published)':<34}{value:>8.2f}")
    return "\n".join(lines)


def competition_run(name: str, options: GlobalOptions, *, run_dir: str | Path, log=print
                    ) -> tuple[list[dict], dict[str, dict[str, np.ndarray]]]:  # fmt: skip
    """``rnnlab forecast benchmark --suite m3-monthly`` (and the other subsets): the global model on the
    competition's own split, beside the statistical methods measured here and the published figures."""
    series = load_competition(name)
    metric, horizon, period = metric_name(name), len(series[0].test), series[0].period
    train = [PanelSeries(s.id, s.train) for s in series]
    test = {s.id: s.test for s in series}
    run_dir = Path(run_dir)
    log(f"{name}: {len(series)} series, horizon {horizon}, period {period}; the competition's split")
    start = time.perf_counter()
    model = global_model(options, horizon, period, all(s.train.min() > 0 for s in series))
    model.fit(train, run_dir=run_dir, max_seconds=options.budget, log=log)
    seconds = time.perf_counter() - start
    model.save(run_dir / "best.safetensors")
    forecasts = {_label(model): model.predict(train)}
    forecasts |= statistical_forecasts(train, horizon, period)
    rows = compare(train, test, forecasts, period, metric)
    rows[0]["seconds"] = seconds
    log(format_rows(rows, metric, f"{name}: mean over {len(series)} series; rnnlab trained {seconds / 60:.1f} min",
                    PUBLISHED.get(name)))  # fmt: skip
    atomic_write_text(run_dir / "evaluation.json",
                      json.dumps({"competition": name, "rows": rows, "published": PUBLISHED.get(name, {}),
                                  "options": asdict(options)}, indent=2))  # fmt: skip
    return rows, forecasts


def load_panel(data: str, *, id_column: str | None, target: str | None, time: str | None, fill: str,
               min_length: int, strict: bool, log=print) -> tuple[Panel, str]:  # fmt: skip
    """A panel from a CSV/Parquet file: long (``id_column``) or wide."""
    path = Path(data)
    frame = read_table(path)
    if time is None:
        exclude = tuple(c for c in (id_column, target) if c)
        time, note = guess_time_column(frame, exclude=exclude)
        if note:
            log(f"note: {note} (--time to choose another)")
    panel = read_panel(frame, id_column=id_column, target=target, time=time, source=str(path), fill=fill,
                       min_length=min_length, strict=strict)  # fmt: skip
    panel.time_column = time
    for note in panel.notes:
        log(f"note: {note}")
    return panel, str(path)


def panel_period(panel: Panel, given: int | None) -> int:
    """The seasonal period of the panel: given, or the shortest one its frequency implies (1: none)."""
    if given:
        return given
    times = next((t for t in panel.times.values() if t is not None and len(t) > 2), None)
    candidates = frequency_of(times)[1] if times is not None else ()
    return round(min(candidates)) if candidates else 1


def train_panel_run(data: str, options: GlobalOptions, *, id_column: str | None, target: str | None,
                    time_column: str | None, horizon: int, test_size: int | None, period: int | None, fill: str,
                    strict: bool, run_dir: str | Path, log=print) -> list[dict]:  # fmt: skip
    """Train the global model on every series but its last ``test_size`` points, score those beside the statistical
    methods, write the run folder (the model, ``evaluation.json``, ``forecasts.csv``)."""
    test_size = test_size or horizon
    panel, source = load_panel(data, id_column=id_column, target=target, time=time_column, fill=fill,
                               min_length=test_size + horizon + 4, strict=strict, log=log)  # fmt: skip
    m = panel_period(panel, period)
    train = [PanelSeries(s.id, s.values[: len(s.values) - test_size]) for s in panel.series]
    test = {s.id: s.values[len(s.values) - test_size :][:horizon] for s in panel.series}
    log(f"{source}: {len(train)} series, horizon {horizon}, period {m}; the last {test_size} points of each held out")
    run_dir = Path(run_dir)
    start = time.perf_counter()
    model = global_model(options, horizon, m, all(s.values.min() > 0 for s in panel.series))
    model.columns = {"id": id_column, "target": target, "time": panel.time_column}
    model.fit(train, run_dir=run_dir, max_seconds=options.budget, log=log)
    seconds = time.perf_counter() - start
    forecasts = {_label(model): model.predict(train)}
    forecasts |= statistical_forecasts(train, horizon, m)
    rows = compare(train, test, forecasts, m, "sMAPE")
    rows[0]["seconds"] = seconds
    log(format_rows(rows, "sMAPE", f"{source}: the last {horizon} points of {len(train)} series"))
    model.save(run_dir / "best.safetensors")
    atomic_write_text(run_dir / "evaluation.json", json.dumps({"source": source, "rows": rows}, indent=2))
    per_series = pd.DataFrame([{"id": s.id, "step": h + 1, "forecast": forecasts[rows[0]["method"]][s.id][h],
                                "actual": test[s.id][h]} for s in train for h in range(len(test[s.id]))])  # fmt: skip
    write_table(per_series, run_dir / "forecasts.csv", "test forecasts", log)
    return rows


def predict_panel_run(checkpoint: str, data: str, *, id_column: str | None, target: str | None,
                      time_column: str | None, series_id: str | None, fill: str, output: str | None,
                      log=print) -> pd.DataFrame:  # fmt: skip
    """Forecast the horizon after every series of a panel (or one, ``series_id``) with a trained global model."""
    check_output(output, data, checkpoint)
    model = GlobalForecaster.load(checkpoint)
    saved = model.columns  # the training's column choices, unless given again
    panel, _ = load_panel(data, id_column=id_column or saved.get("id"), target=target or saved.get("target"),
                          time=time_column or saved.get("time"), fill=fill, min_length=1, strict=False,
                          log=log)  # fmt: skip
    series = panel.series
    if series_id is not None:
        series = [s for s in series if s.id == series_id]
        if not series:
            raise RnnlabError(f"no series {series_id!r} in {data}; it has {len(panel.series)} series")
    unseen = [s.id for s in series if s.id not in set(model.ids)]
    if unseen:
        listed = ", ".join(unseen[:3]) + (", ..." if len(unseen) > 3 else "")
        log(f"note: {len(unseen)} series the model never saw ({listed}): forecast from their own history")
    forecasts = model.predict(series)
    rows = []
    for s in series:
        times = panel.times.get(s.id)
        step = times[1:].to_series().diff().mode().iloc[0] if times is not None and len(times) > 2 else None
        for h, value in enumerate(forecasts[s.id]):
            when = {"time": times[-1] + step * (h + 1)} if step is not None else {}
            rows.append({"id": s.id, "step": h + 1, **when, "forecast": value})
    result = pd.DataFrame(rows)
    write_table(result, output, "forecast steps", log)
    return result


def local_versus_global(name: str, global_forecasts: dict[str, np.ndarray], *, count: int, budget: float,
                        run_dir: Path, log=print) -> dict[str, dict[str, float]]:  # fmt: skip
    """The single-series defaults (one automatically configured model per series) on ``count`` series of a
    competition (every k-th), beside the global model's forecasts of the same series: when does one model for all
    win?"""
    from rnnlab.data.series import SeriesSpec
    from rnnlab.tasks.forecast import SpanOptions, train_frame

    series = load_competition(name)
    chosen = series[:: max(1, len(series) // count)][:count]
    metric, period = metric_name(name), series[0].period
    local, start = {}, time.perf_counter()
    for s in chosen:
        frame = pd.DataFrame({"y": np.concatenate([s.train, s.test])})
        cycles = (float(period),) if period > 1 and len(s.train) > 3 * period + len(s.test) else ()
        spans = SpanOptions(horizon=len(s.test), test_size=len(s.test), val_size=len(s.test), cycles=cycles)
        forecaster, _, _ = train_frame(frame, SeriesSpec(("y",)), s.id, None, {}, TrainConfig(progress=False),
                                       run_dir=run_dir / s.id, spans=spans, budget=budget, log=lambda _: None,
                                       show_table=False)  # fmt: skip
        data = forecaster._data(frame, s.id)
        local[s.id] = forecaster.forecast_at(data, np.array([len(s.train)]))[0, :, 0]
    seconds = time.perf_counter() - start
    train = [PanelSeries(s.id, s.train) for s in chosen]
    test = {s.id: s.test for s in chosen}
    scores = {"one model per series (single-series defaults)": score_panel(train, test, local, period, metric),
              "one global model": score_panel(train, test, global_forecasts, period, metric)}  # fmt: skip
    log(f"\n{name}, the same {len(chosen)} series (every {len(series) // count}th):")
    for label, score in scores.items():
        log(f"  {label:<46}{metric} {score[metric]:6.2f}  MASE {score['MASE']:.3f}")
    log(f"  (the per-series models took {seconds / 60:.1f} minutes for {len(chosen)} series)")
    return scores
