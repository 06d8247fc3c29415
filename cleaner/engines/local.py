"""The local engine: tasks of every phase in N processes on this machine.

Workers read their inputs from, and write their results to, the work location and the staged
output themselves, and return only a small summary, so nothing big crosses process boundaries;
the driver merges summaries in input order, which is why the output is identical for any
worker count. A worker that dies (killed, out of memory) fails the run with one line, as any
failed task does, instead of leaving the driver waiting for a result that never comes.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from typing import TypeVar

TaskT = TypeVar("TaskT")
SummaryT = TypeVar("SummaryT")

# Tasks handed to the pool ahead of the ones running, per worker: enough that no worker idles
# while the driver handles a summary, few enough that task arguments are not all queued at once.
QUEUED_PER_WORKER = 2

LOST = "a worker process died (killed, or out of memory?); the run stopped, previous output left as it was"

_runner: Callable[[object], object] | None = None


class WorkerLost(Exception):
    """A worker process died while the run needed it; the message is one line."""


def _initialise(factory: Callable[[], Callable[[object], object]]) -> None:
    global _runner
    _runner = factory()


def _run(task: object) -> object:
    assert _runner is not None, "worker used before initialisation"
    return _runner(task)


def map_tasks(factory: Callable[[], Callable[[TaskT], SummaryT]], tasks: Iterable[TaskT], workers: int,
              on_done: Callable[[SummaryT], None]) -> None:
    """Run every task through a runner built once per process by `factory`; report each summary
    as it arrives. A task's exception is raised as itself; a worker that dies raises WorkerLost."""
    if workers <= 1:
        runner = factory()
        for task in tasks:
            on_done(runner(task))
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_initialise, initargs=(factory,))
    todo = iter(tasks)
    pending: set[Future[object]] = set()
    try:
        pending.update(pool.submit(_run, task) for task in islice(todo, QUEUED_PER_WORKER * workers))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            pending.update(pool.submit(_run, task) for task in islice(todo, len(done)))
            for future in done:
                on_done(future.result())  # type: ignore[arg-type]
    except BrokenProcessPool:
        _stop(pool)
        raise WorkerLost(LOST) from None
    except BaseException:
        _stop(pool)
        raise
    # Workers that run out of tasks exit on their own and run their exit finalizers (the HTML
    # reader's stops and reaps its extractor child); terminating them would orphan it.
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop at once after a failure: queued tasks are dropped, running ones killed."""
    processes = list((pool._processes or {}).values())  # the executor offers no terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join()
