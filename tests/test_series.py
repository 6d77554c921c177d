"""Reading and checking series: every bad input is a one-line RnnlabError that names the file, column or value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.series import SeriesSpec, prepare_series, read_table, split_points
from rnnlab.errors import RnnlabError


def frame(n: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "load": np.arange(n, dtype=float)})


def test_missing_empty_and_header_only_files(tmp_path):
    with pytest.raises(RnnlabError, match=r"file not found: .*nope\.csv"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(RnnlabError, match=r"empty\.csv is empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("time,load\n")
    with pytest.raises(RnnlabError, match="header but no rows"):
        read_table(tmp_path / "header.csv")


def test_csv_and_parquet_read_the_same(tmp_path):
    data = frame()
    data.to_csv(tmp_path / "a.csv", index=False)
    data.to_parquet(tmp_path / "a.parquet")
    a = prepare_series(read_table(tmp_path / "a.csv"), SeriesSpec(("load",), "time"), "a.csv")
    b = prepare_series(read_table(tmp_path / "a.parquet"), SeriesSpec(("load",), "time"), "a.parquet")
    np.testing.assert_array_equal(a.targets, b.targets)
    assert (a.times == b.times).all() and a.freq == pd.Timedelta("1h")


def test_unknown_column_lists_the_columns():
    with pytest.raises(RnnlabError, match=r"column 'demand' not found in data.csv; columns are: time, load"):
        prepare_series(frame(), SeriesSpec(("demand",), "time"), "data.csv")


def test_non_numeric_target_quotes_the_value_and_line():
    data = frame().astype({"load": object})
    data.loc[3, "load"] = "n/a?"
    with pytest.raises(RnnlabError, match=r"column 'load' of d.csv is not numeric: 'n/a\?' at line 5"):
        prepare_series(data, SeriesSpec(("load",), "time"), "d.csv")


def test_missing_values_are_filled_with_a_note_or_refused_with_fill_none():
    data = frame()
    data.loc[[2, 5], "load"] = np.nan
    with pytest.raises(RnnlabError, match=r"'load' of d.csv has 2 missing values \(lines 4, 7\); pass --fill"):
        prepare_series(data, SeriesSpec(("load",), "time", fill="none"), "d.csv")
    filled = prepare_series(data, SeriesSpec(("load",), "time"), "d.csv")  # the default: interpolate
    assert filled.targets[2, 0] == 2.0 and filled.targets[5, 0] == 5.0
    assert "filled 2 missing values of 'load' (lines 4, 7) by interpolate" in filled.notes[0]
    assert filled.observed[:, 0].tolist() == [i not in (2, 5) for i in range(10)]  # scored on these only
    with pytest.raises(RnnlabError, match=r"column 'load' of d\.csv has no values"):
        prepare_series(data.assign(load=np.nan), SeriesSpec(("load",), "time"), "d.csv")


def test_infinite_values_are_refused_with_their_line():
    data = frame()
    data.loc[4, "load"] = np.inf
    with pytest.raises(RnnlabError, match=r"'load' of d.csv has an infinite value \(inf\) at line 6"):
        prepare_series(data, SeriesSpec(("load",), "time"), "d.csv")


def test_gaps_in_a_regular_index_are_reported():
    data = frame(10).drop(index=[4, 5, 6]).reset_index(drop=True)
    series = prepare_series(data, SeriesSpec(("load",), "time"), "d.csv")
    assert any("1 gaps (3 missing steps" in note for note in series.notes)


def test_unsorted_rows_are_sorted_and_duplicate_times_refused():
    data = frame().iloc[::-1].reset_index(drop=True)
    series = prepare_series(data, SeriesSpec(("load",), "time"), "d.csv")
    assert series.targets[0, 0] == 0.0 and "rows sorted" in series.notes[0]
    with pytest.raises(RnnlabError, match="repeats"):
        prepare_series(pd.concat([frame(), frame().iloc[:1]]), SeriesSpec(("load",), "time"), "d.csv")


def test_bad_time_column_quotes_the_value():
    data = frame().astype({"time": object})
    data.loc[2, "time"] = "yesterday-ish"
    with pytest.raises(RnnlabError, match=r"'time' of d\.csv is not a date/time: cannot parse 'yesterday-ish'"):
        prepare_series(data, SeriesSpec(("load",), "time"), "d.csv")


def test_split_is_chronological_and_checked():
    assert split_points(100, 10, 20) == (70, 80)
    with pytest.raises(RnnlabError, match="too few"):
        split_points(20, 10, 10)


def test_a_time_index_can_be_assembled_from_date_parts():
    data = pd.DataFrame({"Year": [2024, 2024, 2024], "Month": [1, 1, 1], "Day": [1, 2, 3], "load": [1.0, 2.0, 3.0]})
    series = prepare_series(data, SeriesSpec(("load",), "Year,Month,Day"), "d.csv")
    assert series.times[2] == pd.Timestamp("2024-01-03") and series.freq == pd.Timedelta("1D")
    with pytest.raises(RnnlabError, match="must include year, month and day"):
        prepare_series(data, SeriesSpec(("load",), "Year,Month"), "d.csv")


def test_covariates_of_a_frame_sliced_from_a_larger_one_keep_their_values():
    whole = frame(30).assign(temperature=np.arange(30, dtype=float) * 2, kind=list("ab") * 15)
    part = whole.iloc[10:]  # index labels 10..29, as after a user's slice
    spec = SeriesSpec("load", time="time", covariates=("temperature", "kind"))
    series = prepare_series(part, spec, "part")
    np.testing.assert_array_equal(series.covariate_frame["temperature"].to_numpy(), np.arange(10, 30) * 2.0)
    assert series.covariate_frame["kind"].tolist() == list("ab") * 10
