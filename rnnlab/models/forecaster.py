"""The recurrent forecaster: a window of the past → RNN/LSTM/GRU → the next ``horizon`` values.

``ForecastNet`` is the network: the last hidden state of the top layer goes through one linear head to all horizon
steps at once (direct multi-step), or to one step that is fed back, carrying the hidden state, ``horizon`` times
(recursive). What it predicts is a change from a base (see :mod:`rnnlab.data.windows`).

``Forecaster`` is the face a user sees: ``Forecaster(...).fit(frame).predict(frame)``, ``evaluate``, ``save`` /
``load``, and ``update(new_points)`` for streaming. With ``ensemble=k`` it trains ``k`` networks from different
seeds and forecasts their median (as N-BEATS and ES-RNN ensemble theirs).
"""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from rnnlab.baselines import ETSState
from rnnlab.checkpoint import load_checkpoint, save_checkpoint, strip_prefix, with_prefix
from rnnlab.data.covariates import CovariateEncoder
from rnnlab.data.series import Series, SeriesSpec, prepare_series, split_points
from rnnlab.data.windows import BASES, TRANSFORMS, SeriesTransform, gather_windows, window_origins
from rnnlab.errors import RnnlabError
from rnnlab.nn import checks
from rnnlab.nn.layers import GRU, LSTM, RNN
from rnnlab.nn.stream import Stepper
from rnnlab.train import FitResult, TrainConfig, fit

LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


class ForecastNet(nn.Module):
    """``(B, L, F)`` window → recurrent layers → top ``h_L`` → linear → ``(B, horizon, K)`` in model space."""

    def __init__(
        self,
        input_size: int,
        *,
        cell: str,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        outputs: int,
        targets: int,
    ) -> None:
        super().__init__()
        checks.one_of("cell", cell, tuple(LAYERS))
        self.cell, self.outputs, self.targets = cell, outputs, targets
        options = {"num_layers": num_layers, "dropout": dropout if num_layers > 1 else 0.0, "batch_first": True}
        self.rnn = LAYERS[cell](input_size, hidden_size, **options)
        self.head = nn.Linear(hidden_size, outputs * targets)

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        out, state = self.rnn(x, state)  # (B, L, H)
        z = self.head(out[:, -1])  # (B, outputs*K)
        return z.view(len(x), self.outputs, self.targets), state  # (B, outputs, K)


@dataclass(frozen=True)
class ForecastConfig:
    """The forecaster's shape; training options are a :class:`~rnnlab.train.TrainConfig`."""

    cell: str = "lstm"  # 'lstm', 'gru' or 'rnn' (tanh)
    hidden_size: int = 64  # size of h in every layer
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # between stacked layers
    lookback: int = 96  # steps of history the network reads
    horizon: int = 24  # steps forecast
    base: str = "last"  # 'none', 'last' (first differences), 'seasonal' (seasonal-naive residual) or 'ets'
    period: int = 0  # seasonal period m for base='seasonal' and 'ets'
    cycles: tuple[float, ...] = ()  # calendar sin/cos features, periods in steps (e.g. 48, 336 for half-hourly)
    strategy: str = "direct"  # 'direct': all horizon steps at once; 'recursive': one step fed back
    loss: str = "mae"  # 'mae' or 'mse' (on the scaled change)
    batch_size: int = 64  # windows per training batch
    transform: str = "none"  # 'none' or 'log' (positive series with multiplicative seasonality)
    ensemble: int = 1  # networks trained from different seeds; the forecast is their median
    max_batches: int = 100  # batches per epoch at most (drawn at random from all windows); 0: all

    def __post_init__(self) -> None:
        checks.one_of("cell", self.cell, tuple(LAYERS))
        checks.one_of("strategy", self.strategy, ("direct", "recursive"))
        checks.one_of("loss", self.loss, ("mae", "mse"))
        checks.one_of("base", self.base, BASES)
        checks.one_of("transform", self.transform, TRANSFORMS)
        for name in ("horizon", "lookback", "hidden_size", "num_layers", "batch_size", "ensemble"):
            checks.positive_int(name, getattr(self, name))
        if self.max_batches < 0:
            raise ValueError(f"max_batches must be ≥ 0 (0: all), got {self.max_batches}")

    @property
    def label(self) -> str:
        """A short description: ``lstm, base ets, log, lookback 36``."""
        parts = [self.cell, f"base {self.base}" + (f" m={self.period}" if self.base in ("seasonal", "ets") else "")]
        if self.transform != "none":
            parts.append(self.transform)
        return ", ".join([*parts, f"lookback {self.lookback}"])


@dataclass
class _Data:
    """A series turned into model inputs: features for every row, and step numbers."""

    series: Series
    features: np.ndarray  # (N, F)
    steps: np.ndarray  # (N,) absolute step numbers
    notes: list[str] = field(default_factory=list)


class _WindowTask:
    """The :class:`~rnnlab.train.TrainingTask` of forecasting: shuffled windows, loss on the scaled change."""

    def __init__(self, x: Tensor, y: Tensor, x_val: Tensor, y_val: Tensor, config: ForecastConfig) -> None:
        self.x, self.y, self.x_val, self.y_val, self.config = x, y, x_val, y_val, config

    def _loss(self, predicted: Tensor, target: Tensor) -> Tensor:
        return (predicted - target).abs().mean() if self.config.loss == "mae" else (predicted - target).square().mean()

    def batches(self, epoch: int, generator: torch.Generator):
        order = torch.randperm(len(self.x), generator=generator)
        size = self.config.batch_size
        batches = [order[i : i + size] for i in range(0, len(order), size)]
        return batches[: self.config.max_batches] if self.config.max_batches else batches

    def loss(self, model: nn.Module, batch: Tensor, state: Any) -> tuple[Tensor, None]:
        predicted, _ = model(self.x[batch])  # (B, outputs, K)
        return self._loss(predicted, self.y[batch]), None

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        predicted = torch.cat([model(self.x_val[i : i + 1024])[0] for i in range(0, len(self.x_val), 1024)])
        return {"val_loss": self._loss(predicted, self.y_val).item()}

    def batch_size(self, batch: Tensor) -> int:
        return len(batch)


@dataclass
class Forecaster:
    """Fit a recurrent forecaster on a table, forecast from any history, stream new points.

    Example::

        >>> fc = Forecaster(ForecastConfig(lookback=96, horizon=48, base="seasonal", period=336, cycles=(48, 336)))
        >>> fc.fit(frame, SeriesSpec(targets=("load",), time="time"), val_size=672, test_size=672, run_dir="runs/a")
        >>> fc.predict(frame)            # the 48 steps after the end of frame, as a DataFrame
    """

    config: ForecastConfig = field(default_factory=ForecastConfig)
    train_config: TrainConfig = field(default_factory=TrainConfig)
    spec: SeriesSpec | None = None
    transform: SeriesTransform | None = None
    nets: list[ForecastNet] = field(default_factory=list)  # the ensemble's members
    encoder: CovariateEncoder = field(default_factory=CovariateEncoder)
    anchor: str | None = None  # first time of the training data (the phase origin of the cycles)
    freq: str | None = None  # its regular step, e.g. '0 days 00:30:00'
    result: FitResult | None = None  # the first member's training
    info: dict[str, Any] = field(default_factory=dict)  # what the task decided (calendar, search), saved with it
    _stream: dict[str, Any] | None = None

    @property
    def net(self) -> ForecastNet | None:
        """The first member (the one the reports inspect)."""
        return self.nets[0] if self.nets else None

    # ----- data ----------------------------------------------------------------------------------------------
    def _data(self, frame: pd.DataFrame, source: str, series: Series | None = None) -> _Data:
        series = series if series is not None else prepare_series(frame, self.spec, source)
        if series.times is not None and self.anchor is not None:
            steps = np.round((series.times - pd.Timestamp(self.anchor)) / pd.Timedelta(self.freq)).astype(np.int64)
        else:
            steps = np.arange(len(series))
        self.transform.check_values(series.targets, source)
        covariates, notes = self.encoder.transform(series.covariate_frame, source)
        features = self.transform.features(series.targets, covariates, np.asarray(steps))
        return _Data(series, features, np.asarray(steps), notes)

    @property
    def _outputs(self) -> int:
        return 1 if self.config.strategy == "recursive" else self.config.horizon

    def _first_origin(self) -> int:
        return self.transform.warmup + self.config.lookback

    def _check_config(self, spec: SeriesSpec) -> None:
        config = self.config
        if config.strategy == "recursive" and spec.covariates:
            raise RnnlabError("strategy 'recursive' feeds its own forecasts back; covariates have no future values")
        if config.strategy == "recursive" and config.base == "ets":
            raise RnnlabError("base 'ets' works with strategy 'direct' only")
        if config.base == "seasonal" and config.period < 1:
            raise RnnlabError("base 'seasonal' needs the seasonal period: pass --period M (e.g. 336 for weekly)")

    # ----- training ------------------------------------------------------------------------------------------
    def fit(
        self,
        frame: pd.DataFrame,
        spec: SeriesSpec,
        *,
        val_size: int,
        test_size: int = 0,
        run_dir: str | Path,
        resume: bool = False,
        source: str = "data",
        log=print,
    ) -> Forecaster:
        """Train on ``frame`` minus its last ``test_size`` rows, validating on the ``val_size`` rows before them.

        With ``ensemble=k > 1`` the members train in ``run_dir/member-<i>`` (seeds ``seed, seed+1, ...``) and
        ``run_dir/best.safetensors`` holds them all.
        """
        config = self.config
        self._check_config(spec)
        self.spec = spec
        series = prepare_series(frame, spec, source)
        for note in series.notes:
            log(f"note: {note}")
        val_start, test_start = split_points(len(series), val_size, test_size)
        if series.times is not None:
            self.anchor, self.freq = str(series.times[0]), str(series.freq)
        self.encoder = CovariateEncoder.fit(series.covariate_frame.iloc[:val_start])
        covariates, _ = self.encoder.transform(series.covariate_frame.iloc[:val_start], source)
        self.transform = SeriesTransform.fit(
            series.targets[:val_start], covariates, base=config.base, period=config.period, cycles=config.cycles,
            transform=config.transform,
        )  # fmt: skip
        data = self._data(frame, source, series)
        for note in data.notes:
            log(f"note: {note}")
        outputs = self._outputs
        train_origins = window_origins(self._first_origin(), val_start - outputs)
        val_origins = window_origins(max(val_start, self._first_origin()), test_start - outputs)
        needed = self._first_origin() + outputs
        if len(train_origins) == 0:
            raise RnnlabError(
                f"{source} has {val_start} training points, too few for lookback {config.lookback} + horizon "
                f"{outputs}"
                + (f" + period {config.period}" if config.base == "seasonal" else "")
                + f" (needs > {needed})"
            )
        if len(val_origins) == 0:
            val_origins = train_origins[-max(1, len(train_origins) // 10) :]  # no validation part: monitor the tail
        tensors = [
            torch.from_numpy(gather_windows(data.features, train_origins, config.lookback)),
            torch.from_numpy(self.transform.targets(series.targets, train_origins, outputs)),
            torch.from_numpy(gather_windows(data.features, val_origins, config.lookback)),
            torch.from_numpy(self.transform.targets(series.targets, val_origins, outputs)),
        ]
        log(
            f"{len(train_origins)} training windows, {len(val_origins)} validation windows, "
            f"{data.features.shape[1]} inputs" + (f", {config.ensemble} networks" if config.ensemble > 1 else "")
        )
        run_dir = Path(run_dir)
        self.nets, results = [], []
        for member in range(config.ensemble):
            train_config = replace(self.train_config, seed=self.train_config.seed + member)
            torch.manual_seed(train_config.seed)
            net = ForecastNet(
                data.features.shape[1], cell=config.cell, hidden_size=config.hidden_size,
                num_layers=config.num_layers, dropout=config.dropout, outputs=outputs,
                targets=series.targets.shape[1],
            )  # fmt: skip
            self.nets.append(net)
            folder = run_dir if config.ensemble == 1 else run_dir / f"member-{member}"
            if config.ensemble > 1:
                log(f"--- network {member + 1} of {config.ensemble} (seed {train_config.seed}) ---")
            task = _WindowTask(*tensors, config)
            results.append(fit(net, task, train_config, folder, metadata=self.metadata(1), resume=resume, log=log))
            net.eval()
        self.result = results[0]
        self.info["members"] = [{"best_epoch": r.best_epoch, **r.best, "seconds": r.seconds} for r in results]
        if config.ensemble > 1:
            self.save(run_dir / "best.safetensors")
        self._stream = None
        return self

    # ----- forecasting ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def forecast_at(self, data: _Data, origins: np.ndarray) -> np.ndarray:
        """Forecasts ``(O, horizon, K)`` in data units made at each origin, from the rows before it only."""
        self._require_fitted()
        if len(origins) and origins.min() < self._first_origin():
            raise RnnlabError(
                f"a forecast needs {self._first_origin()} points of history (lookback {self.config.lookback}"
                + (f" + period {self.transform.period}" if self.transform.base == "seasonal" else "")
                + f"); got {int(origins.min())}"
            )
        x = torch.from_numpy(gather_windows(data.features, origins, self.config.lookback))  # (O, L, F)
        if not torch.isfinite(x).all():
            raise RnnlabError(
                f"the {self.config.lookback} values before a forecast origin must be finite numbers; "
                f"{data.series.source} has inf or missing values there"
            )
        targets = data.series.targets
        if self.config.strategy == "direct":
            z = np.median(np.stack([net.eval()(x)[0].numpy() for net in self.nets]), axis=0)  # (O, H, K)
            return self.transform.inverse_many(z, targets, origins)
        return np.stack([self._rollout(x[i : i + 1], data, int(o)) for i, o in enumerate(origins)])

    def _rollout(self, window: Tensor, data: _Data, origin: int) -> np.ndarray:
        """Recursive forecast: predict one step, append it, feed its features back with the carried state (each
        member rolls out on its own; the forecast is their median)."""
        transform = self.transform
        rollouts = []
        for net in self.nets:
            history = transform.encode(data.series.targets[:origin])  # (o, K) encoded, grows by one row per step
            z, state = net.eval()(window)  # (1, 1, K)
            for h in range(self.config.horizon):
                value = z[0].numpy() * transform._divisor() + transform.base_values(history, np.array([len(history)]),
                                                                                  1)[0]  # fmt: skip
                history = np.concatenate([history, value])
                if h == self.config.horizon - 1:
                    break
                # the fed-back row: the change from y_{t-1} (base 'last') or y_{t-m} ('seasonal'), as in training
                reference = {"none": None, "last": history[-2], "seasonal": history[-1 - transform.period]}
                row = transform.feature_row(history[-1], reference[transform.base],
                                            int(data.steps[origin - 1]) + h + 1)  # fmt: skip
                z, state = net(torch.from_numpy(row)[None, None], state)  # (1, 1, K)
            rollouts.append(transform.decode(history[origin:]))
        return np.median(np.stack(rollouts), axis=0)

    def predict(self, frame: pd.DataFrame, *, source: str = "data") -> pd.DataFrame:
        """The ``horizon`` steps after the end of ``frame``, with times when the data has a time column."""
        self._require_fitted()
        data = self._data(frame, source)
        forecast = self.forecast_at(data, np.array([len(data.series)]))[0]  # (H, K)
        result = pd.DataFrame(forecast, columns=list(self.spec.targets))
        result.insert(0, "step", np.arange(1, self.config.horizon + 1))
        if data.series.times is not None:
            freq = pd.Timedelta(self.freq)
            column = self.spec.time if "," not in self.spec.time else "time"  # date parts become one column
            result.insert(0, column, data.series.times[-1] + freq * result["step"].to_numpy())
        return result

    # ----- streaming -----------------------------------------------------------------------------------------
    def start_stream(self, frame: pd.DataFrame, *, source: str = "data") -> None:
        """Read a history once from a zero state; afterwards :meth:`update` advances in O(1) per point.

        The state is carried over the whole history, as a stateful RNN does (training read windows of
        ``lookback`` steps from a zero state; an LSTM's forgetting makes the two close, not equal).
        """
        self._require_fitted()
        if self.spec.covariates:
            raise RnnlabError("streaming takes target values only; this forecaster also reads covariates")
        if self.config.strategy != "direct":
            raise RnnlabError("streaming forecasts need strategy 'direct'")
        data = self._data(frame, source)
        rows = torch.from_numpy(data.features[self.transform.warmup :])[None]  # (1, N - warmup, F)
        steppers = []
        for net in self.nets:
            with torch.no_grad():
                _, state = net.rnn(rows)  # the fused kernel over the whole history, once
            stepper = Stepper(net.rnn)
            stepper.reset(state if isinstance(state, tuple) else (state,))
            steppers.append(stepper)
        encoded = self.transform.encode(data.series.targets)  # (N, K)
        warmup = max(self.transform.warmup, 1)
        tail = collections.deque(encoded[len(encoded) - warmup :], maxlen=warmup)
        ets = [ETSState(m, encoded[:, k]) for k, m in enumerate(self.transform.ets_models)]
        heads = [(net.head.weight.detach().numpy(), net.head.bias.detach().numpy()) for net in self.nets]
        self._stream = {"steppers": steppers, "tail": tail, "step": int(data.steps[-1]), "heads": heads, "ets": ets}

    def update(self, new_points: Any) -> None:
        """Advance the carried state by each new observation ``(n,)`` or ``(n, K)``: one recurrent step each.

        A new row's features need only the previous value, the value one season ago (kept in a ring buffer) or ETS's
        state, so the cost per point does not depend on the length of the history.
        """
        if self._stream is None:
            raise RnnlabError("call start_stream(history) before update()")
        points = np.asarray(new_points, dtype=np.float64).reshape(-1, len(self.spec.targets))  # (n, K)
        if not np.isfinite(points).all():
            raise RnnlabError(f"update() takes finite numbers; got {points[~np.isfinite(points)][0]}")
        self.transform.check_values(points, "the update")
        stream, transform = self._stream, self.transform
        tail, ets = stream["tail"], stream["ets"]
        for value in transform.encode(points):
            stream["step"] += 1
            if transform.base == "ets":
                reference = np.array([state.one_step() for state in ets])
                for state, v in zip(ets, value):
                    state.update(float(v))
            else:
                reference = None if transform.base == "none" else tail[-1] if transform.base == "last" else tail[0]
            row = transform.feature_row(value, reference, stream["step"])
            for stepper in stream["steppers"]:
                stepper.step(row)
            tail.append(value)

    def forecast_stream(self) -> np.ndarray:
        """The next ``horizon`` values ``(H, K)`` from the streamed state."""
        if self._stream is None:
            raise RnnlabError("call start_stream(history) before forecast_stream()")
        stream, transform, horizon = self._stream, self.transform, self.config.horizon
        z = np.median(
            [(w @ s.h[-1] + b).reshape(horizon, -1) for (w, b), s in zip(stream["heads"], stream["steppers"])], axis=0
        )  # (H, K)
        if transform.base == "ets":
            base = np.stack([state.forecast(horizon) for state in stream["ets"]], axis=1)  # (H, K)
        else:
            tail = np.array(stream["tail"]).reshape(-1, len(self.spec.targets))  # the last `warmup` encoded values
            base = transform.base_values(tail, np.array([len(tail)]), horizon)[0]
        return transform.decode(z * transform._divisor() + base)

    # ----- persistence ---------------------------------------------------------------------------------------
    def metadata(self, members: int | None = None) -> dict[str, Any]:
        net = self.nets[0]
        model = {"input_size": net.rnn.input_size, "cell": net.cell, "hidden_size": net.rnn.hidden_size,
                 "num_layers": net.rnn.num_layers, "dropout": net.rnn.dropout, "outputs": net.outputs,
                 "targets": net.targets}  # fmt: skip
        return {
            "task": "forecast", "model": model, "members": members or len(self.nets), "forecast": asdict(self.config),
            "transform": self.transform.to_dict(), "covariates": self.encoder.to_dict(), "spec": asdict(self.spec),
            "anchor": self.anchor, "freq": self.freq, "info": self.info,
        }  # fmt: skip

    def save(self, path: str | Path) -> None:
        self._require_fitted()
        tensors = {}
        for i, net in enumerate(self.nets):
            tensors |= with_prefix("model" if i == 0 else f"member{i}", net.state_dict())
        save_checkpoint(path, tensors, self.metadata())

    @classmethod
    def load(cls, path: str | Path) -> Forecaster:
        tensors, meta = load_checkpoint(path, task="forecast")
        try:
            config = ForecastConfig(**{**meta["forecast"], "cycles": tuple(meta["forecast"]["cycles"])})
            spec = SeriesSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["spec"].items()})
            nets = []
            for i in range(int(meta.get("members", 1))):
                model = dict(meta["model"])
                net = ForecastNet(model.pop("input_size"), **model)
                net.load_state_dict(strip_prefix("model" if i == 0 else f"member{i}", tensors))
                nets.append(net.eval())
            transform = SeriesTransform.from_dict(meta["transform"])
            encoder = CovariateEncoder.from_dict(meta.get("covariates", {}))
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise RnnlabError(f"{path} does not hold a usable forecaster: {str(exc).splitlines()[0]}") from exc
        return cls(config=config, spec=spec, transform=transform, nets=nets, encoder=encoder, anchor=meta["anchor"],
                   freq=meta["freq"], info=meta.get("info", {}))  # fmt: skip

    def _require_fitted(self) -> None:
        if not self.nets or self.transform is None:
            raise RnnlabError("this forecaster is not trained: call fit() or Forecaster.load()")
