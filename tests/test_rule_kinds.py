"""What each rule kind and scope means, pinned on small documents."""

from __future__ import annotations

from pathlib import Path

from conftest import filtered, make_document, rules_from

from cleaner.document import Cleaned
from cleaner.filters.boilerplate import RuleFilter
from cleaner.filters.rule_stages import ContextRules, PositionRules, RuleStages
from cleaner.filters.stage import FixedPoint, Loop

CONTENT = "Die Regierung hat am Montag ein neues Gesetz beschlossen, das ab Januar gilt und viele betrifft."


def removed(rule_filter: RuleFilter, text: str, **kwargs: str) -> list[int]:
    cleaned = filtered(rule_filter, text, **kwargs)
    return [line.number for line, claim in zip(cleaned.lines, cleaned.claims) if claim and not line.blank]


def claimed_in_context(rule_filter: RuleFilter, text: str) -> list[str | None]:
    """The rule claiming each line after the line rules and then the context rules, in the
    order the pipeline runs them (a German document)."""
    cleaned = Cleaned.start(make_document(text))
    stages = RuleStages(rule_filter.ruleset)
    reading = stages.start(cleaned)
    reading.context = rule_filter.applicable(cleaned, "de")
    rule_filter.apply(cleaned, reading.context, ("line",), reading.views)
    FixedPoint("context", (Loop(ContextRules(stages), always=("rules.positions",), on_change=("rules.context",)),
                           Loop(PositionRules(stages), on_change=("rules.positions", "rules.context")))).apply(cleaned)
    return [claim.rule if claim else None for claim in cleaned.claims]


BLOCK = '''
[[rule]]
id = "t.block"
category = "teaser"
kind = "block"
phrases = ["Verwandte Artikel"]
remove = ["Verwandte Artikel"]
keep = ["Kein Treffer hier."]
'''


def test_block_takes_short_items_and_stops_at_prose(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, BLOCK)
    text = f"{CONTENT}\nVerwandte Artikel\nTitel eins\n\nTitel zwei\n{CONTENT}"
    # "Titel zwei" sits directly above prose, so it reads as that prose's heading and stays.
    assert removed(rule_filter, text) == [2, 3]
    assert removed(rule_filter, f"{CONTENT}\nVerwandte Artikel\nTitel eins\nTitel zwei\nTitel drei") == [2, 3, 4, 5]


def test_block_leaves_heading_above_prose(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, BLOCK)
    text = f"Verwandte Artikel\nTitel eins\nZwischenüberschrift\n{CONTENT}"
    assert removed(rule_filter, text) == [1, 2]


def test_heading_left_above_prose_may_start_a_block_itself(tmp_path: Path) -> None:
    # The second header is no item of the first (it heads the prose), but it is a header.
    rule_filter = rules_from(tmp_path, BLOCK)
    assert removed(rule_filter, f"Verwandte Artikel\nVerwandte Artikel\n{CONTENT}") == [1, 2]


def test_tail_only_when_what_follows_is_short(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, '''
[[rule]]
id = "t.tail"
category = "comment_notice"
kind = "tail"
phrases = ["Kommentare"]
tail_max_words = 20
remove = ["Kommentare\\nBitte bleiben Sie sachlich."]
keep = ["Kein Treffer hier."]
''')
    assert removed(rule_filter, f"{CONTENT}\nKommentare\nBitte sachlich bleiben.\nLogin") == [2, 3, 4]
    assert removed(rule_filter, f"Kommentare\n{CONTENT} {CONTENT}") == []


def test_repeat_removes_doubled_title_only_nearby(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, '''
[[rule]]
id = "t.repeat"
category = "repeated_title"
kind = "repeat"
window = 2
min_chars = 10
case = [{ text = "Ein langer Titel hier\\nEin langer Titel hier", removed = [2] }]
keep = ["Eins zwei drei vier\\nFünf sechs sieben"]
''')
    assert removed(rule_filter, "Ein langer Titel hier\n\nEin langer Titel hier\nText.") == [3]
    far = "Ein langer Titel hier\nA a a a a a a.\nB b b b b b b.\nC c c c c c.\nEin langer Titel hier"
    assert removed(rule_filter, far) == []


def test_context_rules_count_lines_claimed_after_them_as_gone(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, '''
[[rule]]
id = "t.end"
category = "navigation"
kind = "line"
phrases = ["Ende"]
remove = ["Ende"]
keep = ["Ende gut, alles gut, sagte der Trainer nach dem Spiel."]

[[rule]]
id = "t.stamp"
category = "date"
kind = "line"
pattern = '\\d{2}\\.\\d{2}\\.\\d{4}'
within_bottom = 2
remove = ["12.11.2024"]
keep = ["Am 12.11.2024 tagte der Rat bis in die Nacht."]

[[rule]]
id = "t.repeat"
category = "repeated_title"
kind = "repeat"
window = 2
min_chars = 10
case = [{ text = "Ein langer Titel hier\\nEin langer Titel hier", removed = [2] }]
keep = ["Eins zwei drei vier\\nFünf sechs sieben"]
''')
    # The stamp is in the last two lines only once "Ende" is gone (settling positions claims it,
    # after the repeat rule ran); without the stamp the title repeats within two lines, as a
    # second cleaning of the clean text would find.
    text = f"Ein langer Titel hier\n{CONTENT}\n12.11.2024\nEin langer Titel hier\nEnde\n"
    assert claimed_in_context(rule_filter, text) == [None, None, "t.stamp", "t.repeat", "t.end"]


def test_tail_counts_a_later_tail_as_gone(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, '''
[[rule]]
id = "t.tail"
category = "comment_notice"
kind = "tail"
phrases = ["Kommentare"]
tail_max_lines = 3
remove = ["Kommentare\\nBitte bleiben Sie sachlich."]
keep = ["Kein Treffer hier."]
''')
    # Five lines follow the first marker, too many, until the second marker's tail is claimed.
    text = f"{CONTENT}\nKommentare\nA\nB\nKommentare\nC\nD\n"
    assert claimed_in_context(rule_filter, text) == [None] + ["t.tail"] * 6


def test_block_short_of_min_items_counts_a_later_block_as_gone(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, '''
[[rule]]
id = "t.teasers"
category = "teaser"
kind = "block"
phrases = ["Verwandte Artikel"]
item_pattern = 'Titel .*'
min_items = 2
case = [{ text = "Verwandte Artikel\\nTitel eins\\nTitel zwei", removed = [1, 2, 3] }]
keep = ["Verwandte Artikel"]

[[rule]]
id = "t.prices"
category = "ad"
kind = "block"
phrases = ["Anzeige"]
item_pattern = '\\d+ Euro'
remove = ["Anzeige\\n20 Euro"]
keep = ["Kein Treffer hier."]
''')
    # "Anzeige" is no teaser title and ends the first block at one item, too few; once the
    # second block has claimed it, a second cleaning would find two.
    assert claimed_in_context(rule_filter, "Verwandte Artikel\nTitel eins\nAnzeige\nTitel zwei\n") == [
        "t.teasers", "t.teasers", "t.prices", "t.teasers"]


def test_site_scope_by_marker_domain_and_path(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, '''
[pack]
markers = ["EXAMPLE NEWS"]
domains = ["example.com"]
paths = ["example/*"]

[[rule]]
id = "t.site"
category = "ad"
kind = "line"
phrases = ["Promo"]
remove = ["Promo"]
keep = ["Kein Treffer hier."]
''')
    assert removed(rule_filter, "Promo\nText.") == []
    assert removed(rule_filter, "EXAMPLE NEWS\nPromo") == [2]
    assert removed(rule_filter, "Promo", url="https://www.example.com/a") == [1]
    assert removed(rule_filter, "Promo", path="example/a.txt") == [1]


def test_language_scope(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, '''
[pack]
languages = ["en"]

[[rule]]
id = "t.en"
category = "ad"
kind = "line"
phrases = ["Advertisement"]
remove = ["Advertisement"]
keep = ["No match here."]
''')
    assert removed(rule_filter, "Advertisement") == []  # the helper applies with lang="de"
    cleaned = filtered(rule_filter, "Advertisement", "en")
    assert cleaned.claims[0] is not None


def test_named_groups_and_month_names_extract(tmp_path: Path) -> None:
    rule_filter = rules_from(tmp_path, '''
[pack.months]
november = 11

[[rule]]
id = "t.date"
category = "date"
kind = "line"
pattern = '(?P<day>\\d+)\\. (?P<month>\\w+) (?P<year>\\d{4})'
remove = ["12. November 2024"]
keep = ["Kein Datum."]
''')
    cleaned = filtered(rule_filter, "12. November 2024\nText.", "de")
    assert cleaned.extracted == {"published": ["2024-11-12"]}


def test_many_rules_share_one_index(tmp_path: Path) -> None:
    body = "".join(f'''
[[rule]]
id = "t.r{i}"
category = "ad"
kind = "line"
pattern = 'promo number {i}( .*)?'
max_words = 8
remove = ["promo number {i}"]
keep = ["Kein Treffer hier."]
''' for i in range(300))
    rule_filter = rules_from(tmp_path, body)
    cleaned = filtered(rule_filter, "promo number 299 today\npromo number 7\n" + CONTENT, "de")
    assert [c.rule if c else None for c in cleaned.claims] == ["t.r299", "t.r7", None]


def test_remembered_line_verdicts_respect_position_guards(tmp_path: Path) -> None:
    """A line's verdict is remembered across documents, but only for the same clipped rank: the
    same line inside and outside a position window must still be judged differently."""
    body = '''
[[rule]]
id = "t.top"
category = "date"
kind = "line"
pattern = '\\d{2}\\.\\d{2}\\.\\d{4}'
within_top = 2
remove = ["12.11.2024"]
keep = ["Erster Absatz.\\nZweiter Absatz.\\n12.11.2024"]
'''
    shared = rules_from(tmp_path, body)
    documents = [f"12.11.2024\n{CONTENT}", f"{CONTENT}\n{CONTENT}.\n12.11.2024", f"{CONTENT}\n12.11.2024\n{CONTENT}!",
                 f"12.11.2024\n{CONTENT}?"]
    remembered = [removed(shared, text) for text in documents]
    fresh = [removed(rules_from(tmp_path, body), text) for text in documents]
    assert remembered == fresh == [[1], [], [2], [1]]


def test_a_prefix_matches_lines_going_on_with_punctuation(tmp_path: Path) -> None:
    """A prefix claims a line that continues after it with any character that is not a letter
    or digit, also without a space (`Anzeige:»Angebot«`), for line, block and tail rules alike;
    never one whose next character is a letter (`Anzeigenblatt`)."""
    rule_filter = rules_from(tmp_path, '''
[[rule]]
id = "t.ad"
category = "ad"
kind = "line"
prefixes = ["Anzeige"]
remove = ["Anzeige: Rabatt"]
keep = ["Anzeigenblatt erscheint wieder."]

[[rule]]
id = "t.more"
category = "teaser"
kind = "block"
prefixes = ["Mehr zum Thema"]
remove = ["Mehr zum Thema\\nTitel eins\\nTitel zwei"]
keep = ["Kein Treffer hier."]

[[rule]]
id = "t.end"
category = "comment_notice"
kind = "tail"
prefixes = ["Kommentare"]
remove = ["Kommentare (3)\\nBitte sachlich bleiben"]
keep = ["Kommentarlos."]
''')
    text = (f"{CONTENT}\nAnzeige:»Angebot«\nAnzeigenblatt\n{CONTENT}\nMehr zum Thema:»Auswahl«\nTitel eins\n"
            f"Titel zwei\n{CONTENT}\nKommentare(12)\nBitte sachlich bleiben")
    assert removed(rule_filter, text) == [2, 5, 6, 9, 10]  # "Titel zwei" heads the prose below it
