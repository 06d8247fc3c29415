"""What a stage is, and the one loop that runs stages which feed each other to a fixed point.

A stage reads a `Cleaned` document (its lines, the claims on them so far, its language) and
either claims lines (each claim names its rule or signal) or rejects the document with a
reason. The pipeline runs its stages top to bottom (see cleaner.stages.build_stages); the
driver counts what each one did in its `StageStats`, the same way for every stage.

The fixed point, stated once (`FixedPoint`)
-------------------------------------------
Some stages read what a later one produces: the language is read from the kept text, and the
language chooses the rules that decide what is kept; block, tail and repeat rules judge a line
by the lines still kept around it; a position guard ("among the first 6 lines") counts only
kept lines. A document whose output is cleaned again must meet exactly the rules and positions
the first pass ended with, or the second pass would remove more. So these stages run inside one
loop, listed outermost first, and each names the stages to run again after it: `always` (what
it did changes their input whatever it claimed) and `on_change` (only when it claimed more, or
changed the language). Of the stages waiting, the innermost (the last listed) runs first, so an
inner loop settles before the stage around it looks again. The loop ends when no stage waits.

Why it ends: a stage that asks for another round has added a claim or changed the language,
and the language changes only when the kept text (hence the claims) changed since it was last
read. Claims are only ever added, at most one per line, so every document reaches the end.

The contract it gives (tests/test_properties.py checks it on random text): once the loop ends,
every stage in it, run again on the clean text as a new document, claims nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from cleaner.document import Cleaned


@dataclass(slots=True)
class StageStats:
    """What one stage did over the documents it saw (counted by the driver, not the stage)."""

    runs: int = 0  # times it ran (more than once per document inside a fixed point)
    lines: int = 0  # lines it claimed
    rejected: int = 0  # documents it rejected

    def add(self, other: StageStats) -> None:
        self.runs += other.runs
        self.lines += other.lines
        self.rejected += other.rejected


class Stage(Protocol):
    """One step of the per-document phase.

    `apply` claims lines (`Cleaned.claim`) or sets `Cleaned.rejection`, and returns True when it
    changed something another stage of a fixed point reads (a claim, the language).
    """

    name: str
    stats: StageStats

    def apply(self, cleaned: Cleaned) -> bool: ...


def run_stage(stage: Stage, cleaned: Cleaned) -> bool:
    """Apply one stage and count what it did in its stats."""
    kept = cleaned.claims.count(None)
    accepted = cleaned.rejection is None
    changed = stage.apply(cleaned)
    stage.stats.runs += 1
    stage.stats.lines += kept - cleaned.claims.count(None)
    stage.stats.rejected += accepted and cleaned.rejection is not None
    return changed


@dataclass(frozen=True, slots=True)
class Loop:
    """A stage inside a fixed point, and the stages (by name) it sends round again."""

    stage: Stage
    always: tuple[str, ...] = ()  # run again after it, whatever it did
    on_change: tuple[str, ...] = ()  # run again after it when it changed something


@dataclass
class FixedPoint:
    """Stages that feed each other, run until none waits (see the module docstring).

    `members` are listed outermost first; `start` names the one that runs first (default: the
    outermost). A judge that should look only once the stages inside it have settled (the line
    classifier) is listed outermost and entered through the stage after it.
    """

    name: str
    members: tuple[Loop, ...]
    start: str | None = None
    stats: StageStats = field(default_factory=StageStats)

    def __post_init__(self) -> None:
        position = {member.stage.name: i for i, member in enumerate(self.members)}
        unknown = {name for member in self.members for name in (*member.always, *member.on_change)} - set(position)
        if unknown:
            raise ValueError(f"fixed point {self.name}: no member named {', '.join(sorted(unknown))}")
        self._always = [frozenset(position[name] for name in member.always) for member in self.members]
        self._on_change = [frozenset(position[name] for name in member.on_change) for member in self.members]
        if self.start is not None and self.start not in position:
            raise ValueError(f"fixed point {self.name}: no member named {self.start}")
        self._start = 0 if self.start is None else position[self.start]

    def apply(self, cleaned: Cleaned) -> bool:
        waiting = {self._start}
        changed = False
        while waiting:
            innermost = max(waiting)
            waiting.discard(innermost)
            if run_stage(self.members[innermost].stage, cleaned):
                changed = True
                waiting |= self._on_change[innermost]
            waiting |= self._always[innermost]
        return changed

    def stages(self) -> list[Stage]:
        return [member.stage for member in self.members]
