"""The *wide* part of a text classifier: word and bigram counts, TF-IDF weighted, into a logistic regression.

On short texts and a few thousand examples this linear model is hard to beat (Wang & Manning 2012; the old Keras IMDB
example says so), so rnnlab's text classifier keeps one beside its recurrent network and blends their
probabilities with a weight chosen on validation: the blend does at least what the linear model does, and the
network adds what word order tells. scikit-learn fits it (``TfidfVectorizer``, ``LogisticRegression``, the
inverse regularisation ``C`` cross-validated on the training part); what it learnt is saved as JSON (the n-gram
vocabulary) and tensors (idf weights, coefficients), so loading executes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

C_GRID = (1.0, 3.0, 10.0, 30.0)


def _vectorizer(vocabulary: dict[str, int] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    # scikit-learn's words of two letters or more (punctuation and one-letter words dropped: on sentence polarity
    # this does better than rnnlab's own tokens, which keep them), unigrams and bigrams, sublinear term frequency
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, vocabulary=vocabulary)


@dataclass
class NGramModel:
    """TF-IDF of 1–2-grams → multinomial logistic regression over ``classes``."""

    classes: list[str]
    c: float = 10.0  # inverse regularisation strength
    vocabulary: dict[str, int] = field(default_factory=dict)
    idf: np.ndarray | None = None  # (V,)
    coef: np.ndarray | None = None  # (C, V) (one row for two classes, as scikit-learn keeps it)
    intercept: np.ndarray | None = None  # (C,) or (1,)

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], classes: list[str], *, c: float = 10.0) -> NGramModel:
        from sklearn.linear_model import LogisticRegression

        vectorizer = _vectorizer()
        features = vectorizer.fit_transform(texts)
        model = LogisticRegression(C=c, max_iter=3000).fit(features, labels)
        if list(model.classes_) != list(classes):
            order = [list(model.classes_).index(k) for k in classes]  # scikit-learn sorts; so do we, but be sure
            assert order == sorted(order), "classes must be sorted"
        vocabulary = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        return cls(list(classes), c, vocabulary, vectorizer.idf_.copy(), model.coef_.copy(), model.intercept_.copy())

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Class probabilities ``(N, C)``."""
        vectorizer = _vectorizer(self.vocabulary)
        vectorizer.idf_ = self.idf
        scores = vectorizer.transform(texts) @ self.coef.T + self.intercept  # (N, C) or (N, 1)
        scores = np.asarray(scores)
        if scores.shape[1] == 1:  # two classes: the score of the second
            scores = np.concatenate([np.zeros_like(scores), scores], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def tensors(self) -> dict[str, Tensor]:
        return {"idf": torch.from_numpy(self.idf.astype(np.float64)),
                "coef": torch.from_numpy(self.coef.astype(np.float64)),
                "intercept": torch.from_numpy(self.intercept.astype(np.float64))}  # fmt: skip

    def metadata(self) -> dict:
        return {"classes": self.classes, "c": self.c, "vocabulary": self.vocabulary}

    @classmethod
    def restore(cls, metadata: dict, tensors: dict[str, Tensor]) -> NGramModel:
        return cls(list(metadata["classes"]), float(metadata["c"]), dict(metadata["vocabulary"]),
                   tensors["idf"].numpy(), tensors["coef"].numpy(), tensors["intercept"].numpy())  # fmt: skip


def choose_c(texts: list[str], labels: list[str], folds: int = 3) -> float:
    """The ``C`` of :data:`C_GRID` with the best cross-validated accuracy on ``texts`` (scikit-learn's
    ``LogisticRegressionCV``, stratified folds)."""
    import warnings

    from sklearn.linear_model import LogisticRegressionCV

    counts = {y: labels.count(y) for y in set(labels)}
    folds = max(2, min(folds, min(counts.values())))
    features = _vectorizer().fit_transform(texts)
    with warnings.catch_warnings():  # scikit-learn 1.8 announces changes of its defaults; the results are the same
        warnings.simplefilter("ignore", FutureWarning)
        model = LogisticRegressionCV(Cs=list(C_GRID), cv=folds, max_iter=3000, scoring="accuracy")
        model.fit(features, labels)
    return float(np.atleast_1d(model.C_)[0])


def best_blend(network: np.ndarray, linear: np.ndarray, labels: list[str], classes: list[str]) -> tuple[float, float]:
    """The weight ``w`` of the network in ``w · p_network + (1 - w) · p_linear`` with the best validation accuracy
    (ties: the weight nearest ½), and that accuracy."""
    truth = np.asarray([classes.index(y) for y in labels])
    best = (-1.0, 0.5)
    for w in np.linspace(0, 1, 11):
        accuracy = float(np.mean((w * network + (1 - w) * linear).argmax(axis=1) == truth))
        if accuracy > best[0] + 1e-12 or (abs(accuracy - best[0]) <= 1e-12 and abs(w - 0.5) < abs(best[1] - 0.5)):
            best = (accuracy, float(w))
    return best[1], best[0]
