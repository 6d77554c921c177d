"""rnnlab export: every exported kind, run in onnxruntime (and TorchScript), equals rnnlab on random inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.cli import main
from rnnlab.errors import RnnlabError
from rnnlab.tasks.export import export

ort = pytest.importorskip("onnxruntime")


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("cell", ["lstm", "gru", "mingru"])
def test_forecaster_members_equal_rnnlab(tmp_path, cell):
    from rnnlab import Forecaster

    frame = pd.DataFrame({"y": np.sin(np.arange(400) / 4) + np.random.default_rng(0).normal(0, 0.1, 400)})
    Forecaster(cell=cell, auto=False, epochs=1, hidden_size=8, horizon=4, lookback=24).fit(
        frame, target="y", run_dir=tmp_path / "run", log=lambda *_: None
    )
    files = export(tmp_path / "run", tmp_path / "onnx", log=lambda *_: None)
    model = Forecaster.load(tmp_path / "run" / "best.safetensors")
    for member, file in zip(model.members, files):
        window = torch.randn(5, 24, member.net.rnn.input_size)  # another batch size than the export's
        expected = member.net(window)[0].detach().numpy()
        got = _session(file).run(None, {"window": window.numpy()})[0]
        np.testing.assert_allclose(got, expected, atol=1e-5)
    (script,) = export(tmp_path / "run", tmp_path / "ts", "torchscript", log=lambda *_: None)
    loaded = torch.jit.load(str(script))
    window = torch.randn(3, 24, model.members[0].net.rnn.input_size)
    torch.testing.assert_close(loaded(window), model.members[0].net(window)[0], atol=1e-5, rtol=1e-5)


def test_classifier_equals_rnnlab_on_padded_batches(tmp_path):
    from rnnlab import TextClassifier, TrainConfig

    texts = ["good fun film", "bad dull film", "great acting here", "awful plot"] * 15
    classifier = TextClassifier(wide=False)
    classifier.fit(texts, ["pos", "neg", "pos", "neg"] * 15, run_dir=tmp_path / "run", log=lambda *_: None,
                   train_config=TrainConfig(epochs=1, progress=False))  # fmt: skip
    (file,) = export(tmp_path / "run", tmp_path / "onnx", log=lambda *_: None)
    net = TextClassifier.load(tmp_path / "run" / "best.safetensors").net.eval()
    ids = torch.randint(1, 10, (4, 9))
    lengths = torch.tensor([9, 3, 6, 1])
    ids[torch.arange(9)[None, :] >= lengths[:, None]] = 0
    got = _session(file).run(None, {"ids": ids.numpy(), "lengths": lengths.numpy()})[0]
    np.testing.assert_allclose(got, net(ids, lengths).detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru", "minlstm"])
def test_language_model_step_carries_its_state_in_onnxruntime(tmp_path, cell):
    from rnnlab.data.corpus import Corpus
    from rnnlab.tasks.text import load_language_model, train_text
    from rnnlab.train import TrainConfig

    corpus = Corpus.from_text("to be or not to be, that is the question. " * 40, source="t", level="char")
    train_text(corpus, {"cell": cell, "hidden_size": 16, "num_layers": 2, "embedding_dim": 8},
               TrainConfig(epochs=1, progress=False), run_dir=tmp_path / "run", log=lambda *_: None)  # fmt: skip
    (file,) = export(tmp_path / "run", tmp_path / "onnx", log=lambda *_: None)
    model, _, _ = load_language_model(tmp_path / "run")
    model.eval()
    session = _session(file)
    ids = torch.randint(0, model.config.vocab_size, (3, 6))
    h = np.zeros((2, 3, 16), dtype=np.float32)
    state_np = {"h": h} if cell != "lstm" else {"h": h, "c": h.copy()}
    state = None
    for t in range(6):  # step by step in onnxruntime, the state fed back, against the whole sequence in rnnlab
        outputs = session.run(None, {"ids": ids[:, t : t + 1].numpy(), **state_np})
        state_np = {"h": outputs[1]} if cell != "lstm" else {"h": outputs[1], "c": outputs[2]}
        logits, state = model(ids[:, t : t + 1], state)
        np.testing.assert_allclose(outputs[0], logits.detach().numpy(), atol=1e-5)


def test_what_cannot_be_exported_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "best.safetensors").write_bytes(b"\x80\x04\x95pickled")
    with pytest.raises(RnnlabError, match="not a readable rnnlab checkpoint"):
        export(tmp_path, tmp_path / "out")
    assert main(["export", "--checkpoint", str(tmp_path), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a readable rnnlab checkpoint" in err[0]
    from rnnlab.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "tag" / "best.safetensors", {"w": torch.zeros(2)}, {"task": "tag"})
    with pytest.raises(RnnlabError, match="export takes forecast, classify, text and translate checkpoints"):
        export(tmp_path / "tag", tmp_path / "out")
    assert not (tmp_path / "out").exists()  # a refused export leaves nothing behind
    save_checkpoint(tmp_path / "cls" / "best.safetensors", {"w": torch.zeros(2)},
                    {"task": "classify", "model": {"cell": "mingru", "hidden_size": 8}})  # fmt: skip
    with pytest.raises(RnnlabError, match="classify model over mingru layers"):
        export(tmp_path / "cls", tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_translation_encoder_and_decoder_step_decode_like_rnnlab(tmp_path, cell):
    from rnnlab.data.generated_pairs import builtin_pairs
    from rnnlab.data.pairs import split_by_source
    from rnnlab.models.translator import Translator
    from rnnlab.tasks.translate import train_translation
    from rnnlab.train import TrainConfig

    train, validation, test = split_by_source(builtin_pairs("dates", 300, seed=0), test_fraction=0.1,
                                              val_fraction=0.1, seed=0)  # fmt: skip
    train_translation(train, validation, test[:5], level="char", source="dates",
                      model_config={"cell": cell, "hidden_size": 16, "embedding_dim": 8, "attention": "general"},
                      train_config=TrainConfig(epochs=1, progress=False), run_dir=tmp_path / "run", beam=1,
                      log=lambda *_: None)  # fmt: skip
    encoder_file, step_file = export(tmp_path / "run", tmp_path / "onnx", log=lambda *_: None)
    model = Translator.load(tmp_path / "run" / "best.safetensors").model.eval()
    source = torch.randint(1, model.config.source_vocab, (3, 9))
    lengths = torch.tensor([9, 5, 2])
    source[torch.arange(9)[None, :] >= lengths[:, None]] = 0
    encoder, step = _session(encoder_file), _session(step_file)
    state = encoder.run(None, {"source": source.numpy(), "lengths": lengths.numpy()})
    names = [i.name for i in step.get_inputs()][1:]  # keys, projected, mask, feed, h[, c]
    expected_state = model.start(source, lengths)
    previous = torch.full((3,), 1, dtype=torch.long)
    for _ in range(4):  # greedy steps in onnxruntime, the state fed back, against rnnlab's step
        logits, weights, *following = step.run(None, {"previous": previous.numpy(), **dict(zip(names, state))})
        expected, expected_state, expected_weights = model.step(previous, expected_state)
        np.testing.assert_allclose(logits, expected.detach().numpy(), atol=1e-5)
        np.testing.assert_allclose(weights, expected_weights.detach().numpy(), atol=1e-5)
        state = [*state[:3], *following]
        previous = torch.from_numpy(logits.argmax(-1))
