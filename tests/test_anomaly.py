"""Anomaly detection: metrics by hand, Telemanom's threshold, the streaming scorers against their offline oracles,
planted anomalies found, the labelled sets read, and ``rnnlab anomaly train | score | watch`` with bad input."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.data.anomalies import KINDS, events, inject, load_labelled
from rnnlab.metrics import event_scores, point_scores, ucr_hit
from rnnlab.models.anomaly_baselines import rolling_z, seasonal_z, window_rows
from rnnlab.models.detector import (
    AnomalyDetector,
    DetectorConfig,
    PredictionNet,
    ReconstructionNet,
    _PredictionErrors,
    _ReconstructionErrors,
    prediction_inputs,
)
from rnnlab.models.thresholds import Flagger, telemanom_epsilon
from rnnlab.tasks.anomaly import compare
from rnnlab.train import TrainConfig
from tests.conftest import randomize_
from tests.conftest import run_cli as run

QUICK = TrainConfig(epochs=25, patience=6, lr=5e-3, progress=False)


def seasonal_series(n: int = 3000, period: int = 24, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 3 * np.sin(2 * np.pi * t / period) + np.sin(2 * np.pi * t / (period / 3)) + rng.normal(0, 0.2, n)


# ----- metrics --------------------------------------------------------------------------------------------------------
def test_event_scores_count_found_events_and_each_false_alarm_run_once():
    labels = np.zeros(100, int)
    labels[10:15] = 1  # event A
    labels[50] = 1  # event B
    labels[80:90] = 1  # event C, never flagged
    flags = np.zeros(100, int)
    flags[17] = 1  # 3 points after A (ends at 14): found with tolerance 3
    flags[50] = 1  # B
    flags[30:35] = 1  # a false alarm run: one, however long
    flags[60] = flags[62] = 1  # two more runs
    scores = event_scores(labels, flags, tolerance=3)
    assert scores["found"] == 2 and scores["events"] == 3 and scores["false_alarms"] == 3
    assert scores["recall"] == pytest.approx(2 / 3) and scores["precision"] == pytest.approx(2 / 5)
    assert event_scores(labels, flags, tolerance=2)["found"] == 1  # B only: 17 is too far from A


def test_flagging_everything_is_not_a_good_score():
    labels = np.zeros(1000, int)
    for start in range(50, 1000, 100):
        labels[start : start + 3] = 1
    everything = event_scores(labels, np.ones(1000, int), tolerance=5)
    assert everything["recall"] == 1.0 and everything["false_alarms"] == 11 and everything["f1"] < 0.7
    assert event_scores(labels, labels, tolerance=5)["f1"] == 1.0


def test_point_scores_and_the_ucr_hit():
    labels = np.array([0, 1, 1, 0, 0, 1])
    flags = np.array([0, 1, 0, 1, 0, 1])  # 2 true positives, 1 false positive, 1 missed
    assert point_scores(labels, flags) == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    labels = np.zeros(1000, int)
    labels[500:512] = 1
    scores = np.zeros(1000)
    scores[611] = 1.0  # the last point within 100 of the range 500..511
    assert ucr_hit(labels, scores, margin=100) is True
    scores[611], scores[612] = 0.0, 1.0
    assert ucr_hit(labels, scores, margin=100) is False
    scores[612], scores[399] = 0.0, 1.0
    assert ucr_hit(labels, scores, margin=100) is False


# ----- thresholds -----------------------------------------------------------------------------------------------------
def test_telemanoms_threshold_separates_a_run_of_large_errors():
    rng = np.random.default_rng(0)
    scores = np.abs(rng.normal(0, 1, 2000))
    scores[1200:1210] = 15.0
    epsilon = telemanom_epsilon(scores)
    assert scores[:1200].max() < epsilon < 15.0
    scores[1500:1510] = 15.0  # more runs than five: no candidate qualifies
    scores[300:310] = scores[600:610] = scores[900:910] = scores[1800:1810] = 15.0
    assert telemanom_epsilon(scores) is None


def test_the_recent_level_keeps_a_steady_alarm_rate_when_errors_grow():
    rng = np.random.default_rng(1)
    growth = np.exp(np.linspace(0, np.log(50), 20000))  # errors 50× larger by the end (a price that rose)
    raw = np.abs(rng.normal(0, 1, 20000)) * growth / 0.8
    flagger = Flagger(span=5, floor=2.5, dynamic=False)
    smoothed, threshold = flagger.run(raw)
    assert (smoothed > threshold)[10000:].mean() < 0.05
    raw[15000] = raw[15000] * 40  # a real spike still stands out
    smoothed, threshold = Flagger(span=5, floor=2.5, dynamic=False).run(raw)
    assert (smoothed > threshold)[15000]


# ----- the streaming scorers against their offline oracles ------------------------------------------------------------
def test_streamed_prediction_errors_equal_the_layers_one_step_predictions():
    config = DetectorConfig(scorer="prediction", hidden_size=12)
    net = randomize_(PredictionNet(2, config), scale=0.4).eval()
    z = np.random.default_rng(2).normal(size=300)
    period = 24
    with torch.no_grad():
        change, _ = net(torch.from_numpy(prediction_inputs(z, period))[None])  # (1, N) predicted z_{t+1} - z_t
    expected = np.abs(z[1:] - (z[:-1] + change[0, :-1].numpy()))
    streamed = _PredictionErrors(net, period)
    errors = [e for value in z for _, e in streamed.push(float(value))]
    assert errors[0] == 0.0
    np.testing.assert_allclose(errors[1:], expected, rtol=1e-4, atol=1e-5)


def test_a_streamed_reconstruction_error_is_the_smallest_of_the_windows_that_cover_the_point():
    config = DetectorConfig(scorer="reconstruction", hidden_size=8)
    net = randomize_(ReconstructionNet(config), scale=0.4).eval()
    z = np.random.default_rng(3).normal(size=203)
    window, hop = 16, 4
    starts = list(range(0, len(z) - window + 1, hop))  # a window every hop points
    final = starts[-1] + hop  # the points before it are final once the last of those windows is read
    smallest = np.full(len(z), np.inf)
    with torch.no_grad():
        for start in [*starts, len(z) - window]:  # the oracle: every window by itself, plus one ending at the end
            x = torch.tensor(z[start : start + window], dtype=torch.float32)[None]
            keep = slice(start, start + window) if start in starts else slice(final, len(z))  # the end: for the rest
            errors = np.full(len(z), np.inf)
            errors[start : start + window] = (net(x) - x).square()[0].numpy()
            smallest[keep] = np.minimum(smallest[keep], errors[keep])
    streamed = _ReconstructionErrors(net, window)
    pairs = [p for value in z for p in streamed.push(float(value))] + streamed.flush()
    assert [i for i, _ in pairs] == list(range(len(z)))
    np.testing.assert_allclose([e for _, e in pairs], smallest, rtol=1e-5, atol=1e-7)


# ----- detectors on planted anomalies ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted():
    return inject(seasonal_series(), start=1000, count=12, period=24, seed=0, name="sine")


@pytest.mark.parametrize("scorer", ["reconstruction", "prediction"])
def test_a_detector_finds_planted_anomalies_without_flagging_the_rest(planted, scorer, tmp_path):
    detector = AnomalyDetector(scorer=scorer, hidden_size=16, train_config=QUICK)
    detector.fit(planted.values, normal_end=planted.train_end, run_dir=tmp_path, log=lambda m: None)
    table = detector.score(planted.values)
    after = slice(planted.train_end, None)
    labels, flags = planted.labels[after], table["flag"].to_numpy()[after]
    scores = event_scores(labels, flags, tolerance=5)
    assert scores["recall"] >= 0.75 and flags.mean() < 0.15, scores
    smoothed = table["smoothed"].to_numpy()[after]
    assert np.median(smoothed[labels == 1]) > 2 * np.median(smoothed[labels == 0])
    again = AnomalyDetector.load(tmp_path / "best.safetensors").score(planted.values)
    np.testing.assert_array_equal(again["flag"].to_numpy(), table["flag"].to_numpy())  # the checkpoint is whole
    if scorer == "reconstruction":  # the default is ahead of every baseline, thresholded alike
        rows = compare(planted.values, planted.labels, detector, table, planted.train_end, tolerance=5)
        ours = rows.pop("rnnlab (reconstruction)")["event_f1"]
        assert ours >= 0.6 and all(ours > row["event_f1"] for row in rows.values()), rows


def test_a_series_that_drifts_after_the_normal_part_is_not_flagged_throughout(tmp_path):
    values = seasonal_series(2500)
    values[1000:] += np.linspace(0, 40, 1500)  # a trend 13 × the seasonal swing, never seen in training
    detector = AnomalyDetector(hidden_size=16, train_config=QUICK)
    detector.fit(values, normal_end=1000, run_dir=tmp_path, log=lambda m: None)
    assert detector.score(values)["flag"].to_numpy()[1000:].mean() < 0.05


def test_the_stream_gives_scores_flags_in_any_chunking(planted, tmp_path):
    detector = AnomalyDetector(scorer="combined", hidden_size=8, train_config=replace_epochs(3))
    detector.fit(planted.values[:2000], normal_end=1000, run_dir=tmp_path, log=lambda m: None)
    table = detector.score(planted.values[:2000])
    stream = detector.stream()
    points = []
    for value in planted.values[:2000]:
        points += stream.push(value)
    points += stream.flush()
    assert [p.index for p in points] == list(range(2000))
    np.testing.assert_array_equal([p.flag for p in points], table["flag"].to_numpy())
    np.testing.assert_allclose([p.smoothed for p in points], table["smoothed"].to_numpy())


def replace_epochs(epochs: int) -> TrainConfig:
    return TrainConfig(epochs=epochs, patience=3, lr=5e-3, progress=False)


# ----- data -----------------------------------------------------------------------------------------------------------
def test_the_injector_plants_every_kind_and_leaves_the_normal_part_alone():
    clean = seasonal_series(4000)
    planted = inject(clean, start=1000, count=30, period=24, seed=5)
    assert len(events(planted.labels)) == 30 and not planted.labels[:1000].any()
    np.testing.assert_array_equal(planted.values[:1000], clean[:1000])
    changed = planted.values != clean
    assert not changed[planted.labels == 0].any()  # nothing changes outside the labels
    assert changed[planted.labels == 1].mean() > 0.9
    again = inject(clean, start=1000, count=30, period=24, seed=5)
    np.testing.assert_array_equal(again.values, planted.values)
    assert len(KINDS) == 5


@pytest.mark.skipif(importlib.util.find_spec("sktime") is None, reason="sktime ships yahoo and mitdb")
def test_the_sktime_sets_are_read_from_their_files():
    yahoo, mitdb = load_labelled("yahoo"), load_labelled("mitdb")
    assert len(yahoo.values) == 1000 and len(events(yahoo.labels)) == 7
    assert len(mitdb.values) == 7500 and mitdb.labels.sum() == 352


@pytest.mark.skipif(importlib.util.find_spec("aeon") is None, reason="aeon ships the UCR series")
def test_the_ucr_series_has_its_normal_training_part_and_one_anomaly():
    ucr = load_labelled("ucr-135")
    assert ucr.train_end == 1200 and len(ucr.values) == 1200 + 7501
    assert not ucr.labels[:1200].any() and len(events(ucr.labels)) == 1 and ucr.labels.sum() == 12


def test_the_baselines_are_what_they_say():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 100.0])
    z = rolling_z(values, 4)
    past = values[1:5]
    assert z[5] == pytest.approx(abs(100 - past.mean()) / past.std(ddof=1))
    seasonal = np.tile([0.0, 1.0, 2.0], 10) + np.arange(30) * 0.01
    seasonal[25] += 5
    scores = seasonal_z(seasonal, 3, 15)
    assert scores.argmax() == 25 and scores[28] > 3  # x_t - x_{t-3} jumps at 25 and back at 28
    rows = window_rows(np.arange(10.0), 3)
    np.testing.assert_array_equal(rows[5], [3.0 - 4.0, 0.0, 1.0])  # x_{3..5} minus x_4


# ----- the command line -----------------------------------------------------------------------------------------------
def write_labelled(path, planted) -> str:
    times = pd.date_range("2024-01-01", periods=len(planted.values), freq="h")
    pd.DataFrame({"time": times, "load": planted.values, "anomaly": planted.labels}).to_csv(path, index=False)
    return str(path)


def test_train_score_and_watch_agree(planted, tmp_path, capsys):
    data = write_labelled(tmp_path / "load.csv", planted)
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "anomaly", "train", "--data", data, "--labels", "anomaly", "--normal", "1000",
                         "--epochs", "15", "--hidden-size", "16", "--lr", "5e-3",
                         "--run-dir", str(run_dir))  # fmt: skip
    assert code == 0, err
    assert "rnnlab (reconstruction)" in out and "isolation forest" in out and "seasonal-naive z-score" in out
    for name in ("best.safetensors", "scores.csv", "report.html", "evaluation.json"):
        assert (run_dir / name).is_file(), name
    trained = pd.read_csv(run_dir / "scores.csv")
    assert list(trained.columns[:3]) == ["step", "time", "value"] and "label" in trained.columns

    output = tmp_path / "scores.csv"
    code, _, err = run(capsys, "anomaly", "score", "--checkpoint", str(run_dir), "--data", data, "--labels",
                       "anomaly", "--output", str(output))  # fmt: skip
    assert code == 0 and "event F1" in err
    scored = pd.read_csv(output)
    np.testing.assert_array_equal(scored["flag"], trained["flag"])

    stream = tmp_path / "stream.txt"
    stream.write_text("".join(f"{t},{v}\n" for t, v in zip(trained["time"], trained["value"])))
    code, out, err = run(capsys, "anomaly", "watch", "--checkpoint", str(run_dir), "--input", str(stream))
    assert code == 0 and "points/s" in err
    alerted = [int(line.split()[2]) for line in out.splitlines() if line.startswith("alert")]
    assert alerted == np.flatnonzero(scored["flag"].to_numpy()).tolist() and alerted


def test_watch_reports_a_line_that_is_not_a_number(planted, tmp_path, capsys):
    detector = AnomalyDetector(hidden_size=8, train_config=replace_epochs(2))
    detector.fit(planted.values[:600], normal_end=600, run_dir=tmp_path / "run", log=lambda m: None)
    stream = tmp_path / "stream.txt"
    stream.write_text("1.0\n2.0\nabc\n3.0\nnan\n4.0\n")
    code, _, err = run(capsys, "anomaly", "watch", "--checkpoint", str(tmp_path / "run"), "--input", str(stream))
    assert code == 2 and "line 3: 'abc' is not a number" in err and "--on-bad-line skip" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "anomaly", "watch", "--checkpoint", str(tmp_path / "run"), "--input", str(stream),
                       "--on-bad-line", "skip")  # fmt: skip
    assert code == 0 and "line 3" in err and "line 5: 'nan'" in err and "watched 4 points" in err


def test_bad_input_is_one_line(planted, tmp_path, capsys):
    frame = pd.DataFrame({"value": planted.values[:500], "label": planted.labels[:500]})
    frame.loc[7, "label"] = 2
    frame.to_csv(tmp_path / "odd.csv", index=False)
    code, _, err = run(capsys, "anomaly", "train", "--data", str(tmp_path / "odd.csv"), "--labels", "label",
                       "--run-dir", str(tmp_path / "run"))  # fmt: skip
    assert code == 2 and "labels column 'label'" in err and "holds '2' at line 9" in err and "0 (normal) or 1" in err
    frame.loc[7, "label"] = 0
    frame.to_csv(tmp_path / "ok.csv", index=False)
    code, _, err = run(capsys, "anomaly", "train", "--data", str(tmp_path / "ok.csv"), "--labels", "label",
                       "--normal", "40", "--run-dir", str(tmp_path / "run"))  # fmt: skip
    assert code == 2 and "40 points of normal data" in err and "at least 64" in err
    code, _, err = run(capsys, "anomaly", "train", "--data", str(tmp_path / "ok.csv"), "--normal", "0.5x",
                       "--run-dir", str(tmp_path / "run"))  # fmt: skip
    assert code == 2 and "--normal" in err
    assert not (tmp_path / "run" / "best.safetensors").exists()
