"""The README cannot drift: every Python block runs, every ``rnnlab`` command line parses, and the tables it shows
are printed by the code the tests run."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest

from rnnlab.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks(language: str | None) -> list[str]:
    text = README.read_text(encoding="utf-8")
    found = re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S)
    return [body for lang, body in found if (language is None and lang == "") or lang == language]


def command_lines() -> list[str]:
    lines = []
    for body in blocks(None):
        joined = re.sub(r"\\\n\s*", " ", body)  # a command continued over lines
        for line in joined.splitlines():
            line = line.split(" #")[0].strip()
            if " -m rnnlab " in line:
                line = "rnnlab " + line.split(" -m rnnlab ", 1)[1]
            if line.startswith("rnnlab ") and " ... " not in line:
                lines.append(line)
    return lines


def test_every_command_line_of_the_readme_parses():
    lines = command_lines()
    assert len(lines) > 30
    parser = build_parser()
    for line in lines:
        try:
            parser.parse_args(shlex.split(line)[1:])
        except SystemExit:
            pytest.fail(f"the README's command does not parse: {line}")


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_every_python_block_of_the_readme_runs(index, tmp_path, monkeypatch, capsys):
    pytest.importorskip("pmdarima")
    body = blocks("python")[index]
    monkeypatch.chdir(tmp_path)  # run folders go here
    if body.lstrip().startswith(">>>"):  # a doctest: its printed output must match too
        import rnnlab

        test = doctest.DocTestParser().get_doctest(body, {"rnnlab": rnnlab}, "README", str(README), 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test)
        assert runner.failures == 0, capsys.readouterr().out
    else:
        exec(compile(body, f"README block {index}", "exec"), {"__name__": "readme"})


def test_the_readme_shows_the_tables_as_the_code_prints_them():
    from rnnlab.evaluation import format_table

    header = format_table([], "title").splitlines()[1]
    assert header in README.read_text(encoding="utf-8")  # the demo's table, as format_table writes it
