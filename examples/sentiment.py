# %% [markdown]
# # Sentiment: a BiLSTM on sentence polarity, beside TF-IDF + logistic regression
#
# 10,662 movie-review sentences (Pang & Lee's rt-polarity, from ../shared/data). The network reads the words with a
# bidirectional LSTM; rnnlab blends it with a word and character n-gram model (the wide branch) and always prints the
# TF-IDF baseline on the same split. Without ../shared, a tiny built-in stand-in keeps the example runnable.

# %%
from pathlib import Path

import numpy as np
from _shared import SMALL, run_dir

from rnnlab import TextClassifier, TrainConfig

shared = Path(__file__).resolve().parents[2] / "shared" / "data"
if (shared / "rt-polarity.pos").exists():
    texts, labels = [], []
    for name in ("pos", "neg"):
        lines = (shared / f"rt-polarity.{name}").read_text(encoding="latin-1").splitlines()
        texts += lines
        labels += [name] * len(lines)
else:
    texts = ["a warm , funny film", "dull and far too long", "a delight", "a mess"] * 50
    labels = ["pos", "neg", "pos", "neg"] * 50
order = np.random.default_rng(0).permutation(len(texts))[: 1200 if SMALL else None]
texts, labels = [texts[i] for i in order], [labels[i] for i in order]
cut = int(len(texts) * 0.9)

classifier = TextClassifier()
classifier.fit(texts[:cut], labels[:cut], run_dir=run_dir("sentiment"), log=lambda *_: None,
               train_config=TrainConfig(epochs=1 if SMALL else 8, progress=False))  # fmt: skip
for model in ("network", "best"):
    predicted = classifier.predict(texts[cut:], model=model)
    print(f"{model:8} accuracy on {len(texts) - cut} held-out sentences: "
          f"{np.mean([p == g for p, g in zip(predicted, labels[cut:])]):.3f}")  # fmt: skip
print(classifier.predict(["an utterly charming and clever film", "a tedious, lifeless mess"]))
