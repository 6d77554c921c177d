"""Spoken words: a folder per word (or a CSV of path, label), and the built-in set made offline.

Built-in (``rnnlab speech train`` with no ``--data``), a vocabulary of 36 words: the ten digits and the 26 words of
the NATO alphabet.

- *Synthetic voices* from three Debian synthesisers, at random speed and pitch (seeded).
  ``flite`` (CMU's small synthesiser), most of the training clips: its voices are made from recordings of people
  (``kal``, ``kal16``: one man's diphones joined; ``awb``, ``rms``, ``slt``: statistical models of three CMU ARCTIC
  speakers), far nearer a human voice than espeak-ng's; 24 draws of duration and mean pitch per voice and word for
  training, two others for validation.
  ``festival`` with its ``ked`` diphone voice (one more man's recorded diphones, Debian's ``festvox-kdlpc16k``), drawn
  the same way as a flite voice: one more person to learn from.
  ``espeak-ng`` (formant synthesis), for variety: 8 English accents × voice variants, split so that the test voices
  are never heard in training: training deals 24 variants out among six accents (48 voices, each variant in two
  accents), validation the same accents with two other variants, the synthetic test the two remaining accents
  (``en-029``, ``en-gb-x-gbcwmd``) with three further variants.
  Without flite (or festival) the training voices are espeak-ng's (and the other's) alone, and a real voice is
  recognised less well.
  The clips are cached as WAV files under ``~/.cache/rnnlab/speech`` (``RNNLAB_CACHE`` moves it): the same seed
  gives the same clips.
- *Real human speech* for the headline test: Debian's ``asterisk-core-sounds-en-wav`` (CC-BY-SA 3.0), 8 kHz
  recordings of one human speaker: ``digits/0.wav`` … ``9.wav`` and ``phonetic/a_p.wav`` … ``z_p.wav``.

Get them with ``apt-get install espeak-ng flite festival festvox-kdlpc16k asterisk-core-sounds-en-wav`` (Debian,
Ubuntu).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
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
SPOKEN = {"juliett": "juliet", "xray": "x-ray"}  # what a synthesiser is given to read for the word
TRAIN_ACCENTS = ("en-gb", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-us-nyc")
TEST_ACCENTS = ("en-029", "en-gb-x-gbcwmd")
TRAIN_VARIANTS = ("m1", "m2", "m3", "m6", "m8", "f1", "f2", "f3", "klatt", "klatt2", "klatt3", "Andy", "Annie",
                  "adam", "Alex", "Alicia", "Andrea", "aunty", "belinda", "benjamin", "caleb", "david", "ed",
                  "edward")  # fmt: skip
VALIDATION_VARIANTS = ("m4", "f4")
TEST_VARIANTS = ("m5", "f5", "m7")
FLITE_VOICES = {"kal": (80, 150), "kal16": (80, 150), "awb": (80, 150), "rms": (80, 150), "slt": (140, 260)}  # f0 Hz
FESTIVAL_VOICES = {"ked_diphone": (80, 150)}  # mean f0 Hz
FLITE_DRAWS = {"train": 24, "validation": 2}  # (duration, mean pitch) draws per voice and word, flite's and festival's
OUT = object()  # where a synthesiser's command takes the path of the WAV file it writes
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


def have_flite() -> bool:
    return shutil.which("flite") is not None


@functools.cache
def flite_voices() -> tuple[str, ...]:
    """The voices of :data:`FLITE_VOICES` this flite has (it speaks an unknown voice with its default one, silently)."""
    result = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=60)
    listed = set(result.stdout.split(":", 1)[-1].split())
    return tuple(v for v in FLITE_VOICES if v in listed)


def have_festival() -> bool:
    return shutil.which("festival") is not None


@functools.cache
def festival_voices() -> tuple[str, ...]:
    """The voices of :data:`FESTIVAL_VOICES` this festival has (an unknown voice is an error in a batch, but its
    default voice would speak in ``text2wave``)."""
    result = subprocess.run(["festival", "-b", "(print (voice.list))"], capture_output=True, text=True, timeout=60)
    listed = set(result.stdout.replace("(", " ").replace(")", " ").split())
    return tuple(v for v in FESTIVAL_VOICES if v in listed)


def have_asterisk() -> bool:
    return (ASTERISK / "digits" / "0.wav").is_file() and (ASTERISK / "phonetic" / "a_p.wav").is_file()


def _voices(part: str) -> list[tuple[str, str]]:
    """The espeak-ng (accent, variant) pairs of ``part``. Training gives each of its six accents eight of the 24
    variants, each accent's eight overlapping the next's by four: every variant is heard in two accents, 48 voices
    (espeak-ng is there for variety; flite's voices, nearer a person's, make up most of the training clips)."""
    if part == "train":
        dealt = TRAIN_VARIANTS * 2
        return [(a, v) for k, a in enumerate(TRAIN_ACCENTS) for v in dealt[4 * k : 4 * k + 8]]
    variants = VALIDATION_VARIANTS if part == "validation" else TEST_VARIANTS
    return [(a, v) for a in (TRAIN_ACCENTS if part == "validation" else TEST_ACCENTS) for v in variants]


def synthetic(part: str, *, draws: int | None = None, seed: int = 0, words: tuple[str, ...] = WORDS,
              log=print) -> Clips:  # fmt: skip
    """The synthetic clips of ``part`` (train, validation, test), made with espeak-ng (and flite and festival, when
    installed, for training and validation) on first use and cached. ``draws``: random (speed, pitch) settings per
    espeak-ng voice and word (default 1 for training and validation, 2 for the test)."""
    if not have_espeak():
        raise RnnlabError("the built-in speech set is synthesised with espeak-ng: apt-get install espeak-ng")
    draws = draws or {"train": 1, "validation": 1, "test": 2}[part]
    rng = np.random.default_rng([seed, ("train", "validation", "test").index(part)])
    folder = cache_folder()
    jobs = []  # (synthesiser command, word, path, voice)
    for accent, variant in _voices(part):
        for word in words:
            for _ in range(draws):
                speed, pitch = int(rng.integers(80, 170)), int(rng.integers(20, 80))
                command = ["espeak-ng", "-v", f"{accent}+{variant}", "-s", str(speed), "-p", str(pitch), "-w", OUT,
                           SPOKEN.get(word, word)]  # fmt: skip
                path = folder / accent / variant / f"{word}-s{speed}-p{pitch}.wav"
                jobs.append((command, word, path, f"{accent}+{variant}"))
    if part in FLITE_DRAWS and have_flite():
        flite = {voice: FLITE_VOICES[voice] for voice in flite_voices()}
        for voice, word, stretch, f0 in _prosody_draws(part, seed, words, flite, stream=1):
            command = ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch}", "--setf",
                       f"int_f0_target_mean={f0}", "-t", SPOKEN.get(word, word), "-o", OUT]  # fmt: skip
            path = folder / "flite" / voice / f"{word}-d{stretch}-f{f0}.wav"
            jobs.append((command, word, path, f"flite+{voice}"))
        if len(flite) < len(FLITE_VOICES):
            log(f"flite lacks the voice(s) {', '.join(sorted(set(FLITE_VOICES) - set(flite)))}: not used")
    elif part in FLITE_DRAWS:
        log("flite is not installed (apt-get install flite): training without its voices")
    festival = []  # (voice, word, duration stretch, mean pitch, path), made in one festival process below
    if part in FLITE_DRAWS and have_festival() and festival_voices():
        voices = {voice: FESTIVAL_VOICES[voice] for voice in festival_voices()}
        for voice, word, stretch, f0 in _prosody_draws(part, seed, words, voices, stream=2):
            path = folder / "festival" / voice / f"{word}-d{stretch}-f{f0}.wav"
            festival.append((voice, word, stretch, f0, path))
            jobs.append((None, word, path, f"festival+{voice}"))
    elif part in FLITE_DRAWS:
        log("festival's ked voice is not installed (apt-get install festival festvox-kdlpc16k): training without it")
    # an espeak-ng draw may come twice (the same speed and pitch): it is made once
    missing = list({path: (command, path) for command, _, path, _ in jobs if command and not path.exists()}.values())
    festival = [draw for draw in festival if not draw[-1].exists()]
    if missing or festival:
        log(f"synthesising {len(missing) + len(festival):,} clips into {folder} (once; cached)")
        with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
            list(pool.map(lambda item: _speak(*item), missing))
        if festival:
            _speak_festival(festival)
    return Clips([j[2] for j in jobs], [j[1] for j in jobs], f"synthetic {part}", [j[3] for j in jobs])


def _prosody_draws(part: str, seed: int, words: tuple[str, ...], voices: dict[str, tuple[int, int]], *,
                   stream: int) -> list[tuple[str, str, float, int]]:  # fmt: skip
    """(voice, word, duration stretch, mean pitch in Hz) for each clip of ``part`` of a synthesiser with ``voices``
    (voice: mean pitch range), :data:`FLITE_DRAWS` per voice and word, all different; a validation draw that is also a
    training draw is drawn again, so no clip is in both. ``stream`` keeps each synthesiser's draws its own."""
    rng = np.random.default_rng([seed, ("train", "validation").index(part), stream])
    taken = set(_prosody_draws("train", seed, words, voices, stream=stream)) if part == "validation" else set()
    draws = []
    for voice, (low, high) in voices.items():
        for word in words:
            for _ in range(FLITE_DRAWS[part]):
                while True:
                    draw = (voice, word, round(float(rng.uniform(0.8, 1.35)), 2), int(rng.integers(low, high)))
                    if draw not in taken:
                        break
                draws.append(draw)
                taken.add(draw)
    return draws


def _speak(command: list[str], path: Path) -> None:
    """Run ``command`` (its :data:`OUT` replaced by a temporary WAV path) and store the clip at 8 kHz, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    command = [str(temporary) if part is OUT else part for part in command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not temporary.exists():
        reason = result.stderr.strip() or f"exit status {result.returncode}"
        temporary.unlink(missing_ok=True)
        raise RnnlabError(f"{command[0]} failed for {' '.join(command[1:3])}: {reason}")
    _store(temporary, path)


def _speak_festival(draws: list[tuple[str, str, float, int, Path]]) -> None:
    """Make festival's clips, ``(voice, word, duration stretch, mean pitch in Hz, path)`` each, in one festival process
    (a voice loads once: about a hundred clips a second, against three a second with ``text2wave`` per clip), and store
    each at 8 kHz, atomically. The pitch is set through festival's linear-regression intonation, whose model of the
    voice's own pitch (mean 170, sd 34 Hz) is mapped onto the target's (mean drawn, sd 14 Hz)."""
    lines, temporaries, loaded = [], [], None
    for voice, word, stretch, f0, path in draws:
        if '"' in str(path) or "\\" in str(path):
            raise RnnlabError(f"{path.parent}: festival cannot write to a folder whose name holds a quote or a "
                              "backslash; set RNNLAB_CACHE to another folder")  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        text = SPOKEN.get(word, word).replace("\\", " ").replace('"', " ")
        if voice != loaded:  # a voice is loaded when it changes
            lines.append(f"(voice_{voice})")
            loaded = voice
        lines += [f"(Parameter.set 'Duration_Stretch {stretch})",
                  f"(set! int_lr_params '((target_f0_mean {f0}) (target_f0_std 14) (model_f0_mean 170) "
                  "(model_f0_std 34)))", f'(utt.save.wave (SayText "{text}") "{temporary}")']  # fmt: skip
        temporaries.append((temporary, path))
    with tempfile.NamedTemporaryFile("w", suffix=".scm", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        try:
            result = subprocess.run(["festival", "-b", script.name], capture_output=True, text=True,
                                    timeout=60 + len(draws))  # fmt: skip
        except subprocess.TimeoutExpired:
            raise RnnlabError(f"festival did not make {len(draws):,} clips in {60 + len(draws)} s") from None
        made = [(t, p) for t, p in temporaries if t.exists()]
        if result.returncode != 0 or len(made) < len(temporaries):
            reason = (result.stderr.strip() or f"exit status {result.returncode}").splitlines()[0]
            lost = next(p for t, p in temporaries if not t.exists()) if len(made) < len(temporaries) else None
            raise RnnlabError(f"festival failed{f' for {lost.name}' if lost else ''}: {reason}")
        for temporary, path in made:
            _store(temporary, path)
    finally:
        os.unlink(script.name)
        for temporary, _ in temporaries:
            temporary.unlink(missing_ok=True)  # nothing half-written stays in the cache


def _store(temporary: Path, path: Path) -> None:
    """The synthesiser's WAV at ``temporary`` stored at ``path`` at 8 kHz, 16-bit (22,050 Hz from espeak-ng, 8 or 16
    kHz from flite, 16 kHz from festival), atomically; ``temporary`` is gone afterwards."""
    import soundfile

    from rnnlab.data.audio import RATE, read_wav

    try:
        samples = read_wav(temporary)
        soundfile.write(str(temporary), samples, RATE, subtype="PCM_16", format="WAV")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)  # nothing half-written stays in the cache


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
