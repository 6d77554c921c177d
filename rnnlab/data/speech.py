"""Spoken words: a folder per word (or a CSV of path, label), and the built-in set made offline.

Built-in (``rnnlab speech train`` with no ``--data``), a vocabulary of 36 words: the ten digits and the 26 words of
the NATO alphabet.

- *Synthetic voices* from Debian's ``espeak-ng``: 8 English accents × voice variants × random speed and pitch
  (seeded). Accents and variants are split so that the test voices are never heard in training: training uses six
  accents with 24 variants, validation the same accents with two other variants, the synthetic test the two
  remaining accents (``en-029``, ``en-gb-x-gbcwmd``) with three further variants. The clips are cached as WAV files
  under ``~/.cache/rnnlab/speech`` (``RNNLAB_CACHE`` moves it): the same seed gives the same clips.
- *Real human speech* for the headline test: Debian's ``asterisk-core-sounds-en-wav`` (CC-BY-SA 3.0), 8 kHz
  recordings of one human speaker: ``digits/0.wav`` … ``9.wav`` and ``phonetic/a_p.wav`` … ``z_p.wav``.

Get both with ``apt-get install espeak-ng asterisk-core-sounds-en-wav`` (Debian, Ubuntu).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.errors import RnnlabError

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
NATO = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima",
        "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
        "xray", "yankee", "zulu")  # fmt: skip
WORDS = DIGITS + NATO
SPOKEN = {"juliett": "juliet", "xray": "x-ray"}  # what espeak reads for the word
TRAIN_ACCENTS = ("en-gb", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-us-nyc")
TEST_ACCENTS = ("en-029", "en-gb-x-gbcwmd")
TRAIN_VARIANTS = ("m1", "m2", "m3", "m6", "m8", "f1", "f2", "f3", "klatt", "klatt2", "klatt3", "Andy", "Annie",
                  "adam", "Alex", "Alicia", "Andrea", "aunty", "belinda", "benjamin", "caleb", "david", "ed",
                  "edward")  # fmt: skip
VALIDATION_VARIANTS = ("m4", "f4")
TEST_VARIANTS = ("m5", "f5", "m7")
ASTERISK = Path("/usr/share/asterisk/sounds/en")


@dataclass
class Clips:
    """Audio clips with their word: paths and labels, and where they came from."""

    paths: list[Path]
    labels: list[str]
    source: str
    voices: list[str] = field(default_factory=list)  # the synthetic voice of each clip, when known

    def __len__(self) -> int:
        return len(self.paths)


def cache_folder() -> Path:
    return Path(os.environ.get("RNNLAB_CACHE", Path.home() / ".cache" / "rnnlab")) / "speech"


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def have_asterisk() -> bool:
    return (ASTERISK / "digits" / "0.wav").is_file() and (ASTERISK / "phonetic" / "a_p.wav").is_file()


def _voices(part: str) -> list[tuple[str, str]]:
    accents, variants = {"train": (TRAIN_ACCENTS, TRAIN_VARIANTS), "validation": (TRAIN_ACCENTS, VALIDATION_VARIANTS),
                         "test": (TEST_ACCENTS, TEST_VARIANTS)}[part]  # fmt: skip
    return [(a, v) for a in accents for v in variants]


def synthetic(part: str, *, draws: int | None = None, seed: int = 0, words: tuple[str, ...] = WORDS,
              log=print) -> Clips:  # fmt: skip
    """The synthetic clips of ``part`` (train, validation, test), made with espeak-ng on first use and cached.
    ``draws``: random (speed, pitch) settings per voice and word (default 1 for training and validation, 2 for the
    test)."""
    if not have_espeak():
        raise RnnlabError("the built-in speech set is synthesised with espeak-ng: apt-get install espeak-ng")
    draws = draws or {"train": 1, "validation": 1, "test": 2}[part]
    rng = np.random.default_rng([seed, ("train", "validation", "test").index(part)])
    jobs = []
    for accent, variant in _voices(part):
        for word in words:
            for _ in range(draws):
                speed, pitch = int(rng.integers(80, 170)), int(rng.integers(20, 80))
                jobs.append((accent, variant, word, speed, pitch))
    folder = cache_folder()
    paths = [folder / a / v / f"{w}-s{s}-p{p}.wav" for a, v, w, s, p in jobs]
    missing = [(job, path) for job, path in zip(jobs, paths) if not path.exists()]
    if missing:
        log(f"synthesising {len(missing):,} clips with espeak-ng into {folder} (once; cached)")
        with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
            list(pool.map(lambda item: _speak(*item[0], item[1]), missing))
    return Clips(paths, [j[2] for j in jobs], f"synthetic {part}", [f"{j[0]}+{j[1]}" for j in jobs])


def _speak(accent: str, variant: str, word: str, speed: int, pitch: int, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    command = ["espeak-ng", "-v", f"{accent}+{variant}", "-s", str(speed), "-p", str(pitch), "-w", str(temporary),
               SPOKEN.get(word, word)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not temporary.exists():
        reason = result.stderr.strip() or f"exit status {result.returncode}"
        raise RnnlabError(f"espeak-ng failed for voice {accent}+{variant}: {reason}")
    import soundfile

    from rnnlab.data.audio import RATE, read_wav

    samples = read_wav(temporary)  # 22,050 Hz from espeak: stored at 8 kHz, a third of the size
    soundfile.write(str(temporary), samples, RATE, subtype="PCM_16", format="WAV")
    os.replace(temporary, path)


def asterisk() -> Clips:
    """The real recordings: 36 clips of one human speaker (digits and NATO words)."""
    if not have_asterisk():
        raise RnnlabError(f"the real test recordings come with asterisk-core-sounds-en-wav (not found in {ASTERISK}): "
                          "apt-get install asterisk-core-sounds-en-wav")  # fmt: skip
    paths = [ASTERISK / "digits" / f"{i}.wav" for i in range(10)]
    paths += [ASTERISK / "phonetic" / f"{word[0]}_p.wav" for word in NATO]
    return Clips(paths, list(WORDS), "asterisk (human speaker)")


def read_clips(source: str | Path) -> Clips:
    """A folder with one sub-folder of WAV files per word, or a CSV with ``path`` and ``label`` columns (paths
    relative to the CSV)."""
    source = Path(source)
    if not source.exists():
        raise RnnlabError(f"{source}: not found (a folder with a sub-folder of WAV files per word, or a CSV of "
                          "path,label)")  # fmt: skip
    if source.is_dir():
        paths, labels = [], []
        for folder in sorted(p for p in source.iterdir() if p.is_dir()):
            for wav in sorted(folder.glob("*.wav")):
                paths.append(wav)
                labels.append(folder.name)
        if not paths:
            raise RnnlabError(f"{source} holds no sub-folders of .wav files (one sub-folder per word)")
        return Clips(paths, labels, str(source))
    from rnnlab.data.series import read_table

    frame = read_table(source)
    for column in ("path", "label"):
        if column not in frame.columns:
            raise RnnlabError(f"{source}: column {column!r} not found; expected path,label")
    paths = [p if p.is_absolute() else source.parent / p for p in map(Path, frame["path"].astype(str))]
    return Clips(paths, frame["label"].astype(str).tolist(), str(source))


def fingerprint_clips(clips: Clips) -> str:
    digest = hashlib.sha256()
    for path, label in zip(clips.paths, clips.labels):
        digest.update(f"{path}|{label}|".encode())
    return digest.hexdigest()[:16]
