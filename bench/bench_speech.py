"""Issue 20's table: word accuracy of the GRU and the LSTM recognisers beside DTW 1-NN, on the same clips, over seeds.

    python bench/bench_speech.py                      # 3 seeds × (GRU, LSTM): about 45 minutes on 2 cores
    python bench/bench_speech.py --seeds 0 --cells gru
    python bench/bench_speech.py --seeds 0 --cells gru --hold-out festival+ked --label-smoothing 0   # a new voice

Per seed, exactly what ``rnnlab speech train --cell CELL --seed SEED`` does for the recogniser (the same clips, the
same noisy copies, the same training settings; no spotter), so the GRU row at seed 0 is the README's figure. The
peer, measured in the same run: DTW 1-nearest-neighbour on MFCCs against 10 training clips per word
(:class:`rnnlab.models.speech_baselines.DTWNearest`). Also printed: the cells' average (their probabilities
averaged), an ensemble a user can build from two runs.

``--hold-out VOICE`` is the development check for choices meant to carry over to a voice never heard: every clip of
the training voices whose name contains VOICE (``festival+ked``, ``flite+slt``) leaves training and validation and
becomes one more test set, "held-out voice" (its 24 training and 2 validation draws per word, clean). Choices are
made on it, never on the real speaker. Needs espeak-ng, flite, festival (festvox-kdlpc16k) and
asterisk-core-sounds-en-wav.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnlab.models.speech import SpeechConfig
from rnnlab.models.speech_baselines import DTWNearest
from rnnlab.models.speech_fit import RECOGNIZER_TRAINING, WordRecognizer
from rnnlab.tasks.speech import prepare


def one_seed(seed: int, cells: list[str], hold_out: str | None = None,
             label_smoothing: float | None = None) -> dict[str, dict[str, float]]:  # fmt: skip
    """{model: {test set: accuracy}} for one seed."""
    sets = prepare("builtin", SpeechConfig(), seed, np.random.default_rng(seed), log=lambda message: None)
    train_frames, train_labels = sets.train_frames, sets.train.labels
    validation_frames, validation_labels = sets.validation_frames, sets.validation.labels
    test_frames = dict(sets.test_frames)
    gold = {name: np.array(clips.labels) for name, clips in sets.tests.items()}
    if hold_out:
        held = [hold_out in voice for voice in sets.train.voices]
        held_validation = [hold_out in voice for voice in sets.validation.voices]
        if not any(held):
            raise SystemExit(f"--hold-out {hold_out}: no training voice has that in its name "
                             f"(they are {', '.join(sorted(set(sets.train.voices)))})")  # fmt: skip
        test_frames["held-out voice"] = ([clean for (clean, _), h in zip(train_frames, held) if h]
                                         + [f for f, h in zip(validation_frames, held_validation) if h])  # fmt: skip
        gold["held-out voice"] = np.array([w for w, h in zip(train_labels, held) if h]
                                          + [w for w, h in zip(validation_labels, held_validation) if h])  # fmt: skip
        train_frames, train_labels = _keep(train_frames, held), _keep(train_labels, held)
        validation_frames = _keep(validation_frames, held_validation)
        validation_labels = _keep(validation_labels, held_validation)
    smoothing = {} if label_smoothing is None else {"label_smoothing": label_smoothing}
    rows, probabilities = {}, {}
    for cell in cells:
        started = time.perf_counter()
        recognizer = WordRecognizer(SpeechConfig(cell=cell, spotter_hidden=0, **smoothing),
                                    dataclasses.replace(RECOGNIZER_TRAINING, seed=seed))  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            recognizer.fit(train_frames, train_labels, validation_frames, validation_labels, run_dir=folder,
                           log=lambda message: None)  # fmt: skip
        rows[cell], probabilities[cell] = {}, {}
        for name, frames in test_frames.items():
            predicted, probabilities[cell][name] = recognizer.predict(frames)
            rows[cell][name] = float(np.mean(np.array(predicted) == gold[name]))
        print(f"  seed {seed}, {cell}: trained in {(time.perf_counter() - started) / 60:.1f} min", flush=True)
    if len(cells) > 1:
        words = np.array(recognizer.words)
        name = " + ".join(cells) + " (average)"
        rows[name] = {test: float(np.mean(words[np.mean([probabilities[c][test] for c in cells], axis=0).argmax(1)]
                                          == gold[test]))
                      for test in test_frames}  # fmt: skip
    dtw = DTWNearest([clean for clean, _ in train_frames], train_labels, seed=seed)
    rows["DTW 1-NN"] = {name: float(np.mean(np.array(dtw.predict(frames)) == gold[name]))
                        for name, frames in test_frames.items()}  # fmt: skip
    return rows


def _keep(items: list, dropped: list[bool]) -> list:
    return [item for item, drop in zip(items, dropped) if not drop]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cells", nargs="+", default=["gru", "lstm"])
    parser.add_argument("--hold-out", default=None, help="train without the voices whose name contains this")
    parser.add_argument("--label-smoothing", type=float, default=None, help="default: the recogniser's")
    args = parser.parse_args()
    results = {}
    for seed in args.seeds:
        results[seed] = one_seed(seed, args.cells, args.hold_out, args.label_smoothing)
        tests = list(next(iter(results[seed].values())))
        print(f"seed {seed}: " + "; ".join(f"{model} " + " / ".join(f"{row[t]:.2%}" for t in tests)
                                           for model, row in results[seed].items()), flush=True)  # fmt: skip
    tests = list(next(iter(results[args.seeds[0]].values())))
    models = list(results[args.seeds[0]])
    print(f"\nword accuracy, mean over seeds {', '.join(map(str, args.seeds))} (each seed in brackets)")
    print(f"{'':24}" + "".join(f"{t[:34]:>40}" for t in tests))
    for model in models:
        cells = []
        for test in tests:
            values = [results[s][model][test] for s in args.seeds]
            cells.append(f"{np.mean(values):.2%} (" + " ".join(f"{v:.1%}" for v in values) + ")")
        print(f"{model:24}" + "".join(f"{c:>40}" for c in cells))


if __name__ == "__main__":
    main()
