"""The per-document phase: the one list of stages, built from the settings, read top to bottom.

Each stage lives in its own module under cleaner/filters (see cleaner.filters.stage for what a
stage is and how the fixed point runs); a stage with settings declares them and its command-line
options beside it, and `StageSettings` composes them. A new stage is its module and one line in
`build_stages` (and a field here if it has settings).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from cleaner.document import Cleaned, Document
from cleaner.filters.classifier import ClassifierSettings, ClassifierStage, LineClassifier
from cleaner.filters.generic import GenericClassifier, GenericSettings, load_generic_config
from cleaner.filters.language import (
    ForeignParagraphs,
    LanguageDetection,
    LanguageFilter,
    LanguageSettings,
    make_detector,
)
from cleaner.filters.quality import QualityJudge, QualitySettings
from cleaner.filters.rule_stages import ContextRules, LanguageRules, NeutralRules, PositionRules, RuleStages
from cleaner.filters.stage import FixedPoint, Loop, Stage, StageStats, run_stage
from cleaner.rules.loader import RuleSet


@dataclass(frozen=True)
class StageSettings:
    """The settings of the stages that have any, each declared (with its CLI options) beside its
    stage; the command line collects the options from here."""

    language: LanguageSettings = field(default_factory=LanguageSettings)
    generic: GenericSettings = field(default_factory=GenericSettings)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)

    def parts(self) -> list[LanguageSettings | GenericSettings | ClassifierSettings | QualitySettings]:
        return [getattr(self, f.name) for f in fields(self)]

    def to_json(self) -> dict[str, Any]:
        return {key: value for part in self.parts() for key, value in part.to_json().items()}

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        for part in cls().parts():
            part.add_options(parser)

    @classmethod
    def from_args(cls, args: argparse.Namespace, preset: Mapping[str, Any]) -> StageSettings:
        return cls(*(type(part).from_args(args, preset) for part in cls().parts()))


def build_stages(ruleset: RuleSet, settings: StageSettings) -> list[Stage]:
    """The per-document phase, in the order each stage's input needs: the one list of stages.

    A new stage is its module and one line here. The fixed point (see cleaner.filters.stage)
    holds the stages whose results feed each other: the language is read from the text the rules
    keep, and chooses the rules.
    """
    rules = RuleStages(ruleset)
    detector = make_detector(settings.language.langid)
    # The learned classifier judges what the rules keep, once they have settled; what it removes
    # brings lines together, so the language is read again and the context rules look again.
    classifier = ([Loop(ClassifierStage(LineClassifier(threshold=settings.classifier.threshold)),
                        on_change=("language.detect", "rules.context"))]
                  if settings.classifier.enabled else [])
    stages: list[Stage] = [
        NeutralRules(rules),  # site and common packs: line and block rules
        FixedPoint("language", (  # outermost first; of the stages waiting, the last listed runs first
            *classifier,
            Loop(LanguageDetection(detector), on_change=("rules.language",),
                 always=("classifier",) if classifier else ()),
            Loop(LanguageRules(rules), always=("rules.context", "language.detect")),
            Loop(ContextRules(rules), always=("rules.positions",), on_change=("rules.context",)),
            Loop(PositionRules(rules), on_change=("rules.positions", "rules.context")),
        ), start="language.detect"),
    ]
    if settings.generic.enabled:
        stages.append(GenericClassifier(load_generic_config()))
    if settings.language.foreign_paragraphs == "remove":
        stages.append(ForeignParagraphs(detector))
    if settings.language.languages:
        stages.append(LanguageFilter(settings.language.languages))
    stages.append(QualityJudge(settings.quality.config()))
    return stages


class DocumentCleaner:
    """Phase 1 for one document: every stage of `build_stages`, top to bottom."""

    def __init__(self, ruleset: RuleSet, settings: StageSettings | None = None) -> None:
        self.stages = build_stages(ruleset, settings or StageSettings())

    def clean(self, document: Document) -> Cleaned:
        cleaned = Cleaned.start(document)
        for stage in self.stages:
            run_stage(stage, cleaned)
        return cleaned

    def take_stats(self) -> dict[str, StageStats]:
        """What each stage did since the last call, by name (the members of a fixed point each
        count); the counts start again from zero."""
        taken = {}
        for outer in self.stages:
            for stage in outer.stages() if isinstance(outer, FixedPoint) else [outer]:
                taken[stage.name], stage.stats = stage.stats, StageStats()
        return taken
