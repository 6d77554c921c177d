"""Automatic configuration of the forecaster: candidates judged on rolling-origin validation within a time budget.

What a user of statsforecast's ``AutoETS`` or darts' model selection expects from a forecaster given only data, a
target and a horizon. The candidates vary what matters most on series nobody tuned for (:func:`candidates`):

- the base the network corrects: the seasonal naive (when the calendar confirmed a period) and ETS, or the last
  value when there is no period (:mod:`rnnlab.data.windows`);
- a log transform, for positive series;
- the lookback, a multiple of the shortest period (or of the horizon).

Each candidate trains once (seed 0, early stopping on the validation windows, ``budget / (2 · candidates)`` seconds at
most) and is scored by MASE on rolling origins through the validation span. The best ``TOP`` are then trained again
on the training *and* validation data (the most recent points matter most; as many epochs as early stopping chose,
scaled to the longer data), each from several seeds, and the forecast is the median of all these networks: a
combination of the two best configurations is steadier than either, because one validation span cannot tell close
candidates apart. Options the user gave are fixed: only the rest is searched.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.checkpoint import atomic_write_text, run_lock
from rnnlab.data.calendar import Calendar
from rnnlab.data.protocol import Plan
from rnnlab.data.series import SeriesSpec, prepare_series
from rnnlab.errors import RnnlabError
from rnnlab.evaluation import default_stride, mase_scales, rolling_origins, score
from rnnlab.models.forecaster import ForecastConfig, Forecaster
from rnnlab.train import TrainConfig

SEARCHED = ("base", "transform", "lookback")  # the ForecastConfig fields a search may choose
TOP = 2  # configurations in the final combination


@dataclass
class Trial:
    """One candidate's validation result."""

    config: ForecastConfig
    val_mase: float
    seconds: float
    best_epoch: int

    def to_dict(self) -> dict:
        return {"config": asdict(self.config), "label": self.config.label, "val_mase": self.val_mase,
                "seconds": self.seconds, "best_epoch": self.best_epoch}  # fmt: skip


def lookbacks(calendar: Calendar, horizon: int, train_points: int) -> list[int]:
    """Lookbacks to try: two of the shortest period (or two horizons), never more than a quarter of the training
    points."""
    short = round(calendar.periods[0]) if calendar.periods else 0
    first = max(2 * horizon, 2 * short, 8)
    cap = max(4, train_points // 4)
    return [min(first, cap)]


def default_config(plan: Plan, given: dict) -> ForecastConfig:
    """The configuration without a search: the user's fields, and for the rest the seasonal-naive base when the
    calendar has a period (else the last value), no transform, the first of :func:`lookbacks`."""
    fields = {"base": "seasonal" if plan.period else "last",
              "lookback": lookbacks(plan.calendar, plan.horizon, plan.train_points)[0], **given}  # fmt: skip
    fields |= {"horizon": plan.horizon, "period": plan.period, "cycles": plan.cycles}
    return ForecastConfig(**{k: v for k, v in fields.items() if k in ForecastConfig.__dataclass_fields__})


def candidates(
    calendar: Calendar, horizon: int, train_values: np.ndarray, fixed: dict, template: ForecastConfig
) -> list[ForecastConfig]:
    """The configurations to try, most promising first; ``fixed`` holds the fields the user set."""
    period = calendar.main_period
    bases = ["seasonal", "ets"] if period else ["ets", "last"]
    positive = bool(np.all(np.asarray(train_values) > 0))
    transforms = ["none", "log"] if positive else ["none"]
    out = []
    for lookback in lookbacks(calendar, horizon, len(train_values)):
        for transform in transforms:
            for base in bases:
                choice = {"base": base, "transform": transform, "lookback": lookback}
                choice |= {k: v for k, v in fixed.items() if k in SEARCHED}
                config = replace(template, **choice, horizon=horizon, period=period, cycles=calendar.periods)
                if config not in out:
                    out.append(config)
    return out


def validation_mase(forecaster: Forecaster, frame: pd.DataFrame, source: str, *, val_size: int, test_size: int,
                    mase_period: int) -> float:  # fmt: skip
    """MASE of ``forecaster`` on rolling origins through the validation span (scale: the training part)."""
    data = forecaster._data(frame, source)
    n = len(data.series)
    val_start, test_start = n - test_size - val_size, n - test_size
    horizon = forecaster.config.horizon
    origins = rolling_origins(test_start, val_start, horizon, default_stride(val_size, horizon))
    if len(origins) == 0:
        return math.nan
    truth = data.series.targets
    scales = mase_scales(truth, val_start, mase_period)
    forecasts = forecaster.forecast_at(data, origins)
    return score(truth, forecasts, origins, scales, data.series.observed)["mase"]


def search(
    frame: pd.DataFrame,
    spec: SeriesSpec,
    configs: list[ForecastConfig],
    train_config: TrainConfig,
    *,
    val_size: int,
    test_size: int,
    mase_period: int,
    budget: float,
    run_dir: Path,
    source: str,
    log=print,
) -> list[Trial]:
    """Train each candidate once and score it on validation; results are kept in ``run_dir/search.json`` so that an
    interrupted search resumes where it stopped. Returns the trials, best first."""
    record = run_dir / "search.json"
    done: dict[str, dict] = {}
    if record.exists():
        done = {t["label"]: t for t in json.loads(record.read_text(encoding="utf-8"))["trials"]}
    each = budget / max(len(configs), 1)
    trials, refused = [], []
    for index, config in enumerate(configs):
        if config.label in done:
            saved = done[config.label]
            trials.append(Trial(config, saved["val_mase"], saved["seconds"], saved["best_epoch"]))
            log(f"candidate {index + 1}/{len(configs)}: {config.label}: validation MASE {saved['val_mase']:.3f} (done)")
            continue
        start = time.perf_counter()
        forecaster = Forecaster(replace(config, ensemble=1), replace(train_config, max_seconds=each, progress=False))
        folder = run_dir / "search" / f"candidate-{index}"
        try:
            again = (folder / "last.safetensors").exists()  # an interrupted search: continue this candidate
            forecaster.fit(frame, spec, val_size=val_size, test_size=test_size, run_dir=folder, resume=again,
                           source=source, log=lambda _: None)  # fmt: skip
        except RnnlabError as exc:  # e.g. a lookback or period the series is too short for
            log(f"candidate {index + 1}/{len(configs)}: {config.label}: skipped ({exc})")
            refused.append(str(exc))
            continue
        mase = validation_mase(forecaster, frame, source, val_size=val_size, test_size=test_size,
                               mase_period=mase_period)  # fmt: skip
        trial = Trial(config, mase, time.perf_counter() - start, forecaster.result.best_epoch)
        trials.append(trial)
        log(f"candidate {index + 1}/{len(configs)}: {config.label}: validation MASE {mase:.3f} "
            f"(best epoch {trial.best_epoch}, {trial.seconds:.0f} s)")  # fmt: skip
        atomic_write_text(record, json.dumps({"trials": [t.to_dict() for t in trials]}, indent=2))
    if not trials:
        raise RnnlabError(f"too short for every candidate configuration: {refused[0]}")
    return sorted(trials, key=lambda t: (math.isnan(t.val_mase), t.val_mase))


def auto_fit(
    frame: pd.DataFrame,
    spec: SeriesSpec,
    plan: Plan,
    template: ForecastConfig,
    train_config: TrainConfig,
    *,
    fixed: dict,
    budget: float,
    ensemble: int,
    run_dir: str | Path,
    resume: bool = False,
    source: str = "data",
    log=print,
) -> tuple[Forecaster, list[Trial]]:
    """Search the candidates, then train the best ``TOP`` on training + validation data, ``ensemble`` networks in
    all, into ``run_dir``; returns the combined forecaster and the trials (best first)."""
    run_dir = Path(run_dir)
    log = _once(log)
    if not resume and ((run_dir / "best.safetensors").exists() or (run_dir / "search.json").exists()):
        raise RnnlabError(f"{run_dir} already holds a run; pass --resume (resume=True in Python) to continue it, or "
                          "choose another run dir")  # fmt: skip
    with run_lock(run_dir):  # the whole search and the final networks: a second run into this folder is refused
        return _search_and_train(frame, spec, plan, template, train_config, fixed=fixed, budget=budget,
                                 ensemble=ensemble, run_dir=run_dir, resume=resume, source=source, log=log)  # fmt: skip


def _search_and_train(frame, spec, plan, template, train_config, *, fixed, budget, ensemble, run_dir, resume, source,
                      log) -> tuple[Forecaster, list[Trial]]:  # fmt: skip
    n, val_size, test_size = plan.length, plan.val_size, plan.test_size
    train_values = prepare_series(frame, spec, source).targets[: n - test_size - val_size, 0]
    configs = candidates(plan.calendar, plan.horizon, train_values, fixed, template)
    start = time.perf_counter()
    if len(configs) > 1:
        log(f"automatic configuration: {len(configs)} candidates judged on validation (budget {budget:.0f} s; "
            "--auto off to choose yourself)")  # fmt: skip
        trials = search(frame, spec, configs, train_config, val_size=val_size, test_size=test_size,
                        mase_period=plan.mase_period, budget=budget / 2, run_dir=run_dir, source=source,
                        log=log)  # fmt: skip
    else:
        trials = [Trial(configs[0], math.nan, 0.0, 0)]
    chosen = trials[:TOP] if len(trials) > 1 else trials
    seeds = max(1, -(-ensemble // len(chosen)))  # networks per configuration
    left = max(budget - (time.perf_counter() - start), budget / 4)
    log("training " + " and ".join(t.config.label for t in chosen) + f" on training + validation data, {seeds} "
        f"network{'s' * (seeds > 1)} each; the forecast is their median")  # fmt: skip
    parts = []
    for index, trial in enumerate(chosen):
        epochs = train_config.epochs
        if trial.best_epoch:  # as long as early stopping found best, scaled to the longer training data
            epochs = max(3, round(trial.best_epoch * (n - test_size) / max(1, n - test_size - val_size)))
        config = replace(trial.config, ensemble=seeds)
        folder = run_dir / f"final-{index}"
        forecaster = Forecaster(config, replace(train_config, epochs=epochs, patience=epochs,
                                                max_seconds=left / (seeds * len(chosen))))  # fmt: skip
        forecaster.fit(frame, spec, val_size=0, test_size=test_size, run_dir=folder,
                       resume=resume and folder.exists(), source=source, log=log)  # fmt: skip
        parts.append(forecaster)
    combined = Forecaster.combine(parts)
    combined.info["search"] = [t.to_dict() | {"chosen": t in chosen} for t in trials]
    return combined, trials


def _once(log):
    """``log``, but each note (a line starting 'note:') only the first time: every final fit reads the same data."""
    seen = set()

    def once(line: str) -> None:
        if line.startswith("note:"):
            if line in seen:
                return
            seen.add(line)
        log(line)

    return once
