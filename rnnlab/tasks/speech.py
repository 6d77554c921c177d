"""The speech jobs behind ``rnnlab speech train | evaluate | predict | watch``.

``train`` reads clips (the built-in synthetic voices and real recordings, :mod:`rnnlab.data.speech`, or a folder per
word), trains the bidirectional recogniser and, with it, the unidirectional spotter on streams made by joining clips
with noise; tests both beside dynamic time warping. The run folder gets ``best.safetensors`` (the recogniser),
``spotter.safetensors``, ``metrics.jsonl``, ``evaluation.json`` and ``report.html`` (the table, the confusion matrix,
per-word recall, and spectrograms of test clips with the spotter's running belief).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnnlab.checkpoint import atomic_write_text, run_folder
from rnnlab.data.audio import RATE, FrameStream, features, log_mel, read_wav, stream_features, trim, word_frames
from rnnlab.data.speech import Clips, asterisk, have_asterisk, read_clips, synthetic
from rnnlab.errors import RnnlabError
from rnnlab.models.speech import BACKGROUND, HOLD, SpeechConfig, add_noise
from rnnlab.models.speech_baselines import DTWNearest
from rnnlab.models.speech_fit import REFRACTORY, SMOOTH, WordRecognizer, WordSpotter, spot_scores
from rnnlab.train import TrainConfig

BUILTIN = "builtin"


# ----- data ------------------------------------------------------------------------------------------------------
def load_sets(data: str, seed: int = 0, log=print) -> tuple[Clips, Clips, dict[str, Clips]]:
    """(training, validation, {test name: clips}) for the built-in set or a user's folder/CSV (split 80/10/10,
    stratified by word)."""
    if data == BUILTIN:
        tests = {"synthetic, unseen voices": synthetic("test", seed=seed, log=log)}
        if have_asterisk():
            tests["real human speaker"] = asterisk()
        else:
            log("the real recordings (asterisk-core-sounds-en-wav) are not installed: testing on synthetic voices only")
        return synthetic("train", seed=seed, log=log), synthetic("validation", seed=seed, log=log), tests
    from sklearn.model_selection import train_test_split

    clips = read_clips(data)
    counts = {w: clips.labels.count(w) for w in set(clips.labels)}
    if len(counts) < 2 or min(counts.values()) < 3:
        raise RnnlabError(f"{data}: every word needs at least 3 clips and there must be 2 words or more; counts: "
                          f"{dict(sorted(counts.items()))}")  # fmt: skip
    index = np.arange(len(clips))
    rest, test = train_test_split(index, test_size=0.1, stratify=clips.labels, random_state=seed)
    train, validation = train_test_split(rest, test_size=0.11, stratify=[clips.labels[i] for i in rest],
                                         random_state=seed)  # fmt: skip

    def part(indices, name):
        return Clips([clips.paths[i] for i in indices], [clips.labels[i] for i in indices], f"{clips.source} {name}")

    return part(train, "train"), part(validation, "validation"), {"test": part(test, "test")}


def waveforms(clips: Clips) -> list[np.ndarray]:
    """Each clip read (8 kHz mono) and trimmed of the silence around the word."""
    return [trim(read_wav(path)) for path in clips.paths]


def clean_and_noisy(samples: list[np.ndarray], rng: np.random.Generator,
                    snr: tuple[float, float] = (5.0, 30.0)) -> list[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """Per clip: its frames, and the frames of a copy with white or pink noise at an SNR drawn from ``snr`` (dB)."""
    out = []
    for s in samples:
        noisy = add_noise(s, rng.uniform(*snr), rng, "pink" if rng.random() < 0.5 else "white")
        out.append((word_frames(s), word_frames(noisy)))
    return out


def make_streams(samples: list[np.ndarray], labels: list[str], classes: list[str], *, seconds: float, count: int,
                 rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, list]]:  # fmt: skip
    """Long recordings made by joining random clips with 0.3–1.5 s gaps over a noise bed (SNR 10–30 dB), at a random
    level: (frames ``(T, 40)`` as :class:`FrameStream` computes them, frame targets ``(T,)``, events
    ``[(word, start frame, end frame)]``)."""
    index = {c: i for i, c in enumerate(classes)}
    streams = []
    for _ in range(count):
        pieces, events, position = [], [], 0
        total = int(seconds * RATE)
        while True:
            gap = np.zeros(int(rng.uniform(0.3, 1.5) * RATE), dtype=np.float32)
            clip_index = int(rng.integers(len(samples)))
            clip = samples[clip_index] * np.float32(rng.uniform(0.3, 1.0) / (np.abs(samples[clip_index]).max() + 1e-6))
            if position + len(gap) + len(clip) > total:
                break
            pieces += [gap, clip]
            start = position + len(gap)
            events.append((labels[clip_index], start // 80, (start + len(clip)) // 80))
            position = start + len(clip)
        pieces.append(np.zeros(total - position, dtype=np.float32))
        audio = np.concatenate(pieces)
        speech_power = np.mean(np.concatenate([p for p in pieces[1::2]]) ** 2) if len(pieces) > 1 else 1e-4
        noise = rng.standard_normal(len(audio)).astype(np.float32)
        audio = audio + noise * np.float32(np.sqrt(speech_power / 10 ** (rng.uniform(10, 30) / 10)))
        frames = stream_features(audio)
        targets = np.zeros(len(frames), dtype=np.int64)
        for word, _, end in events:
            targets[end : end + HOLD] = index[word]
        streams.append((frames, targets, events))
    return streams


class Prepared(NamedTuple):
    """Every set a training run reads, as clips, as trimmed audio and as frames."""

    train: Clips
    validation: Clips
    tests: dict[str, Clips]
    train_audio: list[np.ndarray]
    validation_audio: list[np.ndarray]
    train_frames: list[tuple[np.ndarray, np.ndarray]]  # per clip: clean and noisy frames
    validation_frames: list[np.ndarray]
    test_frames: dict[str, list[np.ndarray]]


def prepare(data: str, config: SpeechConfig, seed: int, rng: np.random.Generator, log=print) -> Prepared:
    """The clips of a run read, trimmed and turned into frames; ``rng`` draws the training clips' noisy copies."""
    train, validation, tests = load_sets(data, seed, log)
    train_audio, validation_audio = waveforms(train), waveforms(validation)
    return Prepared(train, validation, tests, train_audio, validation_audio,
                    clean_and_noisy(train_audio, rng, config.noise_snr), [word_frames(s) for s in validation_audio],
                    {name: [features(read_wav(p)) for p in clips.paths] for name, clips in tests.items()})  # fmt: skip


# ----- jobs ------------------------------------------------------------------------------------------------------
def train_run(data: str, config: SpeechConfig, train_config: TrainConfig, *, run_dir: str | Path,
              keyword: str | None = None, test_minutes: float = 30.0, resume: bool = False,
              log=print) -> dict:  # fmt: skip
    run_dir = Path(run_dir)
    rng = np.random.default_rng(train_config.seed)
    started = time.perf_counter()
    train, validation, tests, train_audio, validation_audio, train_frames, validation_frames, test_frames = prepare(
        data, config, train_config.seed, rng, log
    )
    log(f"{train.source}: {len(train):,} training clips, {len(validation):,} validation, "
        + ", ".join(f"{len(c):,} {name}" for name, c in tests.items())
        + f"; {len(set(train.labels))} words; features in {time.perf_counter() - started:.0f} s")  # fmt: skip

    recognizer = WordRecognizer(config, train_config)
    recognizer.fit(train_frames, train.labels, validation_frames, validation.labels, run_dir=run_dir, resume=resume,
                   log=log)  # fmt: skip
    dtw = DTWNearest([clean for clean, _ in train_frames], train.labels, seed=train_config.seed)
    rows = {}
    for name, frames in test_frames.items():
        gold = tests[name].labels
        predicted, _ = recognizer.predict(frames)
        began = time.perf_counter()
        nearest = dtw.predict(frames)
        rows[name] = {f"rnnlab ({config.cell})": float(np.mean([p == g for p, g in zip(predicted, gold)])),
                      "DTW 1-NN (10 templates per word)": float(np.mean([p == g for p, g in zip(nearest, gold)])),
                      "dtw_seconds": time.perf_counter() - began, "predicted": predicted}  # fmt: skip

    spotting = {}
    if config.spotter_hidden:
        classes = [BACKGROUND, *recognizer.words]
        count = min(500, max(16, len(train) // 10))  # 8 s each: about 67 minutes of audio for 5,000 clips
        streams = make_streams(train_audio, train.labels, classes, seconds=8, count=count, rng=rng)
        validation_streams = make_streams(validation_audio, validation.labels, classes, seconds=8,
                                          count=max(8, count // 4), rng=rng)  # fmt: skip
        spotter_training = TrainConfig(epochs=40, lr=3e-3, patience=8, lr_patience=4, seed=train_config.seed,
                                       progress=train_config.progress)  # fmt: skip
        spotter = WordSpotter(config.spotter_hidden, spotter_training, augment=config.augment)
        log(f"spotter: {len(streams)} training streams of 8 s, {len(validation_streams)} for validation")
        spotter.fit([(f, t) for f, t, _ in streams], validation_streams, recognizer.words,
                    run_dir=run_dir / "spotter", resume=resume, log=log)  # fmt: skip
        spotter.save(run_dir / "spotter.safetensors")
        for name, clips in tests.items():
            audio = waveforms(clips)
            count = max(1, int(np.ceil(test_minutes * 60 / 8)))  # test_minutes of audio
            test_streams = make_streams(audio, clips.labels, classes, seconds=8, count=count, rng=rng)
            spotting[name] = spot_scores(spotter, [(f, e) for f, _, e in test_streams], spotter.threshold)
            if keyword:
                spotting[name]["keyword"] = {keyword: spot_scores(spotter, [(f, e) for f, _, e in test_streams],
                                                                  spotter.threshold, [keyword])}  # fmt: skip
    seconds = time.perf_counter() - started
    log(format_rows(rows, spotting, seconds))
    summary = {"data": data, "rows": {n: {k: v for k, v in r.items() if k != "predicted"} for n, r in rows.items()},
               "spotting": spotting, "training_seconds": seconds}  # fmt: skip
    atomic_write_text(run_dir / "evaluation.json", json.dumps(summary, indent=2) + "\n")
    _report(run_dir / "report.html", recognizer, tests, test_frames, rows, spotting, run_dir)
    log(f"run folder: {run_dir} (best.safetensors, spotter.safetensors, evaluation.json, report.html)")
    return summary


def format_rows(rows: dict, spotting: dict, seconds: float) -> str:
    names = list(rows)
    models = [k for k in next(iter(rows.values())) if k not in ("dtw_seconds", "predicted")]
    lines = [f"word accuracy (everything trained in {seconds / 60:.1f} min)",
             f"{'':34}" + "".join(f"{n[:28]:>30}" for n in names)]  # fmt: skip
    for model in models:
        lines.append(f"{model:34}" + "".join(f"{rows[n][model]:30.4f}" for n in names))
    for name, scores in spotting.items():
        lines.append(f"spotting every word in {name} streams ({scores['occurrences']:,} words said): recall "
                     f"{scores['recall']:.3f}, false alarms per hour per keyword "
                     f"{scores['false_alarms_per_hour']:.2f}")  # fmt: skip
        for word, keyword in scores.get("keyword", {}).items():
            lines.append(f"  keyword {word!r}: recall {keyword['recall']:.3f}, false alarms per hour "
                         f"{keyword['false_alarms_per_hour']:.2f} ({keyword['occurrences']} said)")  # fmt: skip
    return "\n".join(lines)


def evaluate_run(checkpoint: str | Path, *, data: str | None = None, log=print) -> dict[str, float]:
    """Word accuracy on a folder per word (or CSV of path,label), or on the built-in test sets."""
    recognizer = WordRecognizer.load(run_folder(checkpoint, "speech") / "best.safetensors")
    if data:
        tests = {"data": read_clips(data)}
    else:
        tests = {"synthetic, unseen voices": synthetic("test", log=log)}
        if have_asterisk():
            tests["real human speaker"] = asterisk()
    result = {}
    for name, clips in tests.items():
        unknown = sorted(set(clips.labels) - set(recognizer.words))
        if unknown:
            raise RnnlabError(f"{clips.source}: word {unknown[0]!r} is not one the model knows "
                              f"({len(recognizer.words)} words)")  # fmt: skip
        predicted, _ = recognizer.predict([features(read_wav(p)) for p in clips.paths])
        result[name] = float(np.mean([p == g for p, g in zip(predicted, clips.labels)]))
        log(f"{name}: word accuracy {result[name]:.4f} on {len(clips):,} clips")
    return result


def predict_run(checkpoint: str | Path, files: list[str], *, top: int = 3, log=print) -> list[str]:
    recognizer = WordRecognizer.load(run_folder(checkpoint, "speech") / "best.safetensors")
    words, probabilities = recognizer.predict([features(read_wav(f)) for f in files])
    for file, word, row in zip(files, words, probabilities):
        best = np.argsort(-row)[:top]
        log(f"{file}: {word}  (" + ", ".join(f"{recognizer.words[k]} {row[k]:.2f}" for k in best) + ")")
    return words


def watch_run(checkpoint: str | Path, audio: str, *, keyword: str | None = None, threshold: float | None = None,
              chunk_seconds: float = 0.1, log=print) -> list[tuple[float, str, float]]:  # fmt: skip
    """Read a recording in chunks as if it were arriving, step the spotter one frame at a time with its state
    carried, and print the times where a word (or only ``keyword``) is heard."""
    from rnnlab.nn.stream import Stepper

    folder = run_folder(checkpoint, "speech")
    if not (folder / "spotter.safetensors").exists():
        raise RnnlabError(f"{folder} has no spotter.safetensors: train with a spotter (--spotter-hidden > 0)")
    spotter = WordSpotter.load(folder / "spotter.safetensors")
    if keyword is not None and keyword not in spotter.classes[1:]:
        raise RnnlabError(f"keyword {keyword!r} is not one of the model's words: {', '.join(spotter.classes[1:])}")
    threshold = spotter.threshold if threshold is None else threshold
    samples = read_wav(audio)
    stepper = Stepper(spotter.net.rnn)
    weight = spotter.net.output.weight.detach().numpy()
    bias = spotter.net.output.bias.detach().numpy()
    stream = FrameStream()
    wanted = None if keyword is None else spotter.classes.index(keyword)
    alerts, recent, last, frame_number = [], [], {}, 0
    chunk = max(80, int(chunk_seconds * RATE))
    started = time.perf_counter()
    for start in range(0, len(samples), chunk):
        for frame in stream.push(samples[start : start + chunk]):
            logits = weight @ stepper.step(frame) + bias
            p = np.exp(logits - logits.max())
            p /= p.sum()
            recent = [*recent[1 - SMOOTH :], p]  # the causal moving average of :func:`detections` (zeros before
            smoothed = np.sum(recent, axis=0) / SMOOTH  # the first frame), so both give the same alerts
            for k in range(1, len(p)) if wanted is None else [wanted]:
                if smoothed[k] >= threshold and frame_number - last.get(k, -(10**9)) >= REFRACTORY:
                    last[k] = frame_number
                    at = (frame_number * 80 + 256) / RATE
                    alerts.append((at, spotter.classes[k], float(smoothed[k])))
                    log(f"{at:8.2f} s  {spotter.classes[k]}  ({smoothed[k]:.2f})")
            frame_number += 1
    seconds = time.perf_counter() - started
    log(f"{len(samples) / RATE:.1f} s of audio in {seconds:.2f} s ({len(samples) / RATE / max(seconds, 1e-9):.0f}× "
        f"real time), {len(alerts)} alert(s), threshold {threshold:.2f}")  # fmt: skip
    return alerts


# ----- report ----------------------------------------------------------------------------------------------------
def _report(path: Path, recognizer: WordRecognizer, tests: dict, test_frames: dict, rows: dict, spotting: dict,
            run_dir: Path) -> None:  # fmt: skip
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from rnnlab.inspection.plots import figure_png, training_curves
    from rnnlab.inspection.report import Report

    report = Report("speech: isolated words and spotting", config={"speech": recognizer.config.__dict__})
    names = list(rows)
    models = [k for k in rows[names[0]] if k not in ("dtw_seconds", "predicted")]
    report.table("word accuracy", ["", *names], [[m, *[rows[n][m] for n in names]] for m in models], {0})
    if spotting:
        header = ["test streams", "words said", "recall", "false alarms per hour per keyword"]
        body = [[n, s["occurrences"], s["recall"], s["false_alarms_per_hour"]] for n, s in spotting.items()]
        report.table("spotting (threshold chosen on validation streams)", header, body)
    if recognizer.result and recognizer.result.history:
        report.figure("training: loss and validation accuracy", figure_png(training_curves(recognizer.result.history)))
    last = names[-1]
    gold = tests[last].labels
    predicted = rows[last]["predicted"]
    words = recognizer.words
    matrix = confusion_matrix(gold, predicted, labels=words)
    figure, axis = plt.subplots(figsize=(9, 8))
    axis.imshow(matrix, cmap="Blues")
    axis.set_xticks(range(len(words)), words, rotation=90, fontsize=7)
    axis.set_yticks(range(len(words)), words, fontsize=7)
    axis.set_xlabel("predicted")
    axis.set_ylabel("said")
    axis.set_title(f"confusion matrix: {last}")
    figure.tight_layout()
    report.figure(f"confusion matrix, {last}", figure_png(figure))
    precision, recall, _, support = precision_recall_fscore_support(gold, predicted, labels=words, zero_division=0)
    body = [[w, float(p), float(r), int(s)] for w, p, r, s in zip(words, precision, recall, support)]
    report.table(f"per word, {last}", ["word", "precision", "recall", "clips"], body)
    spotter_path = run_dir / "spotter.safetensors"
    if spotter_path.exists():
        spotter = WordSpotter.load(spotter_path)
        clips = tests[last]
        figure, axes = plt.subplots(2, 3, figsize=(12, 5))
        for column, index in enumerate(range(0, len(clips), max(1, len(clips) // 3))[:3]):
            samples = read_wav(clips.paths[index])
            frames = stream_features(np.concatenate([np.zeros(RATE // 2, np.float32), samples]))
            probabilities = spotter.posteriors(frames)
            axes[0, column].imshow(log_mel(samples).T, origin="lower", aspect="auto", cmap="magma")
            axes[0, column].set_title(f"said: {clips.labels[index]}", fontsize=9)
            k = spotter.classes.index(clips.labels[index])
            axes[1, column].plot(probabilities[:, k], label=clips.labels[index])
            axes[1, column].plot(probabilities[:, 0], label="background", alpha=0.6)
            axes[1, column].axhline(spotter.threshold, color="k", lw=0.6, ls="--")
            axes[1, column].legend(fontsize=7)
        figure.tight_layout()
        report.figure("log-mel spectrograms of test clips, and the spotter's running belief as the audio arrives",
                      figure_png(figure))  # fmt: skip
    report.write(path)
