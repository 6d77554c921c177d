"""Automatic configuration: candidates, the search on validation (resumable), the combined final forecaster."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.protocol import make_plan
from rnnlab.data.series import SeriesSpec, prepare_series
from rnnlab.errors import RnnlabError
from rnnlab.models.autoconfig import auto_fit, candidates, default_config
from rnnlab.models.forecaster import ForecastConfig, Forecaster
from rnnlab.train import TrainConfig
from tests.conftest import run_cli

QUIET = {"log": lambda s: None}
TRAIN = TrainConfig(epochs=3, patience=3, progress=False)


def monthly(n: int = 144) -> pd.DataFrame:
    """Airline-like: trend and a yearly season that grows with the level."""
    t = np.arange(n)
    rng = np.random.default_rng(1)
    level = 100 * np.exp(0.01 * t)
    values = level * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * np.exp(0.02 * rng.standard_normal(n))
    return pd.DataFrame({"month": pd.date_range("1950-01-01", periods=n, freq="MS"), "passengers": values})


def plan_of(frame: pd.DataFrame, **options):
    series = prepare_series(frame, SeriesSpec(("passengers",), "month"), "m.csv")
    return make_plan(series, horizon=12, test_size=24, **options)


def test_candidates_follow_the_calendar_and_keep_what_the_user_fixed():
    plan = plan_of(monthly())
    values = monthly()["passengers"].to_numpy()[: plan.train_points]
    configs = candidates(plan.calendar, 12, values, {}, default_config(plan, {}))
    assert {(c.base, c.transform) for c in configs} == {("seasonal", "none"), ("ets", "none"), ("seasonal", "log"),
                                                        ("ets", "log")}  # fmt: skip
    assert all(c.period == 12 and c.cycles == (12,) and c.lookback == 24 for c in configs)
    fixed = candidates(plan.calendar, 12, values, {"base": "ets"}, default_config(plan, {"base": "ets"}))
    assert {c.base for c in fixed} == {"ets"}
    negative = candidates(plan.calendar, 12, values - 500, {}, default_config(plan, {}))
    assert {c.transform for c in negative} == {"none"}  # no log of values ≤ 0
    aperiodic = plan_of(monthly(), cycles=())
    assert {c.base for c in candidates(aperiodic.calendar, 12, values, {}, default_config(aperiodic, {}))} == {
        "ets", "last"}  # fmt: skip


def test_auto_fit_combines_the_two_best_configurations_and_round_trips(tmp_path):
    frame = monthly()
    plan = plan_of(frame)
    spec = SeriesSpec(("passengers",), "month")
    forecaster, trials = auto_fit(frame, spec, plan, default_config(plan, {"hidden_size": 8}), TRAIN,
                                  fixed={"hidden_size": 8}, budget=20, ensemble=4, run_dir=tmp_path / "run",
                                  source="m.csv", **QUIET)  # fmt: skip
    assert len(trials) == 4 and trials[0].val_mase <= trials[1].val_mase <= trials[-1].val_mase
    assert len(forecaster.members) == 4  # two networks of each of the two best
    assert {m.config.label for m in forecaster.members} == {t.config.label for t in trials[:2]}
    assert [t["chosen"] for t in forecaster.info["search"]] == [True, True, False, False]
    recorded = json.loads((tmp_path / "run" / "search.json").read_text())["trials"]
    assert len(recorded) == 4
    forecaster.save(tmp_path / "run" / "best.safetensors")
    loaded = Forecaster.load(tmp_path / "run")
    np.testing.assert_allclose(loaded.predict(frame)["passengers"], forecaster.predict(frame)["passengers"])
    with pytest.raises(RnnlabError, match="already holds a run; pass --resume"):
        auto_fit(frame, spec, plan, default_config(plan, {}), TRAIN, fixed={}, budget=5, ensemble=2,
                 run_dir=tmp_path / "run", source="m.csv", **QUIET)  # fmt: skip


def test_an_interrupted_search_resumes_without_training_the_done_candidates_again(tmp_path):
    frame = monthly()
    plan = plan_of(frame)
    spec = SeriesSpec(("passengers",), "month")
    template = default_config(plan, {"hidden_size": 8})
    first = candidates(plan.calendar, 12, frame["passengers"].to_numpy()[: plan.train_points], {}, template)[0]
    run = tmp_path / "run"
    run.mkdir()
    done = {"config": {}, "label": first.label, "val_mase": 0.123, "seconds": 1.0, "best_epoch": 2}
    (run / "search.json").write_text(json.dumps({"trials": [done]}))  # as a killed search leaves it
    lines = []
    _, trials = auto_fit(frame, spec, plan, template, TRAIN, fixed={"hidden_size": 8}, budget=20,
                                  ensemble=2, run_dir=run, resume=True, source="m.csv", log=lines.append)  # fmt: skip
    assert any(first.label in line and "(done)" in line for line in lines)
    assert trials[0].config == first and trials[0].val_mase == 0.123  # the recorded score, not a new one
    assert not (run / "search" / "candidate-0").exists()


def test_with_every_searched_field_fixed_there_is_no_search(tmp_path):
    frame = monthly()
    plan = plan_of(frame)
    fixed = {"base": "ets", "transform": "log", "lookback": 24, "hidden_size": 8}
    forecaster, trials = auto_fit(frame, SeriesSpec(("passengers",), "month"), plan, default_config(plan, fixed),
                                  TRAIN, fixed=fixed, budget=10, ensemble=2, run_dir=tmp_path / "r", source="m.csv",
                                  **QUIET)  # fmt: skip
    assert len(trials) == 1 and not (tmp_path / "r" / "search.json").exists()
    assert [m.config.base for m in forecaster.members] == ["ets", "ets"]


def test_the_command_line_default_infers_the_calendar_and_searches(tmp_path, capsys):
    data = tmp_path / "passengers.csv"
    monthly().to_csv(data, index=False)
    code, out, err = run_cli(capsys, "forecast", "train", "--data", str(data), "--horizon", "12", "--test-size",
                             "24", "--hidden-size", "8", "--epochs", "2", "--budget", "10", "--ensemble", "2",
                             "--run-dir", str(tmp_path / "run"), "--no-progress")  # fmt: skip
    assert code == 0, err
    assert "frequency: monthly" in out and "period 12 kept" in out  # inferred, without --cycles
    assert "time column: 'month'" in out
    assert "automatic configuration: 4 candidates" in out and "on training + validation data" in out
    assert "ETS(A,Ad,A) m=12" in out and "Theta m=12" in out and "seasonal naive m=12" in out
    assert "lstm (rnnlab, 2 nets)" in out
    report = (tmp_path / "run" / "report.html").read_text()
    assert "automatic configuration: the candidates on validation" in report


def test_categorical_covariates_are_encoded_from_the_training_part(tmp_path):
    frame = monthly()
    frame["wind"] = np.where(np.arange(len(frame)) % 3 == 0, "NW", "SE")
    frame.loc[frame.index[-5:], "wind"] = "cv"  # appears only at the end: unseen in training
    config = ForecastConfig(hidden_size=8, lookback=24, horizon=12, base="ets", period=12, cycles=(12,))
    forecaster = Forecaster(config, TRAIN)
    lines = []
    forecaster.fit(frame, SeriesSpec(("passengers",), "month", ("wind",)), val_size=24, test_size=24,
                   run_dir=tmp_path / "r", log=lines.append)  # fmt: skip
    assert forecaster.encoder.feature_names == ["wind=NW", "wind=SE"]
    assert any("5 values never seen in training ('cv')" in line for line in lines)
    assert forecaster.predict(frame)["passengers"].notna().all()


def test_the_benchmark_runs_the_defaults_on_a_suite_series_beside_the_baselines(tmp_path, capsys):
    pytest.importorskip("tsdata")
    code, out, err = run_cli(capsys, "forecast", "benchmark", "--series", "lake-huron", "--budget", "4",
                             "--run-dir", str(tmp_path), "--output", str(tmp_path / "table.csv"))  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(tmp_path / "table.csv")
    assert list(table["series"]) == ["lake-huron"] and table["frequency"].iloc[0] == "yearly"
    row = table.iloc[0]
    assert row["rnnlab / ETS"] == pytest.approx(row["rnnlab"] / row["ETS"])
    assert "geometric mean of MASE relative to ETS" in out
    code, _, err = run_cli(capsys, "forecast", "benchmark", "--series", "nile")
    assert code == 2 and "no series nile in suite 'single'" in err
