"""What every example shares: where figures go, and the small sizes CI runs them with (RNNLAB_EXAMPLE_SMALL=1)."""

from __future__ import annotations

import os
from pathlib import Path

SMALL = os.environ.get("RNNLAB_EXAMPLE_SMALL") == "1"
OUT = Path(os.environ.get("RNNLAB_EXAMPLE_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


def save(figure, name: str) -> Path:
    """Write a matplotlib figure to ``OUT/name`` and say where."""
    path = OUT / name
    figure.savefig(path, dpi=110, bbox_inches="tight")
    print(f"figure: {path}")
    return path


def run_dir(name: str) -> Path:
    """A fresh run folder under ``OUT/runs`` (a previous run of the example is removed: each run starts anew)."""
    import shutil

    path = OUT / "runs" / name
    shutil.rmtree(path, ignore_errors=True)
    return path
