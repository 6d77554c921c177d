"""Training and using the speech models: :class:`WordRecognizer` (isolated words) and :class:`WordSpotter` (words in
a running stream), both through :func:`rnnlab.train.fit`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.checkpoint import fingerprint, load_checkpoint, load_error, save_checkpoint, strip_prefix, with_prefix
from rnnlab.data.audio import STREAM_FRAMES
from rnnlab.errors import RnnlabError
from rnnlab.models.speech import BACKGROUND, HOLD, SpeechConfig, SpotterNet, WordNet, augment, augment_bands, pad
from rnnlab.train import FitResult, TrainConfig, fit

RECOGNIZER_TRAINING = TrainConfig(epochs=12, lr=2e-3, patience=4, lr_patience=2, progress=False)  # the defaults


class WordRecognizer:
    """Isolated words: frames of a clip in, the word out.

    >>> recognizer = WordRecognizer(SpeechConfig()).fit(train_frames, train_words, val_frames, val_words, run_dir=".")
    >>> recognizer.predict([features(read_wav("seven.wav"))])   # (['seven'], probabilities (1, words))
    """

    def __init__(self, config: SpeechConfig | None = None, train_config: TrainConfig | None = None) -> None:
        self.config = config or SpeechConfig()
        self.train_config = train_config or RECOGNIZER_TRAINING
        self.words: list[str] = []
        self.net: WordNet | None = None
        self.result: FitResult | None = None

    def fit(self, train: list[tuple[np.ndarray, np.ndarray]], labels: list[str], validation: list[np.ndarray],
            validation_labels: list[str], *, run_dir: str | Path, resume: bool = False,
            log=print) -> WordRecognizer:  # fmt: skip
        """``train``: per clip, its clean and its noisy frames; ``validation``: frames."""
        self.words = sorted(set(labels))
        torch.manual_seed(self.train_config.seed)
        self.net = WordNet(len(self.words), self.config)
        task = _WordTask(self, train, labels, validation, validation_labels)
        self.result = fit(self.net, task, self.train_config, run_dir, metadata=self.metadata(), resume=resume, log=log)
        self.net.eval()
        return self

    def predict(self, frames: list[np.ndarray], batch_size: int = 128) -> tuple[list[str], np.ndarray]:
        """The word of each clip and the probabilities of every word ``(N, words)``."""
        if self.net is None:
            raise RnnlabError("this recogniser is not trained yet: call fit() first, or WordRecognizer.load(path)")
        self.net.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(frames), batch_size):
                batch, lengths = pad(frames[start : start + batch_size])
                out.append(torch.softmax(self.net(batch, lengths), dim=1).numpy())
        probabilities = np.concatenate(out) if out else np.zeros((0, len(self.words)))
        return [self.words[k] for k in probabilities.argmax(1)], probabilities

    def metadata(self) -> dict[str, Any]:
        return {"task": "speech", "speech": asdict(self.config), "words": self.words}

    def save(self, path: str | Path) -> None:
        save_checkpoint(path, with_prefix("model", self.net.state_dict()), self.metadata())

    @classmethod
    def load(cls, path: str | Path) -> WordRecognizer:
        tensors, metadata = load_checkpoint(path, task="speech")
        try:
            recognizer = cls(SpeechConfig(**metadata["speech"]))
            recognizer.words = metadata["words"]
            recognizer.net = WordNet(len(recognizer.words), recognizer.config)
            recognizer.net.load_state_dict(strip_prefix("model", tensors))
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:  # e.g. a recogniser of an earlier layout
            raise RnnlabError(f"{path} does not hold a usable word recogniser: {load_error(exc)}") from exc
        recognizer.net.eval()
        return recognizer


class _WordTask:
    def __init__(self, recognizer: WordRecognizer, train, labels, validation, validation_labels) -> None:
        self.recognizer, self.train, self.validation = recognizer, train, validation
        index = {w: i for i, w in enumerate(recognizer.words)}
        self.targets = torch.tensor([index[w] for w in labels])
        self.validation_targets = np.array([index[w] for w in validation_labels])
        self.rng = np.random.default_rng(recognizer.train_config.seed)

    def fingerprint(self) -> str:
        return fingerprint(self.targets, *[torch.from_numpy(c[:1]) for c, _ in self.train[:500]])

    def batches(self, epoch: int, generator: torch.Generator):
        order = torch.randperm(len(self.train), generator=generator).tolist()
        size = self.recognizer.config.batch_size
        return [order[i : i + size] for i in range(0, len(order), size)]

    def loss(self, model: nn.Module, batch: list[int], state: Any) -> tuple[Tensor, None]:
        frames = []
        for i in batch:
            clean, noisy = self.train[i]
            chosen = noisy if self.rng.random() < 0.5 else clean
            frames.append(augment(chosen, self.rng) if self.recognizer.config.augment else chosen)
        inputs, lengths = pad(frames)
        targets, smoothing = self.targets[batch], self.recognizer.config.label_smoothing
        return nn.functional.cross_entropy(model(inputs, lengths), targets, label_smoothing=smoothing), None

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Cross-entropy and accuracy on the validation clips (the loss keeps falling when accuracy is 100%)."""
        _, probabilities = self.recognizer.predict(self.validation)
        gold = self.validation_targets
        loss = float(-np.mean(np.log(probabilities[np.arange(len(gold)), gold] + 1e-12)))
        accuracy = float(np.mean(probabilities.argmax(1) == gold))
        return {"val_loss": loss, "val_accuracy": accuracy}

    def batch_size(self, batch: list[int]) -> int:
        return len(batch)


class WordSpotter:
    """Words in a stream: per frame, the probability of each word having just been said (and of background)."""

    def __init__(self, hidden_size: int = 128, train_config: TrainConfig | None = None, augment: bool = True) -> None:
        self.hidden_size, self.augment = hidden_size, augment
        self.train_config = train_config or TrainConfig(epochs=40, lr=3e-3, patience=8, lr_patience=4, progress=False)
        self.classes: list[str] = []
        self.threshold = 0.5
        self.net: SpotterNet | None = None
        self.result: FitResult | None = None

    def fit(self, streams: list[tuple[np.ndarray, np.ndarray]], validation: list[tuple[np.ndarray, np.ndarray, list]],
            words: list[str], *, run_dir: str | Path, resume: bool = False, log=print) -> WordSpotter:  # fmt: skip
        """``streams``: (frames ``(T, 40)``, frame targets ``(T,)`` indices into ``[background, *words]``);
        ``validation``: (frames, frame targets, events ``[(word, start frame, end frame), ...]``). Early stopping
        watches the validation frames' cross-entropy; the alert threshold is then chosen on the validation events."""
        self.classes = [BACKGROUND, *words]
        torch.manual_seed(self.train_config.seed)
        self.net = SpotterNet(len(self.classes), self.hidden_size)
        task = _SpotTask(self, streams, validation)
        self.result = fit(self.net, task, self.train_config, run_dir, metadata=self.metadata(), resume=resume, log=log)
        self.net.eval()
        self.threshold = choose_threshold(self, [(f, e) for f, _, e in validation])
        return self

    def posteriors(self, frames: np.ndarray) -> np.ndarray:
        """Per-frame probabilities ``(T, classes)`` of a whole stream (the same as stepping it frame by frame)."""
        with torch.no_grad():
            logits = self.net(torch.from_numpy(np.asarray(frames, dtype=np.float32))[None])[0]
        return torch.softmax(logits, dim=-1).numpy()

    def metadata(self) -> dict[str, Any]:
        return {"task": "speech-spotter", "classes": self.classes, "hidden_size": self.hidden_size,
                "threshold": self.threshold, "stream_frames": STREAM_FRAMES}  # fmt: skip

    def save(self, path: str | Path) -> None:
        save_checkpoint(path, with_prefix("model", self.net.state_dict()), self.metadata())

    @classmethod
    def load(cls, path: str | Path) -> WordSpotter:
        tensors, metadata = load_checkpoint(path, task="speech-spotter")
        if metadata.get("stream_frames") != STREAM_FRAMES:  # it would run, on frames unlike those it learnt from
            raise RnnlabError(f"{path} holds a spotter trained on frames of an earlier layout "
                              f"({metadata.get('stream_frames', 'log-mel, not smoothed')}): train it again with "
                              "rnnlab speech train")  # fmt: skip
        try:
            spotter = cls(metadata["hidden_size"])
            spotter.classes, spotter.threshold = metadata["classes"], metadata["threshold"]
            spotter.net = SpotterNet(len(spotter.classes), spotter.hidden_size)
            spotter.net.load_state_dict(strip_prefix("model", tensors))
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise RnnlabError(f"{path} does not hold a usable word spotter: {load_error(exc)}") from exc
        spotter.net.eval()
        return spotter


class _SpotTask:
    def __init__(self, spotter: WordSpotter, streams, validation) -> None:
        self.spotter, self.streams, self.validation = spotter, streams, validation
        counts = np.bincount(np.concatenate([t for _, t in streams]), minlength=len(spotter.classes)) + 1
        self.weights = torch.tensor((counts.sum() / counts) ** 0.5, dtype=torch.float32)  # rare word frames count more
        self.weights /= self.weights.mean()
        self.rng = np.random.default_rng([spotter.train_config.seed, 1])

    def fingerprint(self) -> str:
        return fingerprint(*[torch.from_numpy(t) for _, t in self.streams[:200]])

    def batches(self, epoch: int, generator: torch.Generator):
        order = torch.randperm(len(self.streams), generator=generator).tolist()
        return [order[i : i + 16] for i in range(0, len(order), 16)]

    def loss(self, model: nn.Module, batch: list[int], state: Any) -> tuple[Tensor, None]:
        length = min(len(self.streams[i][0]) for i in batch)
        chosen = [self.streams[i][0][:length] for i in batch]
        if self.spotter.augment:
            chosen = [augment_bands(f, self.rng) for f in chosen]
        frames = torch.stack([torch.from_numpy(f) for f in chosen])  # (B, T, 40)
        targets = torch.stack([torch.from_numpy(self.streams[i][1][:length]) for i in batch]).long()
        logits = model(frames)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                           weight=self.weights), None  # fmt: skip

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        losses = []
        with torch.no_grad():
            for frames, targets, _ in self.validation:
                logits = model(torch.from_numpy(frames)[None])[0]
                losses.append(
                    nn.functional.cross_entropy(logits, torch.from_numpy(targets), weight=self.weights).item()
                )
        scores = spot_scores(self.spotter, [(f, e) for f, _, e in self.validation], threshold=0.5)
        return {"val_loss": float(np.mean(losses)), "val_recall": scores["recall"],
                "val_false_alarms_per_hour": scores["false_alarms_per_hour"]}  # fmt: skip

    def batch_size(self, batch: list[int]) -> int:
        return len(batch)


SMOOTH, REFRACTORY = 5, 100  # frames: the moving average of an alert, and the quiet time after one


def detections(probabilities: np.ndarray, threshold: float, refractory: int = REFRACTORY,
               smooth: int = SMOOTH) -> list[tuple]:  # fmt: skip
    """Alerts ``[(frame, class index, probability), ...]``: a word's probability, averaged over ``smooth`` frames,
    crossing ``threshold``; the same word is not announced again within ``refractory`` frames."""
    kernel = np.ones(smooth) / smooth
    alerts, last = [], {}
    for k in range(1, probabilities.shape[1]):
        smoothed = np.convolve(probabilities[:, k], kernel)[: len(probabilities)]  # causal moving average
        above = np.nonzero(smoothed >= threshold)[0]
        for frame in above:
            if frame - last.get(k, -(10**9)) >= refractory:
                alerts.append((int(frame), k, float(smoothed[frame])))
                last[k] = frame
    return sorted(alerts)


def spot_scores(spotter: WordSpotter, streams: list[tuple[np.ndarray, list]], threshold: float,
                keywords: list[str] | None = None) -> dict[str, float]:  # fmt: skip
    """Recall (a word said is announced between its start and :data:`HOLD` + 50 frames after its end) and false
    alarms per hour (announcements of a word not said then), averaged over ``keywords`` (default every word)."""
    keywords = keywords or spotter.classes[1:]
    wanted = {spotter.classes.index(k) for k in keywords}
    said = found = false = 0
    frames_total = 0
    for frames, events in streams:
        frames_total += len(frames)
        alerts = [a for a in detections(spotter.posteriors(frames), threshold) if a[1] in wanted]
        used = set()
        for word, start, end in events:
            if spotter.classes.index(word) not in wanted:
                continue
            said += 1
            match = [n for n, (f, k, _) in enumerate(alerts)
                     if spotter.classes[k] == word and start <= f <= end + HOLD + 50]  # fmt: skip
            if match:
                found += 1
                used.update(match)
        false += len(alerts) - len(used)
    hours = frames_total / 100 / 3600
    return {"recall": found / max(said, 1), "false_alarms_per_hour": false / max(hours, 1e-9) / len(wanted),
            "occurrences": said}  # fmt: skip


def choose_threshold(spotter: WordSpotter, validation, target_false_alarms: float = 1.0) -> float:
    """The lowest threshold whose false alarms per hour (per keyword, on validation) stay within the target."""
    for threshold in np.arange(0.3, 0.96, 0.05):
        if spot_scores(spotter, validation, float(threshold))["false_alarms_per_hour"] <= target_false_alarms:
            return float(round(threshold, 2))
    return 0.95
