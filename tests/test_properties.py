"""Property-based tests (Hypothesis): whatever a user feeds them, every reader ends in a result or a one-line
RnnlabError, and every numeric option of the command line in a value or a one-line error. Never a traceback."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.data.corpus import Corpus
from rnnlab.data.labelled import read_labelled_table, read_sequence_table
from rnnlab.data.pairs import read_pairs
from rnnlab.data.series import SeriesSpec, prepare_series, read_table
from rnnlab.data.text import read_text
from rnnlab.errors import RnnlabError
from tests.conftest import run_cli

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("RNNLAB_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["", "NA", "n/a", "-", "1e999", "0x1F", "2024-01-01", "TRUE", "  ", '"', ",", "é", "\t"]),
    st.text(string.printable, max_size=6),
)
TIMES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()), st.sampled_from(["2024-13-01", "yesterday", "", "1956 Q5", "1991 W60"])
)


def _write(tmp_path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


def _ends_well(call):
    """Run ``call``; a RnnlabError is a fine ending (its message one line); anything else fails the test."""
    try:
        return call()
    except RnnlabError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip(), repr(exc)
        return None


@SETTINGS
@given(rows=st.lists(st.tuples(TIMES, CELLS, CELLS), min_size=0, max_size=30), parquet=st.booleans())
def test_any_series_table_is_read_or_refused_in_one_line(tmp_path, rows, parquet):
    frame = pd.DataFrame(rows, columns=["time", "load", "wind"])
    if parquet:
        path = tmp_path / "s.parquet"
        frame.astype(str).to_parquet(path)
    else:
        path = tmp_path / "s.csv"
        frame.to_csv(path, index=False)

    def read():
        table = read_table(path)
        series = prepare_series(table, SeriesSpec(("load",), "time", ("wind",)), str(path))
        assert np.isfinite(series.targets).all() and len(series) >= len(table)
        return series

    _ends_well(read)


@SETTINGS
@given(data=st.binary(max_size=400))
def test_any_bytes_are_read_as_text_or_refused(tmp_path, data):
    path = _write(tmp_path, "t.txt", data)
    text = _ends_well(lambda: read_text(path))
    if text is not None:
        assert not text.startswith("\ufeff")


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_is_read_as_sentence_pairs_or_refused(tmp_path, text):
    path = _write(tmp_path, "p.tsv", text)
    pairs = _ends_well(lambda: read_pairs(path))
    if pairs is not None:
        assert all(p.source.strip() and p.target.strip() for p in pairs)


@SETTINGS
@given(rows=st.lists(st.tuples(st.text(max_size=20), st.sampled_from(["pos", "neg", "", "x", "1"])), max_size=30))
def test_any_labelled_table_is_read_or_refused(tmp_path, rows):
    path = tmp_path / "l.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    examples = _ends_well(lambda: read_labelled_table(path))
    if examples is not None:
        assert len(set(examples.labels)) >= 2


@SETTINGS
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c", ""]), CELLS, st.sampled_from(["x", "y", ""])),
                     max_size=30))  # fmt: skip
def test_any_sequence_table_is_read_or_refused(tmp_path, rows):
    path = tmp_path / "q.csv"
    pd.DataFrame(rows, columns=["id", "value", "label"]).to_csv(path, index=False)
    _ends_well(lambda: read_sequence_table(path, id="id", label="label"))


@SETTINGS
@given(text=st.text(max_size=400), level=st.sampled_from(["char", "word"]))
def test_any_text_becomes_a_corpus_or_is_refused(text, level):
    corpus = _ends_well(lambda: Corpus.from_text(text, level=level, source="t.txt"))
    if corpus is not None:
        assert len(corpus.train) + len(corpus.val) >= 100 and len(corpus.val) >= 2


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("ckpt") / "c.safetensors"
    save_checkpoint(path, {"model.w": torch.randn(4, 3), "model.b": torch.randn(3)}, {"task": "forecast", "x": [1]})
    return path.read_bytes()


@SETTINGS
@given(data=st.binary(max_size=300))
def test_any_bytes_as_a_checkpoint_are_refused(tmp_path, data):
    path = _write(tmp_path, "c.safetensors", data)
    assert _ends_well(lambda: load_checkpoint(path)) is None


@SETTINGS
@given(position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_a_checkpoint_with_any_bit_flipped_is_refused_or_unchanged(tmp_path, checkpoint_bytes, position, bit):
    damaged = bytearray(checkpoint_bytes)
    index = position % len(damaged)
    damaged[index] ^= 1 << bit
    path = _write(tmp_path, "c.safetensors", bytes(damaged))
    loaded = _ends_well(lambda: load_checkpoint(path))
    if loaded is not None:  # a flip in the JSON that changes nothing it reads (e.g. whitespace) may still load
        original = _write(tmp_path, "o.safetensors", checkpoint_bytes)
        tensors, _ = load_checkpoint(original)
        assert all(torch.equal(tensors[k], loaded[0][k]) for k in tensors)


NUMERIC = [("forecast", "train", "--horizon"), ("forecast", "train", "--lr"), ("forecast", "train", "--dropout"),
           ("forecast", "train", "--val-size"), ("classify", "train", "--test-fraction"),
           ("text", "generate", "--top-p"), ("translate", "run", "--beam")]  # fmt: skip


@SETTINGS
@given(which=st.sampled_from(NUMERIC), value=st.one_of(st.text(max_size=8), CELLS))
def test_any_value_of_a_numeric_option_is_taken_or_refused_in_one_line(capsys, which, value):
    *command, option = which
    rest = {"forecast": ["--data", "/no/such/file.csv"], "classify": ["--data", "/no/such/file.csv"],
            "text": ["--checkpoint", "/no/such/run"], "translate": ["--checkpoint", "/no/such/run", "hi"]}  # fmt: skip
    code, _, err = run_cli(capsys, *command, *rest[command[0]], f"{option}={value}")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("rnnlab: error: "), err
