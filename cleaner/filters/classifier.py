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

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cleaner.document import Claim, Cleaned
from cleaner.filters.generic import GenericConfig, Vocabulary, load_generic_config
from cleaner.filters.quality import stop_words
from cleaner.rules.loader import default_rules_dir

MODEL_FORMAT = "cleaner.line_classifier"
MODEL_VERSION = 1
RULE_ID = "classifier.line"
CATEGORY = "classifier"
# Removal rounds: each re-reads the kept lines, so a line's context is what the clean text will
# show. One or two settle nearly every document; the cap bounds the cost of the rare one that does not.
MAX_ROUNDS = 6
TOP_FEATURES = 4  # features recorded with each removal: those that pushed its score up most

_EDGE_PUNCT = "\"'“”„‚‘’«»‹›()[]{}<>.,;:!?¡¿…*"
_TERMINAL = (".", "!", "?", "…", "。", "！", "？", "।", "؟", "۔", '."', ".”", ".»", "!”", "?”", ".'", ".’", ".)")
_BULLETS = ("•", "·", "-", "–", "—", "*", "►", "▶", "→", "✓", "✔", "»", ">", "▪", "◦", "+")
_SEPARATOR_CHARS = frozenset("|»›>•·/")
_LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|(?<!\w)[@#]\w{2,}", re.IGNORECASE)
_DATE = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)|(?<!\d)\d{1,2}[./]\d{1,2}[./](?:\d{2}|\d{4})(?!\d)")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")
_WHITESPACE = re.compile(r"\s+")
# A line of running prose, the stuff of an article core: long and ending like a sentence.
_PROSE_CHARS = 80
_CORE_GAP = 2  # short lines (headings, captions) a core run may step over between two prose lines
_WINDOW = 5  # lines around a line whose shares of prose, vocabulary and short lines it sees
_WIDE_WINDOW = 21  # ... and of prose lines in a wider one: a list inside an article, or a menu far from it
_SHORT_WORDS = 4
_LONG_WORDS = 15

# One line on its own. Order is the model file's order for these names (the model names them all).
LINE_FEATURES = (
    "log_chars", "log_words", "short", "long", "terminal", "colon_end", "stop_density", "digit_share",
    "upper_share", "title_share", "lexicon_line", "lexicon_header", "lexicon_phrases", "lexicon_prefix",
    "lexicon_byline", "link_share", "bullet", "separators", "table_row", "copyright", "date", "prose",
)
# The same few features of the previous and next kept lines.
NEIGHBOUR_FEATURES = ("log_chars", "terminal", "stop_density", "lexicon_any", "prose", "short")
CONTEXT_FEATURES = (
    "position", "first", "last", "in_core", "before_core", "after_core", "core_lines", "core_chars",
    "core_share", "repeats", "window_prose", "window_lexicon", "window_short", "has_stop_list",
    "short_before_prose", "short_in_core", "prose_distance", "wide_prose", "run_length",
)
FEATURES = (
    *LINE_FEATURES,
    *(f"prev_{name}" for name in NEIGHBOUR_FEATURES),
    *(f"next_{name}" for name in NEIGHBOUR_FEATURES),
    *CONTEXT_FEATURES,
)
_COLUMN = {name: i for i, name in enumerate(LINE_FEATURES)}
_NEIGHBOUR_COLUMNS = [_COLUMN[name] if name in _COLUMN else -1 for name in NEIGHBOUR_FEATURES]


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

    def vocabulary(self, lang: str) -> Vocabulary:
        return self.config.vocabularies.get(lang, self.config.fallback)

    def stops(self, lang: str) -> frozenset[str] | None:
        if lang not in self._stops:
            self._stops[lang] = stop_words(lang)
        return self._stops[lang]


def line_features(text: str, stops: frozenset[str] | None, vocabulary: Vocabulary) -> list[float]:
    """LINE_FEATURES of one line, in order."""
    stripped = text.strip()
    tokens = stripped.split()
    chars = len(stripped)
    words = len(tokens)
    if not stripped.isascii():
        words = max(words, len(_CJK.findall(stripped)) // 2)  # scripts without spaces: about 2 characters a word
    lowered = stripped.lower()
    bare = lowered.strip(_EDGE_PUNCT + " ")
    n = max(words, 1)
    stop_density = 0.0
    if stops:
        stop_density = sum(tok.strip(_EDGE_PUNCT) in stops for tok in lowered.split()) / n
    letters = sum(c.isalpha() for c in stripped) or 1
    terminal = stripped.endswith(_TERMINAL)
    header = bare in vocabulary.list_headers or (
        words <= 4 and any(bare.startswith(h + " ") for h in vocabulary.list_headers))
    separators = sum(tok in _SEPARATOR_CHARS for tok in tokens) + stripped.count("|")
    return [
        math.log1p(chars),
        math.log1p(words),
        float(words <= _SHORT_WORDS),
        float(words >= _LONG_WORDS),
        float(terminal),
        float(stripped.endswith(":")),
        stop_density,
        sum(c.isdigit() for c in stripped) / max(chars, 1),
        sum(c.isupper() for c in stripped) / letters,
        sum(tok[:1].isupper() for tok in tokens) / n,
        float(bare in vocabulary.lines),
        float(header),
        float(min(len(vocabulary.pattern.findall(lowered)), 3)) if vocabulary.pattern is not None else 0.0,
        float(lowered.startswith(vocabulary.prefixes)),
        float(lowered.startswith(vocabulary.byline_prefixes)),
        min(len(_LINK.findall(stripped)) / n, 1.0),
        float(stripped.startswith(_BULLETS)),
        float(min(separators, 6)),
        float(stripped.startswith("|") and stripped.endswith("|")),
        float("©" in stripped or "(c)" in lowered),
        float(words <= 8 and _DATE.search(stripped) is not None),
        float(chars >= _PROSE_CHARS and terminal),
    ]


def document_features(texts: list[str], lang: str, lexicon: Lexicon) -> np.ndarray:
    """FEATURES of every line of a document given as its kept, non-blank lines in order (rows x FEATURES).

    The one function training and inference share: what it sees is what the clean text shows.
    """
    n = len(texts)
    stops = lexicon.stops(lang)
    vocabulary = lexicon.vocabulary(lang)
    own = np.array([line_features(text, stops, vocabulary) for text in texts], dtype=np.float64).reshape(
        n, len(LINE_FEATURES))
    if n == 0:
        return np.zeros((0, len(FEATURES)))
    lexicon_any = (own[:, _COLUMN["lexicon_line"]] + own[:, _COLUMN["lexicon_header"]]
                   + own[:, _COLUMN["lexicon_phrases"]] + own[:, _COLUMN["lexicon_prefix"]]) > 0
    neighbour = own[:, [c for c in _NEIGHBOUR_COLUMNS if c >= 0]]
    neighbour = np.insert(neighbour, NEIGHBOUR_FEATURES.index("lexicon_any"), lexicon_any, axis=1)
    edge = np.zeros((1, neighbour.shape[1]))
    previous = np.vstack([edge, neighbour[:-1]])
    following = np.vstack([neighbour[1:], edge])

    prose = own[:, _COLUMN["prose"]] > 0
    short = own[:, _COLUMN["short"]] > 0
    chars = np.array([len(text.strip()) for text in texts], dtype=np.float64)
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
    normalised = [_WHITESPACE.sub(" ", text.strip().lower()) for text in texts]
    counts: dict[str, int] = {}
    for key in normalised:
        counts[key] = counts.get(key, 0) + 1
    repeats = np.array([counts[key] - 1 for key in normalised], dtype=np.float64)
    window_prose, window_lexicon, window_short = (_window_share(flags) for flags in (prose, lexicon_any, short))
    next_prose = following[:, NEIGHBOUR_FEATURES.index("prose")] > 0
    context = np.column_stack([
        index / max(n - 1, 1),
        index == 0,
        index == n - 1,
        in_core,
        before,
        after,
        np.log1p(core_lines),
        np.log1p(core_chars),
        np.full(n, core_share),
        np.log1p(repeats),
        window_prose,
        window_lexicon,
        window_short,
        np.full(n, stops is not None),
        short & next_prose,
        short & in_core,
        np.log1p(_distance_to(prose)),
        _window_share(prose, _WIDE_WINDOW),
        np.log1p(_run_lengths(~prose)),
    ]).astype(np.float64)
    return np.hstack([own, previous, following, context])


def _window_share(flags: np.ndarray, window: int = _WINDOW) -> np.ndarray:
    """For each line, the share of the `window` lines around it (itself included) with the flag
    (the document's edges count as lines without it)."""
    cumulative = np.concatenate([[0.0], np.cumsum(flags, dtype=np.float64)])
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
    n = len(flags)
    out = np.zeros(n, dtype=np.float64)
    start = 0
    while start < n:
        end = start
        while end < n and flags[end] == flags[start]:
            end += 1
        if flags[start]:
            out[start:end] = end - start
        start = end
    return out


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
    for i, is_prose in enumerate(prose):
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

    def apply(self, cleaned: Cleaned) -> int:
        """Remove boilerplate lines until a round finds none; returns how many lines it claimed."""
        claimed = 0
        for _ in range(MAX_ROUNDS):
            kept = [i for i, (line, claim) in enumerate(zip(cleaned.lines, cleaned.claims))
                    if claim is None and not line.blank]
            if not kept:
                break
            x = document_features([cleaned.lines[i].text for i in kept], cleaned.lang, self.lexicon)
            scores, parts = self.model.scores(x)
            hits = np.flatnonzero(scores > self.threshold)
            if not hits.size:
                break
            for row in hits.tolist():
                cleaned.claim(kept[row], Claim(RULE_ID, CATEGORY, self._evidence(float(scores[row]), x[row], parts[row])))
            claimed += int(hits.size)
        return claimed

    def _evidence(self, score: float, x: np.ndarray, parts: np.ndarray) -> dict[str, Any]:
        top = np.argsort(-parts, kind="stable")[:TOP_FEATURES]
        return {
            "score": round(score, 4),
            "threshold": self.threshold,
            "features": {FEATURES[i]: round(float(x[i]), 4) for i in top},
            "contributions": {FEATURES[i]: round(float(parts[i]), 3) for i in top},
        }

