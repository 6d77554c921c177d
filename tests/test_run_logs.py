"""--log tensorboard,mlflow: the numbers read back with the tools' own readers equal metrics.jsonl's; the figures and
the report are attached at the end; a bad value is a one-line error."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from rnnlab.cli import main

pytest.importorskip("tensorboard")
mlflow = pytest.importorskip("mlflow")


def test_cli_logs_read_back_equal_the_metrics_log(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    t = np.arange(800)
    data = tmp_path / "load.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=800, freq="h"),
                  "load": 10 + np.sin(2 * np.pi * t / 24)}).to_csv(data, index=False)  # fmt: skip
    run = tmp_path / "run"
    code = main(["forecast", "train", "--data", str(data), "--auto", "off", "--epochs", "3", "--hidden-size", "8",
                 "--run-dir", str(run), "--no-progress", "--log", "tensorboard,mlflow"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 3

    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0}).Reload()
    for name in ("train_loss", "val_loss", "lr"):
        scalars = events.Scalars(name)
        assert [s.step for s in scalars] == [line["epoch"] for line in lines]
        np.testing.assert_allclose([s.value for s in scalars], [line[name] for line in lines], rtol=1e-6)
    assert "forecast" in events.Tags()["images"]  # forecast.png, attached after the command

    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = mlflow.tracking.MlflowClient(tracking_uri=(run / "mlruns").resolve().as_uri())
    (found,) = client.search_runs([client.get_experiment_by_name("rnnlab").experiment_id])
    history = client.get_metric_history(found.info.run_id, "val_loss")
    assert [(m.step, m.value) for m in history] == [(line["epoch"], pytest.approx(line["val_loss"])) for line in lines]
    assert found.data.params["train.epochs"] == "3"
    artifacts = {a.path for a in client.list_artifacts(found.info.run_id)}
    assert {"report.html", "forecast.png"} <= artifacts


def test_a_bad_log_value_is_a_one_line_error(capsys):
    assert main(["forecast", "train", "--log", "wandb"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--log" in err[0] and "tensorboard and/or mlflow" in err[0]
