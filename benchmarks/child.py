"""Running one measurement in a child process, so that its peak memory is its own."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def run_child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m benchmarks.<module> --child ARGS`` and return the JSON object its
    last line prints."""
    out = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--child", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures
