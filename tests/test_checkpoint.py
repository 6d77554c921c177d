"""Checkpoints: round trip, atomic replacement, and one-line errors for missing, corrupted or foreign files."""

from __future__ import annotations

import errno
import os

import pytest
import torch

from rnnlab.checkpoint import atomic_write_bytes, load_checkpoint, save_checkpoint
from rnnlab.errors import RnnlabError


def test_round_trip_keeps_tensors_and_json(tmp_path):
    tensors = {"model.w": torch.randn(3, 4), "model.b": torch.arange(5)}
    save_checkpoint(tmp_path / "a.safetensors", tensors, {"task": "forecast", "vocab": ["a", "é"], "x": 1.5})
    loaded, meta = load_checkpoint(tmp_path / "a.safetensors", task="forecast")
    assert torch.equal(loaded["model.w"], tensors["model.w"]) and torch.equal(loaded["model.b"], tensors["model.b"])
    assert meta["vocab"] == ["a", "é"] and meta["x"] == 1.5 and meta["task"] == "forecast"


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "best.safetensors"
    save_checkpoint(path, {"w": torch.ones(2)}, {"task": "forecast", "version": "old"})

    def broken_replace(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(RnnlabError, match=r"cannot write .*best\.safetensors: No space left on device"):
        save_checkpoint(path, {"w": torch.zeros(2)}, {"task": "forecast", "version": "new"})
    monkeypatch.undo()
    _, meta = load_checkpoint(path)
    assert meta["version"] == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.safetensors"]


def test_atomic_write_replaces_in_one_step_with_the_usual_file_mode(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"one")
    atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a readable rnnlab checkpoint"),
        (b"\x00\x01garbage" * 10, "not a readable rnnlab checkpoint"),
    ],
)
def test_corrupted_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "x.safetensors"
    path.write_bytes(content)
    with pytest.raises(RnnlabError, match=message):
        load_checkpoint(path)


def test_truncated_checkpoint_is_reported(tmp_path):
    path = tmp_path / "x.safetensors"
    save_checkpoint(path, {"w": torch.randn(100)}, {"task": "forecast"})
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(RnnlabError, match="corrupted or truncated"):
        load_checkpoint(path)


def test_checkpoint_of_another_task_and_missing_files_are_refused(tmp_path):
    path = tmp_path / "t.safetensors"
    save_checkpoint(path, {"w": torch.ones(1)}, {"task": "text"})
    with pytest.raises(RnnlabError, match="'text' task, not of 'forecast'"):
        load_checkpoint(path, task="forecast")
    with pytest.raises(RnnlabError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.safetensors")


def test_plain_safetensors_without_rnnlab_metadata_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2)}, str(tmp_path / "p.safetensors"))
    with pytest.raises(RnnlabError, match="not a readable rnnlab checkpoint"):
        load_checkpoint(tmp_path / "p.safetensors")
