"""Train the learned line classifier (cleaner/filters/classifier.py) on the dev set and write its
model file and model card.

    python training/train_line_classifier.py --devset ../shared/devset

Training rows are what the classifier sees at run time: every page of the four dev tracks is
cleaned by the project's own DocumentCleaner with the classifier off, and the lines it keeps are
featurised by `document_features`, the function inference uses. Labels: on lines/ every line is
content or boilerplate; on strings/ a line holding a must-keep string is content, one holding a
must-remove string boilerplate, the rest unlabelled (not trained on).

Cross-validation holds whole sites out (GroupKFold by site, the recall and page versions of a
page in the same fold). The threshold is the lowest at which the out-of-fold removals cost at
most --budget of the content characters on each lines/ track and of the must-keep strings on
each strings/ track: the classifier decides only where it holds the content floor.

Needs the `train` extra (scikit-learn); the cleaner itself never does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cleaner.filters.classifier import (  # noqa: E402
    FEATURES,
    MODEL_FORMAT,
    MODEL_VERSION,
    ClassifierSettings,
    Lexicon,
    document_features,
)
from cleaner.filters.examples import load_checked_rules  # noqa: E402
from cleaner.readers import ReadOptions, read_input  # noqa: E402
from cleaner.readers.discover import discover  # noqa: E402
from cleaner.stages import DocumentCleaner, StageSettings  # noqa: E402

TRACKS = ("lines/recall", "lines/page", "strings/recall", "strings/page")
CONTENT, BOILERPLATE, UNLABELLED = 0, 1, -1
FOLDS = 5
C_GRID = (0.1, 1.0)
CONTENT_WEIGHT = 3.0
THRESHOLDS = np.round(np.arange(0.50, 0.995, 0.005), 3)
# The content the classifier may cost on each track (held-out sites). The target floor is 98% of
# the content kept; on lines/page, the track where the classifier decides most, the rules and
# corpus signals cost about 1.3-1.5% of the content once a document's own repeated paragraphs are
# kept, which leaves about 0.6%: 0.5% keeps a margin.
BUDGET = 0.005


@dataclass
class Rows:
    """Featurised kept lines of every page, with their labels and where they come from."""

    x: list[np.ndarray] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    track: list[str] = field(default_factory=list)
    site: list[str] = field(default_factory=list)
    lang: list[str] = field(default_factory=list)
    page: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # for the error listing (--errors)
    keep: list[tuple[str, ...]] = field(default_factory=list)  # strings/: the must-keep strings a row holds
    # Per track: content characters (lines/) or must-keep strings (strings/) of the input, kept or not by the rules.
    totals: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"x": np.vstack(self.x), "y": np.array(self.y), "chars": np.array(self.chars),
                "track": np.array(self.track), "site": np.array(self.site), "lang": np.array(self.lang),
                "page": np.array(self.page), "text": np.array(self.text, dtype=object),
                "keep": _objects(self.keep)}


def _objects(values: list) -> np.ndarray:
    """A 1-D object array of `values` (tuples stay whole items)."""
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        array[i] = value
    return array


def site_of(track: str, name: str) -> str:
    """The site a dev page comes from, so that cross-validation holds whole sites out."""
    stem = name.removesuffix(".txt")
    if track.startswith("lines/"):
        if stem.startswith("scrapinghub-"):
            return stem.split("-")[1]
        return re.sub(r"-\d+$", "", stem.removeprefix("readability-"))
    domain = stem.split("-")[0].lower()
    return ".".join(domain.split(".")[:2])


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def string_labels(lines: list[str], keep: list[str], remove: list[str]) -> tuple[list[int], list[tuple[int, ...]]]:
    """Partial labels from must-keep and must-remove strings (a line inside a long one counts too),
    and for each line the must-keep strings it holds (a string is lost only when all of them go)."""
    labels, holds = [], []
    for line in lines:
        text = norm(line)

        def found(strings: list[str], text: str = text) -> tuple[int, ...]:
            return tuple(i for i, s in enumerate(strings) if text and (s in text or (len(text) >= 20 and text in s)))

        is_keep, is_remove = found(keep), found(remove)
        labels.append(CONTENT if is_keep and not is_remove else BOILERPLATE if is_remove and not is_keep else UNLABELLED)
        holds.append(is_keep)
    return labels, holds


def unlabel_run_in_headings(texts: list[str], labels: list[int]) -> list[int]:
    """lines/ labels a line of fewer than 4 words content only when it is a whole line of the gold
    text, so a heading the gold text runs into its paragraph is labelled boilerplate (see the dev
    set's README): a short "boilerplate" line right above a content line is left unlabelled, or
    the model would learn that headings are boilerplate."""
    out = list(labels)
    following = [i for i, text in enumerate(texts) if text.strip()]
    for here, after in zip(following, following[1:]):
        if (labels[here] == BOILERPLATE and after < len(labels) and labels[after] == CONTENT
                and len(texts[here].split()) < 4):
            out[here] = UNLABELLED
    return out


def read_truth(devset: Path, track: str) -> dict[str, dict]:
    name = "labels.jsonl" if track.startswith("lines/") else "truth.jsonl"
    with open(devset / track / name, encoding="utf-8") as handle:
        return {row["file"]: row for row in map(json.loads, handle)}


def collect(devset: Path, digest: hashlib._Hash) -> Rows:
    """Clean every dev page with the classifier off and featurise the lines the rules keep."""
    cleaner = DocumentCleaner(load_checked_rules(), StageSettings(classifier=ClassifierSettings(enabled=False)))
    lexicon = Lexicon()
    rows = Rows()
    for track in TRACKS:
        truth = read_truth(devset, track)
        for item in discover([str(devset / track / "input")], "*.txt"):
            entry = truth.get(item.path.name)
            if entry is None:
                continue
            digest.update(item.path.read_bytes())
            digest.update(json.dumps(entry, sort_keys=True).encode())
            for document in read_input(item, ReadOptions(), lambda message: None):
                _add_document(rows, track, item.path.name, entry, cleaner.clean(document), lexicon)
    return rows


def _add_document(rows: Rows, track: str, name: str, entry: dict, cleaned, lexicon: Lexicon) -> None:
    texts = [line.text for line in cleaned.lines]
    if track.startswith("lines/"):
        labels = unlabel_run_in_headings(
            texts, [{"content": CONTENT, "boilerplate": BOILERPLATE}.get(label, UNLABELLED) for label in entry["labels"]])
        holds = [()] * len(texts)
        rows.totals[track]["content"] += sum(len(t) for t, label in zip(texts, labels) if label == CONTENT)
    else:
        labels, holds = string_labels(texts, [norm(s) for s in entry["keep"]], [norm(s) for s in entry["remove"]])
        rows.totals[track]["content"] += len(entry["keep"])
    kept = [i for i, (line, claim) in enumerate(zip(cleaned.lines, cleaned.claims)) if claim is None and not line.blank]
    if not kept:
        return
    x = document_features([texts[i] for i in kept], cleaned.lang, lexicon)
    lang = (entry.get("lang") or "?").split("-")[0].lower()
    for row, i in enumerate(kept):
        rows.x.append(x[row])
        rows.y.append(labels[i] if i < len(labels) else UNLABELLED)
        rows.chars.append(len(texts[i]))
        rows.track.append(track)
        rows.site.append(site_of(track, name))
        rows.lang.append(lang)
        rows.page.append(f"{track}/{name}")
        rows.text.append(texts[i])
        rows.keep.append(tuple(f"{track}/{name}#{k}" for k in holds[i]) if i < len(holds) else ())


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def row_weights(data: dict[str, np.ndarray]) -> np.ndarray:
    """Every track weighs the same in training (lines/page's menus would otherwise make up half the
    rows), and a content row CONTENT_WEIGHT times a boilerplate row: the classifier must rank
    content lowest, since it decides only at the top of its scores."""
    labelled = data["y"] >= 0
    weights = np.zeros(len(data["y"]))
    for track in TRACKS:
        mask = (data["track"] == track) & labelled
        weights[mask] = labelled.sum() / len(TRACKS) / max(mask.sum(), 1)
    return weights * np.where(data["y"] == CONTENT, CONTENT_WEIGHT, 1.0)


def fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    mean, scale = standardise(x)
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit((x - mean) / scale, y, sample_weight=weights)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def predict(params: tuple[np.ndarray, np.ndarray, np.ndarray, float], x: np.ndarray) -> np.ndarray:
    mean, scale, weights, bias = params
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ weights + bias)))


def out_of_fold(data: dict[str, np.ndarray], c: float) -> np.ndarray:
    """Each labelled row's score from a model that never saw its site."""
    labelled = data["y"] >= 0
    weights = row_weights(data)
    scores = np.full(len(data["y"]), np.nan)
    groups = data["site"]
    for train, test in GroupKFold(n_splits=FOLDS).split(data["x"], data["y"], groups):
        train = train[labelled[train]]
        params = fit(data["x"][train], data["y"][train], weights[train], c)
        scores[test] = predict(params, data["x"][test])
    return scores


def figures(data: dict[str, np.ndarray], totals: dict, scores: np.ndarray, threshold: float,
            mask: np.ndarray | None = None) -> dict[str, float]:
    """What removing the rows above `threshold` does on the rows in `mask`: boilerplate rows
    removed, content rows removed, and the content lost (characters on lines/, strings on strings/)."""
    mask = np.ones(len(scores), dtype=bool) if mask is None else mask
    removed = (scores > threshold) & mask
    y = data["y"]
    bp, ct = (y == BOILERPLATE) & mask, (y == CONTENT) & mask
    out = {"boilerplate_rows": int(bp.sum()), "boilerplate_removed": float((removed & bp).sum() / max(bp.sum(), 1)),
           "content_rows": int(ct.sum()), "content_rows_removed": float((removed & ct).sum() / max(ct.sum(), 1))}
    track = data["track"][mask][0] if mask.any() else ""
    if track.startswith("lines/"):
        lost = data["chars"][removed & ct].sum()
        out["content_chars_lost"] = float(lost / max(totals[track]["content"], 1))
    return out


def track_cost(data: dict[str, np.ndarray], totals: dict, scores: np.ndarray, threshold: float, track: str) -> float:
    """Content lost on one track: a share of its content characters (lines/) or of its must-keep strings
    (strings/, where every content row is a line holding a must-keep string)."""
    mask = data["track"] == track
    removed = (scores > threshold) & mask
    if track.startswith("lines/"):
        return float(data["chars"][removed & (data["y"] == CONTENT)].sum() / max(totals[track]["content"], 1))
    held = {key for row in np.flatnonzero(mask & ~removed) for key in data["keep"][row]}
    lost = {key for row in np.flatnonzero(removed) for key in data["keep"][row]} - held
    return len(lost) / max(totals[track]["content"], 1)


def choose_threshold(data: dict[str, np.ndarray], totals: dict, scores: np.ndarray, budget: float) -> float:
    for threshold in THRESHOLDS:
        if all(track_cost(data, totals, scores, threshold, track) <= budget for track in TRACKS):
            return float(threshold)
    return float(THRESHOLDS[-1])


def report(data: dict[str, np.ndarray], totals: dict, scores: np.ndarray, threshold: float) -> list[dict]:
    """Held-out-site figures per track and per language (en, de, other)."""
    table = []
    lang_group = np.where(np.isin(data["lang"], ["en", "de"]), data["lang"], "other")
    for track in TRACKS:
        for lang in ("all", "en", "de", "other"):
            mask = (data["track"] == track) & ((lang_group == lang) if lang != "all" else True)
            if not (mask & (data["y"] >= 0)).any():
                continue
            row = {"track": track, "lang": lang, **figures(data, totals, scores, threshold, mask)}
            if lang == "all":
                row["content_lost"] = track_cost(data, totals, scores, threshold, track)
            table.append(row)
    return table


def card_table(table: list[dict]) -> str:
    lines = ["| track | lang | boilerplate rows | removed | content rows | content rows removed | content lost (track) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in table:
        lost = f"{100 * row['content_lost']:.2f}%" if "content_lost" in row else ""
        lines.append(f"| {row['track']} | {row['lang']} | {row['boilerplate_rows']} | "
                     f"{100 * row['boilerplate_removed']:.1f}% | {row['content_rows']} | "
                     f"{100 * row['content_rows_removed']:.2f}% | {lost} |")
    return "\n".join(lines)


CARD = """# Model card: the line classifier (`line_classifier.json`)

Written by `training/train_line_classifier.py` (`make train`); do not edit by hand.

## What it does
Scores each line the rule packs keep (`cleaner/filters/classifier.py`, on by default,
`--no-classifier` turns it off) with a logistic regression and removes a line only when its score
(probability of boilerplate) is above **{threshold}** (`--classifier-threshold` sets another).
Every removal records its score, the threshold and the four features that pushed its score up most,
with their values and contributions to the log-odds; `cleaner explain` shows them.

## Data
The dev set (`../shared/devset`, see its README; pages are not in this repository): its four
tracks, each page cleaned by the project's own DocumentCleaner with the classifier off, and the
lines it keeps featurised exactly as at run time. {rows} kept lines, {labelled} labelled
({boilerplate} boilerplate) from {sites} sites. lines/ pages label every line; strings/ pages only
the lines holding a must-keep (content) or must-remove (boilerplate) string; a line of fewer than 4
words that lines/ labels boilerplate right above a content line is left unlabelled (lines/ labels
headings that the gold text runs into their paragraph as boilerplate). Rows are weighted so
that each track counts the same, and a content row {content_weight:g} times a boilerplate row.
Training data digest (sha256 of the inputs and their truth): `{digest}`.

## Features ({features})
- The line: length in characters and words (scripts without spaces: about two characters a word),
  short (<= 4 words) and long (>= 15 words) flags, terminal punctuation, a final colon, stop-word
  density for the document's language (jusText's lists; 0 with `has_stop_list` off for languages
  without one, so the feature is neutral), shares of digits, upper-case letters and capitalised
  words after the first, boilerplate vocabulary of `rules/generic/<lang>.toml` (whole line, list header, phrases,
  credit/copyright prefixes, byline prefixes), link tokens, bullets, separators (`|`, ` » `, ...),
  table rows, (c), a short line with a date, prose (>= 80 characters ending like a sentence), a
  sentence (>= 5 words ending like one).
- Its neighbours: length, punctuation, stop words, vocabulary (on lines that are not prose), prose
  shortness and sentences of the previous and next kept lines, and a short line before a sentence
  (a heading); shares of prose, vocabulary and short lines among the 5 lines around it and
  of prose among the 21 around it.
- Its place: relative position, first/last, inside/before/after the article core (the longest run
  of prose lines, stepping over up to 5 other lines), distance to the core in lines and characters,
  the core's share of the text, distance to the nearest prose line, the length of the run of
  non-prose lines it is in, and how often the same line recurs in the document.

All are computed on the kept lines only, so the clean text has the same features: removal repeats
until a round removes nothing, which makes the classifier stable on its own output.

## Cross-validation (held-out sites)
GroupKFold, {folds} folds, by site (a page's recall and page versions in one fold). C chosen from
{c_grid} by the mean share of boilerplate removed at the chosen threshold: C = {c}. The threshold
is the lowest on a 0.005 grid at which the out-of-fold removals cost at most {budget:.1%} of the
content on every track: content characters on lines/, must-keep strings on strings/ (a string is
lost when every line holding it is removed). Figures below are out-of-fold, first removal round,
on the lines the rules keep (before deduplication); "content lost" is a share of the whole
track's content, the rest are shares of the labelled kept rows.

{table}

## Limitations
- Tuned and evaluated on the dev set only: figures on other sites will be lower. The lines/ track
  is mostly English and strings/ mostly German; other languages have few rows and fall back to the
  merged vocabulary of all languages in `rules/generic/`.
- A single line's features cannot tell a teaser or an author bio written as full sentences from
  article text; the classifier leaves those to the rule packs and corpus signals.
- Short content in long runs of short lines (recipe ingredients, infobox and table cells, menus of
  a site's sections that the gold text keeps) is what it gets wrong most.
- Removing boilerplate raises the share of repeated lines in pages that hold their article twice,
  which can trip the `duplicate_lines` quality heuristic.
"""


def write_card(path: Path, model: dict, table: list[dict], data: dict[str, np.ndarray]) -> None:
    training = model["training"]
    path.write_text(CARD.format(
        threshold=model["threshold"], rows=len(data["y"]), labelled=training["rows"],
        boilerplate=int((data["y"] == BOILERPLATE).sum()), sites=training["sites"],
        content_weight=training["content_weight"], digest=training["digest"], features=len(FEATURES),
        folds=FOLDS, c_grid=", ".join(map(str, C_GRID)), c=training["C"], budget=training["budget"],
        table=card_table(table)), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devset", type=Path, default=REPO.parent / "shared" / "devset")
    parser.add_argument("--out", type=Path, default=REPO / "rules" / "models" / "line_classifier.json")
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help=f"content the classifier may cost on each track, held-out sites (default {BUDGET})")
    parser.add_argument("--report", type=Path, help="also write the CV figures as JSON here")
    args = parser.parse_args(argv)
    if not (args.devset / "lines").is_dir():
        print(f"train_line_classifier: no dev set at {args.devset} (pass --devset)", file=sys.stderr)
        return 2
    digest = hashlib.sha256()
    rows = collect(args.devset, digest)
    data = rows.arrays()
    labelled = data["y"] >= 0
    print(f"{len(data['y'])} kept lines, {labelled.sum()} labelled ({(data['y'] == BOILERPLATE).sum()} boilerplate), "
          f"{len(set(data['site']))} sites", file=sys.stderr)
    best = None
    for c in C_GRID:
        scores = out_of_fold(data, c)
        threshold = choose_threshold(data, rows.totals, scores, args.budget)
        removed = np.mean([figures(data, rows.totals, scores, threshold, data["track"] == t)["boilerplate_removed"]
                           for t in TRACKS])
        print(f"C={c}: threshold {threshold}, mean boilerplate removed over tracks {100 * removed:.1f}%", file=sys.stderr)
        if best is None or removed > best[0]:
            best = (removed, c, threshold, scores)
    assert best is not None
    _, c, threshold, scores = best
    table = report(data, rows.totals, scores, threshold)
    params = fit(data["x"][labelled], data["y"][labelled], row_weights(data)[labelled], c)
    mean, scale, weights, bias = params
    model = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "kind": "logistic_regression",
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "weights": [round(float(v), 6) for v in weights],
        "bias": round(bias, 6),
        "threshold": threshold,
        "training": {"digest": digest.hexdigest(), "rows": int(labelled.sum()), "C": c, "folds": FOLDS, "content_weight": CONTENT_WEIGHT,
                     "budget": args.budget, "sites": len(set(data["site"]))},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    write_card(args.out.with_suffix(".md"), model, table, data)
    print(card_table(table))
    if args.report:
        args.report.write_text(json.dumps({"C": c, "threshold": threshold, "table": table}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
