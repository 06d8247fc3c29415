"""A learned line classifier: the boilerplate the rule packs did not name, judged from generic features.

It runs after the rule stages, on the lines they keep. Each kept line is described by what the
line, its neighbours and its place in the document can tell (length, punctuation, stop words of
the document's language, boilerplate vocabulary from rules/generic/<lang>.toml, list and link
shapes, distance to the article core, repetition), a logistic regression shipped as data
(rules/models/line_classifier.json, trained by training/train_line_classifier.py, described in
rules/models/line_classifier.md) scores it, and only a line scored above the model's threshold
goes. The threshold is set from held-out-site cross-validation so that the classifier costs well
under 1% of content characters: losing article text is worse than keeping a boilerplate line.

The features see only the kept lines, never the removed ones nor blank lines, and removal repeats
until a round removes nothing. The clean text is exactly those kept lines, so cleaning it again
computes the same features and removes nothing: the classifier is stable on its own output.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import ahocorasick
import numpy as np

from cleaner.document import Claim, Cleaned
from cleaner.filters.generic import GenericConfig, Vocabulary, load_generic_config, may_link
from cleaner.filters.stage import StageStats
from cleaner.filters.words import SENTENCE_END, stop_words
from cleaner.rules.loader import default_rules_dir

MODEL_FORMAT = "cleaner.line_classifier"
MODEL_VERSION = 1
RULE_ID = "classifier.line"
CATEGORY = "classifier"
TOP_FEATURES = 4  # features recorded with each removal: those that pushed its score up most

_EDGE_PUNCT = "\"'“”„‚‘’«»‹›()[]{}<>.,;:!?¡¿…*"
_BULLETS = ("•", "·", "-", "–", "—", "*", "►", "▶", "→", "✓", "✔", "»", ">", "▪", "◦", "+")
_SEPARATORS = ("|", " » ", " › ", " > ", " • ", " · ", " / ")  # "|" wherever it stands, the others between words
_LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|(?<!\w)[@#]\w{2,}", re.IGNORECASE)
_DATE = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)|(?<!\d)\d{1,2}[./]\d{1,2}[./](?:\d{2}|\d{4})(?!\d)")
# Kana, CJK ideographs, Hangul, Thai: scripts whose words are not separated by spaces.
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF), (0x0E00, 0x0E7F))
_TESTED = 0x3100  # characters below this are classed by Python's str tests (see _character_classes)
# Character classes (bits) and the per-line counts built from them (see _counts).
_DIGIT, _UPPER, _LETTER, _SPACE, _CJK = 1, 2, 4, 8, 16
_WORD, _TITLE = 32, 64
# Punctuation that separates words, replaced by spaces (for whole-word phrase matching; see
# PhraseCounter). A regex substitution rather than str.translate, which looks up every character
# of non-ASCII text in a dict: 7x slower, and 8% of the whole run's instructions on a 4.7 MB news
# corpus (benchmarks/pipeline_corpus.py, counted by valgrind).
_PUNCTUATION = re.compile("[" + re.escape("!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~«»„“”‚‘’‹›…–—·•") + "]")
_COUNTED = np.array([_DIGIT, _UPPER, _LETTER, _CJK, _WORD, _TITLE], dtype=np.uint8)
# A line of running prose, the stuff of an article core: long and ending like a sentence.
_PROSE_CHARS = 80
_CORE_GAP = 5  # other lines (headings, lists, table rows) a core run may step over between two prose lines
_WINDOW = 5  # lines around a line whose shares of prose, vocabulary and short lines it sees
_WIDE_WINDOW = 21  # ... and of prose lines in a wider one: a list inside an article, or a menu far from it
_SHORT_WORDS = 4
_SENTENCE_WORDS = 5  # a sentence, even a short one: this many words and a full stop (a closing line, a caption)
_LONG_WORDS = 15

# One line on its own. Order is the model file's order for these names (the model names them all).
LINE_FEATURES = (
    "log_chars", "log_words", "short", "long", "terminal", "colon_end", "stop_density", "digit_share",
    "upper_share", "title_share", "lexicon_line", "lexicon_header", "lexicon_phrases", "lexicon_prefix",
    "lexicon_byline", "link_share", "bullet", "separators", "table_row", "copyright", "date", "prose", "sentence",
)
# The same few features of the previous and next kept lines.
NEIGHBOUR_FEATURES = ("log_chars", "terminal", "stop_density", "lexicon_any", "prose", "short", "sentence")
CONTEXT_FEATURES = (
    "position", "first", "last", "in_core", "before_core", "after_core", "core_lines", "core_chars",
    "core_share", "repeats", "window_prose", "window_lexicon", "window_short", "has_stop_list",
    "short_before_prose", "short_in_core", "prose_distance", "wide_prose", "run_length", "short_before_sentence",
)
FEATURES = (
    *LINE_FEATURES,
    *(f"prev_{name}" for name in NEIGHBOUR_FEATURES),
    *(f"next_{name}" for name in NEIGHBOUR_FEATURES),
    *CONTEXT_FEATURES,
)
_COLUMN = {name: i for i, name in enumerate(LINE_FEATURES)}
# The own features own_features reads off each line's text in one loop, in that loop's order
# (link_share is the count of link tokens there, divided by the words after; title_share whether
# the line starts with a capital, which the capitalised words after the first leave out).
_TESTS = ("terminal", "colon_end", "lexicon_line", "lexicon_header", "lexicon_prefix", "lexicon_byline", "link_share",
          "bullet", "table_row", "copyright", "date", "title_share")
_TEST_COLUMNS = [_COLUMN[name] for name in _TESTS]
_CONTEXT = len(FEATURES) - len(CONTEXT_FEATURES)  # where the context columns start
# The neighbour features' columns in the line's own (lexicon_any, which has none, is filled in).
_NEIGHBOUR_LEXICON = NEIGHBOUR_FEATURES.index("lexicon_any")
_NEIGHBOUR_COLUMNS = [_COLUMN.get(name, 0) for name in NEIGHBOUR_FEATURES]


class ModelError(ValueError):
    """A line-classifier model file that cannot be used; the message names the file and the cause."""


@dataclass(frozen=True)
class LineModel:
    """A logistic regression over FEATURES: standardise, weigh, squash; remove above `threshold`."""

    path: str
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    digest: str  # of the training data, for the model card and provenance

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Each feature's share of each row's log-odds (rows x FEATURES)."""
        return (x - self.mean) / self.scale * self.weights

    def scores(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's probability of being boilerplate, with the contributions that made it."""
        parts = self.contributions(x)
        logits = parts.sum(axis=1) + self.bias
        return 1.0 / (1.0 + np.exp(-logits)), parts


def default_model_path() -> Path:
    return default_rules_dir() / "models" / "line_classifier.json"


def load_model(path: str | Path | None = None) -> LineModel:
    """Read and validate a model file; any problem is a one-line ModelError naming the file."""
    path = Path(path) if path is not None else default_model_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ModelError(f"{path}: cannot read the line-classifier model: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: not a valid line-classifier model (bad JSON: {error})") from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ModelError(f"{path}: not a line-classifier model (format must be {MODEL_FORMAT!r})")
    if data.get("version") != MODEL_VERSION:
        raise ModelError(f"{path}: model version {data.get('version')!r}, this cleaner reads version {MODEL_VERSION}")
    if data.get("features") != list(FEATURES):
        raise ModelError(f"{path}: the model's features are not the ones this cleaner computes; retrain it "
                         f"(make train)")
    arrays = {}
    for key in ("mean", "scale", "weights"):
        value = data.get(key)
        if not isinstance(value, list) or len(value) != len(FEATURES) or not all(_finite(v) for v in value):
            raise ModelError(f"{path}: {key} must be a list of {len(FEATURES)} finite numbers")
        arrays[key] = np.array(value, dtype=np.float64)
    if not (arrays["scale"] > 0).all():
        raise ModelError(f"{path}: scale must be positive")
    bias, threshold = data.get("bias"), data.get("threshold")
    if not _finite(bias):
        raise ModelError(f"{path}: bias must be a finite number")
    if not _finite(threshold) or not 0 < threshold < 1:
        raise ModelError(f"{path}: threshold must be a number between 0 and 1, got {threshold!r}")
    digest = data.get("training", {}).get("digest", "") if isinstance(data.get("training"), dict) else ""
    return LineModel(str(path), arrays["mean"], arrays["scale"], arrays["weights"], float(bias), float(threshold),
                     str(digest))


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class Lexicon:
    """Per-language boilerplate vocabulary (rules/generic) and stop words (jusText's lists), cached.

    A language without a vocabulary gets every vocabulary at once (as the generic classifier
    does); one without a stop list gets none, and its stop-word feature is neutral (0, with
    `has_stop_list` off, so the model does not read it as a line without stop words).
    """

    def __init__(self, config: GenericConfig | None = None) -> None:
        self.config = config or load_generic_config()
        self._stops: dict[str, frozenset[str] | None] = {}
        self._phrases: dict[str, PhraseCounter] = {}

    def vocabulary(self, lang: str) -> Vocabulary:
        return self.config.vocabularies.get(lang, self.config.fallback)

    def phrases(self, lang: str) -> PhraseCounter:
        vocabulary = self.vocabulary(lang)
        if vocabulary.language not in self._phrases:
            self._phrases[vocabulary.language] = PhraseCounter(vocabulary.phrases)
        return self._phrases[vocabulary.language]

    def stops(self, lang: str) -> frozenset[str] | None:
        if lang not in self._stops:
            self._stops[lang] = stop_words(lang)
        return self._stops[lang]


@cache
def _character_classes() -> np.ndarray:
    """Flags of every Basic Multilingual Plane character (digit, upper case, letter, space, CJK),
    so a document's characters are classed in one numpy lookup rather than one by one.

    Python's own tests class the alphabets below U+3100 (Latin to Cyrillic, Arabic, Indic, kana);
    above it the ranges stand in (ideographs and Hangul are letters, the full-width forms have
    their ASCII classes), which keeps the table's cost at start-up to a few milliseconds.
    """
    characters = [chr(code) for code in range(_TESTED)]
    table = np.zeros(0x10000, dtype=np.uint8)
    for bit, test in ((_DIGIT, str.isdigit), (_UPPER, str.isupper), (_LETTER, str.isalpha), (_SPACE, str.isspace)):
        table[:_TESTED][np.fromiter(map(test, characters), dtype=bool, count=_TESTED)] |= bit
    for first, last in _CJK_RANGES:
        table[first : last + 1] |= _CJK | (_LETTER if first >= _TESTED else 0)
    table[0xFF10:0xFF1A] |= _DIGIT
    table[0xFF21:0xFF3B] |= _UPPER | _LETTER
    table[0xFF41:0xFF5B] |= _LETTER
    return table


def _counts(texts: list[str]) -> np.ndarray:
    """Per line (rows) and _COUNTED class (columns): characters of each class, words (word
    starts: a non-space after a space or the start) and capitalised words, from one numpy pass."""
    joined = "\n".join(texts) + "\n"  # each line with the "\n" after it: no line is empty
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    flags = _character_classes()[np.minimum(codes, 0xFFFF)]  # beyond the BMP: 0xFFFF, no class
    starts = (flags & _SPACE) == 0
    starts[1:] &= (flags[:-1] & _SPACE) > 0
    flags |= (starts * _WORD).astype(np.uint8)
    flags |= (starts & ((flags & _UPPER) > 0)) * np.uint8(_TITLE)
    bits = (flags[:, None] & _COUNTED[None, :]) > 0
    offsets = np.concatenate([[0], np.cumsum([len(text) + 1 for text in texts])[:-1]])
    return np.add.reduceat(bits, offsets, axis=0, dtype=np.int64)


class PhraseCounter:
    """Counts a vocabulary's phrases in each line as whole words, in one pass of an Aho-Corasick
    automaton (pyahocorasick, in C) over the document: a regex alternation of the phrases tries
    every one at every character, several times slower.

    Punctuation becomes a space in the phrases and the text alike (a one-to-one translation, so
    offsets stay), and each phrase is sought with a space on either side: only whole words match.
    """

    def __init__(self, phrases: tuple[str, ...]) -> None:
        self._automaton: ahocorasick.Automaton | None = None
        words = {" ".join(_PUNCTUATION.sub(" ", phrase).split()) for phrase in phrases}
        if any(words):
            self._automaton = ahocorasick.Automaton()
            for phrase in sorted(word for word in words if word):
                self._automaton.add_word(f" {phrase} ", len(phrase) + 2)
            self._automaton.make_automaton()

    def count(self, lowered: list[str]) -> np.ndarray:
        """Phrase occurrences per line of lines already lower-cased."""
        if self._automaton is None:
            return np.zeros(len(lowered))
        # " line \n line " with a space at each end of each line; line i starts at starts[i].
        padded = " " + _PUNCTUATION.sub(" ", " \n ".join(lowered)) + " "
        starts = np.concatenate([[0], np.cumsum([len(line) + 3 for line in lowered])[:-1]])
        hits = [end - length + 1 for end, length in self._automaton.iter(padded)]
        return np.bincount(np.searchsorted(starts, hits, side="right") - 1, minlength=len(lowered)).astype(np.float64)


def own_features(texts: list[str], stops: frozenset[str] | None, vocabulary: Vocabulary,
                 phrases: PhraseCounter) -> np.ndarray:
    """LINE_FEATURES of each line on its own (rows x LINE_FEATURES); a line's row does not depend
    on the other lines, so the rows of a subset of lines are the same rows."""
    texts = [text.strip() for text in texts]
    n = len(texts)
    out = np.zeros((n, len(LINE_FEATURES)))
    if not n:
        return out
    digits, upper, letters, cjk, word_starts, titles = _counts(texts).T
    chars = np.array([len(text) for text in texts], dtype=np.float64)
    # Scripts written without spaces: about two characters a word.
    words = np.maximum(word_starts, cjk // 2).astype(np.float64)
    per_word = np.maximum(words, 1.0)
    lowered = [text.lower() for text in texts]
    # The tests made on the text of each line, in one loop (one numpy conversion, not one per feature).
    lines, headers, prefixes, bylines = (vocabulary.lines, vocabulary.list_headers, vocabulary.prefixes,
                                         vocabulary.byline_prefixes)
    header_starts = tuple(header + " " for header in headers)
    tests = np.array([
        (text.endswith(SENTENCE_END), text.endswith(":"), bare in lines,
         bare in headers or (w <= 4 and bare.startswith(header_starts)), low.startswith(prefixes),
         low.startswith(bylines), _links(low), text.startswith(_BULLETS), text.startswith("|") and text.endswith("|"),
         "©" in text or "(c)" in low, w <= 8 and _DATE.search(text) is not None, text[:1].isupper())
        for text, low, bare, w in zip(texts, lowered, (low.strip(_EDGE_PUNCT + " ") for low in lowered), words.tolist())
    ], dtype=np.float64).reshape(n, len(_TESTS))
    out[:, _TEST_COLUMNS] = tests
    terminal = tests[:, 0] > 0
    column = _COLUMN
    out[:, column["link_share"]] = np.minimum(out[:, column["link_share"]] / per_word, 1.0)
    out[:, column["log_chars"]] = np.log1p(chars)
    out[:, column["log_words"]] = np.log1p(words)
    out[:, column["short"]] = words <= _SHORT_WORDS
    out[:, column["long"]] = words >= _LONG_WORDS
    if stops:
        # Every token of the document in one pass; a line's are the next `word_starts` of them.
        tokens = "\n".join(lowered).split()
        is_stop = np.fromiter(map(stops.__contains__, tokens), dtype=bool, count=len(tokens))
        line_of = np.repeat(np.arange(n), word_starts)
        out[:, column["stop_density"]] = np.bincount(line_of, weights=is_stop, minlength=n) / per_word
    out[:, column["digit_share"]] = digits / np.maximum(chars, 1.0)
    out[:, column["upper_share"]] = upper / np.maximum(letters, 1)
    # Capitalised words after the first (which a sentence or a German noun capitalises anyway):
    # "Home News Sport" is a menu, "Fazit" or "Der Bau kostet" need not be.
    out[:, column["title_share"]] = np.maximum(titles - out[:, column["title_share"]], 0) / np.maximum(words - 1, 1)
    out[:, column["lexicon_phrases"]] = np.minimum(phrases.count(lowered), 3)
    out[:, column["separators"]] = np.minimum(_separators(texts), 6)
    out[:, column["prose"]] = (chars >= _PROSE_CHARS) & terminal
    out[:, column["sentence"]] = (words >= _SENTENCE_WORDS) & terminal
    return out


def _separators(texts: list[str]) -> np.ndarray:
    """_SEPARATORS per line; only the separators the document has are counted line by line."""
    joined = "\n".join(texts)
    total = np.zeros(len(texts))
    for separator in _SEPARATORS:
        if separator in joined:
            total += [text.count(separator) for text in texts]
    return total


def _links(lowered: str) -> int:
    """URL, e-mail, @handle and #hashtag tokens (the regex only runs where one can be)."""
    if not may_link(lowered):
        return 0
    return len(_LINK.findall(lowered))


def document_features(texts: list[str], lang: str, lexicon: Lexicon) -> np.ndarray:
    """FEATURES of every line of a document given as its kept, non-blank lines in order (rows x FEATURES).

    The one function training and inference share: what it sees is what the clean text shows.
    """
    stops = lexicon.stops(lang)
    own = own_features(texts, stops, lexicon.vocabulary(lang), lexicon.phrases(lang))
    return with_context(own, repetition_keys(texts), stops is not None)


def repetition_keys(texts: list[str]) -> list[str]:
    """What makes two lines the same line for the `repeats` feature: case and edge spaces aside."""
    return [text.strip().lower() for text in texts]


def with_context(own: np.ndarray, keys: list[str], has_stop_list: bool) -> np.ndarray:
    """The full feature rows of a document's kept lines from their own features and repetition
    keys: neighbours, position, distance to the core, repetition."""
    n = len(keys)
    if n == 0:
        return np.zeros((0, len(FEATURES)))
    # Vocabulary on a line that is not prose: an article sentence about a newsletter is no sign
    # that the lines around it are boilerplate.
    lexicon_any = ((own[:, _COLUMN["lexicon_line"]] + own[:, _COLUMN["lexicon_header"]]
                    + own[:, _COLUMN["lexicon_phrases"]] + own[:, _COLUMN["lexicon_prefix"]]) > 0) & (
                       own[:, _COLUMN["prose"]] == 0)
    neighbour = own[:, _NEIGHBOUR_COLUMNS]
    neighbour[:, _NEIGHBOUR_LEXICON] = lexicon_any

    prose = own[:, _COLUMN["prose"]] > 0
    short = own[:, _COLUMN["short"]] > 0
    chars = np.rint(np.expm1(own[:, _COLUMN["log_chars"]]))
    first, last = _core(prose)
    index = np.arange(n)
    in_core = (index >= first) & (index <= last) if first >= 0 else np.zeros(n, dtype=bool)
    before = index < first
    after = (index > last) if first >= 0 else np.ones(n, dtype=bool)
    cumulative = np.concatenate([[0.0], np.cumsum(chars)])
    core_lines = np.where(before, first - index, np.where(after, index - last, 0))
    if first >= 0:
        core_chars = np.where(before, cumulative[first] - cumulative[index + 1],
                              np.where(after, cumulative[index] - cumulative[last + 1], 0.0))
        core_share = (cumulative[last + 1] - cumulative[first]) / max(cumulative[-1], 1.0)
    else:
        core_lines, core_chars, core_share = np.full(n, n, dtype=np.int64), cumulative[-1] * np.ones(n), 0.0
    counts = Counter(keys)
    repeats = np.array([counts[key] - 1 for key in keys], dtype=np.float64)
    out = np.zeros((n, len(FEATURES)))
    width, neighbours = len(LINE_FEATURES), len(NEIGHBOUR_FEATURES)
    out[:, :width] = own
    out[1:, width : width + neighbours] = neighbour[:-1]  # the previous line's (none for the first)
    out[:-1, width + neighbours : _CONTEXT] = neighbour[1:]  # the next line's (none for the last)
    next_prose = out[:, width + neighbours + NEIGHBOUR_FEATURES.index("prose")] > 0
    context = out[:, _CONTEXT:]
    context[:, 0] = index / max(n - 1, 1)
    context[:, 1] = index == 0
    context[:, 2] = index == n - 1
    context[:, 3] = in_core
    context[:, 4] = before
    context[:, 5] = after
    context[:, 6] = np.log1p(core_lines)
    context[:, 7] = np.log1p(core_chars)
    context[:, 8] = core_share
    context[:, 9] = np.log1p(repeats)
    context[:, 10:13] = _window_share(np.column_stack([prose, lexicon_any, short]))
    context[:, 13] = has_stop_list
    context[:, 14] = short & next_prose
    context[:, 15] = short & in_core
    context[:, 16] = np.log1p(_distance_to(prose))
    context[:, 17] = _window_share(prose, _WIDE_WINDOW)
    context[:, 18] = np.log1p(_run_lengths(~prose))
    context[:, 19] = short & (out[:, width + neighbours + NEIGHBOUR_FEATURES.index("sentence")] > 0)
    return out


def _window_share(flags: np.ndarray, window: int = _WINDOW) -> np.ndarray:
    """For each line, the share of the `window` lines around it (itself included) with the flag
    (the document's edges count as lines without it); `flags` may hold several flags as columns."""
    cumulative = np.concatenate([np.zeros((1, *flags.shape[1:])), np.cumsum(flags, axis=0, dtype=np.float64)])
    index = np.arange(len(flags))
    radius = window // 2
    high = np.minimum(index + radius + 1, len(flags))
    low = np.maximum(index - radius, 0)
    return (cumulative[high] - cumulative[low]) / window


def _distance_to(flags: np.ndarray) -> np.ndarray:
    """For each line, how many lines away the nearest flagged line is (0 for a flagged line; the
    document's length when none is)."""
    n = len(flags)
    where = np.flatnonzero(flags)
    if not where.size:
        return np.full(n, n, dtype=np.float64)
    index = np.arange(n)
    right = np.searchsorted(where, index)  # first flagged line at or after each line
    after = np.where(right < where.size, where[np.minimum(right, where.size - 1)] - index, n)
    before = np.where(right > 0, index - where[np.maximum(right - 1, 0)], n)
    return np.minimum(after, before).astype(np.float64)


def _run_lengths(flags: np.ndarray) -> np.ndarray:
    """For each line, the length of the run of consecutive flagged lines it is in (0 if unflagged)."""
    bounds = np.concatenate([[0], np.flatnonzero(flags[1:] != flags[:-1]) + 1, [len(flags)]])
    lengths = np.diff(bounds)
    return np.where(flags, np.repeat(lengths, lengths), 0).astype(np.float64)


def _core(prose: np.ndarray) -> tuple[int, int]:
    """First and last line of the article core: the run of prose lines, stepping over at most
    _CORE_GAP other lines at a time, with the most prose lines (the earliest on a tie); (-1, -1)
    when there is no prose line."""
    best = (-1, -1)
    best_count = 0
    start = -1
    count = 0
    gap = 0
    last = -1
    for i, is_prose in enumerate(prose.tolist()):
        if is_prose:
            if start < 0 or gap > _CORE_GAP:
                start, count = i, 0
            count += 1
            last = i
            gap = 0
            if count > best_count:
                best, best_count = (start, last), count
        elif start >= 0:
            gap += 1
    return best


class LineClassifier:
    """Claims the kept lines the model scores above its threshold, each with its score and the
    features that decided it."""

    def __init__(self, model: LineModel | None = None, threshold: float | None = None,
                 lexicon: Lexicon | None = None) -> None:
        self.model = model or load_model()
        self.threshold = self.model.threshold if threshold is None else threshold
        self.lexicon = lexicon or Lexicon()
        self._memo: tuple[Cleaned, str, dict[int, np.ndarray]] | None = None

    def apply(self, cleaned: Cleaned) -> int:
        """One round: claim the kept lines the model scores above the threshold; returns how many.

        The rules' fixed point (cleaner.stages) runs it again once the rules have looked at what it
        removed, until a round removes nothing, so a line is judged in the context that the clean
        text will show (and cleaning the output again removes nothing more)."""
        kept = [i for i, (line, claim) in enumerate(zip(cleaned.lines, cleaned.claims))
                if claim is None and not line.blank]
        if not kept:
            return 0
        texts = [cleaned.lines[i].text for i in kept]
        stops = self.lexicon.stops(cleaned.lang)
        x = with_context(self._own(cleaned, kept, texts), repetition_keys(texts), stops is not None)
        scores, parts = self.model.scores(x)
        rows = np.flatnonzero(scores > self.threshold)
        for row, detail in zip(rows.tolist(), self._evidence(scores[rows], x[rows], parts[rows])):
            cleaned.claim(kept[row], Claim(RULE_ID, CATEGORY, detail))
        return len(rows)

    def _own(self, cleaned: Cleaned, kept: list[int], texts: list[str]) -> np.ndarray:
        """The kept lines' own features. A line's row depends only on its text and the language,
        and the fixed point runs this stage about twice per document, so the rows of the document
        in hand are remembered (saves a third of the classifier's cost on whole-page text)."""
        if self._memo is None or self._memo[0] is not cleaned or self._memo[1] != cleaned.lang:
            self._memo = (cleaned, cleaned.lang, {})
        rows = self._memo[2]
        missing = [position for position, i in enumerate(kept) if i not in rows]
        if missing:
            lang = cleaned.lang
            fresh = own_features([texts[p] for p in missing], self.lexicon.stops(lang),
                                 self.lexicon.vocabulary(lang), self.lexicon.phrases(lang))
            for position, row in zip(missing, fresh):
                rows[kept[position]] = row
        return np.array([rows[i] for i in kept])

    def _evidence(self, scores: np.ndarray, x: np.ndarray, parts: np.ndarray) -> list[dict[str, Any]]:
        """Each removed row's score and its TOP_FEATURES largest contributions, with their values."""
        top = np.argsort(-parts, axis=1, kind="stable")[:, :TOP_FEATURES]
        values = np.round(np.take_along_axis(x, top, axis=1), 4).tolist()
        pushes = np.round(np.take_along_axis(parts, top, axis=1), 3).tolist()
        names = [[FEATURES[i] for i in row] for row in top.tolist()]
        return [{"score": score, "threshold": self.threshold, "features": dict(zip(row, value)),
                 "contributions": dict(zip(row, push))}
                for score, row, value, push in zip(np.round(scores, 4).tolist(), names, values, pushes)]


@dataclass(frozen=True, slots=True)
class ClassifierSettings:
    """Whether the learned line classifier runs, and the score above which it removes a line."""

    enabled: bool = True
    threshold: float | None = None  # None: the model's own

    def to_json(self) -> dict[str, Any]:
        return {"classifier": self.enabled, "classifier_threshold": self.threshold}

    @staticmethod
    def add_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--classifier", action=argparse.BooleanOptionalAction, default=True,
                            help="the learned line classifier, after the rules (default: on; "
                                 "rules/models/line_classifier.md)")
        parser.add_argument("--classifier-threshold", type=_probability, metavar="P",
                            help="remove a line when the classifier scores it above P (default: the model's own, "
                                 "chosen to cost under 1%% of content)")

    @classmethod
    def from_args(cls, args: argparse.Namespace, preset: Mapping[str, Any]) -> ClassifierSettings:
        return cls(args.classifier, args.classifier_threshold)


def _probability(value: str) -> float:
    number = float(value)
    if not 0 < number < 1:
        raise argparse.ArgumentTypeError("must be in (0, 1)")
    return number


class ClassifierStage:
    """The learned line classifier as a stage: it judges the lines the rules keep, and what it
    removes brings lines together that the context rules judge, so it sits in the rules' fixed
    point (cleaner.stages.build_stages)."""

    name = "classifier"

    def __init__(self, classifier: LineClassifier) -> None:
        self.classifier = classifier
        self.stats = StageStats()

    def apply(self, cleaned: Cleaned) -> bool:
        return self.classifier.apply(cleaned) > 0
