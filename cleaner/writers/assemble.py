"""Cutting the tasks' part files into the output shards, in workers.

Every task's records wait in part files of JSON lines (see `writers.task_records`), and the
driver knows only how many records each holds. From those counts alone it plans the shards:
shard k holds the run's records ``k * shard_size`` to ``(k + 1) * shard_size``, in input order,
as ``ShardedWriter`` would have cut them, so file names and bytes are the same as writing every
record through one writer. Each shard is then written by one worker, which reads the slices of
the part files it needs from the work location; the driver plans O(tasks) numbers and moves no
record. Without ``--shard-size`` the one shard holds every record, so one worker writes it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cleaner import storage
from cleaner.writers.shards import ShardedWriter
from cleaner.writers.task_records import part_path


@dataclass(frozen=True, slots=True)
class Slice:
    """Records ``start`` to ``stop`` (exclusive) of one task's part file."""

    task: int
    start: int
    stop: int


@dataclass(frozen=True, slots=True)
class ShardJob:
    """One output shard of one part (``documents`` or ``rejected``): its number and its records."""

    part: str
    number: int
    slices: tuple[Slice, ...]


def plan_shards(part: str, records: Iterable[tuple[int, int]], shard_size: int | None) -> Iterator[ShardJob]:
    """The shards of a part from `records`, (task index, records in its part file) in input
    order, one at a time (a run of millions of tasks is not planned in memory at once). At
    least one shard, even without records, so an empty run still has a file."""
    number = 0
    current: list[Slice] = []
    room = shard_size
    for task, count in records:
        start = 0
        while start < count:
            take = count - start if room is None else min(room, count - start)
            current.append(Slice(task, start, start + take))
            start += take
            if room is not None:
                room -= take
                if room == 0:
                    yield ShardJob(part, number, tuple(current))
                    number, current, room = number + 1, [], shard_size
    if current or number == 0:
        yield ShardJob(part, number, tuple(current))


@dataclass(frozen=True)
class ShardAssembler:
    """Writes one shard in every sharded format asked for, from the part files in `work`."""

    work: str
    staging: str  # the staged OUT: an absolute path, or a URL (a store's staging prefix)
    formats: tuple[str, ...]
    compression: str | None
    shard_size: int | None

    def __call__(self, job: ShardJob) -> int:
        directory = storage.local(self.staging)
        if directory is not None:
            self._write(Path(directory), job)
            return job.number
        with tempfile.TemporaryDirectory(prefix="cleaner-shard-") as spool:  # then uploaded whole
            for path in self._write(Path(spool), job):
                storage.put_file(path, storage.join(self.staging, path.name))
        return job.number

    def _write(self, directory: Path, job: ShardJob) -> list[Path]:
        writers = [ShardedWriter(directory, stem=job.part, format=kind,
                                 compression=self.compression if kind == "jsonl" else None,
                                 shard_size=self.shard_size, first_shard=job.number) for kind in self.formats]
        try:
            for block in _blocks(self.work, job):
                for writer in writers:
                    writer.write_lines(block)
        finally:
            for writer in writers:
                writer.close()
        return [path for writer in writers for path in writer.paths]


def _blocks(work: str, job: ShardJob) -> Iterator[bytes]:
    """The job's records, one block of whole lines per slice."""
    for piece in job.slices:
        data = storage.read_bytes(part_path(work, piece.task, job.part))
        start = 0
        for _ in range(piece.start):
            start = data.index(b"\n", start) + 1
        end = start
        for _ in range(piece.stop - piece.start):
            end = data.index(b"\n", end) + 1
        yield data[start:end] if (start, end) != (0, len(data)) else data
