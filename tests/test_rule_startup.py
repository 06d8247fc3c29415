"""Start-up: rule packs compile when a document first needs them, and a run does not re-check the
examples of a rule set that passed before (cleaner.rules.example_cache)."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
import regex
from conftest import SEEDS, clean_text, run_cli

from cleaner.filters.examples import load_checked_rules
from cleaner.rules.example_cache import CACHE_FILE, cache_key, examples_passed, remember_passed
from cleaner.rules.loader import RulePackError, load_rules
from cleaner.rules.model import LazyPattern
from cleaner.stages import DocumentCleaner

GOOD_RULE = '''
[[rule]]
id = "x.ad"
category = "ad"
kind = "line"
pattern = 'Anzeige( \\d+)?'
remove = ["Anzeige"]
keep = ["Die Anzeige wurde zurückgezogen."]
'''
GERMAN = ("Der Stadtrat hat am Dienstagabend den Haushalt für das kommende Jahr beschlossen. Die Mehrheit "
          "stimmte nach einer langen Debatte für den Entwurf der Verwaltung.\n\nLesen Sie auch:\n"
          "Neue Schulen für die Stadt\nDie Opposition kritisierte die hohe Neuverschuldung und kündigte an, "
          "den Haushalt weiter genau zu beobachten.\n")


def write_pack(directory: Path, body: str, name: str = "pack.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(body, encoding="utf-8")
    return directory


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def test_shipped_packs_compile_only_when_a_document_needs_them() -> None:
    ruleset = load_rules()
    assert ruleset.compiled_packs() == set()
    cleaner = DocumentCleaner(ruleset)
    assert ruleset.compiled_packs() == set()
    cleaned = clean_text(cleaner, GERMAN)
    assert cleaned.lang == "de" and any(cleaned.claims)
    compiled = ruleset.compiled_packs()
    assert {"common.toml", "de.toml"} <= compiled
    assert not compiled & {"pl.toml", "fr.toml", "es.toml", "it.toml", "nl.toml", "pt.toml"}
    assert not any(name.startswith("sites/") for name in compiled)  # no site's domain or marker
    assert ruleset.compiled_packs() < set(ruleset.packs)


def test_compile_all_compiles_every_pack_at_load() -> None:
    ruleset = load_rules(compile_all=True)
    assert ruleset.compiled_packs() == {rule.file for rule in ruleset.rules if rule.patterns()}
    assert {"de.toml", "pl.toml", "sites/it-boltwise.toml"} <= ruleset.compiled_packs()


def test_a_pickled_rule_set_compiles_afresh_where_it_is_used() -> None:
    """Workers started by spawn or on a Ray cluster get the rules uncompiled and compile what they need."""
    ruleset = load_rules(compile_all=True)
    copy = pickle.loads(pickle.dumps(ruleset))
    assert copy.compiled_packs() == set()
    assert copy.by_id("de.teaser.read-also").test == ruleset.by_id("de.teaser.read-also").test
    assert clean_text(DocumentCleaner(copy), GERMAN).claims == clean_text(DocumentCleaner(ruleset), GERMAN).claims


def test_user_pack_patterns_compile_at_load(tmp_path: Path) -> None:
    ruleset = load_rules([write_pack(tmp_path / "rules", GOOD_RULE)])
    assert ruleset.compiled_packs() == {"pack.toml"}


def test_bad_pattern_in_a_user_pack_stops_the_run_before_output(tmp_path: Path, cache_home: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_cli("clean", SEEDS, "-o", out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    # A user's de.toml replaces the shipped one, whose patterns are compiled lazily: the user's are not.
    directory = write_pack(tmp_path / "rules", "# mine\n" + GOOD_RULE.replace("Anzeige( \\d+)?", "Anzeige(+"),
                           name="de.toml")
    assert run_cli("clean", SEEDS, "-o", out, "--rules", directory) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert error[0].startswith(f"cleaner: error: {directory / 'de.toml'}:4: rule 'x.ad': bad regex in pattern")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_passing_rule_set_is_remembered_by_its_digest(tmp_path: Path, cache_home: Path) -> None:
    directory = write_pack(tmp_path / "rules", GOOD_RULE)
    ruleset = load_checked_rules([directory], cached=True)
    assert examples_passed(ruleset)
    assert (cache_home / "cleaner" / CACHE_FILE).read_text().split() == [cache_key(ruleset)]
    # Changing the pack changes the digest: the changed set is checked again, and refused.
    write_pack(directory, GOOD_RULE.replace('keep = ["Die Anzeige wurde zurückgezogen."]', 'keep = ["Anzeige 2"]'))
    with pytest.raises(RulePackError, match=r"rule 'x\.ad': example 'Anzeige 2' should remove lines nothing"):
        load_checked_rules([directory], cached=True)
    assert not examples_passed(load_rules([directory]))


def test_a_remembered_rule_set_is_not_checked_again_but_rules_test_checks_it(
        tmp_path: Path, cache_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failing = write_pack(tmp_path / "rules", GOOD_RULE.replace('keep = ["Die Anzeige wurde zurückgezogen."]',
                                                               'keep = ["Anzeige 2"]'))
    with pytest.raises(RulePackError):
        load_checked_rules([failing], cached=True)
    remember_passed(load_rules([failing]))  # as if an earlier cleaner had passed these very packs
    assert load_checked_rules([failing], cached=True).digest == load_rules([failing]).digest
    with pytest.raises(RulePackError):
        load_checked_rules([failing])  # without the cache: checked
    assert run_cli("rules", "test", "--no-default-rules", "--rules", failing) == 1
    assert "FAIL" in capsys.readouterr().out


def test_an_unusable_cache_directory_is_harmless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory would go", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    directory = write_pack(tmp_path / "rules", GOOD_RULE)
    ruleset = load_checked_rules([directory], cached=True)
    assert not examples_passed(ruleset)
    assert run_cli("clean", SEEDS, "-o", tmp_path / "a", "--workers", "1") == 0
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "fresh"))
    assert run_cli("clean", SEEDS, "-o", tmp_path / "b", "--workers", "1") == 0
    assert run_cli("clean", SEEDS, "-o", tmp_path / "c", "--workers", "1") == 0  # remembered this time
    assert (tmp_path / "fresh" / "cleaner" / CACHE_FILE).is_file()
    texts = [(tmp_path / name / "documents.jsonl").read_text(encoding="utf-8") for name in "abc"]
    strip = [[line.split('"added"')[0] for line in text.splitlines()] for text in texts]
    assert strip[0] == strip[1] == strip[2] and strip[0]


def test_a_bad_pattern_in_an_edited_shipped_pack_stops_the_next_run(tmp_path: Path, cache_home: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Shipped packs compile lazily, but editing one changes the digest: the example check at the
    next run's start compiles every pack, so the run stops before any output."""
    import cleaner.cli
    from cleaner.rules import loader

    shipped = tmp_path / "shipped"
    shutil.copytree(Path(__file__).resolve().parent.parent / "rules", shipped)
    monkeypatch.setattr(loader, "default_rules_dir", lambda: shipped)
    monkeypatch.setattr(cleaner.cli, "default_rules_dir", lambda: shipped)
    out = tmp_path / "out"
    assert run_cli("clean", SEEDS, "-o", out) == 0
    before = (out / "documents.jsonl").read_bytes()
    capsys.readouterr()
    pack = shipped / "de.toml"
    pack.write_text(pack.read_text(encoding="utf-8").replace("(?:die|unsere)\\s+(?:besten", "(?:die|unsere)\\s+(+(?:besten", 1),
                    encoding="utf-8")
    assert run_cli("clean", SEEDS, "-o", out) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(f"cleaner: error: {pack}:60: rule 'de.promo.best-of-list': bad regex")
    assert (out / "documents.jsonl").read_bytes() == before


def test_a_remembered_rule_set_compiles_without_the_backtracking_probe(cache_home: Path) -> None:
    """The probe ran when the rule set passed its example check; a run that remembers the pass
    skips it, a fresh check probes every pattern (including packs no example reaches)."""
    ruleset = load_checked_rules(cached=True)  # checked now: every pattern compiled and probed
    assert ruleset.compiled_packs() == {rule.file for rule in ruleset.rules if rule.patterns()}
    assert not any(p.checked for rule in ruleset.rules for p in rule.patterns())
    remembered = load_checked_rules(cached=True)
    assert remembered.compiled_packs() == set()
    assert all(p.checked for rule in remembered.rules for p in rule.patterns())
    copy = pickle.loads(pickle.dumps(remembered))  # a worker compiles without the probe too
    assert all(p.checked for rule in copy.rules for p in rule.patterns())
    slow = LazyPattern("(a|aa)+b", regex.VERSION0 | regex.IGNORECASE, "x.toml:1: rule 'x'", "pattern")
    with pytest.raises(RulePackError, match="backtracks catastrophically"):
        slow.get()
    slow.checked = True  # as a pattern of a remembered rule set: compiled without the probe
    assert slow.get().fullmatch("aab")
