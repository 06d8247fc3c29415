"""Spilled phase-1 results load back equal to what was spilled (the write phase and --resume
rely on it), whatever the classes' pickling shortcuts."""

from __future__ import annotations

from pathlib import Path

from conftest import SEEDS

from cleaner.pipeline import Settings, TaskCleaner, make_tasks
from cleaner.readers.discover import discover
from cleaner.rules.loader import RuleSet
from cleaner.spill import TaskSummary, read_dedup, read_result, read_summary, write_result


def test_a_spilled_task_loads_back_equal(tmp_path: Path, shipped_rules: RuleSet) -> None:
    settings = Settings()
    [task] = make_tasks(discover([str(SEEDS)], "*.txt"))
    result = TaskCleaner(shipped_rules, settings)(task)
    documents, inputs, dedup = list(result.documents), list(result.inputs), result.dedup
    assert any(doc.claims for doc in documents) and all(doc.document.source.sha256 for doc in documents)
    summary = TaskSummary.of(result)
    assert dedup is not None and summary.paragraphs == len(dedup.refs) > 0
    assert summary.documents == len(dedup.doc_ids) == sum(doc.rejection is None for doc in documents)
    write_result(tmp_path, result, summary)
    assert read_summary(tmp_path, task.index) == summary
    loaded = read_result(tmp_path, task.index)
    assert loaded.documents == documents and loaded.inputs == inputs
    assert [doc.cleaned().spans() for doc in loaded.documents] == [doc.cleaned().spans() for doc in documents]
    batch = read_dedup(tmp_path, task.index)
    assert batch is not None and dedup is not None and batch.doc_ids == dedup.doc_ids
