r"""Spoken words from log-mel frames: a bidirectional recogniser for isolated words, and a unidirectional spotter that
hears words in a running stream (wake words).

Recogniser: frames :math:`x_{1..T}` (40 bands) → a bidirectional GRU/LSTM → its outputs' mean and maximum over time,
the forward direction's last output :math:`\overrightarrow{h}_T` and the backward direction's first
:math:`\overleftarrow{h}_1` (each has read the whole word, ending at its edges: the consonants a person says
softly) → softmax over the words.

Spotter: the same frames, normalised with running statistics (:class:`rnnlab.data.audio.FrameStream`) → a
unidirectional GRU → a softmax per frame over the words and ``<background>``; a word's class is the target for the
:data:`HOLD` frames after it ends, so the spotter fires once it has heard the whole word, and it runs one frame at a
time with its state carried (:class:`rnnlab.nn.stream.Stepper`). Its streams are stretched in frequency and masked
in bands afresh every epoch, as the recogniser's clips are (not in time: the targets are tied to the frames).

Augmentation, drawn afresh every epoch (the voices to generalise from are synthetic): each clip is used clean or with
noise mixed in at an SNR drawn from ``noise_snr`` (5–30 dB by default; precomputed), stretched in time by 0.8–1.25
and in frequency by 0.88–1.12 (a crude vocal-tract-length change), with SpecAugment's masks: up to two bands of up to
6 mel channels and two spans of up to 8 frames (Park et al. 2019).

Label smoothing (Szegedy et al. 2016): the recogniser learns towards :math:`q = (1 - \varepsilon)\,\mathrm{onehot}(y) +
\varepsilon / K` over the :math:`K` words (:math:`\varepsilon = 0.1`), so it is not pushed to certainty about the few
voices it hears. Trained without one recorded voice (festival's ``ked`` or flite's ``slt``, seeds 0 and 1), it
recognised 80.1% of that voice's words on average, against 74.2% without smoothing (``bench/bench_speech.py
--hold-out``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.nn import LAYERS, checks

BACKGROUND = "<background>"
HOLD = 25  # frames (0.25 s) after a word ends during which the spotter should name it


@dataclass(frozen=True)
class SpeechConfig:
    cell: str = "gru"
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.3
    spotter_hidden: int = 128  # the unidirectional spotter's width (0: no spotter)
    batch_size: int = 64
    augment: bool = True
    noise_snr: tuple[float, float] = (5.0, 30.0)  # dB: each training clip's noisy copy has an SNR drawn from here
    label_smoothing: float = 0.1  # the recogniser's target: 1 - ε on the word said, ε spread over every word

    def __post_init__(self) -> None:
        checks.one_of("cell", self.cell, tuple(LAYERS))
        for name in ("hidden_size", "num_layers", "batch_size"):
            checks.positive_int(name, getattr(self, name))
        try:
            low, high = (float(v) for v in self.noise_snr)
        except (TypeError, ValueError):
            low = high = float("nan")
        if not (np.isfinite(low) and np.isfinite(high) and low <= high):
            raise ValueError(f"noise_snr must be two finite decibel values, the lower first; got {self.noise_snr!r}")
        object.__setattr__(self, "noise_snr", (low, high))  # a JSON list back to a tuple
        if not isinstance(self.spotter_hidden, int) or self.spotter_hidden < 0:
            raise ValueError(f"spotter_hidden must be a whole number ≥ 0 (0: no spotter), got {self.spotter_hidden!r}")
        checks.dropout_probability(self.dropout)
        checks.in_unit_interval("label_smoothing", self.label_smoothing, "in [0, 1) (0: none)")


def pad(frames: list[np.ndarray]) -> tuple[Tensor, Tensor]:
    """A list of ``(T_i, 40)`` → a padded batch ``(B, T, 40)`` and the lengths ``(B,)``."""
    lengths = torch.tensor([len(f) for f in frames])
    batch = torch.zeros(len(frames), int(lengths.max()), frames[0].shape[1])
    for row, f in enumerate(frames):
        batch[row, : len(f)] = torch.from_numpy(np.asarray(f, dtype=np.float32))
    return batch, lengths


class WordNet(nn.Module):
    """``(B, T, 40)`` frames and lengths → ``(B, words)`` logits."""

    def __init__(self, n_words: int, config: SpeechConfig, n_bands: int = 40) -> None:
        super().__init__()
        between = config.dropout if config.num_layers > 1 else 0.0  # dropout between stacked layers
        self.rnn = LAYERS[config.cell](n_bands, config.hidden_size, num_layers=config.num_layers, batch_first=True,
                                       bidirectional=True, dropout=between)  # fmt: skip
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(6 * config.hidden_size, n_words)

    def forward(self, frames: Tensor, lengths: Tensor) -> Tensor:
        outputs, _ = self.rnn(frames, lengths=lengths)  # (B, T, 2H), zero past each length
        size = outputs.shape[-1] // 2
        mask = (torch.arange(frames.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)  # (B, T, 1)
        mean = outputs.sum(1) / lengths[:, None].to(outputs)  # (B, 2H)
        peak = outputs.masked_fill(~mask, float("-inf")).amax(1)  # (B, 2H)
        forward_last = outputs[torch.arange(len(lengths)), lengths - 1, :size]  # (B, H): at each clip's own end
        backward_first = outputs[:, 0, size:]  # (B, H)
        return self.output(self.dropout(torch.cat([mean, peak, forward_last, backward_first], dim=1)))


class SpotterNet(nn.Module):
    """``(B, T, 40)`` running-normalised frames → ``(B, T, words + 1)`` logits, reading forward only."""

    def __init__(self, n_classes: int, hidden_size: int, n_bands: int = 40) -> None:
        super().__init__()
        self.rnn = LAYERS["gru"](n_bands, hidden_size, num_layers=1, batch_first=True)
        self.output = nn.Linear(hidden_size, n_classes)

    def forward(self, frames: Tensor) -> Tensor:
        outputs, _ = self.rnn(frames)
        return self.output(outputs)


# ----- augmentation ----------------------------------------------------------------------------------------------
def stretch(frames: np.ndarray, time_factor: float, band_factor: float) -> np.ndarray:
    """Frames resampled along time by ``time_factor`` and along the mel axis by ``band_factor`` (linear
    interpolation; bands beyond the top repeat the last)."""
    steps, bands = frames.shape
    new_steps = max(2, round(steps * time_factor))
    t_source = np.linspace(0, steps - 1, new_steps)
    along_time = np.stack([np.interp(t_source, np.arange(steps), frames[:, b]) for b in range(bands)], axis=1)
    b_source = np.clip(np.arange(bands) / band_factor, 0, bands - 1)
    low = np.floor(b_source).astype(int)
    high = np.minimum(low + 1, bands - 1)
    weight = b_source - low
    return (along_time[:, low] * (1 - weight) + along_time[:, high] * weight).astype(np.float32)


def augment(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random variant of a clip's frames: stretched in time and frequency, with SpecAugment masks."""
    out = mask_bands(stretch(frames, rng.uniform(0.8, 1.25), rng.uniform(0.88, 1.12)), rng)
    for _ in range(rng.integers(0, 3)):
        width = min(int(rng.integers(1, 9)), max(1, out.shape[0] // 4))
        start = rng.integers(0, max(1, out.shape[0] - width))
        out[start : start + width] = 0.0
    return out


def augment_bands(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A stream's frames stretched in frequency only, with band masks (its time axis carries the spotter's targets)."""
    return mask_bands(stretch(frames, 1.0, rng.uniform(0.88, 1.12)), rng)


def mask_bands(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Up to two bands of up to 6 mel channels zeroed, in place ``(T, 40)``."""
    for _ in range(rng.integers(0, 3)):
        width = rng.integers(1, 7)
        start = rng.integers(0, frames.shape[1] - width)
        frames[:, start : start + width] = 0.0
    return frames


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator, colour: str = "white") -> np.ndarray:
    """``samples`` with Gaussian noise mixed in at ``snr_db`` (pink: the spectrum falls as 1/f)."""
    noise = rng.standard_normal(len(samples))
    if colour == "pink":
        spectrum = np.fft.rfft(noise)
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
        noise = np.fft.irfft(spectrum, n=len(samples))
    signal_power = np.mean(samples.astype(np.float64) ** 2) + 1e-12
    noise *= np.sqrt(signal_power / (10 ** (snr_db / 10)) / (np.mean(noise**2) + 1e-12))
    return (samples + noise).astype(np.float32)


def config_dict(config: SpeechConfig) -> dict[str, Any]:
    return asdict(config)
