"""The Ray engine: every phase's tasks on a Ray cluster, or on a Ray instance started here.

Ray workers may run on other machines, so everything they exchange goes through the work
location (a directory they share with the driver, or an fsspec URL: `--work-dir`): each phase-1
actor spills its task's documents and dedup fingerprints there and returns a small summary;
each write-phase actor reads a task's spill and decisions from there, writes the task's records
as part files there and its clean texts into the staged output, and returns the task's counts;
then actors cut the parts into the output shards. Deduplication's heavy steps go through
`spread`. Only a bounded number of calls are in flight at once. Everything that fixes the
output order (numbering paragraphs, choosing each cluster's earliest paragraph, the order of
records in the shards) is decided from task numbers and counts, never from which actor finished
first, and every call's result is a function of its inputs alone, which is why a Ray run's
output is byte-identical to a local run's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any, Self, TypeVar

import ray
from ray.exceptions import RayActorError, RayTaskError

from cleaner.engines.local import LOST, WorkerLost

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
    for the whole run, so deduplication reuses the processes phase 1 already warmed up (a fresh
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

        The factory is put into the object store once and shared by all actors; tasks are taken
        from `tasks` only as actors are free for them.
        """
        todo = iter(tasks)
        first = next(todo, None)
        if first is None:
            return
        shared = ray.put(factory)
        ray.get([actor.prepare.remote(shared) for actor in self._actors()])
        for _, result in self._dispatch(("run", (task,)) for task in chain([first], todo)):
            on_done(result)

    def spread(self, function: Callable[..., ResultT], calls: Iterable[tuple[Any, ...]],
               shared: tuple[Any, ...]) -> Iterator[ResultT]:
        """`cleaner.dedup.components.Spread` on the cluster: `function(*shared, *call)` for every
        call, one actor call each; results in the order of the calls.

        `shared` (e.g. every LSH holder's paragraph number) goes into the object store once, not
        with every call. A call's arguments are built only when an actor is free for it, and a
        result that arrives early waits until the ones before it are handed on.
        """
        refs = [ray.put(value) for value in shared]
        arrived: dict[int, ResultT] = {}
        position = 0
        for number, result in self._dispatch(("call", (function, *refs, *arguments)) for arguments in calls):
            arrived[number] = result
            while position in arrived:
                yield arrived.pop(position)
                position += 1

    def _actors(self) -> list[Any]:
        if not self._pool:
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            self._pool = [_Worker.remote() for _ in range(cpus)]
        return self._pool

    def _dispatch(self, calls: Iterable[tuple[str, tuple[Any, ...]]]) -> Iterator[tuple[int, Any]]:
        """(call number, result) of every call, as results arrive. Calls spread over the actors,
        QUEUED_PER_ACTOR at a time each, so at most that many calls per actor are in flight; the
        next call goes to the actor that just finished, before its result is handed on."""
        pending: dict[ray.ObjectRef, tuple[int, Any]] = {}
        numbered = enumerate(calls)

        def submit(actor: Any) -> None:
            item = next(numbered, None)
            if item is not None:
                number, (method, args) = item
                pending[getattr(actor, method).remote(*args)] = (number, actor)

        for _ in range(QUEUED_PER_ACTOR):
            for actor in self._actors():
                submit(actor)
        while pending:
            [done], _ = ray.wait(list(pending), num_returns=1)
            number, actor = pending.pop(done)
            result = _get(done)
            submit(actor)
            yield number, result


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

    def call(self, function: Callable[..., Any], *arguments: Any) -> Any:
        return function(*arguments)


def _get(ref: ray.ObjectRef) -> Any:
    """The task's result; a task's own exception is raised as itself (e.g. InputFailure with
    its one-line message), not wrapped in Ray's remote traceback, and a lost actor as WorkerLost."""
    try:
        return ray.get(ref)
    except RayTaskError as exc:
        if isinstance(exc.cause, Exception):
            raise exc.cause from None
        raise
    except RayActorError:
        raise WorkerLost(LOST) from None

