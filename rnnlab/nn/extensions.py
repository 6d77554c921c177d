"""rnnlab's C++ step loops (``rnnlab/nn/csrc``), compiled on first use by torch's extension builder (g++ and ninja).

``make`` builds them once (:func:`build_all`); torch caches the result under
``~/.cache/torch_extensions``. Where they cannot be built (no compiler, no ninja, no headers) :func:`load` returns None
and each caller runs its Python twin, which does the same arithmetic more slowly. ``RNNLAB_NO_EXTENSION=1`` forces the
Python twins (the tests run both).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

SOURCES = Path(__file__).with_name("csrc")
NAMES = {"gru": "rnnlab_gru", "minimal": "rnnlab_minimal"}  # source stem → module name


@functools.cache
def load(stem: str):
    """The compiled module of ``csrc/<stem>.cpp``, or None where it cannot be built."""
    if os.environ.get("RNNLAB_NO_EXTENSION"):
        return None
    try:
        from torch.utils.cpp_extension import load as build

        # -ffast-math lets gcc call glibc's vector exp inside the gate loops; -march=native: the build is for here
        flags = ["-O3", "-ffast-math", "-march=native", "-fopenmp"]
        return build(name=NAMES[stem], sources=[str(SOURCES / f"{stem}.cpp")], extra_cflags=flags,
                     extra_ldflags=["-lmvec"], verbose=False)  # fmt: skip
    except Exception:  # no compiler, no ninja, no headers: the Python twin
        return None


def build_all() -> None:
    """Build every extension now and say which could not be (``make`` calls this)."""
    for stem in NAMES:
        print(f"rnnlab {stem} extension:", "built" if load(stem) is not None else "not available (Python runs)")


if __name__ == "__main__":
    build_all()
