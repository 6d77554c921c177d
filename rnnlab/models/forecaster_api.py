"""What ``Forecaster.fit(data, target=...)`` and ``Forecaster.evaluate()`` do for a Python user: the command line's
path (read the data, plan the spans and calendar, search the configuration) without the command line.

Kept apart from :mod:`rnnlab.models.forecaster`, which holds the model itself, so that the model module stays about
networks and windows.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rnnlab.data.protocol import plan_for
from rnnlab.data.sources import SpanOptions, table_of
from rnnlab.errors import RnnlabError

if TYPE_CHECKING:
    from rnnlab.models.forecaster import Forecaster

FIT_OPTIONS = ("target", "time", "covariates", "fill", "horizon", "val_size", "test_size", "stride", "cycles",
               "period", "mase_period", "run_dir", "resume", "log")  # fmt: skip


def fit_data(forecaster: Forecaster, data: Any, **options: Any) -> Forecaster:
    from rnnlab.models.autoconfig import auto_fit, default_config
    from rnnlab.models.forecaster import Forecaster as Model

    unknown = sorted(set(options) - set(FIT_OPTIONS))
    if unknown:
        raise RnnlabError(f"fit has no option {unknown[0]!r}; options are: {', '.join(FIT_OPTIONS)}")
    log = options.get("log", print)
    frame, spec, source, entry = table_of(data, target=options.get("target"), time=options.get("time"),
                                          covariates=tuple(options.get("covariates", ())),
                                          fill=options.get("fill", "interpolate"), log=log)  # fmt: skip
    given = forecaster.options
    horizon = options.get("horizon") or given["model"].get("horizon")
    spans = SpanOptions(horizon, options.get("val_size"), options.get("test_size"), options.get("stride"),
                        options.get("cycles", given["model"].get("cycles")),
                        options.get("period", given["model"].get("period")), options.get("mase_period"))  # fmt: skip
    plan = plan_for(frame, spec, source, entry, spans)
    for line in plan.describe():
        log(line)
    model = {k: v for k, v in given["model"].items() if k not in ("horizon", "cycles", "period")}
    template = default_config(plan, model)
    run_dir = options.get("run_dir") or f"runs/forecast-{datetime.now():%Y%m%d-%H%M%S-%f}"
    auto = given["auto"].get("auto", True)
    if auto:
        fitted, _ = auto_fit(frame, spec, plan, template, forecaster.train_config, fixed=model,
                             budget=given["auto"].get("budget", 180.0), ensemble=model.get("ensemble", 6),
                             run_dir=run_dir, resume=options.get("resume", False), source=source, log=log)  # fmt: skip
    else:
        fitted = Model(template, forecaster.train_config)
        fitted._fit_spec(frame, spec, val_size=plan.val_size, test_size=plan.test_size, run_dir=run_dir,
                         resume=options.get("resume", False), source=source, log=log)  # fmt: skip
    for name in ("config", "spec", "members", "encoder", "anchor", "freq", "result"):
        setattr(forecaster, name, getattr(fitted, name))
    forecaster.info = {**fitted.info, "plan": {"frequency": plan.calendar.frequency, "periods": list(plan.cycles),
                                               "notes": plan.describe()}}  # fmt: skip
    forecaster._history, forecaster._plan = (frame, source), plan
    forecaster.save(Path(run_dir) / "best.safetensors")
    return forecaster


def evaluate_data(forecaster: Forecaster, data: Any = None) -> pd.DataFrame:
    from rnnlab.evaluation import evaluate_forecaster

    forecaster._require_fitted()
    if data is None:
        if forecaster._history is None:
            raise RnnlabError("give the data to evaluate on: evaluate(df) (a loaded model has none)")
        frame, source = forecaster._history
        plan = forecaster._plan
    else:
        spec = forecaster.spec
        frame, _, source, entry = table_of(data, target=spec.targets, time=spec.time, covariates=spec.covariates,
                                           fill=spec.fill or "interpolate", log=lambda _: None)  # fmt: skip
        cycles = tuple(forecaster.config.cycles) or None
        plan = plan_for(frame, spec, source, entry, SpanOptions(horizon=forecaster.config.horizon, cycles=cycles))
    if plan.test_size <= 0:
        raise RnnlabError("this data has no test span to evaluate on (test_size 0)")
    model_row, baselines, _, _ = evaluate_forecaster(
        forecaster, forecaster._data(frame, source), name="rnnlab", val_size=plan.val_size, test_size=plan.test_size,
        stride=plan.stride, mase_period=plan.mase_period, cycles=plan.cycles,
    )  # fmt: skip
    rows = [{"model": r.name, **r.metrics} for r in [model_row, *baselines]]
    return pd.DataFrame(rows).sort_values("mase").set_index("model")
