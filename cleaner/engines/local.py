"""The local engine: phase 1 over input tasks in N processes on this machine.

Workers write their results to spill files and return only a small summary, so nothing big
crosses process boundaries twice; the driver reads the spill files back in input order, which
is why the output is identical for any worker count.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from typing import TypeVar

TaskT = TypeVar("TaskT")
SummaryT = TypeVar("SummaryT")


_runner: Callable[[object], object] | None = None


def _initialise(factory: Callable[[], Callable[[object], object]]) -> None:
    global _runner
    _runner = factory()


def _run(task: object) -> object:
    assert _runner is not None, "worker used before initialisation"
    return _runner(task)


def map_tasks(factory: Callable[[], Callable[[TaskT], SummaryT]], tasks: Iterable[TaskT], workers: int,
              on_done: Callable[[SummaryT], None]) -> None:
    """Run every task through a runner built once per process by `factory`; report each summary."""
    if workers <= 1:
        runner = factory()
        for task in tasks:
            on_done(runner(task))
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    pool = context.Pool(workers, initializer=_initialise, initargs=(factory,))
    try:
        for summary in pool.imap_unordered(_run, tasks, chunksize=1):
            on_done(summary)  # type: ignore[arg-type]
        # Workers that run out of tasks exit on their own and run their exit finalizers (the
        # HTML reader's stops and reaps its extractor child); terminating them would orphan it.
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
