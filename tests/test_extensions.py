"""The C++ extensions' build: a build killed part-way must not make every later process wait forever."""

from __future__ import annotations

import os
import threading
import time

import pytest
import torch.utils.cpp_extension

from rnnlab.nn import extensions

fcntl = pytest.importorskip("fcntl", reason="rnnlab's build lock is an flock (POSIX)")


class Built:
    """What the stand-in for torch's builder returns."""


def torch_like_build(**kwargs):
    """Torch's builder without the compiler: it takes the ``lock`` file in the build directory with O_EXCL, and where
    that file is already there it would wait (forever, for a leftover one); here it gives up instead."""
    lock = os.path.join(kwargs["build_directory"], "lock")
    try:
        handle = os.open(lock, os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        raise TimeoutError(f"{lock} is held: torch would wait here") from None
    os.close(handle)
    os.remove(lock)
    return Built()


@pytest.fixture
def builder(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    monkeypatch.delenv("RNNLAB_NO_EXTENSION", raising=False)
    monkeypatch.setattr(torch.utils.cpp_extension, "load", torch_like_build)
    extensions.load.cache_clear()
    yield extensions.build_directory(extensions.NAMES["gru"])
    extensions.load.cache_clear()


def test_a_lock_left_by_a_killed_build_is_cleared(builder):
    builder.mkdir(parents=True)
    (builder / "lock").touch()  # what `kill -9` during a build leaves
    assert isinstance(extensions.load("gru"), Built)
    assert not (builder / "lock").exists()


def test_a_live_build_is_waited_for_not_broken_into(builder):
    builder.mkdir(parents=True)
    with open(builder / "rnnlab.lock", "w") as live:  # another process building now holds both locks
        fcntl.flock(live, fcntl.LOCK_EX)
        (builder / "lock").touch()
        result = {}
        waiter = threading.Thread(target=lambda: result.update(module=extensions.load("gru")), daemon=True)
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive(), "load did not wait for the build in progress"
        assert (builder / "lock").exists(), "load removed the lock of a build in progress"
        (builder / "lock").unlink()  # that build ends
        fcntl.flock(live, fcntl.LOCK_UN)
    waiter.join(timeout=10)
    assert isinstance(result.get("module"), Built)


def test_load_gives_the_python_twin_when_the_build_fails(builder, monkeypatch):
    def failing_build(**kwargs):
        raise RuntimeError("Ninja is required to load C++ extensions")

    monkeypatch.setattr(torch.utils.cpp_extension, "load", failing_build)
    assert extensions.load("gru") is None
