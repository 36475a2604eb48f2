"""The Python examples in the README and the engine guide run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "docs" / "engine.md"]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_examples_run(page: Path) -> None:
    blocks = python_blocks(page)
    assert blocks, f"{page.name} should carry a runnable example"
    for block in blocks:
        exec(compile(block, str(page), "exec"), {"__name__": "docs_example"})
