"""Run logs in the tools people already use, beside ``metrics.jsonl``: TensorBoard and MLflow (a local file store in
the run folder; no server needed).

``rnnlab ... train --log tensorboard,mlflow`` (or ``TrainConfig(log_to=("tensorboard", "mlflow"))``) writes, for
every epoch, the numbers of that epoch's ``metrics.jsonl`` line (TensorBoard scalars / MLflow metrics, step = epoch),
the training configuration and the model's metadata at the start (TensorBoard text / MLflow parameters), and at the
end of the command the run's figures and ``report.html`` (TensorBoard images / MLflow artifacts).

- TensorBoard: ``RUN/tensorboard/`` — ``tensorboard --logdir RUN/tensorboard``;
- MLflow: ``RUN/mlruns/`` — ``mlflow ui --backend-store-uri RUN/mlruns``. MLflow 3 keeps its file store in maintenance
  mode behind ``MLFLOW_ALLOW_FILE_STORE``, which rnnlab sets for itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError

KINDS = ("tensorboard", "mlflow")
DEFAULT: tuple[str, ...] = ()  # what the command line's --log chose, for every fit of the command
OPENED: list[Path] = []  # the run folders logged to in this process, for attach_outputs


def _mlflow():
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        import mlflow
    except ImportError:
        raise RnnlabError("--log mlflow needs the package mlflow-skinny: pip install mlflow-skinny") from None
    return mlflow


class RunLogs:
    """The loggers of one training (rank 0 only): :meth:`epoch` per metrics line, :meth:`close` at the end."""

    def __init__(self, kinds: tuple[str, ...], run_dir: Path, config: dict[str, Any], metadata: dict[str, Any]) -> None:
        self.kinds, self.run_dir = kinds, Path(run_dir)
        OPENED.append(self.run_dir)
        self.writer = None
        self.mlflow_run = None
        plain = {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool))}
        if "tensorboard" in kinds:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise RnnlabError("--log tensorboard needs the package tensorboard: pip install tensorboard") from None
            self.writer = SummaryWriter(log_dir=str(self.run_dir / "tensorboard"))
            self.writer.add_text("config", f"```\n{json.dumps({'training': config, **plain}, indent=2)}\n```")
        if "mlflow" in kinds:
            mlflow = _mlflow()
            self.client = mlflow.tracking.MlflowClient(tracking_uri=self.uri(self.run_dir))
            experiment = self.client.get_experiment_by_name("rnnlab")
            experiment_id = experiment.experiment_id if experiment else self.client.create_experiment("rnnlab")
            self.mlflow_run = self.client.create_run(experiment_id, run_name=self.run_dir.name)
            for key, value in {**{f"train.{k}": v for k, v in config.items()}, **plain}.items():
                self.client.log_param(self.mlflow_run.info.run_id, key, str(value)[:500])

    @staticmethod
    def uri(run_dir: Path) -> str:
        return (Path(run_dir) / "mlruns").resolve().as_uri()

    def epoch(self, entry: dict[str, Any]) -> None:
        step = int(entry["epoch"])
        numbers = {
            k: float(v) for k, v in entry.items() if isinstance(v, (int, float)) and k not in ("epoch", "epochs")
        }
        for name, value in numbers.items():
            if self.writer is not None:
                self.writer.add_scalar(name, value, step)
            if self.mlflow_run is not None:
                self.client.log_metric(self.mlflow_run.info.run_id, name, value, step=step)
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.mlflow_run is not None:
            self.client.set_terminated(self.mlflow_run.info.run_id)


def attach_outputs(run_dir: str | Path, kinds: tuple[str, ...]) -> None:
    """After a command: the run's figures (``*.png``) and ``report.html`` (from ``run_dir``, or its parent for an
    ensemble member's folder) into the latest TensorBoard and MLflow runs of ``run_dir``."""
    run_dir = Path(run_dir)
    source = (
        run_dir
        if (run_dir / "report.html").exists() or not (run_dir.parent / "report.html").exists()
        else run_dir.parent
    )
    figures = sorted(source.glob("*.png"))
    report = source / "report.html"
    if "tensorboard" in kinds and figures:
        import matplotlib.image as image
        from torch.utils.tensorboard import SummaryWriter

        with SummaryWriter(log_dir=str(run_dir / "tensorboard")) as writer:
            for figure in figures:
                writer.add_image(figure.stem, image.imread(str(figure))[..., :3], dataformats="HWC")
    if "mlflow" in kinds and (run_dir / "mlruns").exists():
        mlflow = _mlflow()
        client = mlflow.tracking.MlflowClient(tracking_uri=RunLogs.uri(run_dir))
        experiment = client.get_experiment_by_name("rnnlab")
        runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1)
        for path in [*figures, *([report] if report.exists() else [])]:
            client.log_artifact(runs[0].info.run_id, str(path))
