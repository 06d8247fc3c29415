"""How the sharded deduplication's steps are run: a `Spread` maps a step over its calls.

A step is a module-level function `function(*shared, *call)` that reads its inputs from the
work location and writes its outputs there, returning only small counts (see `sharded.py`),
so it may run anywhere: in this process (`in_process`), in a local process pool
(`process_spread`, the local engine's `--workers`) or on Ray actors (`RayEngine.spread`).
Results come back in the order of the calls, and no step's result depends on which worker ran
it or when, so the decisions are the same for any of them and any number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

ResultT = TypeVar("ResultT")

# Runs `function(*shared, *call)` for every call, anywhere (this process, a Ray cluster), and
# yields the results in the order of the calls.
Spread = Callable[[Callable[..., Any], Iterable[tuple[Any, ...]], tuple[Any, ...]], Iterator[Any]]


def in_process(function: Callable[..., ResultT], calls: Iterable[tuple[Any, ...]],
               shared: tuple[Any, ...]) -> Iterator[ResultT]:
    """Every call here, one after another."""
    for arguments in calls:
        yield function(*shared, *arguments)


def _call(job: tuple[Callable[..., Any], tuple[Any, ...], tuple[Any, ...]]) -> Any:
    function, shared, arguments = job
    return function(*shared, *arguments)


@contextmanager
def process_spread(workers: int) -> Iterator[Spread]:
    """A `Spread` over `workers` local processes (1: this process), for the block's duration."""
    if workers <= 1:
        yield in_process
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool(workers) as pool:
        def spread(function: Callable[..., ResultT], calls: Iterable[tuple[Any, ...]],
                   shared: tuple[Any, ...]) -> Iterator[ResultT]:
            # Calls go in chunks, a few per worker: a chunk is pickled at once, and pickle
            # writes the shared arguments (O(tasks) numbers) once per chunk, not per call.
            jobs = [(function, shared, arguments) for arguments in calls]
            yield from pool.imap(_call, jobs, chunksize=max(1, len(jobs) // (4 * workers)))

        yield spread
