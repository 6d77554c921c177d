r"""Forecast accuracy: MAE and RMSE (statsmodels' ``eval_measures``), sMAPE and MASE; and the scores of anomaly
detectors (point-wise and event-wise precision, recall, F1; the UCR hit) at the end.

.. math::
    \mathrm{sMAPE} = \frac{100}{n}\sum_t \frac{2\,|y_t - \hat y_t|}{|y_t| + |\hat y_t|},\qquad
    \mathrm{MASE} = \frac{\mathrm{MAE}}{\frac{1}{N-m}\sum_{t>m} |y_t - y_{t-m}|}

The MASE scale is the in-sample MAE of the seasonal-naive forecast (period ``m``) on the training part, as in the M4
competition; below 1 means better than that naive forecast was in-sample.
"""

from __future__ import annotations

import numpy as np
from statsmodels.tools import eval_measures


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(eval_measures.meanabs(np.ravel(actual), np.ravel(predicted)))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(eval_measures.rmse(np.ravel(actual), np.ravel(predicted)))


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """sMAPE in percent as the M3 and M4 tables define it: ``200/h Σ |y - ŷ| / (|y| + |ŷ|)``."""
    actual, predicted = np.ravel(actual), np.ravel(predicted)
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2 * np.abs(actual - predicted), denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    return float(100 * ratio.mean())


def mase_scale(train: np.ndarray, period: int) -> float:
    """In-sample MAE of the seasonal-naive forecast of period ``period`` (1: naive) on ``train`` ``(N,)``; NaN when
    the training part is constant (no scale: MASE is not defined, and the tables say so rather than pick one)."""
    train = np.ravel(train)
    if len(train) <= period:
        raise ValueError(f"MASE needs more than {period} training points, got {len(train)}")
    scale = float(np.mean(np.abs(train[period:] - train[:-period])))
    if scale <= 1e-9 * (float(np.mean(np.abs(train))) + 1e-12):  # an exactly periodic series: fall back to naive
        scale = float(np.mean(np.abs(np.diff(train)))) if period != 1 else 0.0
    return scale if scale > 0 else float("nan")  # a constant training part: MASE is not defined


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray, scale: float) -> dict[str, float]:
    """MAE, RMSE, sMAPE and MASE of a set of forecasts against the truth (any matching shapes)."""
    error = mae(actual, predicted)
    return {"mase": error / scale, "mae": error, "rmse": rmse(actual, predicted), "smape": smape(actual, predicted)}


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """MAPE in percent, as the Tourism competition scores: ``100/h Σ |y - ŷ| / |y|``."""
    actual, predicted = np.ravel(actual), np.ravel(predicted)
    return float(100 * np.mean(np.abs(actual - predicted) / np.abs(actual)))


def owa(smape_model: float, mase_model: float, smape_naive2: float, mase_naive2: float) -> float:
    """The M4 competition's overall weighted average: the mean of sMAPE and MASE, each relative to Naive2's."""
    return 0.5 * (smape_model / smape_naive2 + mase_model / mase_naive2)


# ----- anomaly detection ---------------------------------------------------------------------------------------------
def point_scores(labels: np.ndarray, flags: np.ndarray) -> dict[str, float]:
    """Point-wise precision, recall and F1 of ``flags`` against ``labels`` (both ``(N,)`` of 0/1; scikit-learn)."""
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, _ = precision_recall_fscore_support(
        np.asarray(labels, dtype=int), np.asarray(flags, dtype=int), average="binary", zero_division=0
    )
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Point-wise area under the precision-recall curve of ``scores`` (no threshold; scikit-learn)."""
    from sklearn.metrics import average_precision_score

    labels = np.asarray(labels, dtype=int)
    return float(average_precision_score(labels, np.nan_to_num(scores))) if labels.any() else float("nan")


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[0], np.asarray(flags, dtype=int) != 0, [0]]).astype(int)
    changes = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(changes[::2], changes[1::2])]


def event_scores(labels: np.ndarray, flags: np.ndarray, tolerance: int = 0) -> dict[str, float]:
    """Event-wise (range) precision, recall and F1.

    An event (a run of 1s in ``labels``) is found when any point within it, widened by ``tolerance`` points on each
    side, is flagged. Each run of flagged points outside the widened events is one false alarm, however long (so a
    detector that flags everything finds every event and raises a false alarm between each two).

    .. math::
        R = \\frac{\\text{events found}}{\\text{events}},\\qquad
        P = \\frac{\\text{events found}}{\\text{events found} + \\text{false alarm runs}}
    """
    flags = np.asarray(flags, dtype=int) != 0
    truth = _runs(labels)
    widened = np.zeros(len(flags), dtype=bool)
    found = 0
    for start, end in truth:
        a, b = max(0, start - tolerance), min(len(flags) - 1, end + tolerance)
        widened[a : b + 1] = True
        found += bool(flags[a : b + 1].any())
    false_alarms = len(_runs(flags & ~widened))
    recall = found / len(truth) if truth else float("nan")
    precision = found / (found + false_alarms) if found + false_alarms else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "events": len(truth), "found": found,
            "false_alarms": false_alarms}  # fmt: skip


def ucr_hit(labels: np.ndarray, scores: np.ndarray, margin: int = 100) -> bool:
    """The UCR anomaly archive's score: the highest score falls within the labelled range ± ``margin`` points."""
    (where,) = np.nonzero(np.asarray(labels, dtype=int))
    if len(where) == 0:
        raise ValueError("ucr_hit needs a labelled anomaly")
    top = int(np.nanargmax(np.asarray(scores, dtype=np.float64)))
    return bool(where.min() - margin <= top <= where.max() + margin)


# ----- next-item recommendation --------------------------------------------------------------------------------------
def target_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Rank of each target among all items (1 = first) ``(U,)`` from scores ``(U, n_items + 1)`` whose excluded items
    are ``-inf``; ties count against the target (an item scored like the target ranks before it)."""
    target_scores = scores[np.arange(len(targets)), targets][:, None]
    return (scores >= target_scores).sum(axis=1)  # the target itself counts once: rank ≥ 1


def ranking_metrics(ranks: np.ndarray, k: int = 10) -> dict[str, float]:
    r"""HR@k, NDCG@k and MRR@k of one target per user, by full ranking.

    .. math::
        \mathrm{HR@}k = \overline{[r \le k]},\qquad \mathrm{NDCG@}k = \overline{[r \le k] / \log_2(r + 1)},\qquad
        \mathrm{MRR@}k = \overline{[r \le k] / r}
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    hit = ranks <= k
    return {f"hr@{k}": float(hit.mean()), f"ndcg@{k}": float((hit / np.log2(ranks + 1)).mean()),
            f"mrr@{k}": float((hit / ranks).mean())}  # fmt: skip


# ----- sequence tagging --------------------------------------------------------------------------------------------
def tagging_metrics(gold: list[list[str]], predicted: list[list[str]], unknown: list[list[bool]] | None = None,
                    top_confusions: int = 5) -> dict:  # fmt: skip
    """Token accuracy, sentence accuracy (every tag right), accuracy on unknown words (``unknown`` marks them),
    macro-F1 over tags and per-tag precision/recall/F1 (scikit-learn), and the most frequent (gold, predicted)
    confusions."""
    from collections import Counter

    from sklearn.metrics import f1_score, precision_recall_fscore_support

    if [len(g) for g in gold] != [len(p) for p in predicted]:
        raise ValueError("gold and predicted sequences differ in length")
    flat_gold = [t for g in gold for t in g]
    flat_pred = [t for p in predicted for t in p]
    right = np.array([g == p for g, p in zip(flat_gold, flat_pred)])
    result = {"token_accuracy": float(right.mean()), "tokens": len(right),
              "sentence_accuracy": float(np.mean([g == p for g, p in zip(gold, predicted)])),
              "macro_f1": float(f1_score(flat_gold, flat_pred, average="macro", zero_division=0))}  # fmt: skip
    if unknown is not None:
        mask = np.array([u for row in unknown for u in row], dtype=bool)
        result["unknown_tokens"] = int(mask.sum())
        result["unknown_accuracy"] = float(right[mask].mean()) if mask.any() else float("nan")
    labels = sorted(set(flat_gold))
    precision, recall, f1, support = precision_recall_fscore_support(flat_gold, flat_pred, labels=labels,
                                                                     zero_division=0)  # fmt: skip
    result["per_tag"] = {t: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                         for t, p, r, f, s in zip(labels, precision, recall, f1, support)}  # fmt: skip
    confusions = Counter((g, p) for g, p in zip(flat_gold, flat_pred) if g != p)
    result["confusions"] = [[g, p, n] for (g, p), n in confusions.most_common(top_confusions)]
    return result
