"""Load rule packs from directories and validate them strictly; their regexes compile on first use.

A pack that fails to load stops the run before any output is touched, with one line naming the
file, the line, the rule id and the problem: a typo in a rule file must never silently turn a
rule off or make it match everything.

Compiling and probing every pattern of every pack costs most of a small run's start-up, so the
shipped packs' patterns compile when a document first needs their pack (see
`cleaner.rules.model.LazyPattern`). That cannot let a bad shipped pattern through: the test
suite and `cleaner rules test` compile and check every shipped pack, and a pack edited where it
is installed changes the rule set's digest, so the next run's example check (which compiles
every pack: see cleaner.rules.example_cache) stops it before it starts. Packs from any other
directory (a user's `--rules`) are compiled here, so a bad pattern there stops the run at once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex

from cleaner.rules.model import (
    KINDS,
    Example,
    LazyPattern,
    LineTest,
    Rule,
    RulePackError,
    Scope,
    normalise_phrase,
    normalise_prefix,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_SCOPE_KEYS = ("languages", "domains", "paths", "markers")
_MATCH_KEYS = ("phrases", "prefixes", "pattern", "case_sensitive", "max_words", "min_words",
               "within_top", "within_bottom")
_COMMON_KEYS = ("id", "category", "kind", "description", "remove", "keep", "case", "extract_line",
                *_SCOPE_KEYS)
_KIND_KEYS = {
    "line": (*_MATCH_KEYS,),
    "block": (*_MATCH_KEYS, "item_max_words", "max_items", "min_items", "item_pattern"),
    "tail": (*_MATCH_KEYS, "tail_max_words", "tail_max_lines", "tail_max_chars"),
    "repeat": ("window", "min_chars", "max_words"),
}
_PACK_KEYS = ("description", "months", *_SCOPE_KEYS)
# An id line, as _line_of finds one rule's: the ids `_id_lines` holds (no quote or line break in them).
_ID_LINE = re.compile(r"^\s*id\s*=\s*[\"']([^\"'\n]*)[\"']", re.MULTILINE)
# A line longer than this is prose: a rule matches it only if it says so with a larger max_words.
# Long lines then skip rule matching entirely, and they are most of a corpus's text.
DEFAULT_MAX_WORDS = 80


def default_rules_dir() -> Path:
    """The rules shipped with cleaner: inside the wheel, or the repository's `rules/` folder."""
    package = Path(__file__).resolve().parent.parent
    bundled = package / "_rules"
    try:
        return bundled if bundled.is_dir() else package.parent / "rules"
    except OSError:  # a checkout this user may not enter: loading the rules says so in one line
        return package.parent / "rules"


@dataclass(frozen=True)
class RuleSet:
    """All loaded rules in precedence order, and a digest that changes when any pack changes."""

    rules: tuple[Rule, ...]
    packs: tuple[str, ...]
    digest: str

    def compiled_packs(self) -> set[str]:
        """The packs (names as in `packs`) with regexes, all of them compiled."""
        patterned = {rule.file for rule in self.rules if rule.patterns()}
        return patterned - {rule.file for rule in self.rules if not all(p.compiled for p in rule.patterns())}

    def compile(self) -> None:
        """Compile every pattern now: a bad one raises RulePackError here, not when first used."""
        for rule in self.rules:
            for pattern in rule.patterns():
                pattern.get()

    def mark_checked(self) -> None:
        """Record that every pattern passed `compile_pattern`'s checks in an example check of this
        very rule set (see cleaner.rules.example_cache): compiling them again skips the probe."""
        for rule in self.rules:
            for pattern in rule.patterns():
                pattern.checked = True

    def by_id(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def discover_packs(directories: list[Path]) -> dict[str, Path]:
    """Map each pack's path relative to its directory to the file that provides it.

    A later directory's pack with the same relative name replaces the earlier one, so a user
    can override `de.toml` or add `sites/mysite.toml` without copying the shipped rules.
    Only top-level `*.toml` and `sites/**/*.toml` are packs; other folders hold other configs.
    """
    packs: dict[str, Path] = {}
    for directory in directories:
        try:
            if not directory.is_dir():
                raise RulePackError(f"{directory}: rules directory does not exist")
            os.listdir(directory)  # glob passes over a directory it cannot list; this says why
            found = sorted([*directory.glob("*.toml"), *directory.glob("sites/**/*.toml")])
        except OSError as exc:
            raise RulePackError(f"{directory}: cannot read rules directory: {exc.strerror or exc}") from None
        for path in found:
            packs[path.relative_to(directory).as_posix()] = path
    return packs


def load_rules(directories: list[Path] | None = None, *, compile_all: bool = False) -> RuleSet:
    """Load, validate and order every pack; raises RulePackError on the first problem.

    Patterns of packs outside the shipped rules directory are compiled (and so checked) here;
    the shipped packs' compile on first use, or here too with `compile_all`.
    """
    packs = discover_packs(directories if directories is not None else [default_rules_dir()])
    shipped = default_rules_dir().resolve()
    rules: list[Rule] = []
    seen: dict[str, Rule] = {}
    digest = hashlib.sha256()
    for name, path in packs.items():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RulePackError(f"{path}: cannot read rule pack: {exc.strerror or exc}") from None
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        eager = compile_all or not path.resolve().is_relative_to(shipped)
        for rule in _load_pack(name, path, data, eager):
            if rule.id in seen:
                other = seen[rule.id]
                raise RulePackError(f"{path}:{rule.line}: rule '{rule.id}': duplicate id "
                                    f"(also in {other.path}:{other.line})")
            seen[rule.id] = rule
            rules.append(rule)
    rules.sort(key=_precedence)
    return RuleSet(tuple(rules), tuple(packs), digest.hexdigest())


def _precedence(rule: Rule) -> tuple[int, str, int]:
    """Site rules first (the most specific explanation wins a line), then language, then common."""
    if rule.scope.site_specific:
        rank = 0
    elif rule.scope.languages:
        rank = 1
    else:
        rank = 2
    return rank, rule.file, rule.line


def _load_pack(name: str, path: Path, data: bytes, eager: bool) -> list[Rule]:
    try:
        text = data.decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise RulePackError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(f"{path}: TOML syntax error: {exc}") from None
    unknown = set(document) - {"pack", "rule"}
    if unknown:
        raise RulePackError(f"{path}: unknown top-level table(s): {', '.join(sorted(unknown))}")
    pack = document.get("pack", {})
    if not isinstance(pack, dict):
        raise RulePackError(f"{path}: [pack] must be a table")
    _check_keys(pack, _PACK_KEYS, f"{path}: [pack]")
    defaults = {key: _string_list(pack, key, f"{path}: [pack]") for key in _SCOPE_KEYS}
    months = _months(pack.get("months", {}), path)
    entries = document.get("rule", [])
    if not isinstance(entries, list):
        raise RulePackError(f"{path}: 'rule' must be an array of tables ([[rule]])")
    id_lines = _id_lines(text)
    return [_build_rule(entry, i, name, path, text, id_lines, defaults, months, eager) for i, entry in enumerate(entries)]


def _build_rule(entry: Any, index: int, name: str, path: Path, text: str, id_lines: dict[str, int],
                defaults: dict[str, tuple[str, ...]], months: dict[str, int], eager: bool) -> Rule:
    rule_id = entry.get("id") if isinstance(entry, dict) else None
    line = id_lines.get(rule_id) if isinstance(rule_id, str) else None
    line = line or _line_of(text, rule_id, index)
    where = f"{path}:{line}: rule '{rule_id}'" if rule_id else f"{path}:{line}: rule #{index + 1}"
    if not isinstance(entry, dict):
        raise RulePackError(f"{where}: must be a table")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise RulePackError(f"{where}: missing or invalid id (lowercase letters, digits, . _ -)")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise RulePackError(f"{where}: unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    category = entry.get("category")
    if not isinstance(category, str) or not category:
        raise RulePackError(f"{where}: missing category")
    _check_keys(entry, (*_COMMON_KEYS, *_KIND_KEYS[kind]), where)
    scope = Scope(**{key: _string_list(entry, key, where) or defaults[key] for key in _SCOPE_KEYS})
    options: dict[str, Any] = {}
    for key in ("item_max_words", "max_items", "min_items", "tail_max_words", "tail_max_lines", "tail_max_chars",
                "window", "min_chars"):
        if key in entry:
            options[key] = _positive_int(entry, key, where)
    if "item_pattern" in entry:
        options["lazy_item_pattern"] = _pattern(entry["item_pattern"], entry, where, "item_pattern", eager)
    test = None if kind == "repeat" else _line_test(entry, where, eager)
    if kind == "repeat" and "max_words" in entry:
        test = LineTest(max_words=_positive_int(entry, "max_words", where))
    extract_line = entry.get("extract_line")
    if extract_line is not None and not (isinstance(extract_line, str) and extract_line):
        raise RulePackError(f"{where}: extract_line must be a non-empty string (the metadata key)")
    examples = _examples(entry, where)
    return Rule(id=rule_id, category=category, kind=kind, scope=scope, test=test, file=name, line=line, path=str(path),
                description=str(entry.get("description", "")), extract_line=extract_line,
                months=months, examples=examples, **options)


def _line_test(entry: dict[str, Any], where: str, eager: bool) -> LineTest:
    phrases = _string_list(entry, "phrases", where)
    prefixes = _string_list(entry, "prefixes", where)
    pattern = _pattern(entry["pattern"], entry, where, "pattern", eager) if "pattern" in entry else None
    if not phrases and not prefixes and pattern is None:
        raise RulePackError(f"{where}: needs at least one of phrases, prefixes or pattern")
    normalised_phrases = frozenset(normalise_phrase(p) for p in phrases)
    normalised_prefixes = tuple(normalise_prefix(p) for p in prefixes)
    if "" in normalised_phrases or "" in normalised_prefixes:
        raise RulePackError(f"{where}: a phrase or prefix is empty after normalisation")
    bounds = {key: _positive_int(entry, key, where) for key in
              ("max_words", "min_words", "within_top", "within_bottom") if key in entry}
    bounds.setdefault("max_words", DEFAULT_MAX_WORDS)
    return LineTest(phrases=normalised_phrases, prefixes=normalised_prefixes, lazy_pattern=pattern, **bounds)


def _pattern(source: Any, entry: dict[str, Any], where: str, key: str, eager: bool) -> LazyPattern:
    if not isinstance(source, str) or not source:
        raise RulePackError(f"{where}: {key} must be a non-empty string")
    flags = regex.VERSION0 | (0 if entry.get("case_sensitive", False) else regex.IGNORECASE)
    pattern = LazyPattern(source, flags, where, key)
    if eager:
        pattern.get()
    return pattern


def _examples(entry: dict[str, Any], where: str) -> tuple[Example, ...]:
    examples: list[Example] = []
    for text in _string_list(entry, "remove", where):
        numbers = tuple(i + 1 for i, line in enumerate(text.splitlines()) if line.strip())
        examples.append(Example(text, numbers))
    for text in _string_list(entry, "keep", where):
        examples.append(Example(text, ()))
    cases = entry.get("case", [])
    if not isinstance(cases, list):
        raise RulePackError(f"{where}: case must be an array of tables ([[rule.case]])")
    for case in cases:
        if not isinstance(case, dict) or not isinstance(case.get("text"), str):
            raise RulePackError(f"{where}: each [[rule.case]] needs text = \"...\"")
        removed = case.get("removed", [])
        if not isinstance(removed, list) or not all(isinstance(n, int) and n > 0 for n in removed):
            raise RulePackError(f"{where}: case 'removed' must list 1-based line numbers")
        _check_keys(case, ("text", "removed"), f"{where}: case")
        examples.append(Example(case["text"], tuple(sorted(removed))))
    if not any(e.removed for e in examples):
        raise RulePackError(f"{where}: needs at least one example it must remove (remove = [...])")
    if not any(not e.removed or len(e.removed) < len(e.text.splitlines()) for e in examples):
        raise RulePackError(f"{where}: needs at least one example of content it must keep (keep = [...])")
    return tuple(examples)


def _months(table: Any, path: Path) -> dict[str, int]:
    if not isinstance(table, dict) or not all(
        isinstance(v, int) and 1 <= v <= 12 for v in table.values()
    ):
        raise RulePackError(f"{path}: [pack.months] must map month names to numbers 1-12")
    return {k.casefold(): v for k, v in table.items()}


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise RulePackError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _string_list(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulePackError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _positive_int(table: dict[str, Any], key: str, where: str) -> int:
    value = table[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RulePackError(f"{where}: {key} must be a positive integer")
    return value


def _id_lines(text: str) -> dict[str, int]:
    """The line each id of a pack is written on (its first `id = "..."` line), found in one pass:
    `_line_of` searching the text once per rule cost more than parsing the pack."""
    lines: dict[str, int] = {}
    for found in _ID_LINE.finditer(text):
        lines.setdefault(found.group(1), text.count("\n", 0, found.start()) + 1)
    return lines


def _line_of(text: str, rule_id: Any, index: int) -> int:
    """The line where a rule is written: its id line, else its n-th [[rule]] header."""
    if isinstance(rule_id, str):
        found = re.search(rf"^\s*id\s*=\s*[\"']{re.escape(rule_id)}[\"']", text, re.MULTILINE)
        if found:
            return text.count("\n", 0, found.start()) + 1
    headers = [m.start() for m in re.finditer(r"^\s*\[\[rule\]\]", text, re.MULTILINE)]
    if index < len(headers):
        return text.count("\n", 0, headers[index]) + 1
    return 1
