"""How much memory the search holds, for the `max_memory` bound.

Its own module because two strategies read it and neither owns it: the serial search
reads its process's resident size (`resident_memory`) in its hot loop, the parallel
coordinator the proportional size of itself and its forked workers together
(`group_memory`); both say what stopped them in the same units (`_size`).
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Iterable

_PAGE = resource.getpagesize()


def resident_memory() -> int:
    """The process's resident memory now, in bytes: /proc/self/statm where there is
    one (Linux), else the peak so far (`getrusage`, KiB on Linux, bytes on macOS).
    The current figure, not the peak, so that a long-lived process (a test run, a
    notebook) that once peaked higher is still bounded by what this search adds."""
    found = _proc_memory("self", "statm")
    if found is not None:
        return found
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _proc_memory(pid: str | int, source: str) -> int | None:
    """A process's memory in bytes from /proc: its resident size (``statm``) or its
    proportional set size (``smaps_rollup``, Pss); None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/{source}", "rb") as handle:
            if source == "statm":
                return int(handle.read().split()[1]) * _PAGE
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return None


def group_memory(pids: Iterable[int]) -> int:
    """The memory of this process and its workers `pids` together, in bytes: the sum
    of their proportional set sizes (/proc/PID/smaps_rollup, Linux), in which a page
    that forked processes still share counts once, split between them, so the total
    is what the group holds. Without smaps_rollup, resident sizes are summed, which
    counts a shared page once per process: a bound that stops early, never late."""
    own = _proc_memory("self", "smaps_rollup")
    total = own if own is not None else resident_memory()
    for pid in pids:  # a worker that has gone counts nothing
        found = _proc_memory(pid, "smaps_rollup")
        total += found if found is not None else (_proc_memory(pid, "statm") or 0)
    return total


def _size(n: int) -> str:
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"
