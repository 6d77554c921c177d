"""Baselines for tagging, trained on the same split as the network.

- ``most frequent tag``: each known word gets the tag it had most often in training; an unknown word gets the most
  frequent tag of training words with the same shape and suffix (capitalised, digits, hyphen; the last three letters),
  backing off to the shape alone, then to the tag of words seen once (the usual open-class guess);
- ``perceptron``: NLTK's averaged perceptron tagger (Collins 2002; the tagger behind ``nltk.pos_tag``), trained here
  from the tagged sentences, without any download;
- for numeric sequences, ``logistic regression``: scikit-learn's, on each step's features and those of its two
  neighbours on either side (a window of 5 steps), classes weighted by their frequency.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import numpy as np

from rnnlab.data.tagged import Tagged


def word_shape(word: str) -> str:
    """A coarse class of a word's form: 'Xx', 'x', 'X', 'd' (digits), with '-' when hyphenated."""
    if any(c.isdigit() for c in word):
        shape = "d"
    elif word[:1].isupper():
        shape = "X" if word.isupper() and len(word) > 1 else "Xx"
    elif word[:1].isalpha():
        shape = "x"
    else:
        shape = "p"  # punctuation and symbols
    return shape + ("-" if "-" in word else "")


class MostFrequentTag:
    def __init__(self, train: Tagged) -> None:
        by_word: dict[str, Counter] = defaultdict(Counter)
        for words, tags in zip(train.steps, train.tags):
            for w, t in zip(words, tags):
                by_word[w][t] += 1
        self.best = {w: c.most_common(1)[0][0] for w, c in by_word.items()}
        by_suffix: dict[tuple[str, str], Counter] = defaultdict(Counter)
        by_shape: dict[str, Counter] = defaultdict(Counter)
        rare: Counter = Counter()
        for w, counts in by_word.items():
            for t, n in counts.items():
                by_suffix[word_shape(w), w[-3:].lower()][t] += n
                by_shape[word_shape(w)][t] += n
            if sum(counts.values()) == 1:
                rare.update(counts)
        self.by_suffix = {k: c.most_common(1)[0][0] for k, c in by_suffix.items()}
        self.by_shape = {k: c.most_common(1)[0][0] for k, c in by_shape.items()}
        self.fallback = (rare or Counter({"NN": 1})).most_common(1)[0][0]

    def tag_word(self, word: str) -> str:
        if word in self.best:
            return self.best[word]
        for form in (word.lower(), word.capitalize()):  # 'The' at a sentence's start, 'the' inside
            if form in self.best:
                return self.best[form]
        key = (word_shape(word), word[-3:].lower())
        return self.by_suffix.get(key) or self.by_shape.get(word_shape(word)) or self.fallback

    def predict(self, sentences: list[list[str]]) -> list[list[str]]:
        return [[self.tag_word(w) for w in words] for words in sentences]


class Perceptron:
    def __init__(self, train: Tagged, iterations: int = 5, seed: int = 0) -> None:
        from nltk.tag.perceptron import PerceptronTagger

        self.tagger = PerceptronTagger(load=False)
        random.seed(seed)  # NLTK shuffles the sentences with the random module
        self.tagger.train([list(zip(words, tags)) for words, tags in zip(train.steps, train.tags)], nr_iter=iterations)

    def predict(self, sentences: list[list[str]]) -> list[list[str]]:
        return [[t for _, t in self.tagger.tag(words)] for words in sentences]


def windows(rows: np.ndarray, reach: int = 2) -> np.ndarray:
    """Each step's features beside those of its ``reach`` neighbours on each side (edges repeated): ``(T, F)`` →
    ``(T, (2 reach + 1) F)``."""
    padded = np.concatenate([np.repeat(rows[:1], reach, 0), rows, np.repeat(rows[-1:], reach, 0)])
    return np.concatenate([padded[i : i + len(rows)] for i in range(2 * reach + 1)], axis=1)


class StepLogistic:
    def __init__(self, train: Tagged, seed: int = 0) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x = np.concatenate([windows(np.asarray(s, dtype=np.float64)) for s in train.steps])
        y = np.concatenate([np.asarray(t) for t in train.tags])
        self.model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, class_weight="balanced",
                                                                        random_state=seed))  # fmt: skip
        self.model.fit(x, y)

    def predict(self, sequences: list[np.ndarray]) -> list[list[str]]:
        return [list(self.model.predict(windows(np.asarray(s, dtype=np.float64)))) for s in sequences]


def baselines_for(train: Tagged) -> dict:
    """The baselines that fit the data: text → most frequent tag and the perceptron; numeric → logistic regression."""
    if train.numeric:
        return {"logistic regression (window 5)": StepLogistic(train)}
    return {"most frequent tag": MostFrequentTag(train), "averaged perceptron (NLTK)": Perceptron(train)}
