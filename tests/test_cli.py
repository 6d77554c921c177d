"""The ``rnnlab`` command: the demo runs, and bad input is one line on stderr with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

from rnnlab.cli import main


def test_demo_quick_runs_every_section(capsys):
    assert main(["tour", "--quick"]) == 0
    out = capsys.readouterr().out
    for heading in (
        "Parameters of one layer",
        "Summary of LSTM",
        "three implementations",
        "noisy sine",
        "training step",
    ):
        assert heading in out
    assert "130" in out and "120" in out


def test_summary_command_prints_the_table(capsys):
    assert main(["summary", "--cell", "rnn", "--input-size", "1", "--hidden-size", "10"]) == 0
    assert "Total params: 130" in capsys.readouterr().out


def test_bad_size_is_a_one_line_error_without_traceback(capsys):
    assert main(["summary", "--hidden-size", "-3"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "rnnlab: error: summary: argument --hidden-size: must be a whole number ≥ 1, got -3"


def test_console_script_reports_errors_in_one_line_and_exits_non_zero():
    result = subprocess.run(
        [sys.executable, "-m", "rnnlab.cli", "summary", "--num-layers", "0"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "rnnlab: error: summary: argument --layers/--num-layers: must be a whole number ≥ 1, got 0"
    ]


def test_debug_flag_shows_the_traceback():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnnlab.cli",
            "--debug",
            "forecast",
            "predict",
            "--checkpoint",
            "no/such/run",
            "--data",
            "sine",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr
