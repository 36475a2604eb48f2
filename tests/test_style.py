"""The style rules of the project, enforced: ruff and mypy clean, and the engine
imports nothing from the rest of the package (design.md: arrows point one way)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def test_ruff_is_clean() -> None:
    proc = subprocess.run(
        [_tool("ruff"), "check", "lifecycle", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean() -> None:
    proc = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_engine_imports_nothing_from_the_rest_of_the_package() -> None:
    offenders = []
    for path in sorted((ROOT / "lifecycle" / "engine").rglob("*.py")):
        for name in _imports(path):
            if name.startswith("lifecycle.") and not name.startswith("lifecycle.engine"):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
            if name == "lifecycle":
                offenders.append(f"{path.relative_to(ROOT)} imports lifecycle")
    assert offenders == []


def test_nothing_imports_the_cli() -> None:
    offenders = []
    for path in sorted((ROOT / "lifecycle").rglob("*.py")):
        if path.name in {"cli.py", "__main__.py"}:
            continue
        if "lifecycle.cli" in _imports(path):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_mdm_does_not_import_upper_rooms() -> None:
    upper = ("lifecycle.render", "lifecycle.testing", "lifecycle.runtime", "lifecycle.syncml")
    offenders = []
    for path in sorted((ROOT / "lifecycle" / "mdm").rglob("*.py")):
        for name in _imports(path):
            if name.startswith(upper):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []
