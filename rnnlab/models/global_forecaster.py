"""One recurrent network for many series (a *global* model, as DeepAR, ES-RNN and N-BEATS are).

Each series keeps its own :class:`~rnnlab.data.windows.SeriesTransform` (its scale, its base: the seasonal naive,
ETS fitted to that series, the last value; optionally on log values), so the network sees every series in the same
units: changes from the series' own base, divided by the series' own spread. Windows are drawn across all series,
each series equally likely whatever its length (so long series do not drown short ones); a window that starts
before its series does is padded with zeros and a channel that says so. An optional embedding of the series id is
appended to every step (``id_embedding``).

Validation follows the M4 practice: the last ``horizon`` points of every series are held out for early stopping.
The final networks (several seeds; the forecast is their median) are then trained on everything, as many epochs as
early stopping chose.

``tests/test_global_forecaster.py`` checks that one series of a panel gets the same inputs and targets as the
single-series forecaster gives it, and that the weights draw every series equally often.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.checkpoint import (
    fingerprint,
    load_checkpoint,
    load_error,
    run_lock,
    save_checkpoint,
    strip_prefix,
    with_prefix,
)
from rnnlab.data.panel import PanelSeries
from rnnlab.data.windows import SeriesTransform
from rnnlab.errors import RnnlabError
from rnnlab.models.forecaster import ForecastConfig
from rnnlab.nn import LAYERS
from rnnlab.train import FitResult, TrainConfig, fit

TASK = "forecast-global"
FALLBACK = 0.02  # the network gives way to its base when it is this much worse on validation


class GlobalNet(nn.Module):
    """``(B, L, F)`` windows (+ ids) → recurrent layers → top ``h_L`` → linear → ``(B, H)`` in model space."""

    def __init__(self, input_size: int, *, cell: str, hidden_size: int, num_layers: int, dropout: float,
                 horizon: int, series: int, id_embedding: int) -> None:  # fmt: skip
        super().__init__()
        self.cell, self.horizon, self.id_embedding = cell, horizon, id_embedding
        self.embedding = nn.Embedding(series, id_embedding) if id_embedding else None
        options = {"num_layers": num_layers, "dropout": dropout if num_layers > 1 else 0.0, "batch_first": True}
        self.rnn = LAYERS[cell](input_size + id_embedding, hidden_size, **options)
        self.head = nn.Linear(hidden_size, horizon)

    def forward(self, x: Tensor, ids: Tensor) -> Tensor:
        if self.embedding is not None:
            e = self.embedding(ids)[:, None].expand(-1, x.shape[1], -1)  # (B, L, E)
            x = torch.cat([x, e], dim=-1)
        out, _ = self.rnn(x)  # (B, L, H_rnn)
        return self.head(out[:, -1])  # (B, horizon)


@dataclass
class _Windows:
    """All training windows of a panel: inputs ``(W, L, F+1)``, targets ``(W, H)``, series index ``(W,)``."""

    x: Tensor
    y: Tensor
    series: Tensor


class _PanelTask:
    """The fit loop's task: each epoch draws ``batches`` batches of windows, every series equally likely."""

    def __init__(self, train: _Windows, val: _Windows, *, batch_size: int, batches: int) -> None:
        self.train, self.val, self.size, self.batches_per_epoch = train, val, batch_size, batches
        counts = torch.bincount(train.series)
        self.weights = 1.0 / counts[train.series].double()  # (W,): each series sums to 1

    def fingerprint(self) -> str:
        return fingerprint(self.train.x, self.train.y, self.val.x, self.val.y)

    def batches(self, epoch: int, generator: torch.Generator):
        draws = torch.multinomial(self.weights, self.batches_per_epoch * self.size, replacement=True,
                                  generator=generator)  # fmt: skip
        return list(draws.view(self.batches_per_epoch, self.size))

    def loss(self, model: nn.Module, batch: Tensor, state: Any) -> tuple[Tensor, None]:
        predicted = model(self.train.x[batch], self.train.series[batch])  # (B, H)
        return (predicted - self.train.y[batch]).abs().mean(), None

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        errors = []
        for i in range(0, len(self.val.x), 2048):
            predicted = model(self.val.x[i : i + 2048], self.val.series[i : i + 2048])
            errors.append((predicted - self.val.y[i : i + 2048]).abs().mean(dim=1))
        return {"val_loss": torch.cat(errors).mean().item()}

    def batch_size(self, batch: Tensor) -> int:
        return len(batch)


@dataclass(frozen=True)
class GlobalConfig:
    """What :class:`GlobalForecaster` adds to a :class:`~rnnlab.models.forecaster.ForecastConfig`."""

    id_embedding: int = 0  # size of the series-id embedding (0: none)
    batches: int = 100  # batches per epoch
    min_context: int = 4  # a window needs at least this many real (not padded) steps
    recent: float = 0.0  # draw windows only from each series' last `recent` horizons (N-BEATS' L_H); 0: all
    level: str = "relative"  # the level input: relative to the window's last value, 'absolute' or 'none'
    shared_scale: bool = False  # one change scale for every series (with log values: errors become relative ones)


class GlobalForecaster:
    """Fit one network on many series; forecast the ``horizon`` steps after each series' end."""

    def __init__(self, config: ForecastConfig, train_config: TrainConfig, options: GlobalConfig = GlobalConfig()):
        self.config, self.train_config, self.options = config, train_config, options
        self.transforms: list[SeriesTransform] = []
        self.ids: list[str] = []
        self.columns: dict[str, str | None] = {}  # how the training table was read: id, target and time columns
        self.validation: dict[str, float] = {}  # the probe's validation error and its base's
        self.nets: list[GlobalNet] = []
        self.results: list[FitResult] = []

    # ----- windows -------------------------------------------------------------------------------------------
    def _fit_transforms(self, panel: list[PanelSeries]) -> list[SeriesTransform]:
        config = self.config
        transforms = []
        for item in panel:
            values = item.values[:, None]
            period = config.period if config.period and len(values) > 2 * config.period + 1 else 0
            base = config.base if period or config.base not in ("seasonal",) else "last"
            transform = config.transform if (config.transform == "none" or values.min() > 0) else "none"
            transforms.append(SeriesTransform.fit(values, np.zeros((len(values), 0)), base=base, period=period,
                                                  cycles=(), transform=transform))  # fmt: skip
        if self.options.shared_scale:
            common = float(np.median([t.change_scale[0] for t in transforms]))
            for t in transforms:
                t.change_scale = [common]
        return transforms

    def _rows(self, transform: SeriesTransform, values: np.ndarray) -> np.ndarray:
        """Feature rows ``(n, F + 1)`` of one series: the transform's inputs (NaN before its warm-up is set to 0)
        and a channel that is 1 where a row is padding."""
        features = transform.features(values[:, None], np.zeros((len(values), 0)), np.arange(len(values)))
        if features.shape[1] == 1:  # base 'none' has no level channel: add a zero one so every series has the same
            features = np.concatenate([features, np.zeros_like(features)], axis=1)
        if self.options.level == "none":
            features[:, 1] = 0.0
        padding = ~np.isfinite(features).all(axis=1)
        features = np.nan_to_num(features, nan=0.0)
        return np.concatenate([features, padding[:, None].astype(np.float32)], axis=1)

    def _windows(self, values: np.ndarray, transform: SeriesTransform, origins: np.ndarray,
                 with_targets: bool) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
        lookback = self.config.lookback
        rows = self._rows(transform, values)
        padded = np.concatenate([np.zeros((lookback, rows.shape[1]), np.float32), rows])
        padded[:lookback, -1] = 1.0
        window_index = origins[:, None] + np.arange(lookback)[None, :]  # rows o-L … o-1, shifted by the padding
        x = padded[window_index]  # (O, L, F+1)
        if self.options.level == "relative":  # the level seen from the window's end: the same whatever the trend did
            x[:, :, 1] = (x[:, :, 1] - x[:, -1:, 1]) * (1 - x[:, :, -1])
        y = transform.targets(values[:, None], origins, self.config.horizon)[..., 0] if with_targets else None
        return x, y

    def _collect(self, panel: list[PanelSeries], transforms: list[SeriesTransform], end: int | None) -> _Windows:
        """Every window whose targets fall inside each series (``end`` points cut from each series' end)."""
        horizon, xs, ys, ids = self.config.horizon, [], [], []
        for index, (item, transform) in enumerate(zip(panel, transforms)):
            values = item.values if end is None else item.values[: len(item.values) - end]
            first = transform.warmup + self.options.min_context
            if self.options.recent:  # only the end of each series: M-competition series change their behaviour
                first = max(first, len(values) - horizon - round(self.options.recent * horizon))
            origins = np.arange(first, len(values) - horizon + 1)
            if len(origins) == 0:
                continue
            x, y = self._windows(values, transform, origins, True)
            xs.append(x)
            ys.append(y)
            ids.append(np.full(len(origins), index))
        if not xs:
            raise RnnlabError(f"no series is long enough for horizon {horizon} and {self.options.min_context} steps")
        return _Windows(torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys)),
                        torch.from_numpy(np.concatenate(ids)))  # fmt: skip

    def _validation(self, panel: list[PanelSeries], transforms: list[SeriesTransform]) -> _Windows:
        """One window per series: the last ``horizon`` points as targets."""
        horizon, xs, ys, ids = self.config.horizon, [], [], []
        for index, (item, transform) in enumerate(zip(panel, transforms)):
            origin = len(item.values) - horizon
            if origin < transform.warmup + self.options.min_context:
                continue
            x, y = self._windows(item.values, transform, np.array([origin]), True)
            xs.append(x)
            ys.append(y)
            ids.append([index])
        return _Windows(torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys)),
                        torch.from_numpy(np.concatenate(ids)))  # fmt: skip

    # ----- training ------------------------------------------------------------------------------------------
    def _net(self, input_size: int) -> GlobalNet:
        c = self.config
        return GlobalNet(input_size, cell=c.cell, hidden_size=c.hidden_size, num_layers=c.num_layers,
                         dropout=c.dropout, horizon=c.horizon, series=len(self.ids),
                         id_embedding=self.options.id_embedding)  # fmt: skip

    def fit(self, panel: list[PanelSeries], *, run_dir: str | Path, resume: bool = False, log=print,
            max_seconds: float = 0.0) -> GlobalForecaster:  # fmt: skip
        """Early stopping on the last ``horizon`` points of every series decides the epochs; then ``ensemble``
        networks train on all the data for that many epochs, ``max_seconds`` in all."""
        with run_lock(run_dir):
            return self._fit(panel, Path(run_dir), resume=resume, log=log, max_seconds=max_seconds)

    def _fit(self, panel: list[PanelSeries], run_dir: Path, *, resume: bool, log, max_seconds: float):
        start = time.perf_counter()
        horizon = self.config.horizon
        self.ids = [item.id for item in panel]
        log(f"{len(panel)} series; fitting each one's transform (base {self.config.base}, "
            f"transform {self.config.transform})")  # fmt: skip
        held_out = [PanelSeries(p.id, p.values[: len(p.values) - horizon]) for p in panel]
        transforms = self._fit_transforms(held_out)
        train = self._collect(held_out, transforms, end=None)
        val = self._validation(panel, transforms)
        log(f"{len(train.x)} training windows, {len(val.x)} validation windows (the last {horizon} points of each)")
        budget = max_seconds or self.train_config.max_seconds
        probe = self._net(train.x.shape[-1])
        torch.manual_seed(self.train_config.seed)
        task = _PanelTask(train, val, batch_size=self.config.batch_size, batches=self.options.batches)
        probe_config = replace(self.train_config, max_seconds=budget / (1 + self.config.ensemble) if budget else 0)
        probe_result = fit(probe, task, probe_config, run_dir / "probe", metadata=self._metadata(),
                           resume=resume and (run_dir / "probe" / "last.safetensors").exists(), log=log)  # fmt: skip
        epochs = max(2, probe_result.best_epoch)
        alone = val.y.abs().mean().item()  # the base's own error on validation: a network that outputs zero
        network = probe_result.best.get("val_loss", float("nan"))
        # one network's validation error is noisy (the final median of several is steadier): the network is set aside
        # only when it is clearly worse than its base, by more than FALLBACK
        self.validation = {"network": network, "base": alone, "use_network": bool(network <= alone * (1 + FALLBACK))}
        if network < alone:
            log(f"validation (the last {horizon} points of each series): the network improves on its base, the "
                f"{self.config.base} forecast alone (error {network:.4f} vs {alone:.4f})")  # fmt: skip
        elif self.validation["use_network"]:
            log(f"validation (the last {horizon} points of each series): the network does not improve on its base, "
                f"the {self.config.base} forecast alone (error {network:.4f} vs {alone:.4f}), but is within "
                f"{FALLBACK:.0%}: the network's forecasts are kept")  # fmt: skip
        else:
            log(f"validation (the last {horizon} points of each series): the network does NOT improve on its base, "
                f"the {self.config.base} forecast alone (error {network:.4f} vs {alone:.4f}): the forecasts will be "
                f"the {self.config.base} method's, not the network's")  # fmt: skip
        log(f"early stopping chose {epochs} epochs; training {self.config.ensemble} networks on all the data")
        self.transforms = self._fit_transforms(panel)
        full = self._collect(panel, self.transforms, end=None)
        val = self._validation(panel, self.transforms)  # the same windows in the new transforms' units
        self.nets, self.results = [], []
        for member in range(self.config.ensemble):
            left = budget - (time.perf_counter() - start) if budget else 0
            seconds = max(left / (self.config.ensemble - member), 1) if budget else 0
            member_config = replace(self.train_config, seed=self.train_config.seed + member, epochs=epochs,
                                    patience=epochs, max_seconds=seconds)  # fmt: skip
            torch.manual_seed(member_config.seed)
            net = self._net(full.x.shape[-1])
            folder = run_dir / f"member-{member}"
            task = _PanelTask(full, val, batch_size=self.config.batch_size, batches=self.options.batches)
            self.results.append(fit(net, task, member_config, folder, metadata=self._metadata(),
                                    resume=resume and (folder / "last.safetensors").exists(), log=log))  # fmt: skip
            self.nets.append(net.eval())
        return self

    # ----- forecasting ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, panel: list[PanelSeries]) -> dict[str, np.ndarray]:
        """The ``horizon`` values after the end of each series of ``panel`` ``{id: (H,)}``, from its history (a
        series never seen in training gets a transform fitted on its own history)."""
        if not self.nets:
            raise RnnlabError("this global forecaster is not trained: call fit() or GlobalForecaster.load()")
        known = {i: k for k, i in enumerate(self.ids)}
        xs, ids, transforms = [], [], []
        for item in panel:
            k = known.get(item.id)
            transform = self.transforms[k] if k is not None else self._fit_transforms([item])[0]
            if len(item.values) < transform.warmup + self.options.min_context:
                raise RnnlabError(f"series {item.id!r} has {len(item.values)} points; a forecast needs "
                                  f"{transform.warmup + self.options.min_context}")  # fmt: skip
            x, _ = self._windows(item.values, transform, np.array([len(item.values)]), False)
            xs.append(x)
            ids.append(k if k is not None and self.options.id_embedding else 0)
            transforms.append(transform)
        x, id_tensor = torch.from_numpy(np.concatenate(xs)), torch.tensor(ids)
        z = np.median(np.stack([net(x, id_tensor).numpy() for net in self.nets]), axis=0)  # (S, H)
        if not self.validation.get("use_network", True):  # the base did better on validation: its forecast
            z = np.zeros_like(z)
        return {item.id: t.inverse(z[i][:, None], item.values[:, None], len(item.values))[:, 0]
                for i, (item, t) in enumerate(zip(panel, transforms))}  # fmt: skip

    # ----- persistence ---------------------------------------------------------------------------------------
    def _metadata(self) -> dict[str, Any]:
        return {"task": TASK, "config": asdict(self.config), "options": asdict(self.options), "ids": self.ids,
                "model": {"input_size": None}}  # fmt: skip

    def save(self, path: str | Path) -> None:
        tensors = {}
        for i, net in enumerate(self.nets):
            tensors |= with_prefix(f"member{i}", net.state_dict())
        input_size = self.nets[0].rnn.input_size - self.options.id_embedding
        meta = self._metadata() | {"members": len(self.nets), "columns": self.columns, "input_size": input_size,
                                   "validation": self.validation,
                                   "transforms": [t.to_dict() for t in self.transforms],
                                   "train_config": asdict(self.train_config)}  # fmt: skip
        save_checkpoint(path, tensors, meta)

    @classmethod
    def load(cls, path: str | Path) -> GlobalForecaster:
        tensors, meta = load_checkpoint(path, task=TASK)
        try:
            config = ForecastConfig(**{**meta["config"], "cycles": tuple(meta["config"]["cycles"])})
            forecaster = cls(config, TrainConfig(**meta["train_config"]), GlobalConfig(**meta["options"]))
            forecaster.ids = list(meta["ids"])
            forecaster.columns = dict(meta.get("columns", {}))
            forecaster.validation = dict(meta.get("validation", {}))
            forecaster.transforms = [SeriesTransform.from_dict(t) for t in meta["transforms"]]
            for i in range(int(meta["members"])):
                net = forecaster._net(int(meta["input_size"]))
                net.load_state_dict(strip_prefix(f"member{i}", tensors))
                forecaster.nets.append(net.eval())
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise RnnlabError(f"{path} does not hold a usable global forecaster: {load_error(exc)}") from exc
        return forecaster
