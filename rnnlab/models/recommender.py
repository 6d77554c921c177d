r"""Next-item recommendation with a recurrent network over a user's history (GRU4Rec, Hidasi et al. 2016).

.. math::
    h_t = \mathrm{GRU}(\mathrm{dropout}(E\,x_t),\ h_{t-1}),\qquad
    s_t = W h_t + b \ \ \text{or, tied,}\ \ s_t = E\,(P h_t) + b \qquad (\text{scores of every item})

Training reads each user's training history in chunks of at most ``max_history`` items from a zero state and, at
every step, scores every item for the next one: full softmax cross-entropy (as RecBole trains GRU4Rec), or with
``loss='sampled'`` a sampled softmax over ``negatives`` items drawn by popularity, shared by the batch, with the
log-probability correction :math:`s_j - \log q_j`. Recommending reads the last ``max_history`` items and ranks all
items, those already in the history excluded. Early stopping watches NDCG@10 on the validation targets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.checkpoint import fingerprint, load_checkpoint, save_checkpoint, strip_prefix, with_prefix
from rnnlab.data.interactions import PAD, Interactions, Split
from rnnlab.errors import RnnlabError
from rnnlab.metrics import ranking_metrics, target_ranks
from rnnlab.nn import LAYERS, checks
from rnnlab.train import FitResult, TrainConfig, fit

LOSSES = ("softmax", "sampled")


@dataclass(frozen=True)
class RecommenderConfig:
    cell: str = "gru"
    embedding_dim: int = 64
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.3  # on the item embeddings
    max_history: int = 50  # the last items read
    tie_weights: bool = False  # score items with the input embeddings (through a projection)
    loss: str = "softmax"  # 'softmax' (all items) or 'sampled' (popularity negatives: large catalogues)
    negatives: int = 512  # with loss='sampled'
    batch_size: int = 64

    def __post_init__(self) -> None:
        checks.one_of("cell", self.cell, tuple(LAYERS))
        checks.one_of("loss", self.loss, LOSSES)
        for name in ("embedding_dim", "hidden_size", "num_layers", "max_history", "negatives", "batch_size"):
            checks.positive_int(name, getattr(self, name))
        checks.dropout_probability(self.dropout)


class RecommenderNet(nn.Module):
    """``(B, T)`` item indices (0 = padding, on the right) → ``(B, T, H)`` states; :meth:`scores` → item scores."""

    def __init__(self, n_items: int, config: RecommenderConfig) -> None:
        super().__init__()
        self.n_items, self.tie_weights = n_items, config.tie_weights
        self.embedding = nn.Embedding(n_items + 1, config.embedding_dim, padding_idx=PAD)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = LAYERS[config.cell](config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
                                       batch_first=True)  # fmt: skip
        if config.tie_weights:
            self.project = nn.Linear(config.hidden_size, config.embedding_dim)
            self.bias = nn.Parameter(torch.zeros(n_items + 1))
        else:
            self.output = nn.Linear(config.hidden_size, n_items + 1)

    def forward(self, items: Tensor) -> Tensor:
        out, _ = self.rnn(self.dropout(self.embedding(items)))
        return out  # (B, T, H)

    def scores(self, hidden: Tensor, candidates: Tensor | None = None) -> Tensor:
        """Scores ``(..., n_items + 1)``, or of ``candidates`` ``(C,)`` only ``(..., C)``."""
        if self.tie_weights:
            table, bias = self.embedding.weight, self.bias
            if candidates is not None:
                table, bias = table[candidates], bias[candidates]
            return self.project(hidden) @ table.T + bias
        if candidates is None:
            return self.output(hidden)
        return hidden @ self.output.weight[candidates].T + self.output.bias[candidates]

    def target_scores(self, hidden: Tensor, targets: Tensor) -> Tensor:
        """The score of each row's own target: ``(N, H)``, ``(N,)`` → ``(N,)``."""
        if self.tie_weights:
            return (self.project(hidden) * self.embedding.weight[targets]).sum(-1) + self.bias[targets]
        return (hidden * self.output.weight[targets]).sum(-1) + self.output.bias[targets]


def pad_right(histories: list[np.ndarray], length: int) -> tuple[Tensor, Tensor]:
    """The last ``length`` items of each history, padded on the right: ``(B, T)`` and the lengths ``(B,)``."""
    clipped = [h[-length:] for h in histories]
    width = max(1, max(len(h) for h in clipped))
    batch = np.zeros((len(clipped), width), dtype=np.int64)
    for row, h in enumerate(clipped):
        batch[row, : len(h)] = h
    return torch.from_numpy(batch), torch.tensor([len(h) for h in clipped])


class _NextItemTask:
    """Chunks of the training histories; the loss at every step; NDCG@10 on validation decides the best epoch."""

    def __init__(self, split: Split, n_items: int, config: RecommenderConfig, ranker) -> None:
        self.config, self.ranker, self.split = config, ranker, split
        length = config.max_history + 1  # inputs and the next item
        chunks = []
        for history in split.train:
            for end in range(len(history), 1, -config.max_history):  # from the most recent back
                chunks.append(history[max(0, end - length) : end])
        self.chunks = chunks
        counts = np.bincount(np.concatenate(split.train), minlength=n_items + 1).astype(np.float64)
        counts[PAD] = 0
        self.sampling = torch.from_numpy(counts**0.75 / (counts**0.75).sum())  # word2vec's smoothed popularity

    def fingerprint(self) -> str:
        return fingerprint(*[torch.from_numpy(np.array(c)) for c in self.chunks[:2000]])

    def batches(self, epoch: int, generator: torch.Generator):
        order = torch.randperm(len(self.chunks), generator=generator).tolist()
        size = self.config.batch_size
        return [order[i : i + size] for i in range(0, len(order), size)]

    def loss(self, model: nn.Module, batch: list[int], state: Any) -> tuple[Tensor, None]:
        net = model.module if hasattr(model, "module") else model
        items, _ = pad_right([self.chunks[i] for i in batch], self.config.max_history + 1)
        inputs, targets = items[:, :-1], items[:, 1:]  # (B, T)
        hidden = model(inputs)
        mask = targets != PAD
        if self.config.loss == "softmax":
            logits = net.scores(hidden[mask])  # (N, I+1)
            return nn.functional.cross_entropy(logits, targets[mask]), None
        negatives = torch.multinomial(self.sampling, self.config.negatives, replacement=True)  # (S,)
        chosen = hidden[mask]  # (N, H)
        positive = net.target_scores(chosen, targets[mask])[:, None]  # (N, 1)
        negative = net.scores(chosen, negatives)  # (N, S)
        logits = torch.cat([positive, negative - torch.log(self.sampling[negatives] * self.config.negatives)], 1)
        logits[:, 1:][negatives[None, :] == targets[mask][:, None]] = -1e9  # a target drawn as a negative
        return nn.functional.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long)), None

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        metrics = self.ranker(self.split.val_history, self.split.val_target)
        return {"val_loss": 1.0 - metrics["ndcg@10"], **{f"val_{k}": v for k, v in metrics.items()}}

    def batch_size(self, batch: list[int]) -> int:
        return len(batch)


class Recommender:
    """Train on users' histories; rank every item as the next one for any history.

    >>> recommender = Recommender(cell="gru").fit(interactions, split, run_dir="runs/rec")
    >>> recommender.recommend(["50", "172", "181"], k=10)   # item ids in, [(item id, score), ...] out
    """

    def __init__(self, config: RecommenderConfig | None = None, train_config: TrainConfig | None = None,
                 **options: Any) -> None:  # fmt: skip
        known = {f.name for f in fields(RecommenderConfig)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise RnnlabError(f"unknown option {', '.join(unknown)}; options: {', '.join(sorted(known))}")
        self.config = replace(config or RecommenderConfig(), **options)
        self.train_config = train_config or TrainConfig(epochs=40, lr=1e-3, patience=5, lr_patience=3,
                                                        progress=False)  # fmt: skip
        self.net: RecommenderNet | None = None
        self.items: list[str] = []
        self.titles: dict[str, str] = {}
        self.result: FitResult | None = None

    def fit(self, data: Interactions, split: Split, *, run_dir: str | Path, resume: bool = False,
            log=print) -> Recommender:  # fmt: skip
        self.items, self.titles = list(data.items), dict(data.titles)
        torch.manual_seed(self.train_config.seed)
        self.net = RecommenderNet(data.n_items, self.config)
        task = _NextItemTask(split, data.n_items, self.config, self.rank_metrics)
        log(f"{len(task.chunks):,} training chunks of ≤ {self.config.max_history + 1} items, {data.n_items:,} items, "
            f"{len(split.val_target):,} validation users")  # fmt: skip
        self.result = fit(self.net, task, self.train_config, run_dir, metadata=self.metadata(), resume=resume, log=log)
        self.net.eval()
        return self

    # ----- ranking ---------------------------------------------------------------------------------------------
    def scores(self, histories: list[np.ndarray], *, exclude_history: bool = True) -> np.ndarray:
        """Scores of every item for each history ``(U, n_items + 1)``; padding and (by default) the items already in
        the history get ``-inf``."""
        self._require_fitted()
        out = []
        was_training = self.net.training
        self.net.eval()
        with torch.no_grad():
            for start in range(0, len(histories), 512):
                part = histories[start : start + 512]
                items, lengths = pad_right(part, self.config.max_history)
                hidden = self.net(items)[torch.arange(len(part)), (lengths - 1).clamp(min=0)]  # (B, H)
                scores = self.net.scores(hidden).numpy().astype(np.float64)
                scores[:, PAD] = -np.inf
                if exclude_history:
                    for row, history in enumerate(part):
                        scores[row, history] = -np.inf
                out.append(scores)
        self.net.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, len(self.items) + 1))

    def rank_metrics(self, histories: list[np.ndarray], targets: np.ndarray, k: int = 10) -> dict[str, float]:
        return ranking_metrics(target_ranks(self.scores(histories), targets), k)

    def recommend(self, history: list[str], k: int = 10) -> list[tuple[str, float]]:
        """The top ``k`` items after a history of item ids (ids never seen in training are refused)."""
        index = {item: i + 1 for i, item in enumerate(self.items)}
        unknown = [item for item in history if str(item) not in index]
        if unknown:
            raise RnnlabError(f"item {unknown[0]!r} was not in the training data; the model knows {len(index):,} items")
        if not history:
            raise RnnlabError("give at least one item of the history")
        scores = self.scores([np.array([index[str(i)] for i in history])])[0]
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.items[i - 1], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def title(self, item: str) -> str:
        return self.titles.get(item, item)

    # ----- persistence -------------------------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        return {"task": "recommend", "recommender": asdict(self.config), "items": self.items, "titles": self.titles}

    def save(self, path: str | Path) -> None:
        self._require_fitted()
        save_checkpoint(path, with_prefix("model", self.net.state_dict()), self.metadata())

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        tensors, metadata = load_checkpoint(path, task="recommend")
        recommender = cls(RecommenderConfig(**metadata["recommender"]))
        recommender.items, recommender.titles = metadata["items"], metadata.get("titles", {})
        recommender.net = RecommenderNet(len(recommender.items), recommender.config)
        recommender.net.load_state_dict(strip_prefix("model", tensors))
        recommender.net.eval()
        return recommender

    def _require_fitted(self) -> None:
        if self.net is None:
            raise RnnlabError("this recommender is not trained yet: call fit() first, or Recommender.load(path)")
