"""Benchmark: the engine against musil (a Python checker) on TwoPhase, in the same run.

Run: ``.venv/bin/python -m benchmarks.bench_peers [--rms 8] [--repeat 1]``.

TwoPhase with `rms` resource managers (8: 1,745,408 states), written idiomatically for
each tool: for the engine, `FastTwoPhase` (the `successors` fast path) with the
fingerprint store, serial and with 2 workers; for musil 0.36.7, a frozen dataclass
with one guarded `Action` per RM and step, checked with `check` and with
`parallel_check(workers=2)`. musil needs Python 3.12 or newer, so the benchmark makes
its own virtual environment (`.venv-musil`, from pyenv's 3.12 or any `python3.12` on
the PATH) and runs musil there. Each pair is timed in turn (wall clock, one process
each), and every line says whether the state count agrees with TwoPhase's closed form.

TLC is not run here: the scale issue gives its figures on this machine for PaxosCommit
(188 s with one worker, 103 s with two); `bench_parallel` measures the engine on the
same model.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lifecycle.engine import check
from lifecycle.examples import FastTwoPhase

MUSIL = "musil==0.36.7"
VENV = Path(__file__).resolve().parent.parent / ".venv-musil"

MUSIL_SCRIPT = r"""
import json, sys, time
from dataclasses import dataclass
from musil import Action, Model, check
from musil.parallel import parallel_check

N = int(sys.argv[1])
mode = sys.argv[2]

@dataclass(frozen=True)
class S:
    rm: tuple
    tm: str
    prepared: frozenset
    msgs: frozenset

def setrm(s, i, v):
    return s.rm[:i] + (v,) + s.rm[i + 1:]

ALL = frozenset(range(N))
acts = [
    Action("TMCommit", lambda s: s.tm == "init" and s.prepared == ALL,
           lambda s: S(s.rm, "committed", s.prepared, s.msgs | {("Commit",)})),
    Action("TMAbort", lambda s: s.tm == "init",
           lambda s: S(s.rm, "aborted", s.prepared, s.msgs | {("Abort",)})),
]
for i in range(N):
    acts += [
        Action(f"TMRcvPrepared{i}", lambda s, i=i: s.tm == "init" and ("Prepared", i) in s.msgs,
               lambda s, i=i: S(s.rm, s.tm, s.prepared | {i}, s.msgs)),
        Action(f"RMPrepare{i}", lambda s, i=i: s.rm[i] == "working",
               lambda s, i=i: S(setrm(s, i, "prepared"), s.tm, s.prepared,
                                s.msgs | {("Prepared", i)})),
        Action(f"RMChooseToAbort{i}", lambda s, i=i: s.rm[i] == "working",
               lambda s, i=i: S(setrm(s, i, "aborted"), s.tm, s.prepared, s.msgs)),
        Action(f"RMRcvCommitMsg{i}", lambda s, i=i: ("Commit",) in s.msgs,
               lambda s, i=i: S(setrm(s, i, "committed"), s.tm, s.prepared, s.msgs)),
        Action(f"RMRcvAbortMsg{i}", lambda s, i=i: ("Abort",) in s.msgs,
               lambda s, i=i: S(setrm(s, i, "aborted"), s.tm, s.prepared, s.msgs)),
    ]

def consistent(s):
    return not ("aborted" in s.rm and "committed" in s.rm)

model = Model(init=S(("working",) * N, "init", frozenset(), frozenset()), actions=acts,
              invariants={"consistent": consistent})
start = time.perf_counter()
if mode == "check":
    result = check(model, max_states=10**8)
else:
    result = parallel_check(model, workers=2, max_states=10**8)
seconds = time.perf_counter() - start
states = getattr(result, "states_explored", None)
if states is None:
    states = getattr(result, "states", None)
print(json.dumps({"seconds": seconds, "ok": bool(result.ok), "states": states}))
"""


def musil_python() -> str | None:
    """The virtual environment's python, made on first use; None when no Python 3.12+
    or no musil can be had (the line then says so)."""
    python = VENV / "bin" / "python"
    if python.exists():
        return str(python)
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python")))
    base = candidates[0] if candidates else shutil.which("python3.12")
    if base is None:
        return None
    subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", MUSIL], capture_output=True, text=True
    )
    return str(python) if done.returncode == 0 else None


def run_musil(python: str, rms: int, mode: str) -> dict[str, object]:
    done = subprocess.run(
        [python, "-c", MUSIL_SCRIPT, str(rms), mode], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_engine(rms: int, workers: int) -> dict[str, object]:
    model = FastTwoPhase(rms)
    start = time.perf_counter()
    result = check(model, store="fingerprint", workers=workers)
    return {
        "seconds": time.perf_counter() - start,
        "ok": result.ok,
        "states": result.distinct_states,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rms", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    expected = 6**args.rms + 4**args.rms + 2**args.rms
    python = musil_python()
    print(f"TwoPhase({args.rms}): {expected:,} states")
    print(f"{'checker':36} {'seconds':>9} {'states':>11}  count")
    for _ in range(args.repeat):
        rows = [
            ("engine, fast path, 1 worker", run_engine(args.rms, 1)),
            ("engine, fast path, 2 workers", run_engine(args.rms, 2)),
        ]
        if python is None:
            print("musil: no Python 3.12 or no musil here; not measured")
        else:
            rows += [
                ("musil 0.36.7 check", run_musil(python, args.rms, "check")),
                ("musil 0.36.7 parallel_check(2)", run_musil(python, args.rms, "parallel")),
            ]
        base = float(rows[0][1]["seconds"])  # type: ignore[arg-type]
        for label, row in rows:
            seconds = float(row["seconds"])  # type: ignore[arg-type]
            states = row["states"]
            agree = "matches" if states == expected else f"states reported: {states}"
            print(
                f"{label:36} {seconds:>9.2f} {states if isinstance(states, int) else '-':>11}"
                f"  {agree}; {seconds / base:.2f}x the engine's 1 worker",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
