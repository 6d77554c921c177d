"""From a series to model inputs and targets: what the network sees, scaled on the training part only.

The network forecasts a *change from a base* rather than raw values (``base``):

- ``"none"``: the value itself, standardised: ``z = (y_{o+h} - μ) / σ``;
- ``"last"``: the change since the last observed value, ``z = (y_{o+h} - y_{o-1}) / s`` (first differencing). A
  model that learned "+1 per step" on 0…49 extrapolates to 50 instead of saturating at the largest value it saw;
- ``"seasonal"``: the residual of the seasonal-naive forecast, ``z = (y_{o+h} - y_{o+h-m}) / s`` (needs h < m). A
  network that predicts zero is the seasonal naive; it only has to learn what the last season got wrong, as the
  M4-winning ES-RNN hybrid did.

Inputs per time step ``t`` of a window: the same change channel (``y_t`` standardised, ``y_t - y_{t-1}`` or
``y_t - y_{t-m}``, scaled), the standardised level of ``y_t`` (for "last" and "seasonal"), the standardised
covariates, and ``sin``/``cos`` of the phase of ``t`` in each cycle (time of day, day of week, ...).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields

import numpy as np

from rnnlab.errors import RnnlabError

BASES = ("none", "last", "seasonal")


def _scale(values: np.ndarray, *, centred: bool) -> np.ndarray:
    """Per-column standard deviation (or root mean square), never 0."""
    values = values[np.isfinite(values).all(axis=1)]
    spread = values.std(axis=0) if centred else np.sqrt((values**2).mean(axis=0))
    return np.where(spread > 1e-12, spread, 1.0)


@dataclass
class SeriesTransform:
    """Series ⇄ model space. Fit on the training part; JSON round-trip with :meth:`to_dict` / :meth:`from_dict`."""

    base: str  # 'none', 'last' or 'seasonal'
    period: int  # m of the 'seasonal' base (0 otherwise)
    cycles: tuple[int, ...]  # periods (in steps) of the calendar sin/cos features
    level_mean: list[float]  # (K,) mean of each target on the training part
    level_scale: list[float]  # (K,) standard deviation of each target
    change_scale: list[float]  # (K,) scale of the change channel (σ, RMS of differences, or of seasonal residuals)
    covariate_mean: list[float]  # (C,)
    covariate_scale: list[float]  # (C,)

    @classmethod
    def fit(
        cls, targets: np.ndarray, covariates: np.ndarray, *, base: str, period: int, cycles: tuple[int, ...]
    ) -> SeriesTransform:
        """Scales from the training part ``targets`` ``(N, K)`` and ``covariates`` ``(N, C)``."""
        if base not in BASES:
            raise RnnlabError(f"base must be one of {', '.join(BASES)}; got {base!r}")
        if base == "seasonal" and period < 1:
            raise RnnlabError("base 'seasonal' needs the seasonal period: pass --period M (e.g. 336 for weekly)")
        if base == "seasonal" and len(targets) <= 2 * period:
            raise RnnlabError(f"base 'seasonal' with period {period} needs more than {2 * period} training points")
        level_scale = _scale(targets, centred=True)
        if base == "last":
            change_scale = _scale(np.diff(targets, axis=0), centred=False)
        elif base == "seasonal":
            change_scale = _scale(targets[period:] - targets[:-period], centred=False)
        else:
            change_scale = level_scale
        return cls(
            base=base,
            period=int(period) if base == "seasonal" else 0,
            cycles=tuple(int(c) for c in cycles),
            level_mean=targets.mean(axis=0).tolist(),
            level_scale=level_scale.tolist(),
            change_scale=change_scale.tolist(),
            covariate_mean=covariates.mean(axis=0).tolist() if covariates.shape[1] else [],
            covariate_scale=_scale(covariates, centred=True).tolist() if covariates.shape[1] else [],
        )

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> SeriesTransform:
        return cls(**{**data, "cycles": tuple(data["cycles"])})

    @property
    def warmup(self) -> int:
        """Steps of history before the first row that has features (the change channel looks back)."""
        return {"none": 0, "last": 1, "seasonal": self.period}[self.base]

    def input_size(self, n_targets: int, n_covariates: int) -> int:
        levels = n_targets if self.base != "none" else 0
        return n_targets + levels + n_covariates + 2 * len(self.cycles)

    def features(self, targets: np.ndarray, covariates: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Input rows ``(N, F)`` float32 for every time step; rows before :attr:`warmup` are NaN.

        Args:
            targets: ``(N, K)`` values; covariates: ``(N, C)``; steps: ``(N,)`` absolute step numbers (for the
                phase of each cycle).
        """
        y = np.asarray(targets, dtype=np.float64)
        mean, level, change = (np.asarray(v) for v in (self.level_mean, self.level_scale, self.change_scale))
        if self.base == "last":
            channel = np.full_like(y, np.nan)
            channel[1:] = (y[1:] - y[:-1]) / change
        elif self.base == "seasonal":
            channel = np.full_like(y, np.nan)
            channel[self.period :] = (y[self.period :] - y[: -self.period]) / change
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
        """The input row ``(F,)`` of one new value ``(K,)`` without covariates, for streaming.

        ``reference`` is ``y_{t-1}`` (base 'last') or ``y_{t-m}`` (base 'seasonal'), ``(K,)``; it equals the last
        row of :meth:`features` (``tests/test_forecaster.py`` checks it) at a fraction of its cost.
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
        y = np.asarray(targets, dtype=np.float64)
        future = origins[:, None] + np.arange(horizon)[None, :]  # (O, H)
        return ((y[future] - self._base_values(y, origins, horizon)) / self._divisor()).astype(np.float32)

    def inverse(self, z: np.ndarray, history: np.ndarray, origin: int) -> np.ndarray:
        """Values ``(H, K)`` from model-space ``z`` ``(H, K)``; ``history`` holds the values before ``origin``."""
        base = self._base_values(np.asarray(history, dtype=np.float64), np.array([origin]), len(z))[0]
        return z * self._divisor() + base

    def _divisor(self) -> np.ndarray:
        return np.asarray(self.change_scale if self.base != "none" else self.level_scale)

    def _base_values(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """What the change is measured from: ``(O, H, K)``."""
        steps = np.arange(horizon)
        if self.base == "last":
            return np.repeat(y[origins - 1][:, None, :], horizon, axis=1)
        if self.base == "seasonal":
            if horizon > self.period:
                raise RnnlabError(f"horizon {horizon} is longer than the seasonal period {self.period}")
            return y[origins[:, None] + steps[None, :] - self.period]
        return np.broadcast_to(np.asarray(self.level_mean), (len(origins), horizon, y.shape[1]))


def window_origins(first: int, last: int, stride: int = 1) -> np.ndarray:
    """Forecast origins ``first, first + stride, ... ≤ last`` (the first forecast step of each window)."""
    if last < first:
        return np.zeros(0, dtype=np.int64)
    return np.arange(first, last + 1, stride, dtype=np.int64)


def gather_windows(features: np.ndarray, origins: np.ndarray, lookback: int) -> np.ndarray:
    """Input windows ``(O, lookback, F)``: the rows ``o - lookback … o - 1`` for each origin ``o``."""
    index = origins[:, None] + np.arange(-lookback, 0)[None, :]  # (O, L)
    return features[index]
