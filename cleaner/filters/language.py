"""Language tags, deterministic: langdetect is seeded so every run and worker agrees."""

from __future__ import annotations

from langdetect import DetectorFactory, LangDetectException, detect_langs

_SAMPLE_CHARS = 2000


class LangdetectDetector:
    name = "langdetect"

    def __init__(self) -> None:
        DetectorFactory.seed = 0

    def detect(self, text: str) -> tuple[str, float]:
        sample = text[:_SAMPLE_CHARS]
        if len(sample.split()) < 3:
            return "und", 0.0
        try:
            best = detect_langs(sample)[0]
        except LangDetectException:
            return "und", 0.0
        return best.lang, round(best.prob, 4)


def make_detector(name: str) -> LangdetectDetector:
    return LangdetectDetector()
