r"""A linear-chain conditional random field over per-step scores (Lafferty et al. 2001; the tagging head of
Lample et al. 2016 and Huang et al. 2015).

For emissions :math:`E \in \mathbb{R}^{T\times K}` (a score per step and tag) and tags :math:`y_1..y_T`:

.. math::
    s(y) = a_{y_1} + \sum_{t=1}^{T} E_{t,y_t} + \sum_{t=2}^{T} A_{y_{t-1},y_t} + b_{y_T},\qquad
    \log p(y \mid E) = s(y) - \log \sum_{y'} e^{s(y')}

The normaliser comes from the forward algorithm, :math:`\alpha_1 = a + E_1`,
:math:`\alpha_t(j) = \log\sum_i e^{\alpha_{t-1}(i) + A_{ij}} + E_{t,j}`,
:math:`\log Z = \log\sum_j e^{\alpha_T(j)+b_j}`;
the best path from Viterbi: the same recursion with max for log-sum-exp, and back-pointers. Padding steps
(``mask`` False, always after the real ones) leave :math:`\alpha` unchanged. ``tests/test_tag.py`` checks both against
enumerating every path on short sequences.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CRF(nn.Module):
    def __init__(self, n_tags: int) -> None:
        super().__init__()
        self.n_tags = n_tags
        self.transitions = nn.Parameter(torch.empty(n_tags, n_tags).uniform_(-0.1, 0.1))  # A[from, to]
        self.start = nn.Parameter(torch.empty(n_tags).uniform_(-0.1, 0.1))  # a
        self.end = nn.Parameter(torch.empty(n_tags).uniform_(-0.1, 0.1))  # b

    def score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """:math:`s(y)` of the given paths: emissions ``(B, T, K)``, tags ``(B, T)``, mask ``(B, T)`` → ``(B,)``."""
        mask = mask.to(emissions.dtype)
        emitted = emissions.gather(2, tags.unsqueeze(-1)).squeeze(-1)  # (B, T)
        moves = self.transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
        last = tags.gather(1, (mask.sum(1).long() - 1).unsqueeze(1)).squeeze(1)  # (B,)
        return self.start[tags[:, 0]] + (emitted * mask).sum(1) + (moves * mask[:, 1:]).sum(1) + self.end[last]

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """:math:`\\log Z` by the forward algorithm: ``(B, T, K)``, ``(B, T)`` → ``(B,)``."""
        alpha = self.start + emissions[:, 0]  # (B, K)
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + self.transitions, dim=1) + emissions[:, t]  # (B, K)
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """:math:`\\log p(y \\mid E)` per sequence ``(B,)``; the first step of every sequence must be real."""
        return self.score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """The most likely path of each sequence (Viterbi), as lists of its real length."""
        score = self.start + emissions[:, 0]  # (B, K)
        pointers = []
        for t in range(1, emissions.shape[1]):
            candidates = score.unsqueeze(2) + self.transitions  # (B, K from, K to)
            best, pointer = candidates.max(dim=1)
            pointers.append(pointer)
            score = torch.where(mask[:, t : t + 1], best + emissions[:, t], score)
        score = score + self.end
        lengths = mask.sum(1).tolist()
        paths = []
        for row, length in enumerate(lengths):
            tag = int(score[row].argmax())
            path = [tag]
            for t in range(int(length) - 1, 0, -1):
                tag = int(pointers[t - 1][row, tag])
                path.append(tag)
            paths.append(path[::-1])
        return paths
