r"""Anomaly detectors that learn what normal looks like: a network's prediction error or reconstruction error.

Two scorers, both trained on the normal part of a series (its first ``normal_end`` points: the first 80 % fit the
weights, the last 20 % stop the training and calibrate the threshold):

- **prediction** (Hundman et al. 2018): a recurrent net reads the standardised series
  :math:`z_t = (x_t - \mu)/\sigma` one step at a time, carrying its state, and predicts the next value,

  .. math::
      \hat z_{t+1} = z_t + w^\top h_t + b,\qquad h_t = \mathrm{cell}([z_t - z_{t-1},\ z_{t+1-m} - z_t],\ h_{t-1})

  (changes, not levels, so a drifting series reads as it was learnt; the second input, from one season before the
  value predicted, only when the series has a period ``m``); the
  raw score is :math:`e_t = |z_t - \hat z_t| / \bar e`, the error in units of its mean on the validation part.
  Training reads windows of ``window`` steps from a zero state and scores the steps after a burn-in of a quarter
  window, so the net learns to predict from any state it reaches; scoring carries the state over the whole series.
- **reconstruction** (Malhotra et al. 2016): an LSTM encoder reads a window of ``w`` values, a decoder started from
  its state (and fed nothing) writes the window, less its mean, back in reverse; windows start every ``w/4``
  points, and a point's raw score is its smallest squared reconstruction error over the windows that cover it (a
  window that holds an anomaly reconstructs all its points badly; the smallest error keeps the blame on the
  anomaly's own points), known once the last of them has been read (a delay of at most ``w - 1`` points).

Both are scored by a :class:`DetectorStream`, one point at a time in O(1) (a NumPy :class:`~rnnlab.nn.stream.Stepper`
step, or one window every ``w/4`` points), followed by the EWMA and threshold of :mod:`rnnlab.models.thresholds`.
``score`` runs the same stream over a whole series, so ``rnnlab anomaly watch`` prints exactly ``score``'s flags.
"""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from rnnlab.checkpoint import fingerprint, load_checkpoint, save_checkpoint, strip_prefix, with_prefix
from rnnlab.data.calendar import strongest_cycle
from rnnlab.errors import RnnlabError
from rnnlab.models.thresholds import Flagger, calibrated_floor
from rnnlab.nn import LAYERS, checks
from rnnlab.nn.stream import Stepper
from rnnlab.train import FitResult, TrainConfig, fit

SCORERS = ("reconstruction", "prediction", "combined")
THRESHOLDS = ("dynamic", "quantile")
MIN_NORMAL = 64  # points of normal data, at least


@dataclass(frozen=True)
class DetectorConfig:
    scorer: str = "reconstruction"  # 'reconstruction' (windows), 'prediction' (one-step error), or 'combined' (both)
    cell: str = "lstm"  # the prediction net's cell, a key of rnnlab.nn.LAYERS (reconstruction uses LSTMs)
    hidden_size: int = 32
    num_layers: int = 1
    period: int = 0  # seasonal period; 0 = the strongest cycle of the normal data (or none)
    window: int = 0  # training window (prediction) or reconstructed window; 0 = from the period
    span: float = 3.0  # EWMA span of the scores
    threshold: str = "quantile"  # 'quantile' or 'dynamic' (Telemanom's, never below the quantile)
    quantile: float = 0.999  # of the smoothed scores on the normal validation part
    batch_size: int = 32
    batches: int = 40  # training batches per epoch

    def __post_init__(self) -> None:
        checks.one_of("scorer", self.scorer, SCORERS)
        checks.one_of("cell", self.cell, tuple(LAYERS))
        checks.one_of("threshold", self.threshold, THRESHOLDS)
        checks.positive_int("hidden_size", self.hidden_size)
        checks.positive_int("num_layers", self.num_layers)
        if not 0 < self.quantile < 1:
            raise RnnlabError(f"quantile must lie strictly between 0 and 1, got {self.quantile}")
        if self.period < 0 or self.window < 0 or self.span < 1:
            raise RnnlabError("period and window must be ≥ 0 (0 = automatic) and span ≥ 1")


class PredictionNet(nn.Module):
    """``(B, T, F)`` inputs → recurrent layers → ``(B, T)`` predicted change to the next value."""

    def __init__(self, inputs: int, config: DetectorConfig) -> None:
        super().__init__()
        self.rnn = LAYERS[config.cell](inputs, config.hidden_size, num_layers=config.num_layers, batch_first=True)
        self.head = nn.Linear(config.hidden_size, 1)

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        out, state = self.rnn(x, state)  # (B, T, H)
        return self.head(out).squeeze(-1), state  # (B, T)


class ReconstructionNet(nn.Module):
    """``(B, w)`` window minus its mean → LSTM encoder → its state starts an LSTM decoder fed zeros → ``(B, w)``
    reconstruction (plus the mean)."""

    def __init__(self, config: DetectorConfig) -> None:
        super().__init__()
        size, layers = config.hidden_size, config.num_layers
        self.encoder = LAYERS["lstm"](1, size, num_layers=layers, batch_first=True)
        self.decoder = LAYERS["lstm"](1, size, num_layers=layers, batch_first=True)
        self.head = nn.Linear(size, 1)

    def forward(self, window: Tensor) -> Tensor:
        level = window.mean(dim=1, keepdim=True)  # (B, 1): the shape is learnt, not the level
        _, state = self.encoder((window - level).unsqueeze(-1))  # state: (L, B, H) each
        out, _ = self.decoder(torch.zeros_like(window).unsqueeze(-1), state)  # (B, w, H)
        return self.head(out).squeeze(-1).flip(1) + level  # written back to front, returned in time order (B, w)


def prediction_inputs(z: np.ndarray, period: int) -> np.ndarray:
    r"""Rows ``[z_t - z_{t-1},\ z_{t+1-m} - z_t]`` ``(N, 2)`` (indices clipped at 0), or the first column alone
    ``(N, 1)`` without a period: changes, not levels, so a series that drifts away from its normal level is read
    as it was learnt."""
    step = np.diff(z, prepend=z[:1])  # z_t - z_{t-1}
    if period <= 1:
        return step[:, None].astype(np.float32)
    earlier = z[np.maximum(np.arange(len(z)) + 1 - period, 0)] - z
    return np.stack([step, earlier], axis=1).astype(np.float32)


class _PredictionTask:
    """Windows of the fit part from a zero state; loss on the steps after the burn-in; validation carries the state."""

    def __init__(self, inputs: np.ndarray, z: np.ndarray, fit_end: int, normal_end: int, config: DetectorConfig,
                 window: int) -> None:  # fmt: skip
        self.inputs = torch.from_numpy(inputs)  # (N, F)
        self.change = torch.from_numpy((z[1:] - z[:-1]).astype(np.float32))  # (N-1,) z_{t+1} - z_t
        self.fit_end, self.normal_end, self.config = fit_end, normal_end, config
        self.window = min(window, fit_end - 2)
        self.burn = self.window // 4

    def fingerprint(self) -> str:
        return fingerprint(self.inputs[: self.normal_end])

    def batches(self, epoch: int, generator: torch.Generator):
        last = self.fit_end - 1 - self.window  # a window's targets stay inside the fit part
        size = (self.config.batches, self.config.batch_size)
        return list(torch.randint(0, last + 1, size, generator=generator))

    def loss(self, model: nn.Module, starts: Tensor, state: Any) -> tuple[Tensor, None]:
        index = starts[:, None] + torch.arange(self.window)  # (B, T)
        predicted, _ = model(self.inputs[index])
        return (predicted - self.change[index])[:, self.burn :].square().mean(), None

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        predicted, _ = model(self.inputs[None, : self.normal_end - 1])  # (1, N0 - 1), state carried throughout
        error = predicted[0, self.fit_end - 1 :] - self.change[self.fit_end - 1 : self.normal_end - 1]
        return {"val_loss": error.square().mean().item()}

    def batch_size(self, starts: Tensor) -> int:
        return len(starts)


class _ReconstructionTask:
    def __init__(self, z: np.ndarray, fit_end: int, normal_end: int, config: DetectorConfig, window: int) -> None:
        self.z, self.window, self.config = torch.from_numpy(z.astype(np.float32)), window, config
        self.fit_end, self.normal_end = fit_end, normal_end
        starts = np.arange(fit_end, normal_end - window + 1, max(1, window // 4))
        if len(starts) == 0:
            starts = np.array([max(0, normal_end - window)])
        self.val = self.z[torch.from_numpy(starts)[:, None] + torch.arange(window)]  # (V, w)

    def fingerprint(self) -> str:
        return fingerprint(self.z[: self.normal_end])

    def batches(self, epoch: int, generator: torch.Generator):
        size = (self.config.batches, self.config.batch_size)
        return list(torch.randint(0, self.fit_end - self.window + 1, size, generator=generator))

    def loss(self, model: nn.Module, starts: Tensor, state: Any) -> tuple[Tensor, None]:
        windows = self.z[starts[:, None] + torch.arange(self.window)]  # (B, w)
        return (model(windows) - windows).square().mean(), None

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        return {"val_loss": (model(self.val) - self.val).square().mean().item()}

    def batch_size(self, starts: Tensor) -> int:
        return len(starts)


class ScoredPoint(NamedTuple):
    index: int  # position in the stream, from 0
    value: float
    score: float  # raw score: the error in units of its mean on normal data (combined: the scorers' mean)
    smoothed: float  # EWMA of the raw scores
    threshold: float
    flag: bool  # smoothed > threshold


class _PredictionErrors:
    """One-step prediction errors, one NumPy step per point: ``push(z)`` → ``[(index, |z_t - ẑ_t|)]``."""

    def __init__(self, net: PredictionNet, period: int) -> None:
        self.stepper = Stepper(net.rnn)
        self.weight = net.head.weight.detach().numpy()[0].astype(np.float32)  # (H,)
        self.bias = float(net.head.bias.detach().numpy()[0])
        self.period, self.count, self.expected, self.previous = period, 0, None, None
        self.season = collections.deque(maxlen=max(period, 1))  # z_{t+1-m} .. z_t

    def push(self, z: float) -> list[tuple[int, float]]:
        error = 0.0 if self.expected is None else abs(z - self.expected)
        self.season.append(z)
        step = 0.0 if self.previous is None else z - self.previous
        self.previous = z
        row = [step, self.season[0] - z] if self.period > 1 else [step]  # as prediction_inputs makes them
        h = self.stepper.step(np.asarray(row, dtype=np.float32))
        self.expected = z + float(self.weight @ h) + self.bias  # ẑ_{t+1}
        self.count += 1
        return [(self.count - 1, error)]

    def flush(self) -> list[tuple[int, float]]:
        return []


class _ReconstructionErrors:
    """The smallest squared reconstruction error of a point over the windows covering it, final once the last one is
    read.

    A window of ``w`` points is reconstructed every ``hop = w/4`` points; ``push(z)`` → the points now final."""

    def __init__(self, net: ReconstructionNet, window: int) -> None:
        self.net, self.window, self.hop = net, window, max(1, window // 4)
        self.values = collections.deque(maxlen=window)  # the last window, standardised
        self.pending = collections.deque()  # [smallest error, windows] of the points not yet final, oldest first
        self.count = 0

    def push(self, z: float) -> list[tuple[int, float]]:
        self.values.append(z)
        self.pending.append([0.0, 0])
        self.count += 1
        if self.count >= self.window and self.count % self.hop == 0:
            self._add_window()
            return self._final(len(self.pending) - (self.window - self.hop))  # no later window covers these
        return []

    def _add_window(self) -> None:
        z = torch.tensor(list(self.values), dtype=torch.float32)[None]  # (1, w)
        with torch.no_grad():
            errors = (self.net(z) - z).square()[0].numpy()  # (w,)
        pending = list(self.pending)[-self.window :]  # the window's points not yet final (all but at the end)
        for entry, error in zip(pending, errors[self.window - len(pending) :]):
            entry[0] = min(entry[0], float(error)) if entry[1] else float(error)  # the smallest so far
            entry[1] += 1

    def _final(self, count: int) -> list[tuple[int, float]]:
        done = []
        for _ in range(max(0, count)):
            smallest, windows = self.pending.popleft()
            done.append((self.count - len(self.pending) - 1, smallest if windows else 0.0))
        return done

    def flush(self) -> list[tuple[int, float]]:
        """At the end of the data: one more window ending at the last point, then every point is final."""
        if self.count >= self.window and self.count % self.hop:
            self._add_window()
        return self._final(len(self.pending))


class DetectorStream:
    """Feed values one at a time with :meth:`push`; each call returns the points whose scores are now final
    (at once for the prediction scorer; up to ``window - 1`` points later with reconstruction)."""

    def __init__(self, detector: AnomalyDetector) -> None:
        state = detector.state
        self.mean, self.sd = state["mean"], state["sd"]
        self.scorers = {}
        for name in detector.scorers:
            net = detector.nets[name]
            self.scorers[name] = (
                _PredictionErrors(net, detector.period) if name == "prediction"
                else _ReconstructionErrors(net, detector.window)
            )  # fmt: skip
        self.scales = [state["scales"].get(name, 1.0) for name in self.scorers]
        self.flagger = Flagger(span=detector.config.span, floor=state["floor"],
                               dynamic=detector.config.threshold == "dynamic")  # fmt: skip
        self.values = collections.deque()  # raw values not yet emitted
        self.waiting: list[dict[int, float]] = [{} for _ in self.scorers]  # index → error, per scorer
        self.emitted = 0

    def push(self, value: float) -> list[ScoredPoint]:
        value = float(value)
        self.values.append(value)
        z = (value - self.mean) / self.sd
        for waiting, scorer in zip(self.waiting, self.scorers.values()):
            waiting.update(scorer.push(z))
        return self._ready()

    def flush(self) -> list[ScoredPoint]:
        """At the end of the data: the points still waiting for later windows are scored with what there is."""
        for waiting, scorer in zip(self.waiting, self.scorers.values()):
            waiting.update(scorer.flush())
        return self._ready()

    def _ready(self) -> list[ScoredPoint]:
        done = []
        while all(self.emitted in waiting for waiting in self.waiting):  # every scorer has scored the point
            index = self.emitted
            errors = [waiting.pop(index) / scale for waiting, scale in zip(self.waiting, self.scales)]
            score = sum(errors) / len(errors)
            smoothed, threshold = self.flagger.push(score)
            done.append(ScoredPoint(index, self.values.popleft(), score, smoothed, threshold, smoothed > threshold))
            self.emitted += 1
        return done


class AnomalyDetector:
    """Learn normal behaviour from the first ``normal_end`` points of a series; score and flag every point.

    >>> detector = AnomalyDetector().fit(values, normal_end=2000, run_dir="runs/anomaly")
    >>> table = detector.score(values)  # columns value, score, smoothed, threshold, flag
    """

    def __init__(self, config: DetectorConfig | None = None, train_config: TrainConfig | None = None,
                 **options: Any) -> None:  # fmt: skip
        known = {f.name for f in fields(DetectorConfig)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise RnnlabError(f"unknown option {', '.join(unknown)}; options: {', '.join(sorted(known))}")
        self.config = replace(config or DetectorConfig(), **options)
        self.train_config = train_config or TrainConfig(epochs=60, patience=8, lr_patience=3, progress=False)
        self.nets: dict[str, nn.Module] = {}
        self.state: dict[str, Any] = {}
        self.results: dict[str, FitResult] = {}

    def __repr__(self) -> str:
        return f"AnomalyDetector({self.config.scorer}, {'trained' if self.nets else 'not trained'})"

    @property
    def scorers(self) -> tuple[str, ...]:
        return ("prediction", "reconstruction") if self.config.scorer == "combined" else (self.config.scorer,)

    @property
    def period(self) -> int:
        return int(self.state.get("period", 0))

    @property
    def window(self) -> int:
        return int(self.state.get("window", 0))

    def fit(self, values: Any, *, normal_end: int, run_dir: str | Path, resume: bool = False, log=print,
            source: str = "the series") -> AnomalyDetector:  # fmt: skip
        """Train on ``values[:normal_end]`` (assumed normal); ``run_dir`` gets each net's checkpoints and, at the
        end, ``best.safetensors`` with the calibrated threshold."""
        values = _values(values, source)
        if normal_end < MIN_NORMAL or normal_end > len(values):
            raise RnnlabError(
                f"{source}: {normal_end} points of normal data to learn from; need at least {MIN_NORMAL} "
                f"(and no more than the series' {len(values)})"
            )
        config, normal = self.config, values[:normal_end]
        fit_end = int(normal_end * 0.8)
        mean, sd = float(normal[:fit_end].mean()), float(normal[:fit_end].std())
        if sd == 0:
            raise RnnlabError(f"{source}: the normal part is constant; there is no normal variation to learn")
        period = config.period or round(strongest_cycle(normal[:fit_end], max_period=fit_end // 3) or 0)
        window = config.window or (int(np.clip(period, 16, 64)) if period > 1 else 32)
        window = max(4, min(window, fit_end // 2) // 4 * 4)  # a multiple of the hop, two windows in the fit part
        self.state = {"mean": mean, "sd": sd, "period": period, "window": window, "normal_end": normal_end,
                      "scales": {}, "floor": None}  # fmt: skip
        z = (values[:normal_end] - mean) / sd
        log(f"{normal_end} normal points ({fit_end} fit, {normal_end - fit_end} validate), period "
            f"{period or 'none'}, window {window}")  # fmt: skip
        run_dir = Path(run_dir)
        for name in self.scorers:
            torch.manual_seed(self.train_config.seed)
            if name == "prediction":
                net = PredictionNet(2 if period > 1 else 1, config)
                task = _PredictionTask(prediction_inputs(z, period), z, fit_end, normal_end, config,
                                       max(window * 4, 64))  # fmt: skip
            else:
                net = ReconstructionNet(config)
                task = _ReconstructionTask(z, fit_end, normal_end, config, window)
            log(f"--- {name} scorer ---")
            folder = run_dir / name
            again = resume and (folder / "last.safetensors").exists()
            self.results[name] = fit(net, task, self.train_config, folder, metadata=self.metadata(), resume=again,
                                     log=log)  # fmt: skip
            self.nets[name] = net.eval()
        self._calibrate(normal, fit_end)
        self.save(run_dir / "best.safetensors")
        return self

    def _calibrate(self, normal: np.ndarray, fit_end: int) -> None:
        """Each scorer's error scale, and the threshold, from the validation part of the normal data, scored as a
        stream scores it."""
        self.state |= {"scales": {name: 1.0 for name in self.scorers}, "floor": np.inf}
        errors = []  # per scorer (N0,)
        for scorer in DetectorStream(self).scorers.values():
            pairs = [p for value in normal for p in scorer.push((value - self.state["mean"]) / self.state["sd"])]
            errors.append(np.array([error for _, error in pairs + scorer.flush()]))
        self.state["scales"] = {name: float(e[fit_end:].mean()) or 1.0 for name, e in zip(self.scorers, errors)}
        raw = sum(e / self.state["scales"][name] for name, e in zip(self.scorers, errors)) / len(errors)  # mean 1
        config = self.config
        self.state["floor"] = calibrated_floor(raw, fit_end=fit_end, span=config.span, quantile=config.quantile)

    def only(self, scorer: str, normal: np.ndarray) -> AnomalyDetector:
        """This detector's ``scorer`` net alone, calibrated again on the ``normal`` values it was trained on."""
        if scorer not in self.nets:
            raise RnnlabError(f"this detector has no {scorer} net; it has: {', '.join(self.nets)}")
        part = AnomalyDetector(replace(self.config, scorer=scorer), self.train_config)
        part.nets, part.state = {scorer: self.nets[scorer]}, dict(self.state)
        part._calibrate(np.asarray(normal, dtype=np.float64), int(len(normal) * 0.8))
        return part

    def stream(self) -> DetectorStream:
        """A fresh stream: ``push(value)`` → the points whose scores became final; ``flush()`` at the end."""
        self._require_fitted()
        return DetectorStream(self)

    def score(self, values: Any) -> pd.DataFrame:
        """Scores and flags for every point of ``values`` ``(N,)``: the stream run over them (same flags as watch)."""
        self._require_fitted()
        stream = DetectorStream(self)
        points = [p for v in _values(values, "the series") for p in stream.push(v)] + stream.flush()
        return pd.DataFrame(points, columns=ScoredPoint._fields).set_index("index")

    # ----- persistence -----------------------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        return {"task": "anomaly", "detector": asdict(self.config), "state": dict(self.state)}

    def save(self, path: str | Path) -> None:
        self._require_fitted()
        tensors = {}
        for name, net in self.nets.items():
            tensors |= with_prefix(name, net.state_dict())
        save_checkpoint(path, tensors, self.metadata())

    @classmethod
    def load(cls, path: str | Path) -> AnomalyDetector:
        tensors, metadata = load_checkpoint(path, task="anomaly")
        detector = cls(DetectorConfig(**metadata["detector"]))
        detector.state = metadata["state"]
        for name in detector.scorers:
            net = PredictionNet(2 if detector.period > 1 else 1, detector.config) if name == "prediction" else (
                ReconstructionNet(detector.config))  # fmt: skip
            net.load_state_dict(strip_prefix(name, tensors))
            detector.nets[name] = net.eval()
        return detector

    def _require_fitted(self) -> None:
        if not self.nets or self.state.get("floor") is None:
            raise RnnlabError("this detector is not trained yet: call fit() first, or AnomalyDetector.load(path)")


def _values(values: Any, source: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        raise RnnlabError(f"{source}: value {array[bad[0]]} at position {bad[0]}; anomaly scoring takes finite numbers")
    return array
