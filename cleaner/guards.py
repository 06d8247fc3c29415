"""Guards for unattended runs: refuse to replace the output when a run removes far more than usual.

A rule change that starts eating content, or an upstream change that turns every page into
boilerplate, shows as a jump in the share of input characters that never reach the output or as
too few documents. The run then fails before swapping in its output, so the index built from
the previous output stays as it was, and the message says where the removals came from.

With --strict, a run that had to skip an input or record is refused the same way: an
incomplete output must not replace a complete one.
"""

from __future__ import annotations

from dataclasses import dataclass

from cleaner.stats import RunStats


class GuardTripped(Exception):
    """A guard refused this run's output; the message is one line and names the biggest removers."""

    def __init__(self, message: str, stats: RunStats) -> None:
        super().__init__(message)
        self.stats = stats  # what the refused run would have written, for the summary


class InputsSkipped(GuardTripped):
    """--strict: inputs or records were skipped, so this run's output is incomplete and is not published."""


@dataclass(frozen=True)
class Guards:
    max_removed_fraction: float | None = None  # of input characters that do not reach the output
    min_output_docs: int | None = None
    strict: bool = False  # refuse the output when any input or record was skipped


def removed_fraction(stats: RunStats) -> float:
    return 1 - stats.chars_out / stats.chars_in if stats.chars_in else 0.0


def check_guards(stats: RunStats, guards: Guards | None) -> None:
    if guards is None:
        return
    fraction = removed_fraction(stats)
    if guards.max_removed_fraction is not None and fraction > guards.max_removed_fraction:
        raise GuardTripped(f"guard --max-removed-fraction: this run removes {fraction:.1%} of the input characters "
                           f"(limit {guards.max_removed_fraction:.1%}); {_biggest(stats)}", stats)
    if guards.min_output_docs is not None and stats.documents_out < guards.min_output_docs:
        raise GuardTripped(f"guard --min-output-docs: this run writes {stats.documents_out} documents "
                           f"(at least {guards.min_output_docs} required); {_biggest(stats)}", stats)
    if guards.strict and stats.errors:
        raise InputsSkipped(f"--strict: {len(stats.errors)} inputs or records were skipped", stats)


def _biggest(stats: RunStats, count: int = 3) -> str:
    rules = sorted(stats.by_rule.items(), key=lambda item: (-item[1]["chars"], item[0]))[:count]
    parts = [f"{rule} ({entry['chars']} chars)" for rule, entry in rules]
    parts += [f"rejected as {reason} ({n} docs)" for reason, n in stats.rejected.most_common(count)]
    return "removed most: " + (", ".join(parts) if parts else "nothing by rule")
