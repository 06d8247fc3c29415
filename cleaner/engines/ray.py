"""The Ray engine: phase 1 and LSH band grouping on a Ray cluster, or on a Ray instance started here.

Ray workers may run on other machines, so they cannot write the driver's spill files: each
task's result travels back through Ray's object store and the driver spills it, exactly the
files the local engine's workers write. Only a bounded number of tasks are in flight at once,
so the driver never holds more than that many results. Everything that fixes the output order
(reading spill files in input order, resolving duplicates, appending records) stays in the
driver, which is why a Ray run's output is byte-identical to a local run's. Records are built
next to the spill files by local worker processes on the driver's machine (see
`pipeline._write_outputs`): the output directory is there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Self, TypeVar

import numpy as np
import ray
from ray.exceptions import RayTaskError

from cleaner.dedup.engine import band_pair_keys

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")

# Calls queued per actor: one running and one waiting, so an actor never idles while the driver
# receives the previous result. Bounds the results in flight to twice the actors.
QUEUED_PER_ACTOR = 2


class RayEngine:
    """A Ray connection for one run, with one warm actor per cluster CPU for all its work.

    A Ray connection this process already has (a test fixture, a notebook) is used as it is.
    With `address`, the driver joins that cluster and only disconnects on exit; without, a
    private local instance with `num_cpus` CPUs is started and stopped again. The actors live
    for the whole run, so band grouping reuses the processes phase 1 already warmed up (a fresh
    Ray worker spends seconds importing cleaner).
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self._started = False
        self._pool: list[Any] = []

    def __enter__(self) -> Self:
        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, logging_level=logging.WARNING)
            else:
                ray.init(address="local", num_cpus=self.num_cpus, include_dashboard=False,
                         logging_level=logging.WARNING)
            self._started = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        for actor in self._pool:
            ray.kill(actor)  # at once, also mid-call after a failure, so their CPUs are free again
        self._pool = []
        if self._started:
            ray.shutdown()
            self._started = False

    def map_tasks(self, factory: Callable[[], Callable[[TaskT], ResultT]], tasks: Iterable[TaskT],
                  on_done: Callable[[ResultT], None]) -> None:
        """Run every task through runners built by `factory` (once per actor); hand each result
        to `on_done` in the driver, as results arrive.

        The factory is put into the object store once and shared by all actors.
        """
        todo = list(tasks)
        if not todo:
            return
        shared = ray.put(factory)
        ray.get([actor.prepare.remote(shared) for actor in self._actors()])
        self._dispatch((("run", (task,)) for task in todo), on_done)

    def band_pairs(self, columns: Iterable[np.ndarray], holders: np.ndarray, n_prior: int,
                   size: int) -> list[np.ndarray]:
        """`cleaner.dedup.engine.BandPairs` on the cluster: each actor call groups one LSH band.

        The holders' paragraph numbers go into the object store once; each band's column is
        read only when an actor is free for it and sent with the call. Keys come back in
        completion order; the deduplicator sorts them.
        """
        shared = ray.put(holders)
        found: list[np.ndarray] = []
        self._dispatch((("band_pairs", (values, shared, n_prior, size)) for values in columns), found.append)
        return found

    def _actors(self) -> list[Any]:
        if not self._pool:
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            self._pool = [_Worker.remote() for _ in range(cpus)]
        return self._pool

    def _dispatch(self, calls: Iterator[tuple[str, tuple[Any, ...]]], on_done: Callable[[Any], None]) -> None:
        """Calls spread over the actors, QUEUED_PER_ACTOR at a time each, so at most that many
        results per actor are in flight; the next call goes to the actor that just finished."""
        pending: dict[ray.ObjectRef, Any] = {}

        def submit(actor: Any) -> None:
            call = next(calls, None)
            if call is not None:
                method, args = call
                pending[getattr(actor, method).remote(*args)] = actor

        for _ in range(QUEUED_PER_ACTOR):
            for actor in self._actors():
                submit(actor)
        while pending:
            [done], _ = ray.wait(list(pending), num_returns=1)
            actor = pending.pop(done)
            on_done(_get(done))
            submit(actor)


@ray.remote(num_cpus=1)
class _Worker:
    """One Ray worker process of the run. Its phase-1 runner is built once per run (rules
    compile once per actor, not per task). A lost actor fails the run rather than being
    restarted; OUT is only replaced by a finished run."""

    def __init__(self) -> None:
        self._runner: Callable[[Any], Any] | None = None

    def prepare(self, factory: Callable[[], Callable[[Any], Any]]) -> None:
        self._runner = factory()

    def run(self, task: Any) -> Any:
        assert self._runner is not None, "run() before prepare()"
        return self._runner(task)

    def band_pairs(self, values: np.ndarray, holders: np.ndarray, n_prior: int, size: int) -> np.ndarray:
        return band_pair_keys(values, holders, n_prior, size)


def _get(ref: ray.ObjectRef) -> Any:
    """The task's result; a task's own exception is raised as itself (e.g. InputFailure with
    its one-line message), not wrapped in Ray's remote traceback."""
    try:
        return ray.get(ref)
    except RayTaskError as exc:
        if isinstance(exc.cause, Exception):
            raise exc.cause from None
        raise

