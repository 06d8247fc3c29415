"""Document quality heuristics in the manner of Gopher (Rae et al. 2021), C4 and FineWeb.

Each heuristic computes one number from the kept text and compares it with a threshold from a
TOML preset; the first one that fails names the rejection (`quality.<heuristic>`), with the
value and the threshold, so a dropped document always says why. A heuristic with no section in
the preset, with `enabled = false`, or with neither `min` nor `max`, is off: the presets are
the only place where policy lives (rules/quality/default.toml, rules/quality/training.toml).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import repeat
from pathlib import Path

import numpy as np

from cleaner.document import Cleaned, Rejection
from cleaner.rules.loader import default_rules_dir

PRESETS_DIR = default_rules_dir() / "quality"

# jusText names its stop lists by English language name; documents carry ISO 639-1 codes.
JUSTEXT_LANGUAGES = {
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "hu": "Hungarian",
    "it": "Italian",
    "nl": "Dutch",
    "no": "Norwegian_Bokmal",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
}

_PUNCT_EDGES = "\"'“”„‚‘’«»‹›()[]{}<>.,;:!?¡¿…-–—*•·/\\|"
_TERMINAL = (".", "!", "?", "…", '"', "”", "“", "»", "«", "'", "’", ":", "。", "！", "？", "」", "』")
_CLOSERS = "\"'”“»«’)]"
_BULLETS = ("-", "*", "•", "‣", "·", "–", "—", "►", "▪", "◦", "●", "○", "■", "□", "→", "+")
_ELLIPSIS = ("...", "…")
_LETTER = re.compile(r"[^\W\d_]")
_NO_LETTER_LINE = re.compile(r"^(?:[^\w\n]|[\d_])*$", re.MULTILINE)  # a line without a _LETTER
_SPACE = re.compile(r"\s")  # exactly the characters str.split() splits at
# Scripts that do not separate words with spaces: Thai, Lao, Tibetan, Myanmar, Khmer, Japanese
# kana, Han (with compatibility ideographs and half-width katakana). In a text written mostly in
# them a whitespace token is a clause or a sentence, so every heuristic over words (length,
# count, n-grams, stop words, share of words with letters) would judge it as garbage.
_UNSPACED = re.compile(r"[\u0E00-\u0FFF\u1000-\u109F\u1780-\u17FF\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF"
                       r"\uF900-\uFAFF\uFF66-\uFF9F]")
# The UTF-8 lead bytes of those scripts' characters (U+0800..U+1FFF, U+3000..U+9FFF,
# U+F000..U+FFFF): a text without any of them, as nearly every text in other scripts, needs no
# search (U+2000..U+2FFF, punctuation and symbols, start with E2).
_UNSPACED_LEADS = (b"\xe0", b"\xe1", b"\xe3", b"\xe4", b"\xe5", b"\xe6", b"\xe7", b"\xe8", b"\xe9", b"\xef")
UNSPACED_SHARE = 0.3  # of a text's letters in those scripts makes it unspaced (Japanese mixes in Latin words)
# Heuristics that count words; they apply only to text whose words are separated by spaces.
WORD_HEURISTICS = frozenset(
    {"word_count", "mean_word_length", "alpha_words", "symbol_word_ratio", "stop_words", "top_ngram", "duplicate_ngram"}
)
_CHUNK = 1 << 20  # characters counted at a time by word_totals: bounds its arrays
# The class of each code point for word_totals: whitespace as str.isspace(), the edge
# punctuation, or a word character. Above U+3000 there is neither whitespace nor edge
# punctuation, so code points are clipped to _LAST_KIND: the table stays in the CPU's cache.
_WORD_CHAR, _WHITESPACE, _EDGE = 0, 1, 2
_LAST_KIND = 0x3001
_KIND = np.zeros(_LAST_KIND + 1, dtype=np.uint8)
_KIND[[c for c in range(_LAST_KIND) if chr(c).isspace()]] = _WHITESPACE
_KIND[[ord(c) for c in _PUNCT_EDGES]] = _EDGE
# Heuristics that need only the number of words and their total length, not the words.
_COUNTS_ONLY = frozenset(
    {
        "word_count",
        "mean_word_length",
        "symbol_word_ratio",
        "ellipsis_lines",
        "terminal_punctuation",
        "bullet_lines",
        "duplicate_lines",
        "duplicate_line_chars",
    }
)


class QualityConfigError(ValueError):
    """A preset that cannot be used; the message names the file and the offending key."""


@dataclass(frozen=True, slots=True)
class Bound:
    """Thresholds of one heuristic. For the n-gram heuristics `max` maps n to a fraction."""

    min: float | None = None
    max: float | dict[int, float] | None = None


@dataclass(frozen=True, slots=True)
class QualityConfig:
    source: str  # the file it came from, for messages and provenance
    bounds: dict[str, Bound]  # only the heuristics that are on, in evaluation order


def word_totals(text: str, chunk: int = _CHUNK) -> tuple[int, int]:
    """(number of words, their total length) as `_Text.words` would give them, without
    making the words: numpy classifies every code point, so the cost is a few array passes
    per character and the memory is bounded by `chunk` (pieces are cut at whitespace).

    A word is a token's span from its first to its last character that is neither whitespace
    nor edge punctuation. Lowercasing is not needed: it changes no character's class and only
    U+0130 (İ, lowered to two characters) changes length; every İ lies inside a word.
    """
    count = length = 0
    start = 0
    while start < len(text):
        cut = _SPACE.search(text, start + chunk)
        end = cut.start() if cut else len(text)
        codes = np.frombuffer(text[start:end].encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        kind = _KIND.take(np.minimum(codes, _LAST_KIND).astype(np.intp))
        token = np.cumsum(kind == _WHITESPACE, dtype=np.int32)  # equal within one token
        core = np.flatnonzero(kind == _WORD_CHAR)
        if len(core):
            owner = token[core]
            opens = np.empty(len(core), dtype=bool)  # the core characters that open a word
            opens[0] = True
            np.not_equal(owner[1:], owner[:-1], out=opens[1:])
            starts = np.flatnonzero(opens)
            first = core[starts]
            last = np.empty_like(first)  # a word's last core character comes before the next word's first
            last[:-1] = core[starts[1:] - 1]
            last[-1] = core[-1]
            count += len(first)
            length += int(last.sum() - first.sum()) + len(first)
        start = end
    return count, length + text.count("\u0130")


class _Text:
    """The kept text, tokenised once for all heuristics, and only as far as they ask."""

    def __init__(self, cleaned: Cleaned, need_words: bool) -> None:
        self.lines = [line.text.strip() for line in cleaned.kept_lines()]
        self.text = "\n".join(self.lines)
        self.lang = cleaned.lang
        self.need_words = need_words

    @cached_property
    def words(self) -> list[str]:
        """Tokens with their surrounding punctuation stripped, lowercased; iterated in C.
        Lowering the whole text first gives the same words as lowering each stripped token:
        lower() maps no character into or out of whitespace or _PUNCT_EDGES, and the context
        it reads (final sigma) never crosses whitespace (tests/test_quality_words.py)."""
        return list(filter(None, map(str.strip, self.text.lower().split(), repeat(_PUNCT_EDGES))))

    @cached_property
    def spaced(self) -> bool:
        """Whether the text's script separates words with spaces (see _UNSPACED); quick byte
        searches first, since almost every text holds no character of those scripts."""
        if self.text.isascii():
            return True
        data = self.text.encode("utf-8", "surrogatepass")
        if not any(lead in data for lead in _UNSPACED_LEADS) or _UNSPACED.search(self.text) is None:
            return True
        letters = len(_LETTER.findall(self.text))
        return len(_UNSPACED.findall(self.text)) < UNSPACED_SHARE * letters

    @cached_property
    def totals(self) -> tuple[int, int]:
        """(number of words, their total length); counted without making the words when no
        heuristic needs them: a 50 MB one-line document would otherwise hold millions of
        small strings at once."""
        if self.need_words:
            return len(self.words), sum(map(len, self.words))
        return word_totals(self.text)

    @cached_property
    def word_ends(self) -> np.ndarray:
        """Where each word ends, counting the characters of the words before it; 0 first."""
        return np.concatenate(([0], np.cumsum(np.fromiter(map(len, self.words), dtype=np.int64, count=len(self.words)))))

    @cached_property
    def word_chars(self) -> int:
        return int(self.word_ends[-1])

    @cached_property
    def ids(self) -> np.ndarray:
        """Words as small integers (equal words, equal ids), the 1-grams of `grams`."""
        vocabulary = {word: i for i, word in enumerate(dict.fromkeys(self.words))}
        return np.fromiter(map(vocabulary.__getitem__, self.words), dtype=np.int64, count=len(self.words))

    @cached_property
    def _grams(self) -> dict[int, np.ndarray | None]:
        return {1: self.ids}

    def grams(self, n: int) -> np.ndarray | None:
        """The word n-gram starting at each position, as small integers (equal n-grams, equal
        numbers, exactly: each is numbered from its (n-1)-gram's number and its last word).
        None when no n-gram occurs twice: then no longer one does either."""
        grams = self._grams
        words = max(len(self.ids), 1)
        for k in range(max(grams) + 1, n + 1):
            if grams[k - 1] is None:
                return None
            keys = grams[k - 1][:-1] * words + self.ids[k - 1 :]  # < words**2: fits in int64
            distinct, numbers = np.unique(keys, return_inverse=True)
            grams[k] = numbers.reshape(-1).astype(np.int64) if len(distinct) < len(keys) else None
        return grams[n]


def _word_count(t: _Text) -> float:
    return t.totals[0]


def _mean_word_length(t: _Text) -> float:
    count, length = t.totals
    return length / count if count else 0.0


def _alpha_words(t: _Text) -> float:
    """Share of words with at least one letter (Gopher: 80%); tables of numbers fail it. The
    words without one are counted by one search over the words, one per line."""
    if not t.words:
        return 0.0
    return (len(t.words) - len(_NO_LETTER_LINE.findall("\n".join(t.words)))) / len(t.words)


def _symbol_word_ratio(t: _Text) -> float:
    symbols = t.text.count("#") + t.text.count("...") + t.text.count("…")
    count = t.totals[0]
    return symbols / count if count else 0.0


def _ellipsis_lines(t: _Text) -> float:
    return sum(line.endswith(_ELLIPSIS) for line in t.lines) / len(t.lines) if t.lines else 0.0


def _terminal_punctuation(t: _Text) -> float:
    return sum(line.endswith(_TERMINAL) for line in t.lines) / len(t.lines) if t.lines else 0.0


def _bullet_lines(t: _Text) -> float:
    return sum(line.startswith(_BULLETS) for line in t.lines) / len(t.lines) if t.lines else 0.0


def _duplicate_lines(t: _Text) -> float:
    """Share of lines that repeat an earlier line of the document."""
    return _repeats(t.lines)[0] / len(t.lines) if t.lines else 0.0


def _duplicate_line_chars(t: _Text) -> float:
    """Share of characters in lines that repeat an earlier line."""
    total = sum(map(len, t.lines))
    return _repeats(t.lines)[1] / total if total else 0.0


def _repeats(lines: list[str]) -> tuple[int, int]:
    seen: set[str] = set()
    count = chars = 0
    for line in lines:
        if line in seen:
            count += 1
            chars += len(line)
        seen.add(line)
    return count, chars


def _top_ngram(t: _Text, n: int) -> float:
    """Characters covered by the most frequent word n-gram, over all word characters (Gopher)."""
    total = t.word_chars
    if total == 0 or len(t.words) < n:
        return 0.0
    grams = t.grams(n)
    if grams is None:
        return 0.0
    counts = np.bincount(grams)
    count = int(counts.max())
    if count < 2:
        return 0.0
    # Ties go to the n-gram seen first, so the value never depends on hash order.
    start = int(np.argmax(counts[grams] == count))
    return int(t.word_ends[start + n] - t.word_ends[start]) * count / total


def _duplicate_ngram(t: _Text, n: int) -> float:
    """Characters inside repeated word n-grams, counting each position once (Gopher): scanning
    left to right, an n-gram seen before at a scanned position counts its n words and the scan
    jumps past them. Only n-grams that occur more than once can count or change what the scan
    has seen, so only their positions are visited."""
    total = t.word_chars
    if total == 0 or len(t.words) < n:
        return 0.0
    grams = t.grams(n)
    if grams is None:
        return 0.0
    multiple = np.flatnonzero(np.bincount(grams)[grams] >= 2)
    covered = (t.word_ends[multiple + n] - t.word_ends[multiple]).tolist()
    seen: set[int] = set()
    repeated = 0
    scanned_from = 0
    for position, gram, chars in zip(multiple.tolist(), grams[multiple].tolist(), covered):
        if position < scanned_from:
            continue
        if gram in seen:
            repeated += chars
            scanned_from = position + n
        else:
            seen.add(gram)
    return repeated / total


@cache
def stop_words(lang: str) -> frozenset[str] | None:
    """jusText's stop list for an ISO code, or None when there is none (the check is skipped)."""
    import justext

    name = JUSTEXT_LANGUAGES.get(lang)
    return frozenset(w.lower() for w in justext.get_stoplist(name)) if name else None


def _stop_words(t: _Text) -> float | None:
    words = stop_words(t.lang)
    return None if words is None else sum(map(words.__contains__, t.words))


_SCALAR: dict[str, Callable[[_Text], float | None]] = {
    "word_count": _word_count,
    "mean_word_length": _mean_word_length,
    "alpha_words": _alpha_words,
    "symbol_word_ratio": _symbol_word_ratio,
    "ellipsis_lines": _ellipsis_lines,
    "terminal_punctuation": _terminal_punctuation,
    "bullet_lines": _bullet_lines,
    "stop_words": _stop_words,
    "duplicate_lines": _duplicate_lines,
    "duplicate_line_chars": _duplicate_line_chars,
}
_NGRAM: dict[str, tuple[Callable[[_Text, int], float], range]] = {
    "top_ngram": (_top_ngram, range(2, 5)),
    "duplicate_ngram": (_duplicate_ngram, range(5, 11)),
}
HEURISTICS = tuple(_SCALAR) + tuple(_NGRAM)


def judge(cleaned: Cleaned, config: QualityConfig) -> Rejection | None:
    """The first heuristic the kept text fails, as a Rejection; None when it passes all."""
    text = _Text(cleaned, need_words=not _COUNTS_ONLY.issuperset(config.bounds))
    for name, bound in config.bounds.items():
        if name in WORD_HEURISTICS and not text.spaced:
            continue
        if name in _NGRAM:
            compute, _ = _NGRAM[name]
            assert isinstance(bound.max, dict)
            for n, limit in sorted(bound.max.items()):
                value = round(compute(text, n), 4)
                if value > limit:
                    return Rejection(f"quality.{name}", {"n": n, "value": value, "threshold": {"max": limit}})
            continue
        raw = _SCALAR[name](text)
        if raw is None:
            continue
        value = round(raw, 4)
        if (bound.min is not None and value < bound.min) or (
            isinstance(bound.max, (int, float)) and value > bound.max
        ):
            threshold = {k: v for k, v in (("min", bound.min), ("max", bound.max)) if v is not None}
            return Rejection(f"quality.{name}", {"value": value, "threshold": threshold})
    return None


def preset_path(name: str) -> Path:
    """The file of a shipped preset ('default', 'training')."""
    path = PRESETS_DIR / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.toml")))
        raise QualityConfigError(f"no quality preset named {name!r}; shipped presets: {known}")
    return path


def load_quality_config(path: str | Path) -> QualityConfig:
    """Read and validate a preset; any problem raises QualityConfigError naming file and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise QualityConfigError(f"{path}: cannot read: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise QualityConfigError(f"{path}: not valid TOML: {error}") from None
    bounds: dict[str, Bound] = {}
    for name, section in data.items():
        if name not in HEURISTICS:
            raise QualityConfigError(f"{path}: unknown heuristic [{name}]; known: {', '.join(HEURISTICS)}")
        if not isinstance(section, dict):
            raise QualityConfigError(f"{path}: {name} must be a table ([{name}])")
        bound = _bound(path, name, section)
        if bound is not None:
            bounds[name] = bound
    ordered = {name: bounds[name] for name in HEURISTICS if name in bounds}
    return QualityConfig(str(path), ordered)


def _bound(path: Path, name: str, section: dict[str, object]) -> Bound | None:
    allowed = ("enabled", "max") if name in _NGRAM else ("enabled", "min", "max")
    for key in section:
        if key not in allowed:
            raise QualityConfigError(f"{path}: [{name}] unknown key {key!r}; allowed: {', '.join(allowed)}")
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        raise QualityConfigError(f"{path}: [{name}] enabled must be true or false, got {enabled!r}")
    if name in _NGRAM:
        limits = section.get("max")
        if limits is None:
            return None
        if not isinstance(limits, dict):
            raise QualityConfigError(f"{path}: [{name}] max must be a table of n = fraction, got {limits!r}")
        valid_n = _NGRAM[name][1]
        parsed: dict[int, float] = {}
        for key, value in limits.items():
            if not (key.isdigit() and int(key) in valid_n):
                raise QualityConfigError(
                    f"{path}: [{name}] max.{key}: n must be one of {valid_n.start}..{valid_n.stop - 1}"
                )
            parsed[int(key)] = _number(path, f"[{name}] max.{key}", value)
        return Bound(max=parsed) if enabled and parsed else None
    low = section.get("min")
    high = section.get("max")
    low = None if low is None else _number(path, f"[{name}] min", low)
    high = None if high is None else _number(path, f"[{name}] max", high)
    if low is not None and high is not None and low > high:
        raise QualityConfigError(f"{path}: [{name}] min {low} is greater than max {high}")
    if not enabled or (low is None and high is None):
        return None
    return Bound(low, high)


def _number(path: Path, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise QualityConfigError(f"{path}: {key} must be a finite number, got {value!r}")
    return value
