"""Run every benchmark: each `benchmarks/bench_*.py` module's `main()`, in name order.

.venv/bin/python -m benchmarks                 # all of them
.venv/bin/python -m benchmarks engine mdm      # only bench_engine and bench_mdm
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    wanted = set(sys.argv[1:] if argv is None else argv)
    names = sorted(p.stem for p in Path(__file__).resolve().parent.glob("bench_*.py"))
    failed = 0
    for name in names:
        if wanted and name.removeprefix("bench_") not in wanted and name not in wanted:
            continue
        print(f"==== benchmarks.{name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        status = module.main([])
        if isinstance(status, int) and status != 0:
            failed += 1
        print(flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
