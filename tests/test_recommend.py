"""Next-item recommendation: ranking metrics and baselines by hand, reading and splitting interactions, a GRU that
learns an order, full ranking without history items, and ``rnnlab recommend`` end to end with bad input."""

from __future__ import annotations

import importlib.util
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.interactions import leave_one_out, read_interactions, time_split
from rnnlab.errors import RnnlabError
from rnnlab.metrics import ranking_metrics, target_ranks
from rnnlab.models.recommend_baselines import Baselines
from rnnlab.models.recommender import Recommender
from rnnlab.train import TrainConfig
from tests.conftest import run_cli as run

QUICK = TrainConfig(epochs=12, lr=1e-2, patience=12, progress=False)


def cyclic_table(path, users: int = 120, items: int = 30, seed: int = 0) -> str:
    """Each user walks a cycle of items (i → i+1 → ...), from a random start, one step a minute."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(users):
        start, length = rng.integers(items), rng.integers(8, 16)
        for step in range(length):
            rows.append({"user": f"u{user}", "item": f"m{(start + step) % items}", "ts": 1_000_000 + 60 * step})
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=seed)  # the file's order is not the time order
    frame.to_csv(path, index=False)
    return str(path)


def test_ranking_metrics_by_hand():
    ranks = np.array([1, 3, 11, 10])
    metrics = ranking_metrics(ranks, k=10)
    assert metrics["hr@10"] == pytest.approx(3 / 4)
    assert metrics["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4) + 1 / math.log2(11)) / 4)
    assert metrics["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 10) / 4)


def test_a_target_ties_count_against_it_and_excluded_items_never_rank():
    scores = np.array([[-np.inf, 0.5, 0.9, 0.5, -np.inf]])  # items 1..4; item 4 excluded
    assert target_ranks(scores, np.array([1])).tolist() == [3]  # 0.9 and the tied 0.5 rank before it
    assert target_ranks(scores, np.array([2])).tolist() == [1]


def test_the_baselines_by_hand():
    histories = [np.array([1, 2, 3]), np.array([1, 2]), np.array([2, 3]), np.array([4, 1])]
    baselines = Baselines(histories, n_items=4)
    popular = baselines.scores("most popular", [np.array([4])])[0]
    assert np.argmax(popular[1:]) + 1 in (1, 2) and popular[1] == popular[2] == 3 / 9 and popular[4] == 1 / 9
    markov = baselines.scores("Markov chain", [np.array([3, 1])])[0]  # after 1: 2 twice, nothing else
    assert np.argmax(markov) == 2 and markov[2] == pytest.approx(1.0, abs=1e-5)
    knn = baselines.scores("item-kNN (last item)", [np.array([3])])[0]
    users = {1: {0, 1, 3}, 2: {0, 1, 2}, 3: {0, 2}, 4: {3}}  # the users of each item
    for j in (1, 2, 4):
        expected = len(users[3] & users[j]) / math.sqrt(len(users[3]) * len(users[j]))
        assert knn[j] == pytest.approx(expected, abs=1e-5)


def test_interactions_are_ordered_by_time_filtered_and_split(tmp_path):
    data = read_interactions(cyclic_table(tmp_path / "walks.csv"), log=lambda m: None)
    assert len(data.users) == 120 and data.n_items == 30
    for sequence in data.sequences:  # the file was shuffled; each history walks the cycle in order
        ids = [int(data.items[i - 1][1:]) for i in sequence]
        assert all((b - a) % 30 == 1 for a, b in itertools.pairwise(ids))
    split = leave_one_out(data)
    first = data.sequences[0]
    assert split.test_target[0] == first[-1] and split.val_target[0] == first[-2]
    np.testing.assert_array_equal(split.train[0], first[:-2])
    np.testing.assert_array_equal(split.test_history[0], first[:-1])
    by_time = time_split(data)
    assert len(by_time.test_target) > 0 and all(len(h) for h in by_time.test_history)


def test_the_filters_are_a_k_core_and_say_what_they_removed(tmp_path):
    frame = pd.DataFrame({"user": ["a", "a", "a", "b", "b", "b", "c"], "item": [1, 2, 3, 1, 2, 9, 1],
                          "ts": range(7), "rating": [5, 4, 1, 5, 5, 5, 5]})  # fmt: skip
    frame.to_csv(tmp_path / "small.csv", index=False)
    notes = []
    data = read_interactions(str(tmp_path / "small.csv"), min_item_events=2, min_user_events=2, log=notes.append)
    assert sorted(data.users) == ["a", "b"] and data.items == ["1", "2"]  # 3, 9 rare; then c has one event left
    assert any("removed 3 interactions" in n for n in notes)
    data = read_interactions(str(tmp_path / "small.csv"), min_rating=4, min_user_events=1, log=notes.append)
    assert "3" not in data.items and any("rated ≥ 4" in n for n in notes)


def test_bad_tables_are_one_line_errors(tmp_path):
    pd.DataFrame({"user": [1, 1], "thing": [1, 2], "ts": [1, 2]}).to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(RnnlabError, match="say which column holds the item with --item"):
        read_interactions(str(tmp_path / "a.csv"), log=lambda m: None)
    pd.DataFrame({"user": [1, 1, 1], "item": [1, 2, 3], "ts": ["1", "soon", "3"]}).to_csv(tmp_path / "b.csv",
                                                                                           index=False)  # fmt: skip
    with pytest.raises(RnnlabError, match=r"column 'ts' .* neither a number nor a date: 'soon' \(line 3\)"):
        read_interactions(str(tmp_path / "b.csv"), log=lambda m: None)
    pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 3], "ts": [1, 2, 3]}).to_csv(tmp_path / "c.csv", index=False)
    data = read_interactions(str(tmp_path / "c.csv"), min_user_events=1, log=lambda m: None)
    with pytest.raises(RnnlabError, match=r"2 users .* fewer than 3 events"):
        leave_one_out(data)


@pytest.fixture(scope="module")
def walks(tmp_path_factory):
    path = cyclic_table(tmp_path_factory.mktemp("walks") / "walks.csv")
    data = read_interactions(path, log=lambda m: None)
    return path, data, leave_one_out(data)


@pytest.mark.parametrize("loss", ["softmax", "sampled"])
def test_a_gru_learns_what_comes_next(walks, loss, tmp_path):
    _, data, split = walks
    recommender = Recommender(loss=loss, negatives=8, embedding_dim=16, hidden_size=32, dropout=0.0,
                              train_config=QUICK).fit(data, split, run_dir=tmp_path, log=lambda m: None)  # fmt: skip
    metrics = recommender.rank_metrics(split.test_history, split.test_target)
    popular = Baselines(split.train, data.n_items).scores("most popular", split.test_history)
    for row, history in enumerate(split.test_history):
        popular[row, history] = -np.inf
    assert metrics["hr@10"] > 0.9 and metrics["ndcg@10"] > 0.7
    assert metrics["ndcg@10"] > 3 * ranking_metrics(target_ranks(popular, split.test_target))["ndcg@10"]
    scores = recommender.scores(split.test_history[:5])
    for row, history in enumerate(split.test_history[:5]):
        assert np.isneginf(scores[row, history]).all() and np.isneginf(scores[row, 0])


def test_same_seed_same_numbers(walks, tmp_path):
    _, data, split = walks
    runs = [Recommender(embedding_dim=8, hidden_size=16, train_config=TrainConfig(epochs=2, progress=False))
            .fit(data, split, run_dir=tmp_path / f"r{i}", log=lambda m: None) for i in range(2)]  # fmt: skip
    first, second = (r.rank_metrics(split.test_history, split.test_target) for r in runs)
    assert first == second


def test_train_predict_evaluate_from_the_command_line(walks, tmp_path, capsys):
    path, _, _ = walks
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "recommend", "train", "--data", path, "--embedding-dim", "16", "--hidden-size", "32",
                         "--epochs", "8", "--lr", "1e-2", "--no-progress", "--run-dir", str(run_dir))  # fmt: skip
    assert code == 0, err
    assert "rnnlab (gru)" in out and "Markov chain" in out and "item-kNN (last item)" in out and "NDCG@10" in out
    for name in ("best.safetensors", "histories.json", "evaluation.json", "report.html"):
        assert (run_dir / name).is_file(), name
    code, out, _ = run(capsys, "recommend", "predict", "--checkpoint", str(run_dir), "--items", "m3,m4,m5", "--k", "3")
    assert code == 0 and out.splitlines()[0].split()[1] == "m6"  # the walk goes on
    code, out, _ = run(capsys, "recommend", "predict", "--checkpoint", str(run_dir), "--user", "u0", "--k", "2")
    assert code == 0 and "user u0" in out
    code, _, err = run(capsys, "recommend", "predict", "--checkpoint", str(run_dir), "--items", "m3,zz")
    assert code == 2 and "item 'zz' was not in the training data" in err
    code, _, err = run(capsys, "recommend", "predict", "--checkpoint", str(run_dir), "--user", "nobody")
    assert code == 2 and "no user 'nobody'" in err
    code, out, _ = run(capsys, "recommend", "evaluate", "--checkpoint", str(run_dir))
    assert code == 0 and "rnnlab (gru)" in out


@pytest.mark.skipif(importlib.util.find_spec("recbole") is None, reason="MovieLens-100k ships with recbole")
def test_movielens_is_read_from_recboles_file():
    data = read_interactions("ml-100k", log=lambda m: None)
    assert len(data.users) == 943 and data.n_items == 1682 and sum(map(len, data.sequences)) == 100_000
    assert data.titles["1"] == "Toy Story (1995)"
