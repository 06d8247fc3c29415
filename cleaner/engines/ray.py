"""The Ray engine: phase 1 and LSH band grouping on a Ray cluster, or on a Ray instance started here.

Ray workers may run on other machines, so they cannot write the driver's spill files: each
task's result travels back through Ray's object store and the driver spills it, exactly the
files the local engine's workers write. Only a bounded number of tasks are in flight at once,
so the driver never holds more than that many results. Everything that fixes the output order
(reading spill files in input order, resolving duplicates, writing) stays in the driver, which
is why a Ray run's output is byte-identical to a local run's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
import ray
from ray.exceptions import RayTaskError

from cleaner.dedup.engine import band_pair_keys

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")

# Calls queued per actor: one running and one waiting, so an actor never idles while the driver
# receives the previous result. Bounds the results in flight to twice the actors.
QUEUED_PER_ACTOR = 2
# Band groupings in flight at once, per CPU of the cluster (each holds one band column).
BANDS_PER_CPU = 2


@contextmanager
def connect(address: str | None, num_cpus: int | None) -> Iterator[None]:
    """Make Ray available for the block, and leave behind only what was there before.

    A Ray connection this process already has (a test fixture, a notebook) is used as it is.
    With `address`, the driver joins that cluster and only disconnects afterwards; without, a
    private local instance with `num_cpus` CPUs is started and stopped again.
    """
    if ray.is_initialized():
        yield
        return
    options: dict[str, Any] = {"logging_level": logging.WARNING, "include_dashboard": False}
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(address="local", num_cpus=num_cpus, **options)
    try:
        yield
    finally:
        ray.shutdown()


@ray.remote(num_cpus=1)
class _Runner:
    """One worker process's runner, built once (rules compile once per actor, not per task).

    A lost actor fails the run rather than being restarted; OUT is only replaced by a finished run.
    """

    def __init__(self, factory: Callable[[], Callable[[Any], Any]]) -> None:
        self._run = factory()

    def run(self, task: Any) -> Any:
        return self._run(task)


def map_tasks(factory: Callable[[], Callable[[TaskT], ResultT]], tasks: Iterable[TaskT],
              on_done: Callable[[ResultT], None]) -> None:
    """Run every task on the cluster through runners built by `factory`; hand each result to
    `on_done` in the driver, as results arrive.

    One actor per cluster CPU (never more than tasks). The factory is put into the object store
    once and shared by all actors. Call inside `connect`.
    """
    todo = list(tasks)
    if not todo:
        return
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    shared = ray.put(factory)
    actors = [_Runner.remote(shared) for _ in range(min(cpus, len(todo)))]
    queue = iter(todo)
    pending: dict[ray.ObjectRef, Any] = {}

    def submit(actor: Any) -> None:
        task = next(queue, None)
        if task is not None:
            pending[actor.run.remote(task)] = actor

    try:
        for _ in range(QUEUED_PER_ACTOR):
            for actor in actors:
                submit(actor)
        while pending:
            [done], _ = ray.wait(list(pending), num_returns=1)
            actor = pending.pop(done)
            on_done(_get(done))
            submit(actor)
    finally:
        for actor in actors:
            ray.kill(actor)


def band_pairs(columns: Iterable[np.ndarray], holders: np.ndarray, n_prior: int, size: int) -> Iterator[np.ndarray]:
    """`cleaner.dedup.engine.BandPairs` on the cluster: one Ray task groups one LSH band.

    The holders' paragraph numbers go into the object store once; each band's column is sent
    with its task. Keys come back in completion order; the deduplicator sorts them.
    """
    limit = BANDS_PER_CPU * max(1, int(ray.cluster_resources().get("CPU", 1)))
    shared = ray.put(holders)
    pending: list[ray.ObjectRef] = []
    for values in columns:
        if len(pending) >= limit:
            ready, pending = ray.wait(pending, num_returns=1)
            yield _get(ready[0])
        pending.append(_band_pair_keys.remote(values, shared, n_prior, size))
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield _get(ready[0])


_band_pair_keys = ray.remote(num_cpus=1)(band_pair_keys)


def _get(ref: ray.ObjectRef) -> Any:
    """The task's result; a task's own exception is raised as itself (e.g. InputFailure with
    its one-line message), not wrapped in Ray's remote traceback."""
    try:
        return ray.get(ref)
    except RayTaskError as exc:
        if isinstance(exc.cause, Exception):
            raise exc.cause from None
        raise

