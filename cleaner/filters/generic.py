"""Generic boilerplate detection for plain text, for what no rule pack covers (opt-in).

In the spirit of jusText, but for lines of already-extracted text: each line is first judged on
its own features (length, stop-word density, terminal punctuation, link tokens, separators, and
boilerplate vocabulary from rules/generic/<lang>.toml), then short and undecided lines take their
verdict from their neighbours, and finally the promo/notice clusters above the first and below
the last content paragraph go. Losing article text is worse than leaving boilerplate, so every
step leans towards keeping: a short line directly above a content paragraph is a heading, and a
short line between content and boilerplate stays.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from itertools import filterfalse, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from cleaner.document import Claim, Cleaned
from cleaner.filters.stage import StageStats
from cleaner.filters.words import LATIN_TERMINAL, stop_words
from cleaner.rules.loader import default_rules_dir

GOOD, NEAR, SHORT, BAD, HEADING = "good", "near", "short", "bad", "heading"

_EDGE_PUNCT = "\"'“”„‚‘’«»‹›()[]{}<>.,;:!?¡¿…*"
_SEPARATORS = frozenset({"|", ">", "»", "›", "/", "•", "·"})
_NAVIGATION_ITEM_WORDS = 4  # menu items and crumbs are a few words each
_DATE = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)|(?<!\d)\d{1,2}\.\d{1,2}\.(?:\d{2}|\d{4})?(?!\d)")
_DATELINE_WORDS = 6
_TITLE_GAP = 4  # share-bar lines allowed between a first-line title and the lead
_LINK = re.compile(r"^(?:https?://|www\.)\S+$|^\S+@\S+\.\w+$|^@\w{2,}$|^#\w{2,}$", re.IGNORECASE)


class GenericConfigError(ValueError):
    """A generic-classifier file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One language's boilerplate vocabulary (see rules/generic/de.toml for what each list means)."""

    language: str
    lines: frozenset[str]
    phrases: tuple[str, ...]
    pattern: re.Pattern[str] | None  # the phrases, longest first, on word boundaries
    prefixes: tuple[str, ...]
    byline_prefixes: tuple[str, ...]
    list_headers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GenericConfig:
    short_words: int
    good_words: int
    good_density: float
    link_max_density: float
    vocabulary_short_max_words: int
    vocabulary_min_hits: int
    vocabulary_min_density: float
    prefix_max_words: int
    navigation_min_separators: int
    vocabularies: dict[str, Vocabulary]
    fallback: Vocabulary  # all vocabularies at once, for documents of other or unknown language

    @property
    def fallback_stops(self) -> frozenset[str]:
        """The stop words of all those languages. Looked up when the classifier first needs
        them: reading jusText's stop lists costs a tenth of a second, and the dedup signals that
        read this configuration for its vocabularies never use them."""
        return _all_stop_words(tuple(self.vocabularies))


# (table, key) in settings.toml -> (GenericConfig field, type)
_SETTINGS: dict[tuple[str, str], tuple[str, type]] = {
    ("length", "short_words"): ("short_words", int),
    ("length", "good_words"): ("good_words", int),
    ("stop_words", "good_density"): ("good_density", float),
    ("links", "max_density"): ("link_max_density", float),
    ("vocabulary", "short_max_words"): ("vocabulary_short_max_words", int),
    ("vocabulary", "min_hits"): ("vocabulary_min_hits", int),
    ("vocabulary", "min_density"): ("vocabulary_min_density", float),
    ("vocabulary", "prefix_max_words"): ("prefix_max_words", int),
    ("navigation", "min_separators"): ("navigation_min_separators", int),
}
_VOCABULARY_KEYS = ("lines", "phrases", "prefixes", "byline_prefixes", "list_headers")


def default_directory() -> Path:
    return default_rules_dir() / "generic"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GenericConfigError(f"{path}: cannot read: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise GenericConfigError(f"{path}: not valid TOML: {error}") from None


def load_generic_config(directory: str | Path | None = None) -> GenericConfig:
    """Read settings.toml and every <lang>.toml vocabulary of a directory, validating keys and types."""
    directory = Path(directory) if directory is not None else default_directory()
    settings_path = directory / "settings.toml"
    data = _read_toml(settings_path)
    values: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise GenericConfigError(f"{settings_path}: {section} must be a table ([{section}])")
        for key, value in table.items():
            if (section, key) not in _SETTINGS:
                raise GenericConfigError(f"{settings_path}: unknown setting [{section}] {key}")
            field_name, kind = _SETTINGS[section, key]
            numeric = isinstance(value, kind) or (kind is float and isinstance(value, int))
            if isinstance(value, bool) or not numeric or value < 0:
                raise GenericConfigError(
                    f"{settings_path}: [{section}] {key} must be a non-negative {kind.__name__}, got {value!r}"
                )
            values[field_name] = value
    for section, key in _SETTINGS:
        if _SETTINGS[section, key][0] not in values:
            raise GenericConfigError(f"{settings_path}: missing setting [{section}] {key}")
    vocabularies = {}
    for path in sorted(directory.glob("*.toml")):
        if path.name != "settings.toml":
            vocabulary = _load_vocabulary(path)
            vocabularies[vocabulary.language] = vocabulary
    return GenericConfig(vocabularies=vocabularies, fallback=_merged(vocabularies), **values)


@cache
def _all_stop_words(languages: tuple[str, ...]) -> frozenset[str]:
    return frozenset().union(*(stop_words(lang) or frozenset() for lang in languages))


def _load_vocabulary(path: Path) -> Vocabulary:
    data = _read_toml(path)
    language = data.get("language")
    if not isinstance(language, str) or language != path.stem:
        raise GenericConfigError(f"{path}: language must be the file's name {path.stem!r}, got {language!r}")
    lists: dict[str, list[str]] = {}
    for key in _VOCABULARY_KEYS:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise GenericConfigError(f"{path}: {key} must be a list of non-empty strings")
        lists[key] = [v.lower() for v in value]
    unknown = set(data) - {"language", *_VOCABULARY_KEYS}
    if unknown:
        raise GenericConfigError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    return _vocabulary(language, lists)


def _vocabulary(language: str, lists: dict[str, list[str]]) -> Vocabulary:
    phrases = sorted(set(lists["phrases"]), key=lambda p: (-len(p), p))
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, phrases))})(?!\w)") if phrases else None
    return Vocabulary(
        language,
        frozenset(_bare(line) for line in lists["lines"]),
        tuple(phrases),
        pattern,
        tuple(lists["prefixes"]),
        tuple(lists["byline_prefixes"]),
        tuple(_bare(h) for h in lists["list_headers"]),
    )


def _merged(vocabularies: dict[str, Vocabulary]) -> Vocabulary:
    """All languages at once, for documents of a language without a vocabulary."""
    lists: dict[str, list[str]] = {key: [] for key in _VOCABULARY_KEYS}
    for vocabulary in vocabularies.values():
        lists["lines"] += vocabulary.lines
        lists["prefixes"] += vocabulary.prefixes
        lists["byline_prefixes"] += vocabulary.byline_prefixes
        lists["list_headers"] += vocabulary.list_headers
        lists["phrases"] += vocabulary.phrases
    return _vocabulary("und", lists)


def _bare(text: str) -> str:
    return text.strip().strip(_EDGE_PUNCT + " ").lower()


@dataclass(frozen=True, slots=True)
class Features:
    words: int
    chars: int
    stop_density: float
    terminal: bool
    link_density: float
    capitalised: float
    hits: int  # boilerplate phrases plus link tokens
    separators: int
    table: bool
    listed: bool  # the whole line is one of the vocabulary's boilerplate lines
    header: bool  # the line introduces a list of teaser links
    prefixed: bool  # starts with a caption or copyright label
    byline: bool  # starts with a byline label
    dated: bool  # a short line with a year or a numeric date: a dateline, which is content

    def to_json(self) -> dict[str, Any]:
        return {
            "words": self.words,
            "chars": self.chars,
            "stop_density": round(self.stop_density, 4),
            "terminal": self.terminal,
            "link_density": round(self.link_density, 4),
            "capitalised": round(self.capitalised, 4),
            "hits": self.hits,
            "separators": self.separators,
        }


def may_link(lowered: str) -> bool:
    """Might this lowercased text hold a link token (a URL, an e-mail address, an @handle or a
    #hashtag)? Every one holds one of these strings, and most lines none: they need no regex."""
    return "@" in lowered or "#" in lowered or "http" in lowered or "www." in lowered


def features(text: str, stops: frozenset[str], vocabulary: Vocabulary) -> Features:
    """What the classifier knows about one line on its own."""
    stripped = text.strip()
    tokens = stripped.split()
    # The per-token work is chains of C-level maps and filters, not generator expressions: a
    # third of the cost of `--preset training` on a news corpus was these loops over prose lines.
    words = list(filter(None, map(str.lower, map(str.strip, filterfalse(_SEPARATORS.__contains__, tokens),
                                                   repeat(_EDGE_PUNCT)))))
    n = max(len(words), 1)
    lowered = stripped.lower()
    links = sum(map(bool, map(_LINK.match, map(str.strip, tokens, repeat(_EDGE_PUNCT))))) if may_link(lowered) else 0
    separators = sum(map(_SEPARATORS.__contains__, tokens))
    bare = _bare(stripped)
    phrase_hits = len(vocabulary.pattern.findall(lowered)) if vocabulary.pattern is not None else 0
    header = bare in vocabulary.list_headers or (
        len(words) <= 4 and any(bare.startswith(h + " ") for h in vocabulary.list_headers)
    )
    return Features(
        words=len(words),
        chars=len(stripped),
        stop_density=sum(map(stops.__contains__, words)) / n,
        terminal=stripped.endswith(LATIN_TERMINAL),
        link_density=links / n,
        capitalised=sum(map(str.isupper, filter(str.isalpha, map(itemgetter(0), tokens)))) / n,
        hits=phrase_hits + links,
        separators=separators,
        table=stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 3,
        listed=bare in vocabulary.lines,
        header=header,
        prefixed=lowered.startswith(vocabulary.prefixes),
        byline=lowered.startswith(vocabulary.byline_prefixes),
        dated=len(words) <= _DATELINE_WORDS and bool(_DATE.search(stripped)),
    )


def _initial(f: Features, config: GenericConfig) -> tuple[str, str | None]:
    """A line's class on its own features, and the signal that made it boilerplate."""
    if f.table:
        return GOOD, None
    if f.header:
        return BAD, "list"
    if f.listed:
        return BAD, "vocabulary"
    if f.words and f.link_density > config.link_max_density:
        return BAD, "links"
    if (
        f.separators >= config.navigation_min_separators
        and f.words <= _NAVIGATION_ITEM_WORDS * (f.separators + 1)
        and not f.terminal
    ):
        return BAD, "navigation"
    if f.prefixed or (f.byline and f.words <= config.prefix_max_words):
        return BAD, "vocabulary"
    if f.hits and (
        f.words <= config.vocabulary_short_max_words
        or (f.hits >= config.vocabulary_min_hits and f.hits / f.words >= config.vocabulary_min_density)
    ):
        return BAD, "vocabulary"
    if f.words >= config.good_words and f.stop_density >= config.good_density:
        return GOOD, None
    if f.dated:
        return HEADING, None
    if f.words < config.short_words:
        return SHORT, None
    return NEAR, None


def _content_score(f: Features, config: GenericConfig) -> float:
    """How much a line reads like running text, 0..1: stop-word density scaled by length."""
    return round(min(1.0, f.stop_density / config.good_density) * min(1.0, f.words / config.good_words), 4)


def classify(cleaned: Cleaned, config: GenericConfig) -> None:
    """Claim the kept lines that look like boilerplate, each with its features and signal."""
    vocabulary = config.vocabularies.get(cleaned.lang, config.fallback)
    stops = stop_words(cleaned.lang) or config.fallback_stops
    order = [i for i, line in enumerate(cleaned.lines) if not line.blank]
    feats: dict[int, Features] = {}
    cls: dict[int, str] = {}
    signal: dict[int, str] = {}
    for i in order:
        if cleaned.claims[i] is not None:
            cls[i], signal[i] = BAD, "rule"  # an earlier stage removed it: context for its neighbours
            continue
        feats[i] = features(cleaned.lines[i].text, stops, vocabulary)
        cls[i], reason = _initial(feats[i], config)
        if reason:
            signal[i] = reason

    # A short or undecided line directly above a content paragraph is a heading (or a dateline).
    for pos, i in enumerate(order[:-1]):
        if cls[i] in (SHORT, NEAR) and cls[order[pos + 1]] == GOOD:
            cls[i] = HEADING

    # A dump's first line is its title slot: a short line there stays when content follows after
    # no more than a share bar or lines the rules removed (a doubled title), as in
    # "Title / Share / Tweet / Lead".
    if order and cls[order[0]] in (SHORT, NEAR):
        gap = 0
        for j in order[1:]:
            if cls[j] == GOOD:
                cls[order[0]] = HEADING
            if cls[j] != BAD or signal.get(j) not in ("vocabulary", "rule") or gap == _TITLE_GAP:
                break
            gap += 1

    # The teaser titles after a "Read more" header are boilerplate, up to the next decided line.
    for pos, i in enumerate(order):
        if signal.get(i) != "list":
            continue
        for j in order[pos + 1 :]:
            if cls[j] not in (SHORT, NEAR):
                break
            cls[j], signal[j] = BAD, "list"

    # Undecided lines between two boilerplate lines are boilerplate (the document's edges count
    # as boilerplate, so an undecided line next to an edge needs only one boilerplate neighbour).
    previous = _nearest_decided(order, cls)
    following = _nearest_decided(order[::-1], cls)
    for i in order:
        if cls[i] in (SHORT, NEAR) and previous[i] in (BAD, None) and following[i] in (BAD, None):
            if previous[i] or following[i]:
                cls[i], signal[i] = BAD, "context"

    # Notice and promo clusters: everything above the last boilerplate line before the first
    # content paragraph but the title, and everything from the first boilerplate line after the last one.
    anchors = [i for i in order if cls[i] == GOOD and i in feats and feats[i].hits == 0]
    if anchors:
        top = [i for i in order if i < anchors[0] and cls[i] == BAD]
        bottom = [i for i in order if i > anchors[-1] and cls[i] == BAD]
        for i in order:
            if (cls[i] not in (BAD, HEADING) and top and i < top[-1]) or (cls[i] != BAD and bottom and i > bottom[0]):
                cls[i], signal[i] = BAD, "edge"

    for i in order:
        if cls[i] == BAD and i in feats:
            f = feats[i]
            detail = {"features": f.to_json(), "score": _content_score(f, config)}
            cleaned.claim(i, Claim(rule=f"generic.{signal[i]}", category="generic", detail=detail))


def _nearest_decided(order: list[int], cls: dict[int, str]) -> dict[int, str | None]:
    """For each line, the class of the nearest decided line before it in `order` (None: none)."""
    nearest: dict[int, str | None] = {}
    last: str | None = None
    for i in order:
        nearest[i] = last
        if cls[i] in (GOOD, BAD, HEADING):
            last = cls[i]
    return nearest


@dataclass(frozen=True, slots=True)
class GenericSettings:
    """Whether the generic classifier runs (it is opt-in: rule packs are the stronger signal)."""

    enabled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"generic": self.enabled}

    @staticmethod
    def add_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--generic", action=argparse.BooleanOptionalAction, default=None,
                            help="generic (rule-free) boilerplate detection (default: from --preset)")

    @classmethod
    def from_args(cls, args: argparse.Namespace, preset: Mapping[str, Any]) -> GenericSettings:
        return cls(preset["generic"] if args.generic is None else args.generic)


class GenericClassifier:
    """Claims the kept lines the generic classifier reads as boilerplate (see `classify`)."""

    name = "generic"

    def __init__(self, config: GenericConfig) -> None:
        self.config = config
        self.stats = StageStats()

    def apply(self, cleaned: Cleaned) -> bool:
        classify(cleaned, self.config)
        return False
