# %% [markdown]
# # Text generation: a character-level LSTM language model on Shakespeare
#
# The model predicts the next character from the ones before it, $p(x_{t+1} \mid x_{\le t})$; training minimises the
# cross-entropy in bits per character, and sampling feeds each drawn character back in with the state carried.
# Temperature below 1 sharpens the distribution (safer, more repetitive text); above 1 flattens it.

# %%
from _shared import SMALL, run_dir

from rnnlab import TrainConfig
from rnnlab.data.corpus import Corpus
from rnnlab.sampling import sample_text
from rnnlab.tasks.text import builtin_corpus_text, train_text

text, source = builtin_corpus_text()
corpus = Corpus.from_text(text[: 50_000 if SMALL else 1_000_000], source=source, level="char")
training = TrainConfig(epochs=1 if SMALL else 4, lr=3e-3, progress=False, max_seconds=15 if SMALL else 100)
model, summary = train_text(corpus, {"cell": "lstm", "hidden_size": 64 if SMALL else 256, "num_layers": 2}, training,
                            run_dir=run_dir("text"), log=lambda *_: None)  # fmt: skip
print(f"validation: {summary['val_bpc']:.3f} bits per character")
for temperature in (0.5, 1.0):
    print(f"--- temperature {temperature}")
    print(sample_text(model, corpus.vocab, corpus.level, "ROMEO:", 200, temperature=temperature, seed=0))
