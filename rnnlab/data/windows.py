"""From a series to model inputs and targets: what the network sees, scaled on the training part only.

Values may first be log-transformed (``transform="log"``, for positive series whose seasonal swings grow with their
level: the multiplicative seasonality of airline passengers or retail sales becomes additive). Then the network
forecasts a *change from a base* rather than raw values (``base``):

- ``"none"``: the value itself, standardised: ``z = (y_{o+h} - μ) / σ``;
- ``"last"``: the change since the last observed value, ``z = (y_{o+h} - y_{o-1}) / s`` (first differencing). A
  model that learned "+1 per step" on 0…49 extrapolates to 50 instead of saturating at the largest value it saw;
- ``"seasonal"``: the residual of the seasonal-naive forecast, ``z = (y_{o+h} - y_{o-m+(h mod m)}) / s``. A network
  that predicts zero is the seasonal naive; it only has to learn what the last season got wrong, as the M4-winning
  ES-RNN hybrid did;
- ``"ets"``: the residual of the ETS(A,Ad,A) forecast made at the origin, ``z = (y_{o+h} - ŷ^{ETS}_{o+h|o}) / s``,
  with ETS's parameters fitted on the training part (:class:`~rnnlab.baselines.ETS`). A network that predicts zero
  *is* ETS; it learns the correction;
- ``"theta"``: the same with the Theta method (:class:`~rnnlab.baselines.Theta`: seasonal adjustment when the M4 test
  finds seasonality, SES plus half the least-squares drift), the M3 competition's winner.

Inputs per time step ``t`` of a window: the same change channel (``y_t`` standardised, ``y_t - y_{t-1}``,
``y_t - y_{t-m}`` or ETS's one-step error ``y_t - ŷ_{t|t-1}``, scaled), the standardised level of ``y_t`` (for every
base but "none"), the covariates (encoded by :mod:`rnnlab.data.covariates`), and ``sin``/``cos`` of the phase of
``t`` in each cycle (time of day, day of week, ...).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, fields

import numpy as np

from rnnlab.baselines import ETS, ETSState, Theta, ThetaState
from rnnlab.errors import RnnlabError

BASES = ("none", "last", "seasonal", "ets", "theta")
TRANSFORMS = ("none", "log")


def _scale(values: np.ndarray, *, centred: bool) -> np.ndarray:
    """Per-column standard deviation (or root mean square), never 0."""
    values = values[np.isfinite(values).all(axis=1)]
    if len(values) == 0:
        return np.ones(values.shape[1])
    spread = values.std(axis=0) if centred else np.sqrt((values**2).mean(axis=0))
    return np.where(spread > 1e-12, spread, 1.0)


@dataclass
class SeriesTransform:
    """Series ⇄ model space. Fit on the training part; JSON round-trip with :meth:`to_dict` / :meth:`from_dict`."""

    base: str  # 'none', 'last', 'seasonal' or 'ets'
    period: int  # m of the 'seasonal' and 'ets' bases (0 otherwise, or for an ETS without seasonality)
    cycles: tuple[float, ...]  # periods (in steps) of the calendar sin/cos features
    level_mean: list[float]  # (K,) mean of each (transformed) target on the training part
    level_scale: list[float]  # (K,) standard deviation of each target
    change_scale: list[float]  # (K,) scale of the change channel (σ, RMS of differences or residuals)
    covariate_mean: list[float]  # (C,)
    covariate_scale: list[float]  # (C,)
    transform: str = "none"  # 'none' or 'log'
    ets: list[dict] = field(default_factory=list)  # per target, the fitted ETS (base 'ets') or Theta ('theta')

    @classmethod
    def fit(
        cls,
        targets: np.ndarray,
        covariates: np.ndarray,
        *,
        base: str,
        period: int,
        cycles: tuple[float, ...],
        transform: str = "none",
    ) -> SeriesTransform:
        """Scales from the training part ``targets`` ``(N, K)`` and ``covariates`` ``(N, C)``."""
        if base not in BASES:
            raise RnnlabError(f"base must be one of {', '.join(BASES)}; got {base!r}")
        if transform not in TRANSFORMS:
            raise RnnlabError(f"transform must be one of {', '.join(TRANSFORMS)}; got {transform!r}")
        if base == "seasonal" and period < 1:
            raise RnnlabError("base 'seasonal' needs the seasonal period: pass --period M (e.g. 336 for weekly)")
        if base == "seasonal" and len(targets) <= 2 * period:
            raise RnnlabError(f"base 'seasonal' with period {period} needs more than {2 * period} training points")
        if transform == "log" and not (np.asarray(targets) > 0).all():
            raise RnnlabError("transform 'log' needs positive values; the training part has values ≤ 0")
        y = _encode(np.asarray(targets, dtype=np.float64), transform)
        level_scale = _scale(y, centred=True)
        ets: list[dict] = []
        if base == "last":
            change_scale = _scale(np.diff(y, axis=0), centred=False)
        elif base == "seasonal":
            change_scale = _scale(y[period:] - y[:-period], centred=False)
        elif base in ("ets", "theta"):
            if base == "ets":
                models = [ETS(period or None).fit(y[:, k]) for k in range(y.shape[1])]
            else:  # on log values the seasonal adjustment is additive
                models = [Theta(period).fit(y[:, k], multiplicative=transform == "none" and bool(y[:, k].min() > 0))
                          for k in range(y.shape[1])]  # fmt: skip
            ets = [m.to_dict() for m in models]
            errors = np.stack([y[:, k] - _one_step(m, y[:, k]) for k, m in enumerate(models)], axis=1)
            change_scale = _scale(errors, centred=False)
        else:
            change_scale = level_scale
        return cls(
            base=base,
            period=int(period) if base in ("seasonal", "ets", "theta") else 0,
            cycles=tuple(float(c) for c in cycles),
            level_mean=y.mean(axis=0).tolist(),
            level_scale=level_scale.tolist(),
            change_scale=change_scale.tolist(),
            covariate_mean=covariates.mean(axis=0).tolist() if covariates.shape[1] else [],
            covariate_scale=_scale(covariates, centred=True).tolist() if covariates.shape[1] else [],
            transform=transform,
            ets=ets,
        )

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> SeriesTransform:
        return cls(**{**data, "cycles": tuple(data["cycles"])})

    @functools.cached_property
    def ets_models(self) -> list[ETS | Theta]:
        """The fitted statistical base of each target ('ets' or 'theta'; empty for the other bases)."""
        return [(ETS if self.base == "ets" else Theta).from_dict(d) for d in self.ets]

    def base_states(self, encoded: np.ndarray) -> list[ETSState | ThetaState]:
        """For streaming: each target's statistical base after the encoded history ``(N, K)``."""
        state = ETSState if self.base == "ets" else ThetaState
        return [state(model, encoded[:, k]) for k, model in enumerate(self.ets_models)]

    @property
    def warmup(self) -> int:
        """Steps of history before the first row that has features (the change channel looks back)."""
        return {"none": 0, "last": 1, "seasonal": self.period, "ets": 0, "theta": 2}[self.base]

    def input_size(self, n_targets: int, n_covariates: int) -> int:
        levels = n_targets if self.base != "none" else 0
        return n_targets + levels + n_covariates + 2 * len(self.cycles)

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Values in model space before scaling: ``log y`` for transform 'log', else ``y``."""
        return _encode(np.asarray(values, dtype=np.float64), self.transform)

    def decode(self, values: np.ndarray) -> np.ndarray:
        return np.exp(values) if self.transform == "log" else values

    def check_values(self, values: np.ndarray, source: str) -> None:
        """Values the transform can take: positive ones for 'log'."""
        if self.transform == "log" and not (np.asarray(values) > 0).all():
            bad = np.asarray(values)[~(np.asarray(values) > 0)][0]
            raise RnnlabError(f"{source} has a value {bad:g} ≤ 0; this model was trained on log values, which need > 0")

    def features(self, targets: np.ndarray, covariates: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Input rows ``(N, F)`` float32 for every time step; rows before :attr:`warmup` are NaN.

        Args:
            targets: ``(N, K)`` values; covariates: ``(N, C)`` (already encoded); steps: ``(N,)`` absolute step
                numbers (for the phase of each cycle).
        """
        y = self.encode(targets)
        mean, level, change = (np.asarray(v) for v in (self.level_mean, self.level_scale, self.change_scale))
        channel = np.full_like(y, np.nan)
        if self.base == "last":
            channel[1:] = (y[1:] - y[:-1]) / change
        elif self.base == "seasonal":
            channel[self.period :] = (y[self.period :] - y[: -self.period]) / change
        elif self.base in ("ets", "theta"):
            for k, model in enumerate(self.ets_models):
                channel[:, k] = (y[:, k] - _one_step(model, y[:, k])) / change[k]
        else:
            channel = (y - mean) / level
        parts = [channel]
        if self.base != "none":
            parts.append((y - mean) / level)
        if covariates.shape[1]:
            parts.append((covariates - np.asarray(self.covariate_mean)) / np.asarray(self.covariate_scale))
        for cycle in self.cycles:
            phase = 2 * np.pi * (np.asarray(steps) % cycle) / cycle
            parts += [np.sin(phase)[:, None], np.cos(phase)[:, None]]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def feature_row(self, value: np.ndarray, reference: np.ndarray | None, step: int) -> np.ndarray:
        """The input row ``(F,)`` of one new encoded value ``(K,)`` without covariates, for streaming.

        ``reference`` (encoded, ``(K,)``) is ``y_{t-1}`` (base 'last'), ``y_{t-m}`` ('seasonal') or ETS's one-step
        forecast of ``y_t`` ('ets'); the row equals the last row of :meth:`features` (``tests`` check it) at a
        fraction of its cost.
        """
        mean, level_scale, change_scale, row = self._row_constants
        k = len(mean)
        level = (value - mean) / level_scale
        row[:k] = level if self.base == "none" else (value - reference) / change_scale
        if self.base != "none":
            row[k : 2 * k] = level
        at = len(row) - 2 * len(self.cycles)
        for cycle in self.cycles:
            phase = 2 * math.pi * (step % cycle) / cycle
            row[at], row[at + 1] = math.sin(phase), math.cos(phase)
            at += 2
        return row.copy()

    @functools.cached_property
    def _row_constants(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        k = len(self.level_mean)
        width = k * (1 if self.base == "none" else 2) + 2 * len(self.cycles)
        arrays = (np.asarray(v) for v in (self.level_mean, self.level_scale, self.change_scale))
        return (*arrays, np.zeros(width, dtype=np.float32))

    def targets(self, targets: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """Model-space targets ``(len(origins), horizon, K)`` for forecasts made at each origin (first step o)."""
        y = self.encode(targets)
        future = origins[:, None] + np.arange(horizon)[None, :]  # (O, H)
        return ((y[future] - self.base_values(y, origins, horizon)) / self._divisor()).astype(np.float32)

    def inverse(self, z: np.ndarray, history: np.ndarray, origin: int) -> np.ndarray:
        """Values ``(H, K)`` from model-space ``z`` ``(H, K)``; ``history`` holds the values before ``origin``."""
        base = self.base_values(self.encode(history), np.array([origin]), len(z))[0]
        return self.decode(z * self._divisor() + base)

    def inverse_many(self, z: np.ndarray, targets: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """:meth:`inverse` at many origins ``(O,)`` at once: ``z`` ``(O, H, K)``, ``targets`` the whole series."""
        base = self.base_values(self.encode(targets), origins, z.shape[1])
        return self.decode(z * self._divisor() + base)

    def _divisor(self) -> np.ndarray:
        return np.asarray(self.change_scale if self.base != "none" else self.level_scale)

    def base_values(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """What the change is measured from, ``(O, H, K)``, from encoded values ``y`` before each origin."""
        steps = np.arange(horizon)
        if self.base == "last":
            return np.repeat(y[origins - 1][:, None, :], horizon, axis=1)
        if self.base == "seasonal":  # the last season, repeated as often as the horizon needs
            return y[origins[:, None] - self.period + steps[None, :] % self.period]
        if self.base in ("ets", "theta"):
            return np.stack([m.forecasts_at(y[:, k], origins, horizon) for k, m in enumerate(self.ets_models)], -1)
        return np.broadcast_to(np.asarray(self.level_mean), (len(origins), horizon, y.shape[1]))


def _encode(values: np.ndarray, transform: str) -> np.ndarray:
    if transform == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(values)
    return values


def _one_step(model: ETS | Theta, y: np.ndarray) -> np.ndarray:
    """The statistical base's one-step forecasts ``ŷ_{t|t-1}`` ``(N,)`` of every value of ``y`` ``(N,)``."""
    if isinstance(model, Theta):
        return model.one_step(y)
    level, trend, season = model.states(y)
    phi = (model.params or {}).get("damping_trend", 1.0)
    return level[:-1] + phi * trend[:-1] + season[: len(y)]


def window_origins(first: int, last: int, stride: int = 1) -> np.ndarray:
    """Forecast origins ``first, first + stride, ... ≤ last`` (the first forecast step of each window)."""
    if last < first:
        return np.zeros(0, dtype=np.int64)
    return np.arange(first, last + 1, stride, dtype=np.int64)


def gather_windows(features: np.ndarray, origins: np.ndarray, lookback: int) -> np.ndarray:
    """Input windows ``(O, lookback, F)``: the rows ``o - lookback … o - 1`` for each origin ``o``."""
    index = origins[:, None] + np.arange(-lookback, 0)[None, :]  # (O, L)
    return features[index]
