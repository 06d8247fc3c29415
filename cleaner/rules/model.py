"""What a rule is once loaded: a validated, immutable description of one boilerplate family.

Rules are data (TOML files under `rules/`); this module only gives them a shape. Matching a single
line is defined here once (`LineTest.match`) so the fast combined index and the example checker
cannot disagree about what a rule means.

A rule's regexes are compiled when first used (see `LazyPattern`): compiling every pattern of
every language's pack costs far more than a small run, and a German corpus never needs the
Polish pack.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

import regex

KINDS = ("line", "block", "tail", "repeat")

# Rule patterns are compiled with the `regex` package: the same syntax as `re`, far faster on the
# large case-insensitive alternations rule packs compile into, and matching takes a timeout, so a
# user pattern that backtracks catastrophically costs at most this long per line.
MATCH_TIMEOUT = 0.1

# Leading list markers and trailing punctuation do not change what a boilerplate line says:
# "- Lesen Sie auch:" and "Lesen Sie auch" are the same teaser header.
_BULLET_CHARS = "-–—•*·>»›▸►←‹<"
_BULLET = re.compile(f"^(?:[{re.escape(_BULLET_CHARS)}]+\\s*)+")
_TRAILING_CHARS = " .:;,!?…›»>|/-–—→"  # after whitespace is collapsed, " " is the only whitespace left
# A sentence (content) ends with terminal punctuation, possibly followed by a closing quote.
_SENTENCE_END = re.compile(r"[.!?…:;][\"'“”„‚‘’»«)\]]*\s*$")


class RulePackError(Exception):
    """A rule pack cannot be used; the message is one line: file:line: rule 'id': problem."""


class LazyPattern:
    """A rule's regex, compiled and checked (see `compile_pattern`) the first time it is used.

    Packs hold hundreds of patterns and a run needs those of the languages and sites it meets:
    `RuleFilter` asks for a pack's patterns when a document first needs that pack. Loading
    compiles eagerly where an error must stop the run before it starts (user rule directories,
    `cleaner rules test`); a shipped pack's patterns are checked by the test suite in CI. The
    compiled pattern is not pickled: a worker process compiles what it needs itself.

    `checked` says the pattern passed `compile_pattern`'s checks before, in an example check a
    run remembered (see `RuleSet.mark_checked`): compiling it again skips the backtracking probe,
    a third of the cost of compiling: 11% of a tiny run's instructions (the seeds, counted by valgrind).
    """

    __slots__ = ("source", "flags", "where", "key", "checked", "_compiled")

    def __init__(self, source: str, flags: int, where: str, key: str) -> None:
        self.source = source
        self.flags = flags
        self.where = where  # "file:line: rule 'id'", for errors
        self.key = key  # the TOML key it came from
        self.checked = False
        self._compiled: regex.Pattern[str] | None = None

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def get(self) -> regex.Pattern[str]:
        """The compiled pattern; raises RulePackError if it is bad (see `compile_pattern`)."""
        if self._compiled is None:
            self._compiled = compile_pattern(self.source, self.flags, self.where, self.key, probe=not self.checked)
        return self._compiled

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LazyPattern) and (self.source, self.flags) == (other.source, other.flags)

    def __hash__(self) -> int:
        return hash((self.source, self.flags))

    def __getstate__(self) -> tuple[str, int, str, str, bool]:
        return self.source, self.flags, self.where, self.key, self.checked

    def __setstate__(self, state: tuple[str, int, str, str, bool]) -> None:
        self.source, self.flags, self.where, self.key, self.checked = state
        self._compiled = None


def compile_pattern(source: str, flags: int, where: str, key: str, *, probe: bool = True) -> regex.Pattern[str]:
    """Compile a rule pattern, refusing one that is bad, matches the empty line, or (`probe`)
    backtracks catastrophically on short repetitive lines (RulePackError naming `where` and `key`)."""
    try:
        compiled = regex.compile(source, flags)
    except (regex.error, ValueError) as exc:
        raise RulePackError(f"{where}: bad regex in {key}: {exc}") from None
    if compiled.fullmatch(""):
        raise RulePackError(f"{where}: {key} matches the empty line, so it would match everything")
    if probe:
        _probe(compiled, where, key)
    return compiled


def _probe(compiled: regex.Pattern[str], where: str, key: str) -> None:
    """Reject a pattern that backtracks catastrophically on short repetitive lines.

    Exponential backtracking shows on a line of one repeated character (or word) that almost
    matches; probing with the pattern's own literal characters finds most such patterns when it
    is compiled. Matching at run time stays under MATCH_TIMEOUT for whatever this misses.
    """
    literals = [ch for ch in dict.fromkeys(regex.sub(r"\\.|\[[^]]*\]|\(\?\w*|[^\w ]", "", compiled.pattern)) if ch.strip()]
    for ch in [*literals[:8], "a", "0"]:
        for probe in (ch * 32 + "!", (ch + " ") * 16 + "!", (ch * 3 + ", ") * 10 + "!"):
            try:
                compiled.fullmatch(probe, timeout=MATCH_TIMEOUT / 2)
                compiled.search(probe, timeout=MATCH_TIMEOUT / 2)
            except TimeoutError:
                raise RulePackError(f"{where}: {key} backtracks catastrophically (over {MATCH_TIMEOUT / 2:g} s "
                                    f"on the {len(probe)}-character line {probe[:12]!r}...); "
                                    "avoid nested repetition like (a|aa)+") from None


def normalise_phrase(text: str) -> str:
    """The form phrase and prefix rules compare: casefolded, bullets and end punctuation dropped."""
    return normalise_words(text.split())


def normalise_words(words: list[str]) -> str:
    """`normalise_phrase` of the text whose `str.split()` these are (a caller that has split a
    line to count its words need not split it again)."""
    text = " ".join(words)
    if text[:1] in _BULLET_CHARS:  # only then can _BULLET match: skip the regex call otherwise
        text = _BULLET.sub("", text)
    return text.rstrip(_TRAILING_CHARS).casefold()


def normalise_prefix(text: str) -> str:
    """Prefixes keep their trailing punctuation: "Read more:" must not match "Read more about"."""
    return _BULLET.sub("", " ".join(text.split())).casefold()


def word_count(text: str) -> int:
    return len(text.split())


def ends_like_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text))


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a rule applies. Empty lists mean "everywhere" for that dimension.

    Site conditions (domains, paths, markers) are alternatives: any one of them selects the site.
    """

    languages: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()

    @property
    def site_specific(self) -> bool:
        return bool(self.domains or self.paths or self.markers)

    def applies(self, lang: str | None, path: str, host: str | None, text: str) -> bool:
        if self.languages and lang not in (None, "und") and lang not in self.languages:
            return False
        if not self.site_specific:
            return True
        if host and any(host == d or host.endswith("." + d) for d in self.domains):
            return True
        if any(fnmatch.fnmatchcase(path, glob) for glob in self.paths):
            return True
        return any(marker in text for marker in self.markers)

    def to_json(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in (("languages", self.languages), ("domains", self.domains),
                                         ("paths", self.paths), ("markers", self.markers)) if v}


@dataclass(frozen=True, slots=True)
class LineTest:
    """How one line is recognised: literal phrases, literal prefixes or a regex, plus guards."""

    phrases: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    lazy_pattern: LazyPattern | None = None
    max_words: int | None = None
    min_words: int | None = None
    within_top: int | None = None  # only among the first N non-blank lines
    within_bottom: int | None = None  # only among the last N non-blank lines

    @property
    def pattern(self) -> regex.Pattern[str] | None:
        """The regex, compiled on first use (see LazyPattern)."""
        return self.lazy_pattern.get() if self.lazy_pattern is not None else None

    def guards_pass(self, words: int, rank_top: int, rank_bottom: int) -> bool:
        """Does a line of `words` words at this position pass the length and position guards?"""
        if self.max_words is not None or self.min_words is not None:
            if self.max_words is not None and words > self.max_words:
                return False
            if self.min_words is not None and words < self.min_words:
                return False
        if self.within_top is not None and self.within_bottom is not None:
            return rank_top < self.within_top or rank_bottom < self.within_bottom
        if self.within_top is not None and rank_top >= self.within_top:
            return False
        return not (self.within_bottom is not None and rank_bottom >= self.within_bottom)

    def match_text(self, stripped: str, normalised: str) -> regex.Match[str] | bool:
        """True or a regex match when the line's text is one this test recognises.

        Raises TimeoutError when the pattern exceeds MATCH_TIMEOUT on this line.
        """
        if normalised in self.phrases:
            return True
        for prefix in self.prefixes:
            if normalised.startswith(prefix) and (
                len(normalised) == len(prefix) or not normalised[len(prefix)].isalnum()
            ):
                return True
        if self.pattern is not None:
            found = self.pattern.fullmatch(stripped, timeout=MATCH_TIMEOUT)
            if found:
                return found
        return False

    def match(self, text: str, rank_top: int = 0, rank_bottom: int = 0) -> regex.Match[str] | bool:
        stripped = text.strip()
        if not stripped or not self.guards_pass(word_count(stripped), rank_top, rank_bottom):
            return False
        return self.match_text(stripped, normalise_phrase(stripped))


@dataclass(frozen=True, slots=True)
class Example:
    """A snippet and the 1-based line numbers the rule must remove from it (empty: keep all)."""

    text: str
    removed: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    kind: str
    scope: Scope
    test: LineTest | None  # the line (line kind) or start line (block, tail); None for repeat
    file: str  # the pack file it came from, relative to its rules directory
    line: int  # where its id is written in that file, for error messages
    path: str  # the pack file as found (its rules directory as given, joined with `file`), for messages
    description: str = ""
    # block
    item_max_words: int = 12
    max_items: int = 30
    min_items: int = 0  # a header with fewer items than this is left alone (it may be a heading)
    lazy_item_pattern: LazyPattern | None = None
    # tail
    tail_max_words: int = 80
    tail_max_lines: int = 25
    tail_max_chars: int = 2500
    # repeat
    window: int = 3
    min_chars: int = 15
    # what the rule pulls out of the text before removing it
    extract_line: str | None = None
    months: dict[str, int] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()

    @property
    def item_pattern(self) -> regex.Pattern[str] | None:
        """The block's item regex, compiled on first use (see LazyPattern)."""
        return self.lazy_item_pattern.get() if self.lazy_item_pattern is not None else None

    def patterns(self) -> tuple[LazyPattern, ...]:
        """This rule's regexes, compiled or not."""
        found = (self.test.lazy_pattern if self.test is not None else None, self.lazy_item_pattern)
        return tuple(p for p in found if p is not None)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "kind": self.kind,
                "scope": self.scope.to_json(), "file": self.file}
