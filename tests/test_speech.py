"""Speech: frames against librosa and a hand-rolled running normalisation, the WAV reader's errors, augmentation, DTW,
the spotter's detections, the streaming watch against the whole-stream posteriors, and the CLI end to end on
generated tones; the built-in voices when espeak-ng is installed."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
import soundfile

from rnnlab.cli import main
from rnnlab.data.audio import HOP, RATE, FrameStream, log_mel, read_wav
from rnnlab.errors import RnnlabError
from rnnlab.models.speech import stretch
from rnnlab.models.speech_baselines import DTWNearest
from rnnlab.models.speech_fit import detections


def _tone(kind: str, rng: np.random.Generator, seconds: float = 0.5) -> np.ndarray:
    """Three 'words' a network can tell apart: a rising chirp, a falling chirp, two alternating tones."""
    t = np.arange(int(seconds * RATE)) / RATE
    shift = rng.uniform(0.9, 1.1)
    if kind == "up":
        phase = 2 * np.pi * shift * (300 * t + 1500 * t**2)
    elif kind == "down":
        phase = 2 * np.pi * shift * (1800 * t - 1500 * t**2)
    else:
        phase = 2 * np.pi * shift * np.where((t * 8).astype(int) % 2 == 0, 600, 1400) * t
    envelope = np.sin(np.pi * t / seconds)
    return (0.5 * envelope * np.sin(phase) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def test_stream_frames_equal_librosa_log_mel_smoothed_with_a_running_normalisation():
    rng = np.random.default_rng(0)
    samples = np.concatenate([_tone("up", rng), np.zeros(800, np.float32), _tone("mix", rng)])
    whole = FrameStream(seconds=0.5).push(samples)
    stream = FrameStream(seconds=0.5)
    pieces = np.concatenate([stream.push(samples[i : i + 333]) for i in range(0, len(samples), 333)])
    np.testing.assert_allclose(pieces, whole, atol=1e-5)  # any chunking, the same frames
    from scipy.fft import dct, idct

    cepstra = dct(log_mel(samples).astype(np.float64), norm="ortho", axis=1)  # librosa's melspectrogram, not centred
    cepstra[:, 13:] = 0  # smoothed across bands: 13 cepstral coefficients kept
    reference = idct(cepstra, norm="ortho", axis=1)
    assert reference.shape == whole.shape
    decay = 1 - 1 / (0.5 * RATE / HOP)
    mean, var, expected = reference[0].copy(), np.ones(reference.shape[1]), []
    for frame in reference:  # the recursion written out, frame by frame
        mean = decay * mean + (1 - decay) * frame
        var = decay * var + (1 - decay) * (frame - mean) ** 2
        expected.append((frame - mean) / (np.sqrt(var) + 1e-3))
    np.testing.assert_allclose(whole, np.array(expected), atol=2e-3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        (b"this is not audio at all", "is not a readable audio file"),
        (np.zeros(0, np.float32), "holds no audio samples|not a readable audio file"),
        (np.zeros(8000, np.float32), "is silent"),
    ],
)
def test_bad_audio_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "clip.wav"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        soundfile.write(str(path), content, RATE)
    with pytest.raises(RnnlabError, match=message) as caught:
        read_wav(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_stereo_and_other_rates_become_8_khz_mono(tmp_path):
    t = np.arange(22050) / 22050
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    soundfile.write(str(tmp_path / "s.wav"), np.stack([left, left], axis=1), 22050)
    samples = read_wav(tmp_path / "s.wav")
    assert abs(len(samples) - RATE) <= 1
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * RATE / len(samples) - 440) < 3  # the tone survives resampling


def test_stretch_is_the_identity_at_factor_one_and_scales_time():
    frames = np.random.default_rng(0).normal(size=(50, 40)).astype(np.float32)
    np.testing.assert_allclose(stretch(frames, 1.0, 1.0), frames, atol=1e-6)
    assert stretch(frames, 1.2, 1.0).shape == (60, 40)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_recogniser_reads_each_clip_to_its_own_end_whatever_the_padding(cell):
    import torch

    from rnnlab.models.speech import SpeechConfig, WordNet, pad

    torch.manual_seed(0)
    net = WordNet(5, SpeechConfig(cell=cell, hidden_size=8)).eval()
    rng = np.random.default_rng(0)
    short, long = rng.standard_normal((7, 40)), rng.standard_normal((19, 40))
    with torch.no_grad():
        alone = net(*pad([short]))
        batched = net(*pad([short, long]))  # the short clip padded with 12 zero frames
        flipped = net(*pad([short[::-1].copy()]))
    torch.testing.assert_close(batched[0], alone[0], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(flipped, alone, atol=1e-3)  # the order of the frames matters (not only mean and max)


def test_a_recogniser_of_another_layout_is_a_one_line_error(tmp_path, capsys):
    from torch import nn

    from rnnlab.models.speech import SpeechConfig, WordNet
    from rnnlab.models.speech_fit import WordRecognizer

    old = WordRecognizer(SpeechConfig(hidden_size=8, spotter_hidden=0))
    old.words, old.net = ["up", "down"], WordNet(2, old.config)
    old.net.output = nn.Linear(4 * 8, 2)  # the layout before the final states were read: mean and max only
    old.save(tmp_path / "best.safetensors")
    soundfile.write(str(tmp_path / "clip.wav"), _tone("up", np.random.default_rng(0)), RATE)
    assert main(["speech", "predict", "--checkpoint", str(tmp_path), str(tmp_path / "clip.wav")]) == 2
    error = capsys.readouterr().err.strip()
    assert "does not hold a usable word recogniser" in error and "size mismatch" in error
    assert len(error.splitlines()) == 1 and "Traceback" not in error


def test_a_spotter_trained_on_unsmoothed_frames_is_a_one_line_error(tmp_path, capsys):
    from rnnlab.models.speech import SpotterNet
    from rnnlab.models.speech_fit import WordSpotter

    old = WordSpotter(hidden_size=8)
    old.classes, old.net = ["<background>", "up"], SpotterNet(2, 8)
    old.metadata = lambda: {"task": "speech-spotter", "classes": old.classes, "hidden_size": 8, "threshold": 0.5}
    old.save(tmp_path / "spotter.safetensors")  # as the spotter was saved before its frames were smoothed
    soundfile.write(str(tmp_path / "long.wav"), _tone("up", np.random.default_rng(0), seconds=2.0), RATE)
    assert main(["speech", "watch", "--checkpoint", str(tmp_path), str(tmp_path / "long.wav")]) == 2
    error = capsys.readouterr().err.strip()
    assert "trained on frames of an earlier layout" in error and "train it again" in error
    assert len(error.splitlines()) == 1 and "Traceback" not in error


@pytest.mark.parametrize("colour", ["white", "pink"])
def test_noise_is_mixed_in_at_the_snr_asked_for(colour):
    from rnnlab.models.speech import add_noise

    clean = _tone("mix", np.random.default_rng(2))
    noisy = add_noise(clean, 12.0, np.random.default_rng(3), colour)
    measured = 10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean((noisy - clean).astype(np.float64) ** 2))
    assert measured == pytest.approx(12.0, abs=0.05)


def test_the_noisy_copies_take_their_snr_from_the_range_chosen(monkeypatch, tone_folder, capsys):
    import rnnlab.tasks.speech as tasks
    from rnnlab.models.speech import SpeechConfig

    asked = []
    real_add_noise = tasks.add_noise
    monkeypatch.setattr(tasks, "add_noise", lambda s, snr, *rest: asked.append(snr) or real_add_noise(s, snr, *rest))
    clips = [_tone("up", np.random.default_rng(n)) for n in range(40)]
    tasks.clean_and_noisy(clips, np.random.default_rng(0), SpeechConfig(noise_snr=[18, 20]).noise_snr)
    assert len(asked) == 40 and min(asked) >= 18 and max(asked) <= 20 and max(asked) - min(asked) > 1
    assert SpeechConfig(noise_snr=[5, 30]) == SpeechConfig()  # a checkpoint's JSON list is the default tuple

    def stop(samples, rng, snr):  # the training run stops where it makes the noisy copies, saying what it was given
        raise RnnlabError(f"noisy copies at {snr}")

    monkeypatch.setattr(tasks, "clean_and_noisy", stop)
    train = ["speech", "train", "--data", str(tone_folder), "--no-progress", "--noise-snr"]
    assert main([*train, "0", "12.5"]) == 2
    assert "noisy copies at (0.0, 12.5)" in capsys.readouterr().err
    assert main([*train, "30", "5"]) == 2
    error = capsys.readouterr().err.strip()
    assert "noise_snr must be two finite decibel values, the lower first" in error and len(error.splitlines()) == 1


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_the_recogniser_learns_towards_smoothed_targets(smoothing):
    import torch

    from rnnlab.models.speech import SpeechConfig, WordNet, pad
    from rnnlab.models.speech_fit import WordRecognizer, _WordTask

    rng = np.random.default_rng(0)
    clips = [rng.standard_normal((int(rng.integers(5, 12)), 40)).astype(np.float32) for _ in range(6)]
    words = ["up", "down", "mix", "up", "mix", "down"]
    recognizer = WordRecognizer(SpeechConfig(hidden_size=8, augment=False, label_smoothing=smoothing))
    recognizer.words = sorted(set(words))
    torch.manual_seed(0)
    net = WordNet(3, recognizer.config).eval()  # no dropout: the task's loss and this one see the same logits
    task = _WordTask(recognizer, [(c, c) for c in clips], words, clips[:1], words[:1])
    loss, _ = task.loss(net, [0, 2, 5], None)
    with torch.no_grad():
        log_p = torch.log_softmax(net(*pad([clips[0], clips[2], clips[5]])), dim=1).numpy().astype(np.float64)
    gold = [recognizer.words.index(w) for w in ("up", "mix", "down")]
    target = np.full((3, 3), smoothing / 3)  # (1 - ε) on the word said, ε spread over the three words
    target[np.arange(3), gold] += 1 - smoothing
    assert loss.item() == pytest.approx(float(-np.mean(np.sum(target * log_p, axis=1))), rel=1e-5)


def test_label_smoothing_out_of_range_is_refused_in_one_line(tone_folder, capsys):
    from rnnlab.models.speech import SpeechConfig

    for wrong in (1.0, -0.1, "0.1"):
        with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\)"):
            SpeechConfig(label_smoothing=wrong)
    assert main(["speech", "train", "--data", str(tone_folder), "--label-smoothing", "1.5"]) == 2
    error = capsys.readouterr().err.strip()
    assert "--label-smoothing" in error and len(error.splitlines()) == 1


def test_the_spotter_augments_its_streams_in_frequency_only():
    import torch

    from rnnlab.models.speech_fit import WordSpotter, _SpotTask

    rng = np.random.default_rng(0)
    streams = [(rng.standard_normal((50, 40)).astype(np.float32), rng.integers(0, 2, 50)) for _ in range(3)]
    kept = np.stack([frames.copy() for frames, _ in streams])
    seen = []

    def model(frames):  # records what the spotter is trained on
        seen.append(frames.clone())
        return torch.zeros(*frames.shape[:2], 2, requires_grad=True)

    def train_once(augment, streams):
        spotter = WordSpotter(8, augment=augment)
        spotter.classes = ["<background>", "up"]
        _SpotTask(spotter, streams, []).loss(model, [0, 1, 2], None)
        return seen[-1]

    plain, augmented = train_once(False, streams), train_once(True, streams)
    torch.testing.assert_close(plain, torch.from_numpy(kept))
    assert not torch.allclose(augmented, plain, atol=1e-3)
    np.testing.assert_array_equal(np.stack([frames for frames, _ in streams]), kept)  # the streams stay as they were
    changed = [(frames.copy(), targets) for frames, targets in streams]
    changed[1][0][20] += 1.0
    moved = (train_once(True, changed) - augmented).abs().sum(dim=2)  # (B, T): the same draws, one frame changed
    assert moved[1, 20] > 0 and moved.sum() == moved[1, 20]  # frame 20 of stream 1 alone: time is left alone


def test_dtw_matches_a_slower_copy_of_the_same_word():
    rng = np.random.default_rng(1)
    words = {kind: log_mel(_tone(kind, rng)) for kind in ("up", "down", "mix")}
    nearest = DTWNearest(list(words.values()), list(words), per_word=1)
    slower = {kind: log_mel(_tone(kind, rng, seconds=0.7)) for kind in words}
    assert nearest.predict(list(slower.values())) == list(slower)


def test_detections_smooth_and_hold_off_repeats():
    p = np.zeros((400, 3))
    p[:, 0] = 1.0
    p[100:110, 1], p[100:110, 0] = 1.0, 0.0  # word 1, ten frames
    p[150:160, 1], p[150:160, 0] = 1.0, 0.0  # again 40 frames later: within the refractory 100
    p[300:302, 2], p[300:302, 0] = 1.0, 0.0  # a two-frame blip: smoothed to 0.4
    alerts = detections(p, threshold=0.5, refractory=100, smooth=5)
    assert [(frame, k) for frame, k, _ in alerts] == [(102, 1)]  # the 3rd frame brings the average to 0.6


# ----- end to end on generated tones -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tone_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tones")
    rng = np.random.default_rng(0)
    for kind in ("up", "down", "mix"):
        (folder / kind).mkdir()
        for n in range(30):
            soundfile.write(str(folder / kind / f"{n}.wav"), _tone(kind, rng), RATE)
    stream = np.concatenate([np.zeros(RATE, np.float32), _tone("down", rng), np.zeros(RATE, np.float32),
                             _tone("up", rng), np.zeros(RATE, np.float32)])  # fmt: skip
    soundfile.write(str(folder / "stream.wav"), stream + 0.005 * rng.standard_normal(len(stream)), RATE)
    return folder


def test_cli_train_predict_and_watch_on_tones(tone_folder, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["speech", "train", "--data", str(tone_folder), "--epochs", "6", "--hidden-size", "32", "--layers", "1",
                 "--spotter-hidden", "32", "--keyword", "up", "--test-minutes", "1", "--run-dir", str(run),
                 "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "DTW 1-NN" in out and "spotting every word" in out and (run / "report.html").exists()
    assert main(["speech", "predict", "--checkpoint", str(run), str(tone_folder / "mix" / "3.wav")]) == 0
    assert capsys.readouterr().out.split(": ")[1].startswith("mix")
    from rnnlab.data.audio import stream_features
    from rnnlab.models.speech_fit import WordSpotter
    from rnnlab.tasks.speech import watch_run

    spotter = WordSpotter.load(run / "spotter.safetensors")
    streamed = watch_run(run, str(tone_folder / "stream.wav"), threshold=0.3, log=lambda *_: None)
    whole = detections(spotter.posteriors(stream_features(read_wav(tone_folder / "stream.wav"))), 0.3)
    assert [(spotter.classes[k], round((f * HOP + 256) / RATE, 2)) for f, k, _ in whole] == [
        (word, round(at, 2)) for at, word, _ in streamed
    ]  # frame by frame with the state carried = the whole stream at once
    watch = ["speech", "watch", "--checkpoint", str(run), "--keyword", "sideways", str(tone_folder / "stream.wav")]
    assert main(watch) == 2
    assert "keyword 'sideways' is not one of the model's words" in capsys.readouterr().err


# ----- the built-in voices ---------------------------------------------------------------------------------------
def test_builtin_voices_are_seeded_and_disjoint(tmp_path, monkeypatch):
    from rnnlab.data import speech

    if not speech.have_espeak():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path))
    first = speech.synthetic("test", words=("seven",), log=lambda *_: None)
    again = speech.synthetic("test", words=("seven",), log=lambda *_: None)
    assert first.paths == again.paths and all(p.exists() for p in first.paths)
    train_voices = {v for v in speech._voices("train")}
    assert not train_voices & set(speech._voices("test")) and not train_voices & set(speech._voices("validation"))
    assert {a for a, _ in speech._voices("test")}.isdisjoint(speech.TRAIN_ACCENTS)
    assert sorted(v for _, v in train_voices) == sorted(speech.TRAIN_VARIANTS * 2)  # each variant in two accents
    assert {a for a, _ in train_voices} == set(speech.TRAIN_ACCENTS)
    samples = read_wav(first.paths[0])
    assert len(samples) > RATE // 4 and np.abs(samples).max() > 0.05


def test_flite_voices_train_and_validate_but_never_test(tmp_path, monkeypatch):
    from rnnlab.data import speech

    if not (speech.have_espeak() and speech.have_flite()):
        pytest.skip("espeak-ng or flite is not installed (apt-get install espeak-ng flite)")
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(speech, "FLITE_DRAWS", {"train": 3, "validation": 2})
    monkeypatch.setattr(speech, "_voices", lambda part: [])  # flite's clips alone
    monkeypatch.setattr(speech, "have_festival", lambda: False)
    parts = {part: speech.synthetic(part, words=("seven", "zulu"), log=lambda *_: None) for part in ("train",
             "validation", "test")}  # fmt: skip
    assert len(parts["train"]) == len(speech.flite_voices()) * 2 * 3 and len(parts["test"]) == 0
    assert {v.split("+")[1] for v in parts["validation"].voices} == set(speech.flite_voices())
    assert not set(parts["train"].paths) & set(parts["validation"].paths)  # other draws of the same voices
    assert len(set(parts["train"].paths)) == len(parts["train"])  # no draw twice
    again = speech.synthetic("train", words=("seven", "zulu"), log=lambda *_: None)
    assert again.paths == parts["train"].paths  # seeded
    slow = [p for p in parts["train"].paths if p.parent.name == "slt"]
    durations = {float(p.stem.split("-d")[1].split("-f")[0]): len(read_wav(p)) for p in slow if "seven" in p.stem}
    shortest, longest = min(durations), max(durations)
    assert durations[longest] > durations[shortest]  # the duration stretch reaches flite
    assert all(np.abs(read_wav(p)).max() > 0.05 for p in parts["validation"].paths)


@pytest.mark.parametrize("missing", ["festival", "its ked voice"])
def test_without_festival_or_its_voice_training_goes_on_and_says_so(tmp_path, monkeypatch, missing):
    from rnnlab.data import speech

    if not speech.have_espeak():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(speech, "_voices", lambda part: [])
    monkeypatch.setattr(speech, "have_flite", lambda: False)
    monkeypatch.setattr(speech, "have_festival", lambda: missing != "festival")
    monkeypatch.setattr(speech, "festival_voices", lambda: ())
    said = []
    clips = speech.synthetic("train", words=("seven",), log=said.append)
    assert len(clips) == 0 and not list(tmp_path.rglob("*.wav"))
    assert said == ["flite is not installed (apt-get install flite): training without its voices",
                    "festival's ked voice is not installed (apt-get install festival festvox-kdlpc16k): training "
                    "without it"]  # fmt: skip


def test_festival_voices_train_and_validate_but_never_test(tmp_path, monkeypatch):
    from rnnlab.data import speech

    if not (speech.have_espeak() and speech.have_festival() and speech.festival_voices()):
        pytest.skip("espeak-ng or festival's ked voice is not installed (apt-get install espeak-ng festival "
                    "festvox-kdlpc16k)")  # fmt: skip
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(speech, "FLITE_DRAWS", {"train": 3, "validation": 2})
    monkeypatch.setattr(speech, "_voices", lambda part: [])
    monkeypatch.setattr(speech, "have_flite", lambda: False)  # festival's clips alone
    parts = {part: speech.synthetic(part, words=("seven", "zulu"), log=lambda *_: None) for part in ("train",
             "validation", "test")}  # fmt: skip
    assert len(parts["train"]) == 2 * 3 and len(parts["validation"]) == 2 * 2 and len(parts["test"]) == 0
    assert set(parts["train"].voices) == set(parts["validation"].voices) == {"festival+ked_diphone"}
    assert not set(parts["train"].paths) & set(parts["validation"].paths)  # other draws of the same voice
    assert parts["train"].labels == ["seven"] * 3 + ["zulu"] * 3
    again = speech.synthetic("train", words=("seven", "zulu"), log=lambda *_: None)
    assert again.paths == parts["train"].paths  # seeded
    assert all(soundfile.info(str(p)).samplerate == RATE for p in again.paths)
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".wav"]  # no temporaries left


def test_festival_speaks_at_the_duration_and_pitch_drawn(tmp_path):
    import librosa

    from rnnlab.data import speech

    if not (speech.have_festival() and speech.festival_voices()):
        pytest.skip("festival's ked voice is not installed (apt-get install festival festvox-kdlpc16k)")
    draws = {"low": (1.0, 85), "high": (1.0, 140), "slow": (1.3, 85)}
    speech._speak_festival([("ked_diphone", "seven", stretch, f0, tmp_path / f"{name}.wav")
                            for name, (stretch, f0) in draws.items()])  # fmt: skip
    samples = {name: read_wav(tmp_path / f"{name}.wav") for name in draws}
    pitch = {}
    for name in ("low", "high"):
        f0, voiced, _ = librosa.pyin(samples[name], fmin=50, fmax=300, sr=RATE, frame_length=512)
        pitch[name] = float(np.nanmedian(f0[voiced]))
    assert abs(pitch["low"] - 85) < 20 and abs(pitch["high"] - 140) < 20  # the mean pitch reaches festival
    assert len(samples["slow"]) > 1.15 * len(samples["low"])  # and the duration stretch


def test_a_failing_festival_is_a_one_line_error_and_leaves_nothing(tmp_path, monkeypatch):
    from rnnlab.data import speech

    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    fake = bin_folder / "festival"  # writes half of the first clip, then fails as festival does on a Scheme error
    fake.write_text('#!/bin/sh\nfor f in $(grep -o \'/[^"]*[.]tmp\' "$2" | head -n 1); do echo half > "$f"; done\n'
                    'echo "SIOD ERROR: unbound variable : voice_ked_diphone" >&2\nexit 255\n')  # fmt: skip
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_folder}:{os.environ['PATH']}")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the Scheme script is written
    clips = tmp_path / "clips"
    draws = [("ked_diphone", "seven", 1.0, 100, clips / "seven.wav"), ("ked_diphone", "zulu", 1.1, 90, clips / "z.wav")]
    with pytest.raises(RnnlabError, match=r"^festival failed for z\.wav: SIOD ERROR: unbound variable") as error:
        speech._speak_festival(draws)
    assert "\n" not in str(error.value)
    assert not list(clips.iterdir()) and not list(tmp_path.glob("*.scm"))  # nothing half-written, no script left

    def hangs(command, **options):
        raise speech.subprocess.TimeoutExpired(command, options["timeout"])

    monkeypatch.setattr(speech.subprocess, "run", hangs)
    with pytest.raises(RnnlabError, match=r"^festival did not make 2 clips in 62 s$"):
        speech._speak_festival(draws)
    assert not list(clips.iterdir()) and not list(tmp_path.glob("*.scm"))


def test_a_failing_synthesiser_is_a_one_line_error(tmp_path):
    from rnnlab.data import speech

    with pytest.raises(RnnlabError, match="false failed for"):
        speech._speak(["false", "-v", "voice", speech.OUT], tmp_path / "clip.wav")
    writes_then_fails = ["sh", "-c", 'echo half > "$1"; echo "voice not found" >&2; exit 3', "sh", speech.OUT]
    with pytest.raises(RnnlabError, match=r"sh failed for .*voice not found"):
        speech._speak(writes_then_fails, tmp_path / "clip.wav")
    writes_no_audio = ["sh", "-c", 'echo "not a wav" > "$1"', "sh", speech.OUT]
    with pytest.raises(RnnlabError, match="is not a readable audio file"):
        speech._speak(writes_no_audio, tmp_path / "clip.wav")
    assert not list(tmp_path.iterdir())  # nothing half-written
