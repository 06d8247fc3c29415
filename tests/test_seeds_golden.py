"""The five seed dumps: everything that is not the article goes, every content line stays."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, SEEDS, run_cli

GOLDEN = REPO / "tests" / "golden" / "seeds"
SEED_NAMES = sorted(p.name for p in SEEDS.glob("*.txt"))


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    assert run_cli("clean", SEEDS, "-o", out, "--format", "jsonl,txt") == 0
    return out


@pytest.fixture(scope="module")
def records(seed_run: Path) -> dict[str, dict]:
    lines = (seed_run / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["metadata"]["source"]["path"]: json.loads(line) for line in lines}


def test_five_seeds_present() -> None:
    assert len(SEED_NAMES) == 5


@pytest.mark.parametrize("name", SEED_NAMES)
def test_clean_text_matches_golden(seed_run: Path, records: dict[str, dict], name: str) -> None:
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert (seed_run / "text" / name).read_text(encoding="utf-8") == expected
    assert records[name]["text"] == expected


@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_removed_line_is_named_boilerplate(records: dict[str, dict], name: str) -> None:
    for span in records[name]["metadata"]["removed"]:
        assert span["rule"] and span["category"], span


def _removed_text(record: dict) -> str:
    return "\n".join(span["text"] for span in record["metadata"]["removed"])


def test_promo_jobs_ad_and_footer_removed(records: dict[str, dict]) -> None:
    record = records["001_3f014d1e3b49df7b.txt"]
    removed = _removed_text(record)
    for fragment in ("Die besten Bücher", "Patreon", "Stellenangebote", "AI Operations and Inference Specialist",
                     "Digitale Demenz", "Es werden alle Kommentare moderiert", "RSS-Hauptfeed", "Google-Suchmaschine"):
        assert fragment in removed
        assert fragment not in record["text"]
    assert removed.count("Duales Studium BWL") == 2
    categories = {span["category"] for span in record["metadata"]["removed"]}
    assert {"promo", "job_listing", "ad", "comment_notice"} <= categories
    assert record["text"].startswith("KIEW / LONDON (IT BOLTWISE)")


def test_repeated_title_byline_and_related_removed(records: dict[str, dict]) -> None:
    record = records["002_2caaf5cc376c87f8.txt"]
    assert record["text"].count("Kreml lehnt internationale Truppen in Ukraine strikt ab") == 1
    assert "administrator" not in record["text"] and "Verwandte Artikel" not in record["text"]
    assert "author" not in record["metadata"]["extracted"]  # a CMS account, not a person


def test_teasers_and_ai_disclosure_removed_into_metadata(records: dict[str, dict]) -> None:
    record = records["003_31bc555e087dc2ac.txt"]
    assert "Lesen Sie auch" not in record["text"] and "Gerade lesen andere" not in record["text"]
    extracted = record["metadata"]["extracted"]
    assert extracted["author"] == ["Jens Asbjørn Bogen"]
    assert extracted["ai_disclosure"][0].startswith("Dieser Artikel wurde von Jens Asbjørn Bogen erstellt")
    for heading in ("Erneute russische Angriffe", "Moskau bleibt hart", "Trump unter Druck"):
        assert heading in record["text"]


def test_date_stamp_becomes_created(records: dict[str, dict]) -> None:
    record = records["004_2a976e1a81791f92.txt"]
    assert "12.11.2024 08:09" not in record["text"]
    assert record["created"] == "2024-11-12T08:09"
    assert record["metadata"]["extracted"]["published"] == ["2024-11-12T08:09"]


def test_clean_seed_untouched(records: dict[str, dict]) -> None:
    record = records["000_9fa1950a3167ef65.txt"]
    assert record["metadata"]["removed"] == []
    assert record["text"] == (SEEDS / "000_9fa1950a3167ef65.txt").read_text(encoding="utf-8")


def test_all_seeds_german(records: dict[str, dict]) -> None:
    assert {r["lang"] for r in records.values()} == {"de"}


@pytest.mark.parametrize("options", [["--generic"], ["--preset", "training"], ["--langid", "langdetect"]])
def test_other_settings_do_not_make_seeds_worse(tmp_path: Path, options: list[str]) -> None:
    out = tmp_path / "out"
    assert run_cli("clean", SEEDS, "-o", out, "--format", "txt", "--workers", "1", *options) == 0
    for name in SEED_NAMES:
        assert (out / "text" / name).read_text(encoding="utf-8") == (GOLDEN / name).read_text(encoding="utf-8")
