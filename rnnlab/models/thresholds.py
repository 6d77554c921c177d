r"""From raw anomaly scores to flags, one point at a time: relative to the recent level, EWMA-smoothed, thresholded.

A raw score :math:`e_t` is first divided by the recent level of the scores, a slow EWMA (span 500) of the scores
clipped at three times that level (so an anomaly barely moves it); a series whose errors grow over the years (a
price that rose a hundredfold, a drifting sensor) keeps a steady false-alarm rate. Then smoothing (as Telemanom
smooths its prediction errors, so that sustained errors stand out from single noisy ones):

.. math::
    r_t = \frac{e_t}{\ell_{t-1}},\quad \ell_t = \beta \min(e_t, 3\ell_{t-1}) + (1-\beta)\,\ell_{t-1},\qquad
    s_t = \alpha\, r_t + (1 - \alpha)\, s_{t-1},\quad \alpha = \frac{2}{\text{span} + 1},\ \beta = \frac{2}{501}

Thresholds:

- **quantile**: a fixed :math:`\tau`, the ``q``-quantile of :math:`s_t` on held-out normal data;
- **dynamic**: the non-parametric dynamic threshold of Hundman et al. 2018 (Telemanom), recomputed every ``stride``
  points on the last ``window`` smoothed scores :math:`\mathbf{s}` (mean :math:`\mu`, deviation :math:`\sigma`):

  .. math::
      \epsilon = \mu + z\sigma,\qquad
      z^* = \arg\max_{z \in \{2.5, 3, \dots, 11.5\}}
      \frac{\Delta\mu/\mu + \Delta\sigma/\sigma}{|\mathbf{s}_a| + |E_{seq}|^2}

  where :math:`\Delta\mu, \Delta\sigma` are the drops in mean and deviation when the scores above :math:`\epsilon`
  (:math:`\mathbf{s}_a`, in :math:`|E_{seq}|` runs) are removed; candidates that flag half the window or more than
  five runs are skipped, and when none is left :math:`\epsilon = \mu + 12\sigma`. The threshold is never below the
  quantile threshold ``floor``: a window of normal scores has outliers too, and the normal data says how large they
  get. Telemanom looks at a window after the fact; here the threshold found on the scores up to the last
  recomputation is applied to the points that follow, so flags are causal and a stream gets the same flags as a
  whole file. (Telemanom's pruning of flagged runs by their relative size is not done: it needs the future.)

Each step costs O(1) amortised: ``window · 19 / stride`` operations, independent of the length of the stream.
"""

from __future__ import annotations

import numpy as np

SD_LIMIT = 12.0
LEVEL_SPAN = 500  # of the recent level the scores are divided by
LEVEL_CLIP = 3.0  # a score above this many times the level moves it as if it were this
Z_CANDIDATES = np.arange(2.5, SD_LIMIT, 0.5)


def ewma_alpha(span: float) -> float:
    return 1.0 if span <= 1 else 2.0 / (span + 1.0)


def telemanom_epsilon(scores: np.ndarray) -> float | None:
    """The dynamic threshold of a window of smoothed scores (module docstring), or None when no candidate
    qualifies (Telemanom then uses :math:`\\mu + 12\\sigma`; the :class:`Flagger` uses its floor)."""
    scores = np.asarray(scores, dtype=np.float64)
    mean, sd = float(scores.mean()), float(scores.std())
    best, epsilon = -np.inf, None
    if sd == 0 or mean == 0:
        return None
    for z in Z_CANDIDATES:
        candidate = mean + z * sd
        above = scores >= candidate
        count = int(above.sum())
        if count == 0 or count >= len(scores) / 2:
            continue
        runs = int(np.count_nonzero(np.diff(np.concatenate([[0], above.astype(np.int8)])) == 1))
        if runs > 5:
            continue
        kept = scores[~above]
        gain = (mean - kept.mean()) / mean + (sd - kept.std()) / sd
        score = gain / (count + runs**2)
        if score >= best:
            best, epsilon = score, candidate
    return epsilon


class Flagger:
    """Divide each raw score by the recent level, smooth it, flag it against the threshold; state is O(window).

    ``push(e)`` returns ``(smoothed, threshold)``; the point is anomalous when ``smoothed > threshold``. Raw scores
    come in units of their mean on normal data, so the level starts at 1.
    """

    def __init__(self, *, span: float, floor: float, dynamic: bool, window: int = 2000, stride: int = 100) -> None:
        self.alpha, self.floor, self.dynamic = ewma_alpha(span), float(floor), dynamic
        self.beta, self.level = ewma_alpha(LEVEL_SPAN), 1.0
        self.window, self.stride = window, stride
        self.recent = np.zeros(window)  # ring buffer of the last `window` smoothed scores
        self.count, self.smoothed, self.epsilon = 0, None, float(floor)

    def push(self, score: float) -> tuple[float, float]:
        relative = score / self.level
        self.level = self.beta * min(score, LEVEL_CLIP * self.level) + (1 - self.beta) * self.level
        s = relative if self.smoothed is None else self.alpha * relative + (1 - self.alpha) * self.smoothed
        self.smoothed = s
        threshold = self.epsilon
        if self.dynamic:
            self.recent[self.count % self.window] = s
            self.count += 1
            if self.count % self.stride == 0 and self.count >= self.stride * 2:
                cut = self.count % self.window  # oldest first: the runs are counted in time order
                seen = self.recent[: self.count] if self.count < self.window else np.roll(self.recent, -cut)
                epsilon = telemanom_epsilon(seen)
                self.epsilon = self.floor if epsilon is None else max(self.floor, epsilon)
        return s, threshold

    def run(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`push` over an array: smoothed scores and thresholds, each ``(N,)``."""
        smoothed, thresholds = np.empty(len(scores)), np.empty(len(scores))
        for i, e in enumerate(np.asarray(scores, dtype=np.float64)):
            smoothed[i], thresholds[i] = self.push(float(e))
        return smoothed, thresholds


def calibrated_floor(raw: np.ndarray, *, fit_end: int, span: float, quantile: float) -> float:
    """The quantile threshold: the ``quantile`` of the smoothed relative scores of the normal data ``raw`` (already
    in units of their validation mean) over its validation part ``[fit_end:]``, as a :class:`Flagger` makes them."""
    smoothed, _ = Flagger(span=span, floor=np.inf, dynamic=False).run(raw)
    return quantile_floor(smoothed[fit_end:], quantile)


def quantile_floor(smoothed_normal: np.ndarray, q: float) -> float:
    """The ``q``-quantile of smoothed scores on normal data: the quantile threshold, and the dynamic one's floor."""
    values = np.asarray(smoothed_normal, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(np.quantile(values, q)) if len(values) else 0.0


def flag_offline(raw: np.ndarray, *, fit_end: int, normal_end: int, span: float, quantile: float,
                 dynamic: bool) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Any scorer's raw scores ``(N,)`` → smoothed scores and thresholds ``(N,)``, calibrated as the detectors are:
    scores in units of their mean on the validation part ``[fit_end, normal_end)``, the quantile taken there."""
    raw = np.asarray(raw, dtype=np.float64)
    raw = raw / (float(np.mean(raw[fit_end:normal_end])) or 1.0)
    floor = calibrated_floor(raw[:normal_end], fit_end=fit_end, span=span, quantile=quantile)
    return Flagger(span=span, floor=floor, dynamic=dynamic).run(raw)
