r"""The classical peer for isolated words: dynamic time warping, 1-nearest-neighbour against class templates.

Each clip becomes 13 MFCCs per frame (the DCT of the normalised log-mel frames, as :func:`librosa.feature.mfcc`
computes from a log spectrogram); a test clip takes the word of the template it aligns to most cheaply:

.. math::
    D(i, j) = \lVert a_i - b_j \rVert + \min\{D(i-1, j),\ D(i, j-1),\ D(i-1, j-1)\},\qquad
    d(a, b) = D(T_a, T_b) / (T_a + T_b)

(librosa's :func:`librosa.sequence.dtw`). Templates: ``per_word`` training clips of each word, chosen at random
across voices (all 5,000 would take minutes per test clip on a CPU).
"""

from __future__ import annotations

import numpy as np


def mfcc(frames: np.ndarray, n: int = 13) -> np.ndarray:
    """``(T, 40)`` log-mel frames → ``(13, T)`` MFCCs (librosa's DCT-II, orthonormal)."""
    import librosa

    return librosa.feature.mfcc(S=frames.T, n_mfcc=n)


class DTWNearest:
    def __init__(self, frames: list[np.ndarray], labels: list[str], per_word: int = 10, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.templates, self.labels = [], []
        for word in sorted(set(labels)):
            indices = [i for i, label in enumerate(labels) if label == word]
            for i in rng.choice(indices, size=min(per_word, len(indices)), replace=False):
                self.templates.append(mfcc(frames[i]))
                self.labels.append(word)

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        import librosa

        cost, _ = librosa.sequence.dtw(X=a, Y=b, metric="euclidean")
        return float(cost[-1, -1] / (a.shape[1] + b.shape[1]))

    def predict(self, frames: list[np.ndarray]) -> list[str]:
        out = []
        for clip in frames:
            features = mfcc(clip)
            distances = [self.distance(features, template) for template in self.templates]
            out.append(self.labels[int(np.argmin(distances))])
        return out
