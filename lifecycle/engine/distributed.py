"""Distributed search on Ray: the parallel search's algorithm, with Ray actors as its
workers, so a check can use a cluster rather than one machine's cores.

Why Ray and not a home-made cluster: Ray already schedules actors across machines,
moves objects between them through its object store, and survives the usual
failures. The algorithm is `parallel`'s owner mode, level by level: each actor owns
the states whose fingerprint falls in its share (`fingerprint % workers`, the same in
every process and on every machine), expands its frontier, and returns one batch of
candidates per owner as separate Ray objects. The driver hands each owner the
references of its batches, without fetching them, so the states travel from actor to
actor through the object store. Counts, verdicts, coverage and counterexamples are
the serial search's, for the reasons `parallel` gives.

The model is shipped to the actors with Ray's cloudpickle, by value for a model whose
module the workers may not be able to import (a user's own module, a test file, or
``__main__``), so that nothing but `lifecycle` need be installed on the cluster.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from lifecycle.engine.fingerprint import fingerprint
from lifecycle.engine.parallel import ParallelSearch, _Worker
from lifecycle.engine.result import CheckResult, ModelError
from lifecycle.engine.search import _Search

#: The options a worker's own serial-search object is built with (see `_Search`).
_OPTIONS = (
    "deadlock",
    "max_states",
    "max_depth",
    "time_limit",
    "fingerprint",
    "stop_on_violation",
    "keep_graph",
)


def ray_module() -> Any:
    """Ray, or a one-line error saying how to get it."""
    try:
        import ray
    except ImportError:
        raise ValueError(
            "backend='ray' needs Ray: pip install 'mdm-lifecycle[distributed]'"
        ) from None
    return ray


class RaySearch(ParallelSearch):
    """`ParallelSearch` over Ray actors. `address` is a running cluster's (``"auto"`` or
    ``"ray://host:10001"``); None starts a local instance with `workers` CPUs, and stops
    it after the check."""

    least_workers = 1  # one actor: the search runs on the cluster, not here

    def __init__(self, *args: Any, workers: int, address: str | None, **kwargs: Any) -> None:
        super().__init__(*args, workers=workers, **kwargs)
        self.shared = False  # no shared memory between machines: owners and shipping
        self.hash_key = fingerprint  # the same owner in every process
        self.address = address
        self.actors: list[Any] = []
        self.options = dict(kwargs)
        self.stop_flag = _Flag()

    def run(self) -> CheckResult:
        ray = ray_module()
        _ship_by_value(self.model)
        started = False
        if not ray.is_initialized():
            # The workers import what is not shipped by value from this process's path.
            runtime = {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}}
            if self.address is None:
                ray.init(
                    num_cpus=self.workers,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                    runtime_env=runtime,
                )
            else:
                ray.init(
                    address=self.address,
                    log_to_driver=False,
                    configure_logging=False,
                    runtime_env=runtime,
                )
            started = True
        self.ray = ray
        try:
            return _Search.run(self)
        finally:
            self._shutdown()
            if started:
                ray.shutdown()

    def _start(self) -> None:
        ray = self.ray
        # One CPU each where the cluster has them; a share where it has fewer, so that
        # asking for more workers than CPUs runs slower instead of waiting for ever.
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        shard = ray.remote(num_cpus=min(1.0, cpus / self.workers))(_Shard)
        options = {name: self.options[name] for name in _OPTIONS if name in self.options}
        self.actors = [
            shard.remote(self.model, options, self.rep, index, self.workers)
            for index in range(self.workers)
        ]

    def _shutdown(self) -> None:
        for actor in self.actors:
            with contextlib.suppress(Exception):  # already gone
                self.ray.kill(actor)
        self.actors = []

    def _ask(self, message: tuple[Any, ...] | list[tuple[Any, ...]]) -> list[Any]:
        if not isinstance(message, list) and message[0] == "expand":
            return self._expand(message)
        calls = [
            actor.call.remote(message[i] if isinstance(message, list) else message)
            for i, actor in enumerate(self.actors)
        ]
        return self._replies(calls)

    def _expand(self, message: tuple[Any, ...]) -> list[Any]:
        """Expand, then route each actor's outgoing batches to their owners through
        the object store; the replies carry the merged candidate counts."""
        n = self.workers
        expanded = self._replies([actor.call.remote(message) for actor in self.actors])
        batches = [actor.outgoing.options(num_returns=n).remote() for actor in self.actors]
        if n == 1:
            batches = [[b] for b in batches]
        merged = self._replies(
            [
                actor.incoming.remote(*[batches[j][i] for j in range(n) if j != i])
                for i, actor in enumerate(self.actors)
            ]
        )
        return [(r[0], r[1], m[1], r[3]) for r, m in zip(expanded, merged, strict=True)]

    def _replies(self, calls: list[Any]) -> list[Any]:
        try:
            replies = self.ray.get(calls)
        except self.ray.exceptions.RayError as exc:
            raise ModelError(f"distributed search: a worker failed: {exc}") from None
        for reply in replies:
            if reply[0] == "error":
                self._raise_worker_error(reply)
        return list(replies)

    def _ask_one(self, index: int, message: tuple[Any, ...]) -> Any:
        return self.ray.get(self.actors[index].call.remote(message))


class _Flag:
    value = 0


class _Shard:
    """A Ray actor holding one worker of the search: its share of the store and of
    each level's frontier."""

    def __init__(
        self, model: Any, options: dict[str, Any], rep: Any, index: int, workers: int
    ) -> None:
        search = _Search(model, progress=None, representative=rep, **options)
        search.workers = workers  # type: ignore[attr-defined]
        search.counters = [0] * workers  # type: ignore[attr-defined]
        search.stop_flag = _Flag()  # type: ignore[attr-defined]
        search.hash_key = fingerprint  # type: ignore[attr-defined]
        search.inboxes = []  # type: ignore[attr-defined]
        self.worker = _RayWorker(search, index, None)

    def call(self, message: tuple[Any, ...]) -> Any:
        return self.worker.handle(message)

    def outgoing(self) -> Any:
        batches = self.worker.outgoing
        self.worker.outgoing = []
        return batches[0] if len(batches) == 1 else tuple(batches)

    def incoming(self, *batches: list[Any]) -> Any:
        for batch in batches:
            self.worker._merge_batch(batch)
        return ("merged", len(self.worker.candidates))


class _RayWorker(_Worker):
    """A worker whose batches go back to the driver (as Ray objects) instead of into
    the other workers' queues."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.outgoing: list[list[Any]] = []

    def _finish_level(self, outgoing: list[dict[Any, list[Any]]]) -> None:
        self.outgoing = [
            [] if owner == self.index else [(k, *c) for k, c in table.items()]
            for owner, table in enumerate(outgoing)
        ]


def _ship_by_value(model: Any) -> None:
    """Register the model's module with cloudpickle by value when the workers might not
    import it: anything but `lifecycle` itself and installed packages (``__main__`` is
    by value already). A module that cannot be pickled by value (on Python 3.11, a
    class with a `functools.cached_property` holds a lock) is left to be imported by
    the workers, from the path the driver gives them (`RaySearch.run`)."""
    from ray import cloudpickle

    module = sys.modules.get(type(model).__module__)
    if module is None or module.__name__ == "__main__":
        return
    if module.__name__ == "lifecycle" or module.__name__.startswith("lifecycle."):
        return
    path = getattr(module, "__file__", None) or ""
    if "site-packages" in path or "dist-packages" in path:
        return
    cloudpickle.register_pickle_by_value(module)
    try:
        cloudpickle.dumps(model)
    except Exception:
        cloudpickle.unregister_pickle_by_value(module)
