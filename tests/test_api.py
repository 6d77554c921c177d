"""The Python face a newcomer guesses: each guess works or ends in a one-line error that says what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.series import SeriesSpec
from rnnlab.errors import RnnlabError

QUICK = {"auto": False, "hidden_size": 8, "epochs": 2, "lookback": 24}


def load_frame(n: int = 400) -> pd.DataFrame:
    t = np.arange(n)
    rng = np.random.default_rng(0)
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"),
                         "load": 100 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(size=n)})  # fmt: skip


def test_the_task_models_are_importable_from_the_package():
    import rnnlab
    from rnnlab import Forecaster, LanguageModel, SequenceClassifier, TextClassifier, Translator  # noqa: F401

    assert rnnlab.__version__ and "Forecaster" in rnnlab.__all__
    with pytest.raises(AttributeError):
        rnnlab.Forcaster


def test_keyword_construction_and_a_clear_error_for_an_unknown_option():
    from rnnlab import Forecaster

    fc = Forecaster(cell="gru", horizon=48, lookback=96, layers=2, epochs=5)
    assert (fc.config.cell, fc.config.horizon, fc.config.lookback, fc.config.num_layers) == ("gru", 48, 96, 2)
    assert fc.train_config.epochs == 5
    assert Forecaster(cell="lstm").train_config.epochs == 30  # the command line's default
    with pytest.raises(RnnlabError, match=r"Forecaster has no option 'cells'; options are: .*cell"):
        Forecaster(cells="gru")
    with pytest.raises(RnnlabError, match="keyword options"):
        Forecaster("gru")


def test_calls_out_of_order_or_of_the_wrong_shape_say_what_to_do(tmp_path):
    from rnnlab import Forecaster

    frame = load_frame()
    fc = Forecaster(**QUICK)
    with pytest.raises(RnnlabError, match=r"not trained yet: call fit\(data, target=...\)"):
        fc.predict()
    with pytest.raises(RnnlabError, match=r"fit takes the data and keyword options: fit\(df, target='load'\)"):
        fc.fit(frame[["time"]], frame["load"])  # the scikit-learn guess, fit(X, y)
    with pytest.raises(RnnlabError, match="fit has no option 'targets'"):
        fc.fit(frame, targets="load")
    with pytest.raises(RnnlabError, match="fit takes a DataFrame, a Series, an array, a CSV/Parquet path"):
        fc.fit({"load": [1, 2, 3]})
    assert SeriesSpec("load").targets == ("load",)  # one column, not the letters l, o, a, d


def test_a_dataframe_a_series_with_a_datetime_index_and_a_csv_path_all_fit_and_forecast_future_times(tmp_path):
    from rnnlab import Forecaster

    frame = load_frame()
    fc = Forecaster(horizon=12, **QUICK).fit(frame, target="load", run_dir=tmp_path / "a", log=lambda s: None)
    future = fc.predict()
    assert isinstance(future.index, pd.DatetimeIndex)
    assert future.index[0] == frame["time"].iloc[-1] + pd.Timedelta("1h")
    assert len(fc.predict(6)) == 6 and len(fc.predict(n=6)) == 6 and len(fc.predict(horizon=3)) == 3
    with pytest.raises(RnnlabError, match="horizon must be a whole number from 1 to 12"):
        fc.predict(24)
    table = fc.evaluate()
    assert {"rnnlab", "naive", "seasonal naive m=24"} <= set(table.index) and "mase" in table.columns

    series = frame.set_index("time")["load"]  # a Series with a DatetimeIndex: the name is the target
    fc2 = Forecaster(horizon=6, **QUICK).fit(series, run_dir=tmp_path / "b", log=lambda s: None)
    assert fc2.spec.targets == ("load",) and fc2.predict().index[0] == series.index[-1] + pd.Timedelta("1h")

    frame.to_csv(tmp_path / "load.csv", index=False)
    fc3 = Forecaster(horizon=6, **QUICK).fit(str(tmp_path / "load.csv"), run_dir=tmp_path / "c", log=lambda s: None)
    loaded = Forecaster.load(tmp_path / "c" / "best.safetensors")
    pd.testing.assert_frame_equal(loaded.predict(frame), fc3.predict(frame))
    with pytest.raises(RnnlabError, match=r"give the history to forecast from: predict\(df\)"):
        loaded.predict()


def test_the_default_searches_like_the_command_line(tmp_path):
    from rnnlab import Forecaster

    fc = Forecaster(hidden_size=8, epochs=2, budget=6, ensemble=2, horizon=12)
    fc.fit(load_frame(), target="load", run_dir=tmp_path / "run", log=lambda s: None)
    assert len(fc.members) == 2 and fc.info["search"] and fc.info["plan"]["periods"] == [24.0]
    assert (tmp_path / "run" / "best.safetensors").is_file()
