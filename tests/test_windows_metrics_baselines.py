"""The series transform (targets ⇄ values), metrics against their formulas, baselines against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from rnnlab.baselines import ETS, ETSState, Theta, ThetaState, naive, seasonal_naive, theta
from rnnlab.data.windows import SeriesTransform, gather_windows, window_origins
from rnnlab.metrics import forecast_metrics, mae, mase_scale, rmse, smape

RNG = np.random.default_rng(0)
Y = np.cumsum(RNG.normal(size=(400, 2)), axis=0) + 50 + 5 * np.sin(np.arange(400) / 4)[:, None]


BASES_AND_TRANSFORMS = [("none", 0, "none"), ("last", 0, "none"), ("seasonal", 24, "none"), ("ets", 24, "none"),
                        ("theta", 24, "none"), ("theta", 24, "log"),
                        ("ets", 0, "none"), ("seasonal", 24, "log"), ("ets", 24, "log")]  # fmt: skip


@pytest.mark.parametrize(("base", "period", "transform"), BASES_AND_TRANSFORMS)
def test_targets_invert_to_the_true_values(base, period, transform):
    fitted = SeriesTransform.fit(Y[:300], np.zeros((300, 0)), base=base, period=period, cycles=(24,),
                                 transform=transform)  # fmt: skip
    origins = np.array([100, 250, 350])
    z = fitted.targets(Y, origins, 30)  # (3, 30, 2): a horizon longer than the period repeats the season
    for i, o in enumerate(origins):
        np.testing.assert_allclose(fitted.inverse(z[i], Y[:o], o), Y[o : o + 30], rtol=1e-5)
    np.testing.assert_allclose(fitted.inverse_many(z, Y, origins), Y[origins[:, None] + np.arange(30)], rtol=1e-5)


def test_a_network_that_outputs_zero_is_its_base():
    """z = 0 gives the seasonal naive (last season repeated), ETS's forecast, or the last value."""
    o, h = 350, 30
    seasonal = SeriesTransform.fit(Y[:300], np.zeros((300, 0)), base="seasonal", period=24, cycles=())
    np.testing.assert_allclose(seasonal.inverse(np.zeros((h, 2)), Y[:o], o)[:, 0], seasonal_naive(24)(Y[:o, 0], h))
    ets = SeriesTransform.fit(Y[:300], np.zeros((300, 0)), base="ets", period=24, cycles=())
    expected = ETS(24).fit(Y[:300, 0]).forecasts_at(Y[:, 0], np.array([o]), h)[0]
    np.testing.assert_allclose(ets.inverse(np.zeros((h, 2)), Y[:o], o)[:, 0], expected)
    last = SeriesTransform.fit(Y[:300], np.zeros((300, 0)), base="last", period=0, cycles=(), transform="log")
    np.testing.assert_allclose(last.inverse(np.zeros((h, 2)), Y[:o], o), np.repeat(Y[o - 1 : o], h, axis=0))


@pytest.mark.parametrize(("base", "period", "transform"), BASES_AND_TRANSFORMS)
def test_streaming_feature_row_equals_the_last_row_of_features(base, period, transform):
    fitted = SeriesTransform.fit(Y[:300], np.zeros((300, 0)), base=base, period=period, cycles=(24, 168),
                                 transform=transform)  # fmt: skip
    steps = np.arange(400) + 1000
    full = fitted.features(Y, np.zeros((400, 0)), steps)
    t = 377
    y = fitted.encode(Y)
    if base in ("ets", "theta"):
        reference = np.array([state.one_step() for state in fitted.base_states(y[:t])])
    else:
        reference = {"none": None, "last": y[t - 1], "seasonal": y[t - period]}[base]
    np.testing.assert_allclose(fitted.feature_row(y[t], reference, steps[t]), full[t], rtol=1e-6, atol=1e-6)


def test_scaling_is_fit_on_the_training_part_only():
    a = SeriesTransform.fit(Y[:300], np.zeros((300, 0)), base="last", period=0, cycles=())
    changed = Y.copy()
    changed[300:] *= 100
    b = SeriesTransform.fit(changed[:300], np.zeros((300, 0)), base="last", period=0, cycles=())
    assert a.to_dict() == b.to_dict()
    assert SeriesTransform.from_dict(a.to_dict()) == a


def test_windows_hold_the_rows_before_each_origin():
    features = np.arange(20, dtype=np.float32)[:, None]
    windows = gather_windows(features, window_origins(5, 7), lookback=3)
    np.testing.assert_array_equal(windows[:, :, 0], [[2, 3, 4], [3, 4, 5], [4, 5, 6]])


def test_metrics_follow_their_formulas():
    actual, predicted = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 1.0])
    assert mae(actual, predicted) == pytest.approx(4 / 3)
    assert rmse(actual, predicted) == pytest.approx(np.sqrt(10 / 3))
    assert smape(actual, predicted) == pytest.approx(100 / 3 * (2 / 3 + 0 + 6 / 5))
    train = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    assert mase_scale(train, 2) == pytest.approx(np.mean([1.0, 2.0, 2.0]))
    assert forecast_metrics(actual, predicted, 2.0)["mase"] == pytest.approx(2 / 3)


def test_naive_baselines():
    history = np.arange(10.0)
    np.testing.assert_array_equal(naive(history, 3), [9, 9, 9])
    np.testing.assert_array_equal(seasonal_naive(4)(history, 3), [6, 7, 8])
    np.testing.assert_array_equal(seasonal_naive(4)(history, 6), [6, 7, 8, 9, 6, 7])


def test_ets_matches_statsmodels_refit_with_the_same_parameters():
    series = Y[:, 0]
    ets = ETS(24).fit(series[:300])
    ours = ets(series[:350], 12)
    reference = ExponentialSmoothing(
        series[:350], trend="add", damped_trend=True, seasonal="add", seasonal_periods=24,
        initialization_method="heuristic",
    ).fit(**ets.params, optimized=False)  # fmt: skip
    np.testing.assert_allclose(ours, reference.forecast(12))
    assert ets.name() == "ETS(A,Ad,A) m=24"
    assert ETS(500).fit(series[:300]).name() == "ETS(A,Ad,N)"  # a period that does not fit twice is dropped


@pytest.mark.parametrize("period", [24, None])
def test_the_ets_filter_equals_statsmodels_at_every_origin(period):
    """One pass of the filter gives statsmodels' fitted values and, with the same parameters and initial states,
    its forecast from a later origin; stepping the state one value at a time gives the same."""
    series = Y[:, 0]
    ets = ETS(period).fit(series[:300])
    fitted = ets._model(series[:300]).fit()
    level, trend, season = ets.states(series[:300])
    phi = ets.params["damping_trend"]
    np.testing.assert_allclose(level[:300] + phi * trend[:300] + season[:300], fitted.fittedvalues, atol=1e-9)
    # steps 1 … m-1 (statsmodels' forecast of step m reuses the season from before the last observation's update;
    # the filter uses the updated one, as Hyndman et al.'s equations do)
    np.testing.assert_allclose(ets.forecasts_at(series, np.array([300]), 23)[0], fitted.forecast(23), atol=1e-9)
    known = {"initial_level": ets.initial["level"], "initial_trend": ets.initial["trend"]}
    if period:
        known["initial_seasonal"] = ets.initial["seasons"]
    later = ExponentialSmoothing(series[:350], trend="add", damped_trend=True, seasonal="add" if period else None,
                                 seasonal_periods=period, initialization_method="known", **known)  # fmt: skip
    reference = later.fit(**ets.params, optimized=False).forecast(12)
    np.testing.assert_allclose(ets.forecasts_at(series, np.array([350]), 12)[0], reference, atol=1e-9)
    state = ETSState(ets, series[:200])
    for value in series[200:350]:
        state.update(value)
    np.testing.assert_allclose(state.forecast(12), reference, atol=1e-9)


def test_theta_equals_statsmodels_and_beats_the_naive_on_a_trend():
    from statsmodels.tsa.forecasting.theta import ThetaModel

    trend = 50 + 0.5 * np.arange(120) + RNG.normal(size=120)
    ours = theta(None)(trend, 6)
    np.testing.assert_allclose(ours, ThetaModel(trend, period=1, deseasonalize=False).fit().forecast(6))
    future = 50 + 0.5 * np.arange(120, 126)
    assert np.abs(ours - future).mean() < np.abs(naive(trend, 6) - future).mean()


def test_the_theta_filter_equals_statsmodels_and_steps_in_o1():
    from statsmodels.tsa.forecasting.theta import ThetaModel

    t = np.arange(120)
    series = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + RNG.normal(size=120)
    model = Theta(12).fit(series[:100])
    assert model.indices  # the seasonality test passed
    reference = ThetaModel(series[:100], period=12, use_test=False, method="multiplicative").fit(use_mle=False)
    np.testing.assert_allclose(model(series[:100], 18), reference.forecast(18), rtol=1e-5)
    state = ThetaState(model, series[:60])
    for value in series[60:110]:
        state.update(value)
    np.testing.assert_allclose(state.forecast(18), model.forecasts_at(series, np.array([110]), 18)[0], rtol=1e-9)
    assert Theta.from_dict(model.to_dict()).to_dict() == model.to_dict()


def test_the_mase_scale_comes_from_the_training_part_only():
    from rnnlab.evaluation import mase_scales

    truth = Y.copy()
    scale = mase_scales(truth, 300, 24)
    expected = np.abs(truth[24:300] - truth[:276]).mean(axis=0)  # in-sample seasonal naive MAE, by hand
    np.testing.assert_allclose(scale, expected)
    truth[300:] *= 1000  # the test part changes nothing
    np.testing.assert_allclose(mase_scales(truth, 300, 24), expected)
    truth[:300] *= 2  # the training part does
    np.testing.assert_allclose(mase_scales(truth, 300, 24), 2 * expected)
    assert np.isnan(mase_scale(np.full(50, 3.0), 1))  # a constant series has no scale: MASE is not defined
