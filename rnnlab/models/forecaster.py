"""The recurrent forecaster: a window of the past → RNN/LSTM/GRU → the next ``horizon`` values.

``ForecastNet`` is the network: the last hidden state of the top layer goes through one linear head to all horizon
steps at once (direct multi-step), or to one step that is fed back, carrying the hidden state, ``horizon`` times
(recursive). What it predicts is a change from a base (see :mod:`rnnlab.data.windows`).

``Forecaster`` is the face a user sees: ``Forecaster(...).fit(frame).predict(frame)``, ``evaluate``, ``save`` /
``load``, and ``update(new_points)`` for streaming. It holds one or more *members* (a configuration, its fitted
series transform and a trained network): with ``ensemble=k`` it trains ``k`` networks from different seeds, and
:meth:`Forecaster.combine` joins forecasters of different configurations; the forecast is the members' median (as
N-BEATS and ES-RNN ensemble theirs).
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

from rnnlab.checkpoint import fingerprint, load_checkpoint, load_error, save_checkpoint, strip_prefix, with_prefix
from rnnlab.data.covariates import CovariateEncoder
from rnnlab.data.series import Series, SeriesSpec, prepare_series, split_points
from rnnlab.data.windows import BASES, TRANSFORMS, SeriesTransform, gather_windows, window_origins
from rnnlab.errors import RnnlabError
from rnnlab.nn import LAYERS, checks
from rnnlab.nn.stream import Stepper
from rnnlab.train import FitResult, TrainConfig, fit


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
        return z.view(-1, self.outputs, self.targets), state  # (B, outputs, K); -1: an exported graph keeps B free


@dataclass(frozen=True)
class ForecastConfig:
    """The forecaster's shape; training options are a :class:`~rnnlab.train.TrainConfig`."""

    cell: str = "lstm"  # a key of rnnlab.nn.LAYERS: lstm, gru, rnn (tanh), mingru, minlstm
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
    min_batches: int = 10  # batches per epoch at least: a small series' windows are drawn several times

    def __post_init__(self) -> None:
        checks.one_of("cell", self.cell, tuple(LAYERS))
        checks.one_of("strategy", self.strategy, ("direct", "recursive"))
        checks.one_of("loss", self.loss, ("mae", "mse"))
        checks.one_of("base", self.base, BASES)
        checks.one_of("transform", self.transform, TRANSFORMS)
        for name in ("horizon", "lookback", "hidden_size", "num_layers", "batch_size", "ensemble"):
            checks.positive_int(name, getattr(self, name))
        if self.max_batches < 0 or self.min_batches < 1:
            raise ValueError(f"max_batches must be ≥ 0 and min_batches ≥ 1, got {self.max_batches}, {self.min_batches}")

    @property
    def label(self) -> str:
        """A short description: ``lstm, base ets, log, lookback 36``."""
        parts = [self.cell, f"base {self.base}" + (f" m={self.period}" if self.base in ("seasonal", "ets") else "")]
        if self.transform != "none":
            parts.append(self.transform)
        return ", ".join([*parts, f"lookback {self.lookback}"])


@dataclass
class Member:
    """One network of a forecaster, with the configuration and series transform it was trained with."""

    config: ForecastConfig
    transform: SeriesTransform
    net: ForecastNet

    @property
    def first_origin(self) -> int:
        """The first row a forecast can start at: the change channel's warm-up plus the lookback."""
        return self.transform.warmup + self.config.lookback


@dataclass
class _Data:
    """A series turned into model inputs: step numbers, encoded covariates, and each transform's feature rows."""

    series: Series
    steps: np.ndarray  # (N,) absolute step numbers
    covariates: np.ndarray  # (N, C) encoded
    notes: list[str] = field(default_factory=list)
    _features: dict[int, np.ndarray] = field(default_factory=dict)

    def features(self, transform: SeriesTransform) -> np.ndarray:
        """Input rows ``(N, F)`` for every time step, as ``transform`` makes them (computed once per transform)."""
        key = id(transform)
        if key not in self._features:
            transform.check_values(self.series.targets, self.series.source)
            self._features[key] = transform.features(self.series.targets, self.covariates, self.steps)
        return self._features[key]


class _WindowTask:
    """The :class:`~rnnlab.train.TrainingTask` of forecasting: shuffled windows, loss on the scaled change."""

    def __init__(self, x: Tensor, y: Tensor, x_val: Tensor, y_val: Tensor, config: ForecastConfig) -> None:
        self.x, self.y, self.x_val, self.y_val, self.config = x, y, x_val, y_val, config

    def fingerprint(self) -> str:
        return fingerprint(self.x, self.y, self.x_val, self.y_val)

    def _loss(self, predicted: Tensor, target: Tensor) -> Tensor:
        return (predicted - target).abs().mean() if self.config.loss == "mae" else (predicted - target).square().mean()

    def batches(self, epoch: int, generator: torch.Generator):
        """Shuffled windows in batches: at most ``max_batches``; at least ``min_batches`` (a small series' windows
        are shuffled again and again until there are that many)."""
        size, count = self.config.batch_size, len(self.x)
        rounds = max(1, -(-self.config.min_batches * size // count))  # passes needed for min_batches
        order = torch.cat([torch.randperm(count, generator=generator) for _ in range(rounds)])
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


class Forecaster:
    """Fit a recurrent forecaster on a table, forecast from any history, stream new points.

    Example::

        >>> fc = Forecaster(cell="gru", horizon=48)            # every option you do not give is chosen for you
        >>> fc.fit(frame, target="load")                      # a DataFrame (time column or DatetimeIndex), a Series,
        >>> fc.predict()                                      #   a CSV path or a built-in name; then the next 48
        >>> fc.evaluate()                                     #   steps, indexed by time, and the test table
        >>> Forecaster.load("runs/forecast-.../best.safetensors")

    Keyword options are any :class:`ForecastConfig` field (``cell``, ``hidden_size``, ``layers``, ``lookback``,
    ``horizon``, ``base``, ``transform``, ...), any :class:`~rnnlab.train.TrainConfig` field (``epochs``, ``lr``,
    ``patience``, ``seed``, ...), and ``auto`` (search what you did not set; default True, as on the command line),
    ``budget`` (its seconds), ``ensemble`` (networks). The defaults are the command line's.
    """

    def __init__(
        self,
        config: ForecastConfig | None = None,
        train_config: TrainConfig | None = None,
        spec: SeriesSpec | None = None,
        members: list[Member] | None = None,
        encoder: CovariateEncoder | None = None,
        anchor: str | None = None,
        freq: str | None = None,
        result: FitResult | None = None,
        info: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if config is not None and not isinstance(config, ForecastConfig):
            raise RnnlabError(f"Forecaster takes keyword options (Forecaster(cell='gru', horizon=48)); got {config!r}")
        self.options = _user_options(options)  # what a user set by keyword (empty for the library's own use)
        self.config = config or ForecastConfig(**{k: v for k, v in self.options["model"].items()
                                                  if k in ForecastConfig.__dataclass_fields__})  # fmt: skip
        self.train_config = train_config or TrainConfig(**{**DEFAULT_TRAINING, **self.options["training"]})
        self.spec = spec
        self.members: list[Member] = members or []
        self.encoder = encoder or CovariateEncoder()
        self.anchor, self.freq = anchor, freq  # first time of the training data (the phase origin of the cycles)
        self.result = result  # the first member's training
        self.info: dict[str, Any] = info or {}  # what the task decided (calendar, search), saved with it
        self._stream: dict[str, Any] | None = None
        self._history: tuple[pd.DataFrame, str] | None = None  # the data fit() saw, for predict() without data
        self._plan = None

    def __repr__(self) -> str:
        state = f"{len(self.members)} networks" if self.members else "not trained"
        return f"Forecaster({self.config.cell}, horizon={self.config.horizon}, {state})"

    @property
    def net(self) -> ForecastNet | None:
        """The first member's network (the one the reports inspect)."""
        return self.members[0].net if self.members else None

    @property
    def transform(self) -> SeriesTransform | None:
        """The first member's series transform."""
        return self.members[0].transform if self.members else None

    @property
    def nets(self) -> list[ForecastNet]:
        return [m.net for m in self.members]

    # ----- data ----------------------------------------------------------------------------------------------
    def _data(self, frame: pd.DataFrame, source: str, series: Series | None = None) -> _Data:
        series = series if series is not None else prepare_series(frame, self.spec, source)
        if series.times is not None and self.anchor is not None:
            steps = np.round((series.times - pd.Timestamp(self.anchor)) / pd.Timedelta(self.freq)).astype(np.int64)
        else:
            steps = np.arange(len(series))
        covariates, notes = self.encoder.transform(series.covariate_frame, source)
        return _Data(series, np.asarray(steps), covariates, notes)

    @property
    def _outputs(self) -> int:
        return 1 if self.config.strategy == "recursive" else self.config.horizon

    def _first_origin(self) -> int:
        return max(m.first_origin for m in self.members)

    def _check_config(self, spec: SeriesSpec) -> None:
        config = self.config
        if config.strategy == "recursive" and spec.covariates:
            raise RnnlabError("strategy 'recursive' feeds its own forecasts back; covariates have no future values")
        if config.strategy == "recursive" and config.base in ("ets", "theta"):
            raise RnnlabError(f"base '{config.base}' works with strategy 'direct' only")
        if config.base == "seasonal" and config.period < 1:
            raise RnnlabError("base 'seasonal' needs the seasonal period: pass --period M (e.g. 336 for weekly)")

    # ----- training ------------------------------------------------------------------------------------------
    def fit(self, data: Any, spec: SeriesSpec | None = None, **options: Any) -> Forecaster:
        """Train on ``data``: ``fit(df, target="load")`` (a DataFrame with a time column or a DatetimeIndex, a Series,
        an array, a CSV/Parquet path or a built-in name; optional ``time``, ``covariates``, ``horizon``,
        ``val_size``, ``test_size``, ``run_dir``, ``resume``, ``log``). The calendar, spans and (with ``auto``) the
        configuration are chosen as on the command line; the run folder defaults to ``runs/forecast-<time>``."""
        if isinstance(spec, SeriesSpec):  # the library's own call: columns and spans already decided
            return self._fit_spec(data, spec, **options)
        if spec is not None:
            raise RnnlabError(
                "fit takes the data and keyword options: fit(df, target='load'), or a single series fit(df['load']); "
                f"got a second argument of type {type(spec).__name__}"
            )
        from rnnlab.models.forecaster_api import fit_data

        return fit_data(self, data, **options)

    def _fit_spec(
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
        self.members = []
        series = prepare_series(frame, spec, source)
        for note in series.notes:
            log(f"note: {note}")
        val_start, test_start = split_points(len(series), val_size, test_size)
        if series.times is not None:
            self.anchor, self.freq = str(series.times[0]), str(series.freq)
        self.encoder = CovariateEncoder.fit(series.covariate_frame.iloc[:val_start])
        covariates, _ = self.encoder.transform(series.covariate_frame.iloc[:val_start], source)
        transform = SeriesTransform.fit(
            series.targets[:val_start], covariates, base=config.base, period=config.period, cycles=config.cycles,
            transform=config.transform,
        )  # fmt: skip
        data = self._data(frame, source, series)
        for note in data.notes:
            log(f"note: {note}")
        features = data.features(transform)
        outputs = self._outputs
        first = transform.warmup + config.lookback
        train_origins = window_origins(first, val_start - outputs)
        val_origins = window_origins(max(val_start, first), test_start - outputs)
        if len(train_origins) == 0:
            raise RnnlabError(
                f"{source} has {val_start} training points, too few for lookback {config.lookback} + horizon "
                f"{outputs}"
                + (f" + period {config.period}" if config.base == "seasonal" else "")
                + f" (needs > {first + outputs})"
            )
        if len(val_origins) == 0:
            val_origins = train_origins[-max(1, len(train_origins) // 10) :]  # no validation part: monitor the tail
        tensors = [
            torch.from_numpy(gather_windows(features, train_origins, config.lookback)),
            torch.from_numpy(transform.targets(series.targets, train_origins, outputs)),
            torch.from_numpy(gather_windows(features, val_origins, config.lookback)),
            torch.from_numpy(transform.targets(series.targets, val_origins, outputs)),
        ]
        log(
            f"{len(train_origins)} training windows, {len(val_origins)} validation windows, "
            f"{features.shape[1]} inputs" + (f", {config.ensemble} networks" if config.ensemble > 1 else "")
        )
        run_dir = Path(run_dir)
        self.members, results = [], []
        for member in range(config.ensemble):
            train_config = replace(self.train_config, seed=self.train_config.seed + member)
            torch.manual_seed(train_config.seed)
            net = ForecastNet(
                features.shape[1], cell=config.cell, hidden_size=config.hidden_size, num_layers=config.num_layers,
                dropout=config.dropout, outputs=outputs, targets=series.targets.shape[1],
            )  # fmt: skip
            self.members.append(Member(config, transform, net))
            folder = run_dir if config.ensemble == 1 else run_dir / f"member-{member}"
            if config.ensemble > 1:
                log(f"--- network {member + 1} of {config.ensemble} (seed {train_config.seed}) ---")
            task = _WindowTask(*tensors, config)
            metadata = self.metadata(self.members[-1:])
            again = resume and (config.ensemble == 1 or (folder / "last.safetensors").exists())  # members not begun
            results.append(fit(net, task, train_config, folder, metadata=metadata, resume=again, log=log))
            net.eval()
        self.result = results[0]
        self.info["members"] = [{"best_epoch": r.best_epoch, **r.best, "seconds": r.seconds} for r in results]
        if config.ensemble > 1:
            self.save(run_dir / "best.safetensors")
        self._stream = None
        return self

    @classmethod
    def combine(cls, forecasters: list[Forecaster]) -> Forecaster:
        """One forecaster whose members are those of all ``forecasters`` (same data, horizon and covariates)."""
        first = forecasters[0]
        for other in forecasters[1:]:
            if (other.config.horizon, other.spec, other.anchor, other.freq) != (
                first.config.horizon, first.spec, first.anchor, first.freq,
            ):  # fmt: skip
                raise RnnlabError("only forecasters of the same series and horizon can be combined")
        members = [m for f in forecasters for m in f.members]
        return cls(first.config, first.train_config, first.spec, members, first.encoder, first.anchor, first.freq,
                   first.result, dict(first.info))  # fmt: skip

    # ----- forecasting ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def forecast_at(self, data: _Data, origins: np.ndarray) -> np.ndarray:
        """Forecasts ``(O, horizon, K)`` in data units made at each origin, from the rows before it only: the median
        of the members' forecasts."""
        self._require_fitted()
        if len(origins) and origins.min() < self._first_origin():
            lookback = max(m.config.lookback for m in self.members)
            raise RnnlabError(
                f"a forecast needs {self._first_origin()} points of history (lookback {lookback}"
                + (f" + period {self.transform.period}" if self.transform.base == "seasonal" else "")
                + f"); got {int(origins.min())}"
            )
        forecasts = []
        for member in self.members:
            x = torch.from_numpy(gather_windows(data.features(member.transform), origins, member.config.lookback))
            if not torch.isfinite(x).all():  # x: (O, L, F)
                raise RnnlabError(
                    f"the {member.config.lookback} values before a forecast origin must be finite numbers; "
                    f"{data.series.source} has inf or missing values there"
                )
            if member.config.strategy == "direct":
                z = member.net.eval()(x)[0].numpy()  # (O, H, K)
                forecasts.append(member.transform.inverse_many(z, data.series.targets, origins))
            else:
                forecasts.append(np.stack([self._rollout(member, x[i : i + 1], data, int(o))
                                           for i, o in enumerate(origins)]))  # fmt: skip
        return np.median(np.stack(forecasts), axis=0)

    def _rollout(self, member: Member, window: Tensor, data: _Data, origin: int) -> np.ndarray:
        """Recursive forecast: predict one step, append it, feed its features back with the carried state."""
        transform, net = member.transform, member.net.eval()
        history = transform.encode(data.series.targets[:origin])  # (o, K) encoded, grows by one row per step
        z, state = net(window)  # (1, 1, K)
        for h in range(self.config.horizon):
            base = transform.base_values(history, np.array([len(history)]), 1)[0]  # (1, K)
            history = np.concatenate([history, z[0].numpy() * transform._divisor() + base])
            if h == self.config.horizon - 1:
                break
            # the fed-back row: the change from y_{t-1} (base 'last') or y_{t-m} ('seasonal'), as in training
            reference = {"none": None, "last": history[-2], "seasonal": history[-1 - transform.period]}[transform.base]
            row = transform.feature_row(history[-1], reference, int(data.steps[origin - 1]) + h + 1)  # (F,)
            z, state = net(torch.from_numpy(row)[None, None], state)  # (1, 1, K)
        return transform.decode(history[origin:])

    def predict(self, data: Any = None, horizon: int | None = None, *, n: int | None = None,
                source: str = "data") -> pd.DataFrame:  # fmt: skip
        """The next ``horizon`` steps (default: all the model forecasts) after the end of ``data`` (default: the data
        ``fit`` saw), indexed by their times when the data has a time column (else by step 1, 2, ...).

        ``predict(24)`` and ``predict(n=24)`` (darts' spelling) mean ``predict(horizon=24)``.
        """
        self._require_fitted()
        if isinstance(data, (int, np.integer)) and not isinstance(data, bool):
            data, horizon = None, int(data) if horizon is None else horizon
        horizon = n if horizon is None else horizon
        if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer))
                                    or not 1 <= horizon <= self.config.horizon):  # fmt: skip
            raise RnnlabError(f"horizon must be a whole number from 1 to {self.config.horizon} (this model's), "
                              f"got {horizon!r}")  # fmt: skip
        if data is None:
            if self._history is None:
                raise RnnlabError("give the history to forecast from: predict(df) (a loaded model has none)")
            frame, source = self._history
        else:
            from rnnlab.data.sources import table_of

            frame, _, _, _ = table_of(data, target=self.spec.targets, time=self.spec.time,
                                      covariates=self.spec.covariates, fill=self.spec.fill or "interpolate",
                                      log=lambda _: None)  # fmt: skip
        prepared = self._data(frame, source)
        forecast = self.forecast_at(prepared, np.array([len(prepared.series)]))[0]  # (H, K)
        result = pd.DataFrame(forecast, columns=list(self.spec.targets))
        result.insert(0, "step", np.arange(1, self.config.horizon + 1))
        if prepared.series.times is not None:
            freq = pd.Timedelta(self.freq)
            column = self.spec.time if "," not in self.spec.time else "time"  # date parts become one column
            result.index = pd.DatetimeIndex(prepared.series.times[-1] + freq * result["step"].to_numpy(), name=column)
        else:
            result.index = pd.RangeIndex(len(prepared.series), len(prepared.series) + len(result), name="row")
        return result.iloc[: horizon or self.config.horizon]

    def evaluate(self, data: Any = None) -> pd.DataFrame:
        """This model beside the naive, seasonal naive, ETS and Theta on rolling origins through the test span of
        ``data`` (default: the data ``fit`` saw): a table of MASE, MAE, RMSE and sMAPE, best first."""
        from rnnlab.models.forecaster_api import evaluate_data

        return evaluate_data(self, data)

    # ----- streaming -----------------------------------------------------------------------------------------
    def start_stream(self, frame: pd.DataFrame, *, source: str = "data") -> None:
        """Read a history once from a zero state; afterwards :meth:`update` advances in O(1) per point.

        The state is carried over the whole history, as a stateful RNN does (training read windows of
        ``lookback`` steps from a zero state; an LSTM's forgetting makes the two close, not equal).
        """
        self._require_fitted()
        if self.spec.covariates:
            raise RnnlabError("streaming takes target values only; this forecaster also reads covariates")
        if any(m.config.strategy != "direct" for m in self.members):
            raise RnnlabError("streaming forecasts need strategy 'direct'")
        data = self._data(frame, source)
        streams = []
        for member in self.members:
            transform = member.transform
            rows = torch.from_numpy(data.features(transform)[transform.warmup :])[None]  # (1, N - warmup, F)
            with torch.no_grad():
                _, state = member.net.rnn(rows)  # the fused kernel over the whole history, once
            stepper = Stepper(member.net.rnn)
            stepper.reset(state if isinstance(state, tuple) else (state,))
            encoded = transform.encode(data.series.targets)  # (N, K)
            warmup = max(transform.warmup, 1)
            streams.append({
                "stepper": stepper, "tail": collections.deque(encoded[len(encoded) - warmup :], maxlen=warmup),
                "ets": transform.base_states(encoded),
                "head": (member.net.head.weight.detach().numpy(), member.net.head.bias.detach().numpy()),
            })  # fmt: skip
        self._stream = {"members": streams, "step": int(data.steps[-1])}

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
        for member in self.members:
            member.transform.check_values(points, "the update")
        for raw in points:
            self._stream["step"] += 1
            for member, stream in zip(self.members, self._stream["members"]):
                transform, tail = member.transform, stream["tail"]
                value = transform.encode(raw)
                if transform.base in ("ets", "theta"):
                    reference = np.array([state.one_step() for state in stream["ets"]])
                    for state, v in zip(stream["ets"], value):
                        state.update(float(v))
                else:
                    reference = None if transform.base == "none" else tail[-1] if transform.base == "last" else tail[0]
                stream["stepper"].step(transform.feature_row(value, reference, self._stream["step"]))
                tail.append(value)

    def forecast_stream(self) -> np.ndarray:
        """The next ``horizon`` values ``(H, K)`` from the streamed state: the members' median."""
        if self._stream is None:
            raise RnnlabError("call start_stream(history) before forecast_stream()")
        horizon, forecasts = self.config.horizon, []
        for member, stream in zip(self.members, self._stream["members"]):
            transform, (weight, bias) = member.transform, stream["head"]
            z = (weight @ stream["stepper"].h[-1] + bias).reshape(horizon, -1)  # (H, K)
            if transform.base in ("ets", "theta"):
                base = np.stack([state.forecast(horizon) for state in stream["ets"]], axis=1)  # (H, K)
            else:
                tail = np.array(stream["tail"]).reshape(-1, len(self.spec.targets))  # the last `warmup` values
                base = transform.base_values(tail, np.array([len(tail)]), horizon)[0]
            forecasts.append(transform.decode(z * transform._divisor() + base))
        return np.median(np.stack(forecasts), axis=0)

    # ----- persistence ---------------------------------------------------------------------------------------
    def metadata(self, members: list[Member] | None = None) -> dict[str, Any]:
        described = []
        for member in members if members is not None else self.members:
            net = member.net
            model = {"input_size": net.rnn.input_size, "cell": net.cell, "hidden_size": net.rnn.hidden_size,
                     "num_layers": net.rnn.num_layers, "dropout": net.rnn.dropout, "outputs": net.outputs,
                     "targets": net.targets}  # fmt: skip
            described.append({"model": model, "forecast": asdict(member.config),
                              "transform": member.transform.to_dict()})  # fmt: skip
        return {
            "task": "forecast", "model": described[0]["model"], "members": described, "forecast": asdict(self.config),
            "covariates": self.encoder.to_dict(), "spec": asdict(self.spec), "anchor": self.anchor, "freq": self.freq,
            "info": self.info,
        }  # fmt: skip

    def save(self, path: str | Path) -> None:
        self._require_fitted()
        tensors = {}
        for i, member in enumerate(self.members):
            tensors |= with_prefix("model" if i == 0 else f"member{i}", member.net.state_dict())
        save_checkpoint(path, tensors, self.metadata())

    @classmethod
    def load(cls, path: str | Path) -> Forecaster:
        tensors, meta = load_checkpoint(path, task="forecast")
        try:
            config = _config(meta["forecast"])
            spec = SeriesSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["spec"].items()})
            members = []
            for i, described in enumerate(meta["members"]):
                model = dict(described["model"])
                net = ForecastNet(model.pop("input_size"), **model)
                net.load_state_dict(strip_prefix("model" if i == 0 else f"member{i}", tensors))
                transform = SeriesTransform.from_dict(described["transform"])
                members.append(Member(_config(described["forecast"]), transform, net.eval()))
            encoder = CovariateEncoder.from_dict(meta.get("covariates", {}))
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise RnnlabError(f"{path} does not hold a usable forecaster: {load_error(exc)}") from exc
        return cls(config, None, spec, members, encoder, meta["anchor"], meta["freq"], None, meta.get("info", {}))

    def _require_fitted(self) -> None:
        if not self.members:
            raise RnnlabError("this forecaster is not trained yet: call fit(data, target=...) or Forecaster.load(path)")


def _config(saved: dict) -> ForecastConfig:
    return ForecastConfig(**{**saved, "cycles": tuple(saved["cycles"])})


DEFAULT_TRAINING = {"epochs": 30}  # the command line's: every option's default comes from one place
_ALIASES = {"layers": "num_layers"}
_OPTIONS = ("auto", "budget", "ensemble")


def _user_options(options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Sort keyword options into model fields, training fields and the automatic configuration's; refuse the rest
    with the list of what exists."""
    model, training, auto = {}, {}, {}
    for name, value in options.items():
        key = _ALIASES.get(name, name)
        if key in ForecastConfig.__dataclass_fields__:
            model[key] = tuple(value) if key == "cycles" else value
        elif key in TrainConfig.__dataclass_fields__:
            training[key] = value
        elif key in _OPTIONS:
            auto[key] = value
        else:
            known = sorted({*ForecastConfig.__dataclass_fields__, *TrainConfig.__dataclass_fields__, *_OPTIONS,
                            "layers"})  # fmt: skip
            raise RnnlabError(f"Forecaster has no option {name!r}; options are: {', '.join(known)}")
    if "ensemble" in auto:
        model["ensemble"] = auto["ensemble"]
    return {"model": model, "training": training, "auto": auto}
