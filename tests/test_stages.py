"""The stage list, the fixed-point driver and the stage counts."""

from __future__ import annotations

import json

import pytest
from conftest import make_document

from cleaner.document import Claim, Cleaned
from cleaner.filters.classifier import ClassifierSettings
from cleaner.filters.generic import GenericSettings
from cleaner.filters.language import LanguageSettings
from cleaner.filters.quality import QualitySettings
from cleaner.filters.stage import FixedPoint, Loop, StageStats, run_stage
from cleaner.pipeline import Settings
from cleaner.stages import DocumentCleaner, StageSettings


class Claimer:
    """Claims the next kept line on each of its first `rounds` runs; records when it ran."""

    def __init__(self, name: str, rounds: int, log: list[str]) -> None:
        self.name, self.rounds, self.log = name, rounds, log
        self.stats = StageStats()

    def apply(self, cleaned: Cleaned) -> bool:
        self.log.append(self.name)
        if self.rounds == 0:
            return False
        self.rounds -= 1
        return cleaned.claim(cleaned.claims.index(None), Claim(self.name, "test"))


def test_the_innermost_waiting_stage_runs_first():
    log: list[str] = []
    cleaned = Cleaned.start(make_document("a\nb\nc\nd\ne\nf\n"))
    loop = FixedPoint("t", (
        Loop(Claimer("outer", 1, log), always=("middle",)),
        Loop(Claimer("middle", 1, log), always=("inner",), on_change=("middle", "outer")),
        Loop(Claimer("inner", 2, log), on_change=("inner",)),
    ))
    assert loop.apply(cleaned)
    # outer wakes middle; middle wakes inner (always), itself and outer (changed); inner runs
    # until it changes nothing, then middle (unchanged now), inner once more, and outer last.
    assert log == ["outer", "middle", "inner", "inner", "inner", "middle", "inner", "outer", "middle", "inner"]
    assert [claim.rule if claim else None for claim in cleaned.claims] == ["outer", "middle", "inner", "inner",
                                                                          None, None]


def test_a_fixed_point_names_only_its_members():
    with pytest.raises(ValueError, match="no member named missing"):
        FixedPoint("t", (Loop(Claimer("a", 0, []), always=("missing",)),))


def test_a_judge_listed_outermost_looks_only_once_the_loop_inside_it_settles():
    """`start` enters the loop below its outermost member, which then runs only when nothing
    inside waits, and sends the inner stages round again when it claims (the line classifier)."""
    log: list[str] = []
    cleaned = Cleaned.start(make_document("a\nb\nc\nd\ne\nf\n"))
    loop = FixedPoint("t", (
        Loop(Claimer("judge", 1, log), on_change=("inner",)),
        Loop(Claimer("inner", 1, log), always=("judge",), on_change=("inner",)),
    ), start="inner")
    assert loop.apply(cleaned)
    assert log == ["inner", "inner", "judge", "inner", "judge"]
    with pytest.raises(ValueError, match="no member named missing"):
        FixedPoint("t", (Loop(Claimer("a", 0, [])),), start="missing")


def test_the_driver_counts_what_a_stage_claimed_and_rejected():
    cleaned = Cleaned.start(make_document("a\nb\n"))
    stage = Claimer("a", 1, [])
    run_stage(stage, cleaned)
    run_stage(stage, cleaned)
    assert (stage.stats.runs, stage.stats.lines, stage.stats.rejected) == (2, 1, 0)


def test_the_stage_list_follows_the_settings(shipped_rules):
    training = StageSettings(language=LanguageSettings(languages=("de",), foreign_paragraphs="remove"),
                             generic=GenericSettings(True), quality=QualitySettings("training"))
    cleaner = DocumentCleaner(shipped_rules, training)
    assert list(cleaner.take_stats()) == ["rules.neutral", "classifier", "language.detect", "rules.language",
                                          "rules.context", "rules.positions", "generic", "language.foreign",
                                          "language.filter", "quality"]
    assert list(DocumentCleaner(shipped_rules).take_stats()) == ["rules.neutral", "classifier", "language.detect",
                                                                 "rules.language", "rules.context", "rules.positions",
                                                                 "quality"]
    without = StageSettings(classifier=ClassifierSettings(enabled=False))
    assert "classifier" not in DocumentCleaner(shipped_rules, without).take_stats()


def test_every_removal_names_its_stage(shipped_rules):
    """A removal's rule id or a rejection's reason leads to the stage that made it in one hop."""
    cleaner = DocumentCleaner(shipped_rules, StageSettings(generic=GenericSettings(True)))
    cleaned = cleaner.clean(make_document("Anzeige\nDie Regierung hat am Montag ein neues Gesetz beschlossen, "
                                          "das ab Januar gilt.\nTeilen\n"))
    stats = cleaner.take_stats()
    claimed = sum(claim is not None for claim in cleaned.claims)
    assert claimed and sum(s.lines for s in stats.values()) == claimed
    assert stats["rules.neutral"].runs == 1 and stats["language.detect"].runs >= 1


def test_settings_record_the_stage_settings_as_before():
    """Records carry `Settings.to_json`: the stage settings keep their flat keys and order."""
    data = Settings().to_json()
    assert list(data) == ["glob", "read", "formats", "compress", "shard_size", "langid", "languages",
                          "foreign_paragraphs", "generic", "classifier", "classifier_threshold", "quality", "dedup"]
    assert (data["langid"], data["languages"], data["generic"], data["quality"]) == ("cld2", [], False, "default")


def test_the_manifest_counts_what_each_stage_did(tmp_path, shipped_rules):
    from cleaner.pipeline import run

    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(3):
        (inputs / f"{i}.txt").write_text(f"Anzeige\nDie Regierung hat am Montag ein Gesetz Nummer {i} beschlossen, "
                                         "das ab Januar gilt.\n", encoding="utf-8")
    run([str(inputs)], tmp_path / "out", shipped_rules, Settings(workers=2))
    stages = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))["stages"]
    assert list(stages) == ["rules.neutral", "classifier", "language.detect", "rules.language", "rules.context",
                            "rules.positions", "quality"]
    assert stages["rules.neutral"]["runs"] == 3 and stages["quality"]["rejected"] == 0
    assert sum(counts["lines"] for counts in stages.values()) == 3  # the three "Anzeige" lines
