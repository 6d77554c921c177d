# %% [markdown]
# # Spoken words: a recurrent network over log-mel frames, trained on synthetic voices, tested on a human speaker
#
# Audio becomes 100 frames a second of 40 log-mel energies; a bidirectional GRU reads them and names the word. The
# training voices are synthetic: flite's (made from recordings of people) and espeak-ng's (accents, variants), at
# random speeds and pitches; the test is a real speaker recorded at 8 kHz (Asterisk's prompts), never heard in
# training. Needs `apt-get install espeak-ng flite asterisk-core-sounds-en-wav` (without flite, espeak-ng's voices
# alone, and a real voice is recognised much less well).

# %%
import sys

import numpy as np
from _shared import SMALL, run_dir, save

from rnnlab import TrainConfig
from rnnlab.data import speech
from rnnlab.data.audio import features, log_mel, read_wav
from rnnlab.models.speech import SpeechConfig
from rnnlab.models.speech_fit import WordRecognizer
from rnnlab.tasks.speech import clean_and_noisy, waveforms

if not (speech.have_espeak() and speech.have_asterisk()):
    print("skipped: needs apt-get install espeak-ng asterisk-core-sounds-en-wav")
    sys.exit(0)
words = speech.DIGITS[:4] if SMALL else speech.WORDS
train = speech.synthetic("train", words=words, log=lambda *_: None)
validation = speech.synthetic("validation", words=words, log=lambda *_: None)
real = speech.asterisk()
keep = [i for i, w in enumerate(real.labels) if w in words]
rng = np.random.default_rng(0)
recognizer = WordRecognizer(SpeechConfig(hidden_size=32 if SMALL else 128),
                            TrainConfig(epochs=2 if SMALL else 4, lr=2e-3, patience=4, progress=False))  # fmt: skip
recognizer.fit(clean_and_noisy(waveforms(train), rng), train.labels,
               [features(read_wav(p)) for p in validation.paths], validation.labels,
               run_dir=run_dir("speech"), log=lambda *_: None)  # fmt: skip
predicted, _ = recognizer.predict([features(read_wav(real.paths[i])) for i in keep])
gold = [real.labels[i] for i in keep]
print(f"real speaker: {np.mean([p == g for p, g in zip(predicted, gold)]):.3f} of {len(gold)} words right")
for p, g in zip(predicted, gold):
    print(f"  said {g:9} heard {p}")

import matplotlib.pyplot as plt  # noqa: E402

figure, axis = plt.subplots(figsize=(6, 3))
axis.imshow(log_mel(read_wav(real.paths[keep[0]])).T, origin="lower", aspect="auto", cmap="magma")
axis.set_title(f"log-mel frames of a human saying '{gold[0]}'")
save(figure, "speech_logmel.png")
