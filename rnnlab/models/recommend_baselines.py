r"""The recommenders a sequence model must beat, each scoring every item for a user's history ``(n_items + 1,)``.

- **most popular**: how often each item occurs in the training histories;
- **item-kNN on the last item**: the cosine similarity of item co-occurrence over users,
  :math:`\mathrm{sim}(i, j) = \frac{|U_i \cap U_j|}{\sqrt{|U_i||U_j|}}`, to the history's last item;
- **Markov chain**: how often item :math:`j` followed the last item :math:`i` in the training histories,
  :math:`\hat P(j \mid i)`, ties broken by popularity.

All are fitted on the training histories only; scores of the padding index 0 are :math:`-\infty`.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

BASELINES = ("most popular", "item-kNN (last item)", "Markov chain")


class Baselines:
    def __init__(self, histories: list[np.ndarray], n_items: int) -> None:
        size = n_items + 1
        counts = np.bincount(np.concatenate(histories), minlength=size).astype(np.float64)
        self.popularity = counts / max(counts.sum(), 1.0)  # (I+1,)
        users = np.concatenate([np.full(len(h), u) for u, h in enumerate(histories)])
        presence = sparse.csr_matrix((np.ones(len(users)), (users, np.concatenate(histories))),
                                     shape=(len(histories), size))  # fmt: skip
        presence.data[:] = 1.0  # an item rated twice by a user counts once
        co = (presence.T @ presence).tocsr()  # (I+1, I+1) users in common
        norms = np.sqrt(np.asarray(presence.sum(axis=0)).ravel())
        self.similarity = co, norms
        pairs = [(h[:-1], h[1:]) for h in histories if len(h) > 1]
        source = np.concatenate([a for a, _ in pairs]) if pairs else np.zeros(0, int)
        target = np.concatenate([b for _, b in pairs]) if pairs else np.zeros(0, int)
        self.transitions = sparse.csr_matrix((np.ones(len(source)), (source, target)), shape=(size, size))

    def scores(self, name: str, histories: list[np.ndarray]) -> np.ndarray:
        """``(U, n_items + 1)`` scores of every item for each history."""
        last = np.array([h[-1] if len(h) else 0 for h in histories])
        tie_break = self.popularity[None, :] * 1e-6
        if name == "most popular":
            scores = np.repeat(self.popularity[None, :], len(histories), axis=0)
        elif name == "item-kNN (last item)":
            co, norms = self.similarity
            rows = co[last].toarray()  # (U, I+1)
            scores = rows / np.maximum(norms[last][:, None] * norms[None, :], 1e-12) + tie_break
        elif name == "Markov chain":
            rows = self.transitions[last].toarray()
            scores = rows / np.maximum(rows.sum(axis=1, keepdims=True), 1.0) + tie_break
        else:
            raise ValueError(f"no baseline {name!r}; baselines: {', '.join(BASELINES)}")
        scores[:, 0] = -np.inf
        return scores
