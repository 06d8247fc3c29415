"""Dedup decisions: keep-first, clusters, recurring lines, duplicate documents, determinism."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from dedup_support import batch, dedup_tasks, mutate, removed, run, words

from cleaner.dedup import DedupBatch, DedupSettings, fingerprint_batch, resolve
from cleaner.document import Claim, Rejection

# 200 distinct words: 196 five-word shingles; k separated changed words give
# J = (196 - 5k) / (196 + 5k): k=2 -> 0.903, k=3 -> 0.858, k=5 -> 0.774, k=10 -> 0.593.
A = " ".join(words(1, 200))
B = mutate(A, [20, 80, 140], "b")  # J(A, B) = 0.858
C = mutate(B, [50, 110], "c")  # J(B, C) = 0.903, J(A, C) = 0.774
OTHER = " ".join(words(2, 120))
THIRD = " ".join(words(3, 120))


def test_first_occurrence_kept_later_copies_point_at_it() -> None:
    decisions, _ = run([("d1", [OTHER, A]), ("d2", [THIRD, A.upper() + " !!"])])
    assert "d1" not in decisions
    rule, detail = removed(decisions, "d2")[1]
    assert rule == "dedup.exact"
    assert detail == {
        "duplicate_of": {"id": "d1", "path": "d1.txt", "lines": [2, 2], "chars": [len(OTHER) + 1, len(OTHER) + 1 + len(A)]},
        "jaccard_estimate": 1.0,
        "jaccard": 1.0,
    }
    assert decisions["d2"].rejection is None


def test_near_duplicate_removed_with_both_similarities() -> None:
    decisions, _ = run([("d1", [A]), ("d2", [OTHER, B])])
    rule, detail = removed(decisions, "d2")[1]
    assert rule == "dedup.near"
    assert detail["jaccard"] == round(181 / 211, 4)
    assert abs(detail["jaccard_estimate"] - detail["jaccard"]) < 0.15
    assert isinstance(decisions["d2"].removals[0][1], Claim)
    assert decisions["d2"].removals[0][1].category == "duplicate"


def test_below_threshold_is_kept() -> None:
    decisions, _ = run([("d1", [A]), ("d2", [mutate(A, [10, 40, 70, 100, 130], "z")])])
    assert decisions == {}


def test_cluster_transitivity_points_at_earliest() -> None:
    decisions, stats = run([("a", [A, OTHER]), ("b", [THIRD, B]), ("c", [C])])
    b_rule, b_detail = removed(decisions, "b")[1]
    c_rule, c_detail = removed(decisions, "c")[0]
    assert b_rule == c_rule == "dedup.near"
    assert b_detail["duplicate_of"]["id"] == c_detail["duplicate_of"]["id"] == "a"
    assert c_detail["jaccard"] == round(171 / 221, 4)  # C is not itself similar to A
    assert (stats.clusters, stats.cluster_sizes) == (1, {"3": 1})


def test_repeat_inside_one_document() -> None:
    """A long paragraph repeated inside its own document stays (article text printed twice),
    unless within_document is "remove" (the training preset), where the later copy goes; a short
    line repeated (a table cell, a list item) is never judged by paragraph dedup. A copy in
    another document goes either way."""
    docs = [("d", [A, OTHER, "Kurzer Satz hier.", THIRD, A, "kurzer satz HIER"]), ("e", [THIRD])]
    decisions, _ = run(docs)
    assert removed(decisions, "d") == {} and sorted(removed(decisions, "e")) == [0]
    decisions, _ = run(docs, DedupSettings(within_document="remove"))
    got = removed(decisions, "d")
    assert sorted(got) == [4]
    assert got[4][1]["duplicate_of"]["lines"] == [1, 1]
    assert decisions["d"].rejection is None


def test_table_of_contents_copy_goes_and_the_body_heading_stays() -> None:
    toc = ["Contents", "How the vote was counted", "What happens next", "Reactions"]
    body = [A, "How the vote was counted", OTHER, "What happens next", THIRD, "Reactions", " ".join(words(7, 40)),
            "Yes", "No", "Reactions"]
    decisions, stats = run([("d", toc + body)])
    got = removed(decisions, "d")
    assert sorted(got) == [1, 2, 3, 13]  # the copies in lists of short lines
    for index, heading in [(1, 5), (2, 7), (3, 9), (13, 9)]:
        rule, detail = got[index]
        assert rule == "dedup.navigation_copy"
        assert detail == {"body_copy": {"lines": [heading + 1, heading + 1], "chars": detail["body_copy"]["chars"]}}
    assert decisions["d"].removals[0][1].category == "navigation"
    assert stats.navigation_copies == 4


def test_repeated_table_rows_and_code_lines_all_stay() -> None:
    """Rows inside a table are never between prose, even when a long line follows one."""
    rows = ["400 | 2020-08-01 | 7.44", "404 | 2020-08-01 | 0.13", "400 | 2020-08-01 | 7.44", A]
    decisions, _ = run([("d", [OTHER, *rows, THIRD, "Step 2", "Step 2", OTHER[:40]])])
    assert decisions == {}


def test_short_paragraphs_are_compared_exactly_only() -> None:
    short = "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf"  # 12 words, 8 shingles
    variant = short.replace("zwölf", "dreizehn")
    decisions, _ = run([("d1", [short, OTHER]), ("d2", [variant, THIRD])])
    assert decisions == {}
    settings = DedupSettings(min_shingles=3, recurring_max_words=5, threshold=0.5)
    decisions, _ = run([("d1", [short, OTHER]), ("d2", [variant, THIRD])], settings)
    assert removed(decisions, "d2")[0][0] == "dedup.near"


def test_recurring_short_line_removed_everywhere_including_first() -> None:
    line = "Mehr zum Thema: Newsletter abonnieren"
    decisions, stats = run([("d1", [A, line]), ("d2", [OTHER, line]), ("d3", [line, THIRD]), ("d4", [words(9, 3)[0]])])
    for doc_id, index in [("d1", 1), ("d2", 1), ("d3", 0)]:
        assert removed(decisions, doc_id) == {index: ("dedup.recurring", {"documents": 3})}
        assert decisions[doc_id].removals[0][1].category == "recurring"
    assert stats.recurring_lines == 3


def test_short_line_in_two_documents_stays_in_both() -> None:
    """Headings, list items and table rows are not paragraph duplicates: a second document
    holding the same short line says nothing about it (recurrence alone judges short lines)."""
    line = "Mehr zum Thema: Newsletter abonnieren"
    decisions, _ = run([("d1", [A, line]), ("d2", [OTHER, line])])
    assert decisions == {}


def test_recurrence_counts_pages_of_one_site() -> None:
    """A plain heading on three pages of one site is its template; on pages of three different
    sites it is a common heading and stays. A boilerplate-shaped line goes across sites too."""
    docs = [(f"d{i}", [words(30 + i, 40)[0] + " " + THIRD[: 50 * (i + 1)], "Key takeaways", "Share this article"])
            for i in range(3)]
    one_site, _ = run(docs, sites=["host:example.com"] * 3)
    for doc_id, _ in docs:
        assert {rule for rule, _ in removed(one_site, doc_id).values()} == {"dedup.recurring"}
        assert sorted(removed(one_site, doc_id)) == [1, 2]
    three_sites, stats = run(docs, sites=["host:a.com", "host:b.org", "dir:c"])
    for doc_id, _ in docs:
        assert removed(three_sites, doc_id) == {2: ("dedup.recurring_across_sites", {"documents": 3})}
    assert stats.recurring_across_sites_lines == 3


def test_long_paragraph_in_many_documents_is_keep_first() -> None:
    decisions, _ = run([(f"d{i}", [words(10 + i, 40)[0] + " " + THIRD, A]) for i in range(4)])
    assert "d0" not in decisions
    for i in range(1, 4):
        rule, detail = removed(decisions, f"d{i}")[1]
        assert (rule, detail["duplicate_of"]["id"]) == ("dedup.exact", "d0")


def test_whole_document_duplicate_dropped_with_pointer() -> None:
    original = [A, OTHER, THIRD]
    decisions, stats = run([("orig", original), ("other", [" ".join(words(5, 50))]), ("copy", [*original, "Gesehen am Montag"])])
    rejection = decisions["copy"].rejection
    assert isinstance(rejection, Rejection)
    assert rejection.reason == "duplicate_document"
    assert rejection.detail["duplicate_of"] == {"id": "orig", "path": "orig.txt"}
    assert rejection.detail["fraction"] >= 0.8
    assert stats.duplicate_documents == 1


def test_decisions_of_a_task_are_those_of_its_documents() -> None:
    """Each task's writer gets its own decisions file: it must hold exactly its documents'
    removals and rejections, pointing at the same documents, however the corpus is cut."""
    docs = [("orig", [A, OTHER, THIRD]), ("near", [B, "Gesehen am Montag"]), ("copy", [A, OTHER, THIRD]),
            ("plain", [" ".join(words(5, 50))]), ("again", [C, OTHER]), ("last", [THIRD])]
    settings = DedupSettings()
    everything, _ = run(docs)
    assert everything["copy"].rejection is not None and len(everything) >= 4
    for counts in ([6], [1, 1, 1, 1, 1, 1], [0, 2, 0, 3, 1, 0], [3, 3], [0, 0, 6]):
        bounds = np.r_[0, np.cumsum(counts)]
        tasks = [batch(docs[a:b], settings) if b > a else None for a, b in zip(bounds, bounds[1:])]
        parts, _ = dedup_tasks(tasks, settings)
        assert len(parts) == len(counts)
        for start, stop, part in zip(bounds, bounds[1:], parts):
            assert part.doc_ids == [doc_id for doc_id, _ in docs[start:stop]]
            assert part.by_document() == {k: v for k, v in everything.items() if k in part.doc_ids}


def test_half_duplicated_document_is_kept() -> None:
    decisions, _ = run([("orig", [A]), ("mixed", [OTHER + " " + THIRD, A])])
    assert removed(decisions, "mixed")[1][0] == "dedup.exact"
    assert decisions["mixed"].rejection is None


def test_document_mostly_copied_from_two_sources_is_kept() -> None:
    decisions, _ = run([("s1", [A]), ("s2", [THIRD + " " + OTHER]), ("mix", [A, THIRD + " " + OTHER])])
    assert decisions["mix"].rejection is None
    assert len(decisions["mix"].removals) == 2


def test_punctuation_only_lines_are_ignored() -> None:
    decisions, _ = run([(f"d{i}", ["* * *", words(20 + i, 30)[5]]) for i in range(4)])
    assert decisions == {}


def _batches(docs, settings, reverse: bool, workers: int) -> list[DedupBatch]:
    """One batch per document, computed in worker processes in the given order."""
    order = list(reversed(docs)) if reverse else list(docs)
    with ProcessPoolExecutor(workers) as pool:
        futures = {doc_id: pool.submit(batch, [(doc_id, p)], settings) for doc_id, p in order}
    return [futures[doc_id].result() for doc_id, _ in docs]


def test_result_independent_of_how_fingerprints_were_computed() -> None:
    settings = DedupSettings()
    docs = [
        ("a", [A, "Teilen auf Facebook"]),
        ("b", [THIRD, B, "Teilen auf Facebook"]),
        ("c", [C, OTHER, "Teilen auf Facebook"]),
        ("d", [OTHER, A]),
        ("e", [B, C, mutate(C, [5], "e")]),
    ]
    expected, expected_stats = run(docs, settings)
    for reverse, workers in [(False, 1), (True, 2), (True, 1)]:
        tasks, stats = dedup_tasks(_batches(docs, settings, reverse, workers), settings)  # always in input order
        assert {k: v for task in tasks for k, v in task.by_document().items()} == expected
        assert stats == expected_stats


def _replace(one: DedupBatch, **changes) -> DedupBatch:
    fields = {name: getattr(one, name) for name in DedupBatch.__dataclass_fields__}
    return DedupBatch(**{**fields, **changes})


def test_a_batch_is_checked(tmp_path: Path) -> None:
    settings = DedupSettings()
    good = batch([("x", [A, OTHER])], settings)
    short = fingerprint_batch([[A]], settings)
    with pytest.raises(ValueError, match="x.txt: 2 paragraphs but fingerprints of 1"):
        dedup_tasks([_replace(good, fingerprint=short)])
    with pytest.raises(ValueError, match="x.txt: fingerprint has 32 LSH bands, the settings 16"):
        dedup_tasks([_replace(good, fingerprint=fingerprint_batch([[A, OTHER]], DedupSettings(bands=32, rows=4)))])
    with pytest.raises(ValueError, match="1 documents, 1 paths, 2 sites"):
        dedup_tasks([_replace(good, sites=["dir:", "dir:"])])
    with pytest.raises(ValueError, match="y.txt: document id x added to dedup twice"):
        dedup_tasks([good, _replace(good, paths=["y.txt"])])
    with pytest.raises(ValueError, match="x.txt: document id x added to dedup twice"):
        dedup_tasks([batch([("x", [A, OTHER]), ("x", [A, OTHER])], settings)])
    dedup_tasks([good], settings, tmp_path)
    with pytest.raises(ValueError, match="z.txt: document id x added to dedup twice"):  # already in the state
        dedup_tasks([_replace(good, paths=["z.txt"])], settings, tmp_path)


@pytest.mark.parametrize("cap", [1, 64])
def test_many_near_copies_form_one_cluster(monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    """Copies sharing LSH buckets; with cap 1 each is paired only with its predecessor."""
    monkeypatch.setattr(resolve, "BUCKET_PAIRS_CAP", cap)
    copies = [mutate(A, [10 + 30 * i], "v") for i in range(6)]
    decisions, stats = run([("first", [A])] + [(f"c{i}", [OTHER[: 20 * (i + 1)], text]) for i, text in enumerate(copies)])
    for i in range(6):
        rule, detail = removed(decisions, f"c{i}")[1]
        assert (rule, detail["duplicate_of"]["id"], detail["jaccard"]) == ("dedup.near", "first", round(191 / 201, 4))
    assert (stats.clusters, stats.cluster_sizes) == (1, {"7": 1})


def test_menu_printed_above_and_below_the_article_goes_both_times() -> None:
    menu = ["Home", "World News", "Sport", "Tech & Science"]
    decisions, _ = run([("d", [*menu, A, OTHER, *menu])])
    got = removed(decisions, "d")
    assert sorted(got) == [0, 1, 2, 3, 6, 7, 8, 9]
    assert got[0] == ("dedup.repeated_menu", {"other_copy": {"lines": [7, 7], "chars": got[0][1]["other_copy"]["chars"]}})
    assert got[9][1]["other_copy"]["lines"] == [4, 4]


def test_repeated_code_lines_and_lowercase_lists_are_not_menus() -> None:
    code = ["WHERE status = 400", "period,", "entries,", "LIMIT 10"]
    listing = ["apples", "pears", "plums"]
    decisions, _ = run([("d", [*code, A, *listing, OTHER, *code, *listing])])
    assert decisions == {}
