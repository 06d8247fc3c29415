"""Output records in the agreed schema, shared by the writer and report tests."""

from __future__ import annotations

from typing import Any


def record(i: int, text: str = "", lang: str = "de") -> dict[str, Any]:
    text = text or f"Absatz {i} mit Inhalt, Umlauten (äöü) und einem Emoji 😀.\n"
    return {
        "id": f"doc{i:04d}",
        "text": text,
        "source": "seeds",
        "added": "2026-01-01T00:00:00Z",
        "created": None if i % 2 else "2025-12-24",
        "lang": lang,
        "lang_score": 0.99,
        "metadata": {
            "source": {"path": f"site/{i}.txt", "sha256": "ab" * 32, "size": 100 + i, "format": "txt"},
            "kept": [{"lines": [2, 2], "chars": [7, 7 + len(text)]}],
            "removed": [
                {"lines": [1, 1], "chars": [0, 7], "rule": "common.menu", "category": "navigation", "text": "Start\n\n", "extra": [i]}
            ],
            "duplicates": [],
            "extracted": {"author": ["Anna"]} if i % 3 == 0 else {},
            "pipeline": {"cleaner": "0.1.0", "rules_digest": "f00", "settings": {"dedup": True}},
        },
    }
