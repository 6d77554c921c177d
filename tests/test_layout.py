"""The package layout: the shared engine and the models never import a task module (rnnlab/tasks/)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rnnlab"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_only_tasks_and_commands_import_task_modules():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("tasks", "commands"):
            continue
        if any(name == "rnnlab.tasks" or name.startswith("rnnlab.tasks.") for name in _imported_modules(path)):
            offenders.append(str(relative))
    assert offenders == []


def test_every_task_has_its_module_and_command():
    tasks = {p.stem for p in (PACKAGE / "tasks").glob("*.py")} - {"__init__"}
    assert {"forecast", "classify", "text", "translate"} <= tasks
    commands = {p.stem for p in (PACKAGE / "commands").glob("*.py")}
    assert {"forecast", "classify", "text", "translate"} <= commands
    assert not [p.name for p in PACKAGE.glob("*_run.py")]  # the old top-level job modules are gone
