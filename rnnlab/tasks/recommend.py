"""The recommendation jobs behind ``rnnlab recommend train | evaluate | predict``.

``train`` reads interactions, filters and splits them (:mod:`rnnlab.data.interactions`), trains the recurrent
recommender and ranks all items for every test user beside the three baselines on the same split (full ranking,
history items excluded). The run folder gets ``best.safetensors`` (weights; the config, items and titles in its JSON),
``histories.json`` (each user's items, for ``predict --user``), ``metrics.jsonl``, ``evaluation.json`` and
``report.html`` (metric curves over training; a few users' last items, the model's top 10 and the true next item).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from rnnlab.checkpoint import atomic_write_text, run_folder
from rnnlab.data.interactions import Interactions, Split, leave_one_out, read_interactions, time_split
from rnnlab.errors import RnnlabError
from rnnlab.metrics import ranking_metrics, target_ranks
from rnnlab.models.recommend_baselines import BASELINES, Baselines
from rnnlab.models.recommender import Recommender, RecommenderConfig
from rnnlab.train import TrainConfig

SPLITS = ("leave-one-out", "time")


def make_split(data: Interactions, kind: str) -> Split:
    if kind == "leave-one-out":
        return leave_one_out(data)
    if kind == "time":
        return time_split(data)
    raise RnnlabError(f"no split {kind!r}; splits: {', '.join(SPLITS)}")


def compare(recommender: Recommender, split: Split, data: Interactions, k: int = 10) -> dict[str, dict[str, float]]:
    """The model and the baselines ranked on the test targets, by full ranking with history items excluded."""
    started = time.perf_counter()
    rows = {f"rnnlab ({recommender.config.cell})": recommender.rank_metrics(split.test_history, split.test_target, k)}
    rows[next(iter(rows))]["seconds"] = time.perf_counter() - started
    baselines = Baselines(split.train, data.n_items)
    for name in BASELINES:
        started = time.perf_counter()
        scores = baselines.scores(name, split.test_history)
        for row, history in enumerate(split.test_history):
            scores[row, history] = -np.inf
        rows[name] = ranking_metrics(target_ranks(scores, split.test_target), k)
        rows[name]["seconds"] = time.perf_counter() - started
    return rows


def format_rows(rows: dict[str, dict[str, float]], title: str, k: int = 10) -> str:
    lines = [title, f"{'':26}{f'HR@{k}':>9}{f'NDCG@{k}':>9}{f'MRR@{k}':>9}{'rank s':>8}"]
    for name, r in rows.items():
        lines.append(f"{name:26}{r[f'hr@{k}']:9.4f}{r[f'ndcg@{k}']:9.4f}{r[f'mrr@{k}']:9.4f}{r['seconds']:8.2f}")
    return "\n".join(lines)


def train_run(data_options: dict, config: RecommenderConfig, train_config: TrainConfig, *, split_kind: str,
              run_dir: str | Path, resume: bool = False, log=print) -> tuple[Recommender, dict]:  # fmt: skip
    run_dir = Path(run_dir)
    data = read_interactions(**data_options, log=log)
    split = make_split(data, split_kind)
    log(f"split {split_kind}: {len(split.test_target):,} test users, {len(split.val_target):,} validation users")
    started = time.perf_counter()
    recommender = Recommender(config, train_config)
    recommender.fit(data, split, run_dir=run_dir, resume=resume, log=log)
    seconds = time.perf_counter() - started
    rows = compare(recommender, split, data)
    title = (f"{data.source}, {split_kind}, full ranking of {data.n_items:,} items for {len(split.test_target):,} "
             f"users (history items excluded); training {seconds / 60:.1f} min")  # fmt: skip
    log(format_rows(rows, title))
    histories = {user: [data.items[i - 1] for i in sequence] for user, sequence in zip(data.users, data.sequences)}
    atomic_write_text(run_dir / "histories.json", json.dumps(histories) + "\n")
    summary = {"data": data_options, "split": split_kind, "rows": rows, "training_seconds": seconds}
    atomic_write_text(run_dir / "evaluation.json", json.dumps(summary, indent=2) + "\n")
    _report(run_dir / "report.html", recommender, data, split, rows, title)
    log(f"wrote {run_dir / 'best.safetensors'}, histories.json, evaluation.json and report.html")
    return recommender, summary


def _report(path: Path, recommender: Recommender, data: Interactions, split: Split, rows: dict, title: str) -> None:
    from rnnlab.inspection.plots import figure_png, training_curves
    from rnnlab.inspection.report import Report

    report = Report(f"recommend: {data.source}, {recommender.config.cell}", config={
        "recommender": recommender.config.__dict__, "items": data.n_items, "users": len(data.users)})  # fmt: skip
    header = ["", "HR@10", "NDCG@10", "MRR@10", "ranking s"]
    body = [[name, r["hr@10"], r["ndcg@10"], r["mrr@10"], r["seconds"]] for name, r in rows.items()]
    report.table(title, header, body, {0})
    if recommender.result and recommender.result.history:
        report.figure("training: loss, and the validation metrics by epoch",
                      figure_png(training_curves(recommender.result.history, title="training")))  # fmt: skip
    shown = []
    for row in range(min(5, len(split.test_target))):
        history, target = split.test_history[row], int(split.test_target[row])
        top = recommender.scores([history])[0]
        ranked = np.argsort(-top, kind="stable")[:10]
        hit = "hit" if target in ranked else "missed"
        last = ", ".join(recommender.title(data.items[i - 1]) for i in history[-5:])
        picks = "\n".join(f"  {'→' if i == target else ' '} {n + 1:2}. {recommender.title(data.items[i - 1])}"
                          for n, i in enumerate(ranked))  # fmt: skip
        shown.append(f"user {data.users[split.test_users[row]]}: last items: {last}\n"
                     f"true next: {recommender.title(data.items[target - 1])} ({hit})\n{picks}")  # fmt: skip
    report.text("a few users: their last items, the model's top 10, the true next item", "\n\n".join(shown))
    report.write(path)


def evaluate_run(checkpoint: str | Path, *, log=print) -> dict:
    """Rank the test targets again, on the data and split the run was trained on."""
    folder = run_folder(checkpoint, "recommend")
    recommender = Recommender.load(folder / "best.safetensors")
    saved = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    data = read_interactions(**saved["data"], log=log)
    if list(data.items) != recommender.items:
        raise RnnlabError(f"the items of {data.source} are not those the model was trained on")
    split = make_split(data, saved["split"])
    rows = compare(recommender, split, data)
    log(format_rows(rows, f"{data.source}, {saved['split']}: test users, full ranking"))
    return rows


def predict_run(checkpoint: str | Path, *, user: str | None = None, items: list[str] | None = None, k: int = 10,
                log=print) -> list[tuple[str, float]]:  # fmt: skip
    """The top ``k`` next items for a user of the training data (their whole history) or a list of item ids."""
    folder = run_folder(checkpoint, "recommend")
    recommender = Recommender.load(folder / "best.safetensors")
    if (user is None) == (items is None):
        raise RnnlabError("give --user ID or --items ID,ID,... (one of them)")
    if user is not None:
        histories = json.loads((folder / "histories.json").read_text(encoding="utf-8"))
        if str(user) not in histories:
            raise RnnlabError(f"no user {user!r} in the training data of {folder} ({len(histories):,} users)")
        items = histories[str(user)]
        log(f"user {user}: {len(items)} items, the last: {recommender.title(items[-1])}")
    top = recommender.recommend(items, k)
    for rank, (item, score) in enumerate(top, start=1):
        log(f"{rank:3}. {item:>8}  {score:8.3f}  {recommender.title(item)}")
    return top
