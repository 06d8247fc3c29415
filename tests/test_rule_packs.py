"""Rule packs: every broken pack stops with one line naming file, line, rule and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEEDS, clean_text, run_cli

from cleaner.document import Cleaned
from cleaner.rules.examples import check_examples, load_checked_rules
from cleaner.rules.loader import RulePackError, load_rules

GOOD_RULE = '''
[[rule]]
id = "x.ad"
category = "ad"
kind = "line"
phrases = ["Anzeige"]
remove = ["Anzeige"]
keep = ["Die Anzeige wurde zurückgezogen."]
'''


def write_pack(tmp_path: Path, body: str, name: str = "pack.toml") -> Path:
    directory = tmp_path / "rules"
    (directory / name).parent.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(body, encoding="utf-8")
    return directory


@pytest.mark.parametrize("body, problem", [
    ("[[rule]\nid = 'x'", "TOML syntax error"),
    (GOOD_RULE.replace('kind = "line"', 'kind = "paragraph"'), "unknown kind 'paragraph'"),
    (GOOD_RULE.replace('phrases = ["Anzeige"]', "pattern = '(unclosed'"), "bad regex in pattern"),
    (GOOD_RULE.replace('id = "x.ad"\n', ""), "missing or invalid id"),
    (GOOD_RULE + GOOD_RULE, "duplicate id"),
    (GOOD_RULE.replace('remove = ["Anzeige"]', 'remove = ["Werbung"]'), "should remove lines [1], removed nothing"),
    (GOOD_RULE.replace('keep = ["Die Anzeige wurde zurückgezogen."]', ""), "content it must keep"),
    (GOOD_RULE.replace('phrases = ["Anzeige"]', 'phrases = ["Anzeige"]\npatern = "x"'), "unknown key(s) patern"),
    (GOOD_RULE.replace('phrases = ["Anzeige"]', "pattern = '.*'"), "matches the empty line"),
    (GOOD_RULE.replace('category = "ad"\n', ""), "missing category"),
])
def test_broken_pack_is_refused_with_location(tmp_path: Path, body: str, problem: str) -> None:
    directory = write_pack(tmp_path, body)
    with pytest.raises(RulePackError) as error:
        load_checked_rules([directory])
    message = str(error.value)
    assert problem in message
    assert "pack.toml" in message and "\n" not in message
    if "syntax" not in problem:
        assert "pack.toml:" in message


def test_error_names_rule_id_and_its_line(tmp_path: Path) -> None:
    body = "# comment\n" + GOOD_RULE + GOOD_RULE.replace("x.ad", "x.bad").replace('kind = "line"', 'kind = "nope"')
    with pytest.raises(RulePackError, match=r"pack\.toml:12: rule 'x\.bad': unknown kind"):
        load_rules([write_pack(tmp_path, body)])


def test_broken_pack_stops_run_before_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_cli("clean", SEEDS, "-o", out) == 0
    before = (out / "documents.jsonl").read_bytes()
    capsys.readouterr()
    directory = write_pack(tmp_path, GOOD_RULE.replace('kind = "line"', 'kind = "nope"'))
    assert run_cli("clean", SEEDS, "-o", out, "--rules", directory) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "unknown kind 'nope'" in error[0]
    assert (out / "documents.jsonl").read_bytes() == before


def test_later_directory_replaces_pack_of_same_name(tmp_path: Path) -> None:
    directory = write_pack(tmp_path, GOOD_RULE, name="de.toml")
    ruleset = load_rules([Path(__file__).parent.parent / "rules", directory])
    ids = {rule.id for rule in ruleset.rules}
    assert "x.ad" in ids and "de.teaser.read-also" not in ids
    assert "en.teaser.read-also" in ids


def test_shipped_rules_pass_their_examples(shipped_rules) -> None:  # type: ignore[no-untyped-def]
    assert check_examples(shipped_rules) == []
    assert {rule.kind for rule in shipped_rules.rules} == {"line", "block", "tail", "repeat"}
    assert all(any(e.removed for e in r.examples) and r.examples for r in shipped_rules.rules)


def test_rules_test_command_fails_on_a_bad_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = write_pack(tmp_path, GOOD_RULE.replace('keep = ["Die Anzeige wurde zurückgezogen."]',
                                                      'keep = ["Anzeige"]'))
    assert run_cli("rules", "test", "--no-default-rules", "--rules", directory) == 1
    assert "FAIL" in capsys.readouterr().out
    assert run_cli("rules", "test") == 0


def test_rules_list_shows_scope_and_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("rules", "list") == 0
    out = capsys.readouterr().out
    assert "de.jobs.listing-block" in out and "languages=de" in out and "de.toml:" in out
    assert "site.it-boltwise.book-ad" in out and "markers=IT BOLTWISE" in out


@pytest.mark.parametrize("body, problem", [
    (GOOD_RULE.replace('remove = ["Anzeige"]', 'remove = ["Werbung"]'), "should remove lines [1]"),
    (GOOD_RULE.replace('kind = "line"', 'kind = "nope"'), "unknown kind"),
])
def test_every_pack_error_names_the_file_with_its_directory(tmp_path: Path, body: str, problem: str,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A failing example is named like any other pack error: as the user can open it, `bad/x.toml:5`."""
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.toml").write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run_cli("clean", SEEDS, "-o", tmp_path / "out", "--rules", "bad") == 2
    error = capsys.readouterr().err
    assert error.startswith("cleaner: error: bad/x.toml:3: rule 'x.ad': ") and problem in error


GERMAN_BODY = ("Der Stadtrat hat am Dienstagabend den Haushalt für das kommende Jahr beschlossen. Die Mehrheit "
               "stimmte nach einer langen Debatte für den Entwurf der Verwaltung.\n\nDie Opposition kritisierte die "
               "hohe Neuverschuldung und kündigte an, den Haushalt weiter genau zu beobachten.\n")
ENGLISH_BODY = ("The city council approved next year's budget on Tuesday evening after a long debate. The majority "
                "voted for the administration's draft, which plans large investments in schools.\n\nThe opposition "
                "criticised the new debt and said it would keep a close eye on the budget.\n")


def _removed(cleaned: Cleaned) -> dict[str, str]:
    text = cleaned.document.text
    return {text[span.start:span.end].strip(): span.claim.rule for span in cleaned.spans() if span.claim}


@pytest.mark.parametrize("stamp, published", [
    ("12. März 2024, 14:30 Uhr", "2024-03-12T14:30"),
    ("3. Januar 2025", "2025-01-03"),
    ("Dienstag, 7. Okt. 2025 um 09.15 Uhr", "2025-10-07T09:15"),
])
def test_german_date_stamp_with_a_month_name_is_removed_and_extracted(document_cleaner, stamp: str,  # type: ignore[no-untyped-def]
                                                                      published: str) -> None:
    cleaned = clean_text(document_cleaner, f"Stadtrat beschließt Haushalt\n{stamp}\n\n{GERMAN_BODY}")
    assert cleaned.lang == "de" and _removed(cleaned) == {stamp: "de.date.stamp"}
    assert cleaned.extracted == {"published": [published]}
    english = clean_text(document_cleaner, f"Council approves budget\nMarch 3, 2024\n\n{ENGLISH_BODY}")
    assert english.extracted == {"published": ["2024-03-03"]}  # the English stamp it now matches


def test_german_sentence_with_a_date_is_kept(document_cleaner) -> None:  # type: ignore[no-untyped-def]
    text = f"Stadtrat beschließt Haushalt\nBis zum 3. Januar 2025 bleibt die Brücke gesperrt.\n\n{GERMAN_BODY}"
    cleaned = clean_text(document_cleaner, text)
    assert _removed(cleaned) == {} and cleaned.extracted == {}


@pytest.mark.parametrize("byline, rule", [
    ("administrator", "common.byline.cms-account"),
    ("Posted on March 14, 2025 by admin", "en.date.labelled-stamp"),
    ("Posted on March 14, 2025 by Webmaster", "en.date.labelled-stamp"),
])
def test_cms_account_name_is_removed_but_not_an_author(document_cleaner, byline: str, rule: str) -> None:  # type: ignore[no-untyped-def]
    cleaned = clean_text(document_cleaner, f"Council approves budget\n{byline}\n\n{ENGLISH_BODY}")
    assert _removed(cleaned) == {byline: rule}
    assert "author" not in cleaned.extracted
    person = clean_text(document_cleaner, f"Council approves budget\nPosted on March 14, 2025 by Jane Doe\n\n"
                                          f"{ENGLISH_BODY}")
    assert person.extracted["author"] == ["Jane Doe"]
