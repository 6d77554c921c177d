r"""Audio in: WAV files read, made mono, resampled, trimmed, and turned into normalised log-mel frames.

Everything runs at 8 kHz (telephone band: the real test recordings are 8 kHz), with librosa:

.. math::
    S = \mathrm{mel}_{40}\big(|\mathrm{STFT}_{256,\,80}(x)|^2\big),\qquad
    F_{t,b} = \frac{\log(S_{t,b} + 10^{-6}) - \mu_b}{\sigma_b}

a 32 ms window every 10 ms, 40 mel bands up to 4 kHz, smoothed across bands by keeping 13 cepstral coefficients
(:func:`smooth_bands`), each band standardised over the utterance (cepstral mean and variance normalisation, so a
recording's level and channel colour do not matter). For streaming, :class:`FrameStream` computes the same frames one
hop at a time, smoothed the same way, with running (exponential) band statistics in place of the utterance's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.errors import RnnlabError

RATE = 8000
N_FFT, HOP, N_MELS = 256, 80, 40
SILENT = 1e-4  # peak amplitude below which a recording holds nothing
STREAM_FRAMES = "log-mel, 13 cepstra kept, running band statistics"  # what FrameStream computes (kept by checkpoints)


def read_wav(path: str | Path) -> np.ndarray:
    """Samples of a WAV file as float32 mono at :data:`RATE`; one-line errors for a missing, non-audio, empty or
    silent file."""
    import soundfile

    path = Path(path)
    if not path.exists():
        raise RnnlabError(f"{path}: file not found")
    if path.is_dir():
        raise RnnlabError(f"{path} is a folder; expected a WAV file")
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:  # not audio: soundfile names the reason
        raise RnnlabError(f"{path} is not a readable audio file ({str(exc).splitlines()[0]})") from None
    if samples.size == 0:
        raise RnnlabError(f"{path} holds no audio samples")
    mono = samples.mean(axis=1)
    if not np.isfinite(mono).all() or np.abs(mono).max() < SILENT:
        raise RnnlabError(f"{path} is silent (peak {np.abs(mono).max():.1e}); expected a recording of speech")
    return resample(mono, rate)


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    import librosa

    if rate == RATE:
        return samples.astype(np.float32)
    return librosa.resample(samples.astype(np.float32), orig_sr=rate, target_sr=RATE, res_type="soxr_hq")


def trim(samples: np.ndarray, top_db: float = 40.0) -> np.ndarray:
    """The samples from the first to the last frame within ``top_db`` of the loudest (silence around a word cut).
    40 dB keeps a person's weak consonants (the s of "six", the k of "kilo"), which 30 dB cut off."""
    import librosa

    trimmed, _ = librosa.effects.trim(samples, top_db=top_db, frame_length=N_FFT, hop_length=HOP)
    return trimmed if len(trimmed) >= N_FFT else samples


def log_mel(samples: np.ndarray) -> np.ndarray:
    """Log-mel energies ``(T, 40)``, not normalised."""
    import librosa

    if len(samples) < N_FFT:
        samples = np.pad(samples, (0, N_FFT - len(samples)))
    power = librosa.feature.melspectrogram(y=samples, sr=RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS,
                                           fmax=RATE / 2, center=False)  # fmt: skip
    return np.log(power.T + 1e-6).astype(np.float32)


def normalise(frames: np.ndarray) -> np.ndarray:
    """Each band standardised over the utterance ``(T, B)`` → ``(T, B)``."""
    return ((frames - frames.mean(axis=0)) / (frames.std(axis=0) + 1e-3)).astype(np.float32)


def smooth_bands(frames: np.ndarray, keep: int = 13) -> np.ndarray:
    """Each frame's log-mel spectrum smoothed across bands by keeping its first ``keep`` cepstral coefficients (the
    DCT-II that makes MFCCs, then its inverse): the envelope (formants) stays, the pitch harmonics go, which makes
    the frames less about the voice and more about the word."""
    from scipy.fft import dct, idct

    cepstrum = dct(frames, type=2, norm="ortho", axis=1)
    cepstrum[:, keep:] = 0.0
    return idct(cepstrum, type=2, norm="ortho", axis=1).astype(np.float32)


def word_frames(samples: np.ndarray) -> np.ndarray:
    """Frames of trimmed samples: log-mel, smoothed across bands, normalised ``(T, 40)``."""
    return normalise(smooth_bands(log_mel(samples)))


def features(samples: np.ndarray, *, trim_silence: bool = True) -> np.ndarray:
    """A word's frames: trimmed, log-mel, smoothed across bands, normalised ``(T, 40)``."""
    return word_frames(trim(samples) if trim_silence else samples)


class FrameStream:
    """The same frames, one hop at a time, for a recording that arrives in pieces: log-mel, smoothed across bands
    (:func:`smooth_bands`, frame by frame), each band standardised with exponential running statistics (time
    constant ``seconds``) instead of the whole utterance's."""

    def __init__(self, seconds: float = 3.0) -> None:
        import librosa

        self.filters = librosa.filters.mel(sr=RATE, n_fft=N_FFT, n_mels=N_MELS, fmax=RATE / 2).astype(np.float32)
        self.window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann, as librosa's STFT
        self.buffer = np.zeros(0, dtype=np.float32)
        self.decay = 1.0 - 1.0 / (seconds * RATE / HOP)
        self.mean: np.ndarray | None = None
        self.var: np.ndarray | None = None

    def push(self, samples: np.ndarray) -> np.ndarray:
        """New samples in; the frames they complete out ``(n, 40)``, normalised with the running statistics."""
        self.buffer = np.concatenate([self.buffer, np.asarray(samples, dtype=np.float32)])
        count = max(0, (len(self.buffer) - N_FFT) // HOP + 1)
        if count == 0:
            return np.zeros((0, N_MELS), dtype=np.float32)
        index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
        spectrum = np.abs(np.fft.rfft(self.buffer[index] * self.window, axis=1)) ** 2  # (n, N_FFT/2 + 1)
        frames = smooth_bands(np.log(spectrum @ self.filters.T + 1e-6)).astype(np.float64)  # (n, 40)
        self.buffer = self.buffer[HOP * count :]
        if self.mean is None:
            self.mean, self.var = frames[0].copy(), np.ones(N_MELS)
        mean = self._smooth(frames, self.mean)  # m_t = d m_{t-1} + (1 - d) x_t
        var = self._smooth((frames - mean) ** 2, self.var)  # v_t = d v_{t-1} + (1 - d) (x_t - m_t)²
        self.mean, self.var = mean[-1], var[-1]
        return ((frames - mean) / (np.sqrt(var) + 1e-3)).astype(np.float32)

    def _smooth(self, values: np.ndarray, previous: np.ndarray) -> np.ndarray:
        from scipy.signal import lfilter

        smoothed, _ = lfilter([1 - self.decay], [1, -self.decay], values, axis=0, zi=(self.decay * previous)[None])
        return smoothed


def stream_features(samples: np.ndarray, seconds: float = 3.0) -> np.ndarray:
    """A whole recording through :class:`FrameStream` (what ``watch`` computes as audio arrives)."""
    return FrameStream(seconds).push(samples)
