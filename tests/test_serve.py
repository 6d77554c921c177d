"""rnnlab serve: answers equal the Python API's, streamed series keep their own state, bad requests get a 4xx with a
reason and the server keeps serving."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

fastapi = pytest.importorskip("fastapi")
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")
from fastapi.testclient import TestClient  # noqa: E402

from rnnlab.errors import RnnlabError  # noqa: E402
from rnnlab.tasks.serve import checkpoint_task, create_app  # noqa: E402


@pytest.fixture(scope="module")
def forecaster_run(tmp_path_factory):
    from rnnlab import Forecaster

    folder = tmp_path_factory.mktemp("serve") / "forecast"
    t = np.arange(600)
    frame = pd.DataFrame({"y": 10 + np.sin(2 * np.pi * t / 24) + 0.1 * np.random.default_rng(0).normal(size=600)})
    Forecaster(auto=False, epochs=2, hidden_size=8, horizon=6, lookback=48).fit(frame, target="y", run_dir=folder,
                                                                                 log=lambda *_: None)  # fmt: skip
    return folder, frame


def test_forecast_and_streams_equal_the_python_api(forecaster_run):
    from rnnlab import Forecaster

    folder, frame = forecaster_run
    client = TestClient(create_app(folder))
    health = client.get("/health").json()
    assert health["task"] == "forecast" and health["horizon"] == 6
    reply = client.post("/forecast", json={"history": frame["y"].tolist()[:500]})
    assert reply.status_code == 200
    model = Forecaster.load(folder / "best.safetensors")
    expected = model.predict(frame.iloc[:500][["y"]]).iloc[:, -1].to_numpy()
    np.testing.assert_allclose(reply.json()["forecast"], expected, rtol=1e-6)
    assert len(client.post("/forecast", json={"history": frame["y"].tolist(), "horizon": 2}).json()["forecast"]) == 2

    # two series streamed at once keep separate states
    values = frame["y"].tolist()
    assert client.post("/series/a/update", json={"values": values[:400]}).json()["started"] is True
    assert client.post("/series/b/update", json={"values": values[:300]}).json()["started"] is True
    for v in values[400:410]:
        assert client.post("/series/a/update", json={"values": [v]}).status_code == 200
    model.start_stream(frame.iloc[:400][["y"]])
    model.update(np.array(values[400:410]))
    np.testing.assert_allclose(client.get("/series/a/forecast").json()["forecast"],
                               np.asarray(model.forecast_stream()).reshape(6, -1)[:, 0], rtol=1e-5)  # fmt: skip
    model.start_stream(frame.iloc[:300][["y"]])
    np.testing.assert_allclose(client.get("/series/b/forecast").json()["forecast"],
                               np.asarray(model.forecast_stream()).reshape(6, -1)[:, 0], rtol=1e-5)  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason"),
    [
        ("post", "/forecast", b"{not json", 422, "JSON"),
        ("post", "/forecast", {"history": "abc"}, 422, "history"),
        ("post", "/forecast", {"history": []}, 422, "history"),
        ("post", "/forecast", {"history": [1.0, 2.0, 3.0]}, 422, ""),
        ("post", "/forecast", {"history": [1.0] * 200, "horizon": 99}, 422, "horizon"),
        ("post", "/series/x/update", {"values": [1.0, float("nan")]}, 422, ""),
        ("get", "/series/unknown/forecast", None, 404, "no series 'unknown'"),
    ],
)
def test_bad_requests_get_a_reason_and_the_server_keeps_serving(forecaster_run, method, path, body, status, reason):
    folder, frame = forecaster_run
    client = TestClient(create_app(folder))
    if isinstance(body, bytes):
        reply = client.request(method, path, content=body, headers={"content-type": "application/json"})
    elif body is not None and any(isinstance(v, float) and np.isnan(v) for v in body.get("values", [])):
        reply = client.request(
            method, path, content=b'{"values": [1.0, NaN]}', headers={"content-type": "application/json"}
        )
    else:
        reply = client.request(method, path, json=body)
    assert reply.status_code == status, reply.text
    detail = reply.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and reason in detail
    assert client.post("/forecast", json={"history": frame["y"].tolist()}).status_code == 200  # still serving


def test_an_oversized_body_is_refused_before_it_is_read(forecaster_run):
    folder, _ = forecaster_run
    client = TestClient(create_app(folder, max_body=1000))
    reply = client.post("/forecast", json={"history": [1.0] * 1000})
    assert reply.status_code == 413 and "over 1,000 bytes" in reply.json()["detail"]


def test_classifier_and_tagger_endpoints(tmp_path):
    from rnnlab import Tagger, TextClassifier, TrainConfig
    from rnnlab.data.tagged import Tagged

    texts = ["good fun film", "bad dull film", "great acting", "awful plot"] * 20
    labels = ["pos", "neg", "pos", "neg"] * 20
    classifier = TextClassifier(wide=False)
    classifier.fit(texts, labels, run_dir=tmp_path / "classify", log=lambda *_: None,
                   train_config=TrainConfig(epochs=2, progress=False))  # fmt: skip
    client = TestClient(create_app(tmp_path / "classify"))
    reply = client.post("/classify", json={"texts": ["good fun", "awful dull"]}).json()
    assert reply["labels"] == classifier.predict(["good fun", "awful dull"])
    assert set(reply["probabilities"][0]) == {"neg", "pos"}
    assert client.post("/classify", json={"texts": ["   "]}).status_code == 422

    data = Tagged([["the", "cat", "sat"], ["a", "dog", "ran"]] * 10, [["DT", "NN", "VBD"]] * 20, "t")
    tagger = Tagger(hidden_size=8, word_dim=8, char_filters=4,
                    train_config=TrainConfig(epochs=2, progress=False))  # fmt: skip
    tagger.fit(data, data, run_dir=tmp_path / "tag", log=lambda *_: None)
    client = TestClient(create_app(tmp_path / "tag"))
    reply = client.post("/tag", json={"sentences": ["the dog sat"], "pretokenized": True}).json()
    assert [w for w, _ in reply["tagged"][0]] == ["the", "dog", "sat"]
    assert [t for _, t in reply["tagged"][0]] == tagger.predict([["the", "dog", "sat"]])[0]


def test_what_cannot_be_served_is_a_one_line_error(tmp_path):
    (tmp_path / "best.safetensors").write_bytes(b"\x80\x04pickle")
    with pytest.raises(RnnlabError, match="not a readable rnnlab checkpoint"):
        checkpoint_task(tmp_path)
    with pytest.raises(RnnlabError, match="checkpoint not found"):
        create_app(tmp_path / "nothing")


def test_generation_streams_the_same_text_as_sampling_in_python(tmp_path):
    from rnnlab.data.corpus import Corpus, detokenize, tokenize
    from rnnlab.sampling import sample_tokens
    from rnnlab.tasks.text import load_language_model, train_text
    from rnnlab.train import TrainConfig

    corpus = Corpus.from_text("to be or not to be, that is the question. " * 40, source="t", level="char")
    train_text(corpus, {"cell": "gru", "hidden_size": 16, "embedding_dim": 8}, TrainConfig(epochs=1, progress=False),
               run_dir=tmp_path / "run", log=lambda *_: None)  # fmt: skip
    client = TestClient(create_app(tmp_path / "run"))
    body = {"prime": "to be", "length": 40, "temperature": 0.7, "seed": 3}
    with client.stream("POST", "/generate", json=body) as reply:
        assert reply.status_code == 200
        streamed = "".join(reply.iter_text())
    model, vocab, level = load_language_model(tmp_path / "run")
    expected = list(sample_tokens(model.eval(), vocab, level, "to be", 40, temperature=0.7, seed=3))
    assert "to be" + streamed == detokenize([*tokenize("to be", level), *expected], level)
    bad = client.post("/generate", json={**body, "prime": "ZQX"})  # characters the model never saw
    assert bad.status_code == 422 and "never saw" in bad.json()["detail"]
    assert client.post("/generate", json={**body, "temperature": 0}).status_code == 422


def test_translation_endpoint_equals_the_python_api(tmp_path):
    from rnnlab.data.generated_pairs import builtin_pairs
    from rnnlab.data.pairs import split_by_source
    from rnnlab.models.translator import Translator
    from rnnlab.tasks.translate import train_translation
    from rnnlab.train import TrainConfig

    train, validation, test = split_by_source(builtin_pairs("dates", 300, seed=0), test_fraction=0.1,
                                              val_fraction=0.1, seed=0)  # fmt: skip
    train_translation(train, validation, test[:5], level="char", source="dates",
                      model_config={"cell": "mingru", "hidden_size": 16, "embedding_dim": 8},
                      train_config=TrainConfig(epochs=1, progress=False), run_dir=tmp_path / "run", beam=1,
                      log=lambda *_: None)  # fmt: skip
    client = TestClient(create_app(tmp_path / "run"))
    assert client.get("/health").json()["task"] == "translate"
    sentences = ["march 3, 2001", "12 june 1999"]
    reply = client.post("/translate", json={"sentences": sentences, "beam": 3, "n_best": 2})
    assert reply.status_code == 200, reply.text
    expected = Translator.load(tmp_path / "run" / "best.safetensors").translate(sentences, beam=3, n_best=2)
    got = reply.json()["translations"]
    assert [[c["text"] for c in row] for row in got] == [[t.text for t in row] for row in expected]
    np.testing.assert_allclose([c["score"] for c in got[0]], [t.score for t in expected[0]], rtol=1e-5)
    for body, reason in (
        ({"sentences": ["may 1"], "beam": 2, "n_best": 3}, "cannot exceed the beam"),
        ({"sentences": ["§§§"]}, "unknown to the model"),
        ({"sentences": []}, "sentences"),
    ):
        reply = client.post("/translate", json=body)
        assert reply.status_code == 422 and reason in reply.json()["detail"], reply.text
    assert client.post("/translate", json={"sentences": ["may 1"]}).status_code == 200  # still serving
