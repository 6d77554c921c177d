"""The series transform (targets ⇄ values), metrics against their formulas, baselines against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from rnnlab.baselines import ETS, naive, seasonal_naive
from rnnlab.data.windows import SeriesTransform, gather_windows, window_origins
from rnnlab.metrics import forecast_metrics, mae, mase_scale, rmse, smape

RNG = np.random.default_rng(0)
Y = np.cumsum(RNG.normal(size=(400, 2)), axis=0) + 50 + 5 * np.sin(np.arange(400) / 4)[:, None]


@pytest.mark.parametrize(("base", "period"), [("none", 0), ("last", 0), ("seasonal", 24)])
def test_targets_invert_to_the_true_values(base, period):
    transform = SeriesTransform.fit(Y[:300], np.zeros((300, 0)), base=base, period=period, cycles=(24,))
    origins = np.array([100, 250, 350])
    z = transform.targets(Y, origins, 12)  # (3, 12, 2)
    for i, o in enumerate(origins):
        np.testing.assert_allclose(transform.inverse(z[i], Y[:o], o), Y[o : o + 12], rtol=1e-5)


@pytest.mark.parametrize(("base", "period"), [("none", 0), ("last", 0), ("seasonal", 24)])
def test_streaming_feature_row_equals_the_last_row_of_features(base, period):
    transform = SeriesTransform.fit(Y[:300], np.zeros((300, 0)), base=base, period=period, cycles=(24, 168))
    steps = np.arange(400) + 1000
    full = transform.features(Y, np.zeros((400, 0)), steps)
    t = 377
    reference = None if base == "none" else Y[t - 1] if base == "last" else Y[t - period]
    np.testing.assert_allclose(transform.feature_row(Y[t], reference, steps[t]), full[t], rtol=1e-6, atol=1e-6)


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
