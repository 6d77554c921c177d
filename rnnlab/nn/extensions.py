"""rnnlab's C++ step loops (``rnnlab/nn/csrc``), compiled on first use by torch's extension builder (g++ and ninja).

``make`` builds them once (:func:`build_all`); the result is cached under torch's extension root
(``$TORCH_EXTENSIONS_DIR`` or ``~/.cache/torch_extensions``), in ``rnnlab-py3XX-torch<version>/<module>``. Where they
cannot be built (no compiler, no ninja, no headers) :func:`load` returns None and each caller runs its Python twin,
which does the same arithmetic more slowly. ``RNNLAB_NO_EXTENSION=1`` forces the Python twins (the tests run both).

A build killed part-way (a timeout, ``kill -9``, a machine that stops) leaves torch's ``lock`` file behind, and torch
then waits for it to go away forever, in every later process. So rnnlab builds under a lock of its own, an ``flock``
that the kernel drops when its holder dies: whoever holds it knows that no live rnnlab build holds torch's file, and
removes a leftover one.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock, and torch's lock is left as torch handles it
    fcntl = None

SOURCES = Path(__file__).with_name("csrc")
NAMES = {"gru": "rnnlab_gru", "minimal": "rnnlab_minimal"}  # source stem → module name


def build_directory(name: str) -> Path:
    """Where module ``name`` is built and cached under torch's extension root: one folder per Python and torch version
    (a module built against another torch's headers would not load)."""
    import torch
    from torch.utils.cpp_extension import get_default_build_root

    root = os.environ.get("TORCH_EXTENSIONS_DIR") or get_default_build_root()
    return Path(root) / f"rnnlab-py{sys.version_info.major}{sys.version_info.minor}-torch{torch.__version__}" / name


@contextlib.contextmanager
def exclusive_build(directory: Path):
    """Hold rnnlab's lock on ``directory`` (waiting for a live build there to end), and clear torch's leftover one."""
    directory.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    with open(directory / "rnnlab.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released by the kernel if this process dies
        (directory / "lock").unlink(missing_ok=True)  # no live rnnlab build holds it now: a killed one left it
        yield  # closing the handle releases the flock


@functools.cache
def load(stem: str):
    """The compiled module of ``csrc/<stem>.cpp``, or None where it cannot be built."""
    if os.environ.get("RNNLAB_NO_EXTENSION"):
        return None
    try:
        from torch.utils.cpp_extension import load as build

        directory = build_directory(NAMES[stem])
        # -ffast-math lets gcc call glibc's vector exp inside the gate loops; -march=native: the build is for here
        flags = ["-O3", "-ffast-math", "-march=native", "-fopenmp"]
        with exclusive_build(directory):
            return build(name=NAMES[stem], sources=[str(SOURCES / f"{stem}.cpp")], extra_cflags=flags,
                         extra_ldflags=["-lmvec"], build_directory=str(directory), verbose=False)  # fmt: skip
    except Exception:  # no compiler, no ninja, no headers: the Python twin
        return None


def build_all() -> None:
    """Build every extension now and say which could not be (``make`` calls this)."""
    for stem in NAMES:
        print(f"rnnlab {stem} extension:", "built" if load(stem) is not None else "not available (Python runs)")


if __name__ == "__main__":
    build_all()
