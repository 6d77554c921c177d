"""The forecaster end to end on small series: the extrapolation toy, predict/save/load, strategies, streaming."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.checkpoint import save_checkpoint
from rnnlab.data.series import SeriesSpec
from rnnlab.errors import RnnlabError
from rnnlab.models.forecaster import ForecastConfig, Forecaster
from rnnlab.train import TrainConfig

QUIET = {"log": lambda s: None}


def sine_frame(n: int = 600, with_time: bool = True) -> pd.DataFrame:
    t = np.arange(n)
    rng = np.random.default_rng(0)
    data = {"value": np.sin(2 * np.pi * t / 24) + 0.3 * np.sin(2 * np.pi * t / 96) + 0.05 * rng.standard_normal(n)}
    if with_time:
        data = {"time": pd.date_range("2024-01-01", periods=n, freq="h"), **data}
    return pd.DataFrame(data)


def trained(tmp_path, config: ForecastConfig, frame=None, epochs: int = 3, **fit_options) -> Forecaster:
    frame = sine_frame() if frame is None else frame
    spec = fit_options.pop("spec", SeriesSpec(("value",), "time" if "time" in frame else None))
    forecaster = Forecaster(config, TrainConfig(epochs=epochs, progress=False, lr=5e-3))
    options = {"val_size": 96, "test_size": 96, **fit_options}
    return forecaster.fit(frame, spec, run_dir=tmp_path / "run", **options, **QUIET)


def test_the_seeds_extrapolation_toy_predicts_50_from_47_48_49(tmp_path):
    frame = pd.DataFrame({"value": np.arange(50, dtype=float)})  # train on 0 … 49
    config = ForecastConfig(hidden_size=16, lookback=2, horizon=1, base="last")  # 3 values → 2 differences
    forecaster = Forecaster(config, TrainConfig(epochs=60, patience=60, lr=1e-2, progress=False))
    forecaster.fit(frame, SeriesSpec(("value",)), val_size=0, test_size=0, run_dir=tmp_path / "toy", **QUIET)
    prediction = forecaster.predict(pd.DataFrame({"value": [47.0, 48.0, 49.0]}))
    assert prediction["value"].iloc[0] == pytest.approx(50.0, abs=0.5)


def test_without_differencing_the_toy_saturates(tmp_path):
    frame = pd.DataFrame({"value": np.arange(50, dtype=float)})
    config = ForecastConfig(hidden_size=16, lookback=3, horizon=1, base="none")
    forecaster = Forecaster(config, TrainConfig(epochs=60, patience=60, lr=1e-2, progress=False))
    forecaster.fit(frame, SeriesSpec(("value",)), val_size=0, test_size=0, run_dir=tmp_path / "toy", **QUIET)
    far = forecaster.predict(pd.DataFrame({"value": [97.0, 98.0, 99.0]}))["value"].iloc[0]
    assert far < 90  # a tanh network cannot leave the range it was trained on


def test_predict_extrapolates_the_time_index_and_save_load_gives_the_same_forecast(tmp_path):
    config = ForecastConfig(hidden_size=8, lookback=48, horizon=12, base="seasonal", period=24, cycles=(24,))
    forecaster = trained(tmp_path, config)
    frame = sine_frame()
    prediction = forecaster.predict(frame)
    assert list(prediction.columns) == ["step", "value"] and prediction.index.name == "time"
    assert prediction.index[0] == frame["time"].iloc[-1] + pd.Timedelta("1h")
    assert len(forecaster.predict(frame, horizon=5)) == 5
    forecaster.save(tmp_path / "f.safetensors")
    loaded = Forecaster.load(tmp_path / "f.safetensors")
    pd.testing.assert_frame_equal(loaded.predict(frame), prediction)
    best = Forecaster.load(tmp_path / "run" / "best.safetensors")
    pd.testing.assert_frame_equal(best.predict(frame), prediction)


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
@pytest.mark.parametrize("base", ["none", "last", "seasonal"])
def test_both_strategies_and_every_base_forecast_a_sine_better_than_the_naive(tmp_path, strategy, base):
    config = ForecastConfig(
        hidden_size=16, lookback=48, horizon=12, base=base, period=24 if base == "seasonal" else 0, cycles=(24,),
        strategy=strategy,
    )  # fmt: skip
    forecaster = trained(tmp_path, config, epochs=8)
    data = forecaster._data(sine_frame(), "sine")
    origins = np.arange(504, 589, 12)
    forecasts = forecaster.forecast_at(data, origins)  # (O, 12, 1)
    truth = data.series.targets[origins[:, None] + np.arange(12)]
    naive = np.repeat(data.series.targets[origins - 1][:, None], 12, axis=1)
    assert np.abs(forecasts - truth).mean() < 0.6 * np.abs(naive - truth).mean()


def test_multiple_targets_and_covariates(tmp_path):
    frame = sine_frame()
    frame["other"] = np.cos(np.arange(len(frame)) / 5)
    frame["temperature"] = np.random.default_rng(1).normal(size=len(frame))
    spec = SeriesSpec(("value", "other"), "time", ("temperature",))
    config = ForecastConfig(hidden_size=8, lookback=24, horizon=6, base="last")
    forecaster = trained(tmp_path, config, frame=frame, spec=spec)
    assert forecaster.net.rnn.input_size == 2 + 2 + 1  # change and level per target, one covariate
    assert forecaster.predict(frame)[["value", "other"]].shape == (6, 2)


def test_a_series_shorter_than_lookback_plus_horizon_is_a_clear_error(tmp_path):
    config = ForecastConfig(hidden_size=8, lookback=48, horizon=24)
    with pytest.raises(RnnlabError, match=r"30 training points, too few for lookback 48 \+ horizon 24"):
        trained(tmp_path, config, frame=sine_frame(50), val_size=10, test_size=10)
    forecaster = trained(tmp_path / "b", ForecastConfig(hidden_size=8, lookback=48, horizon=12, base="none"))
    with pytest.raises(RnnlabError, match="needs 48 points of history"):
        forecaster.predict(sine_frame(20))


def test_recursive_with_covariates_is_refused(tmp_path):
    frame = sine_frame()
    frame["x"] = 1.0
    with pytest.raises(RnnlabError, match="covariates have no future values"):
        trained(
            tmp_path, ForecastConfig(strategy="recursive"), frame=frame, spec=SeriesSpec(("value",), "time", ("x",))
        )


def test_loading_a_checkpoint_of_another_task_or_a_broken_one_fails_clearly(tmp_path):
    save_checkpoint(tmp_path / "text.safetensors", {"model.w": torch.ones(1)}, {"task": "text"})
    with pytest.raises(RnnlabError, match="'text' task, not of 'forecast'"):
        Forecaster.load(tmp_path / "text.safetensors")
    save_checkpoint(tmp_path / "odd.safetensors", {"model.w": torch.ones(1)}, {"task": "forecast"})
    with pytest.raises(RnnlabError, match="does not hold a usable forecaster"):
        Forecaster.load(tmp_path / "odd.safetensors")


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize(("base", "period"), [("none", 0), ("last", 0), ("seasonal", 24), ("ets", 24)])
def test_streaming_updates_equal_reading_the_whole_history_at_once(tmp_path, cell, base, period):
    config = ForecastConfig(cell=cell, hidden_size=16, num_layers=2, lookback=24, horizon=6, base=base,
                            period=period, cycles=(24,))  # fmt: skip
    forecaster = trained(tmp_path, config, epochs=1)
    frame = sine_frame()
    forecaster.start_stream(frame.iloc[:400])
    forecaster.update(frame["value"].to_numpy()[400:520])
    streamed_state = forecaster._stream["members"][0]["stepper"].state()
    streamed_forecast = forecaster.forecast_stream()
    forecaster.start_stream(frame.iloc[:520])
    for a, b in zip(streamed_state, forecaster._stream["members"][0]["stepper"].state()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(streamed_forecast, forecaster.forecast_stream(), rtol=1e-4, atol=1e-4)


def test_an_ensemble_on_log_values_streams_and_forecasts_like_forecast_at(tmp_path):
    frame = sine_frame()
    frame["value"] = np.exp(frame["value"])  # positive, with swings that grow with the level
    config = ForecastConfig(hidden_size=8, lookback=24, horizon=6, base="ets", period=24, cycles=(24,),
                            transform="log", ensemble=3)  # fmt: skip
    forecaster = trained(tmp_path, config, frame=frame, epochs=1)
    assert len(forecaster.nets) == 3 and (tmp_path / "run" / "member-2" / "best.safetensors").is_file()
    forecaster.start_stream(frame.iloc[:500])
    forecaster.update(frame["value"].to_numpy()[500:520])
    data = forecaster._data(frame.iloc[:520], "data")
    at_once = forecaster.forecast_at(data, np.array([520]))[0]
    np.testing.assert_allclose(forecaster.forecast_stream(), at_once, rtol=2e-3)
    members = [Forecaster(config, spec=forecaster.spec, members=[member],
                          encoder=forecaster.encoder).forecast_at(data, np.array([520]))[0]
               for member in forecaster.members]  # fmt: skip
    np.testing.assert_allclose(at_once, np.median(members, axis=0), rtol=1e-6)  # the median of the members
    loaded = Forecaster.load(tmp_path / "run" / "best.safetensors")
    np.testing.assert_allclose(loaded.predict(frame)["value"], forecaster.predict(frame)["value"], rtol=1e-6)
    with pytest.raises(RnnlabError, match="value -1 ≤ 0; this model was trained on log values"):
        forecaster.predict(frame.assign(value=frame["value"].where(frame.index != 3, -1.0)))
