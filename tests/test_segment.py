"""segment() takes a fast path for text without carriage returns; both paths must agree with
the plain definition: lines end at \\n, \\r\\n or \\r, offsets exact, no line after a final break."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.document import Line, segment


def plain_segment(text: str) -> list[Line]:
    lines, start = [], 0
    for number, match in enumerate(re.finditer(r"\r\n|\r|\n", text), 1):
        lines.append(Line(number, start, match.start(), match.end(), text[start : match.start()]))
        start = match.end()
    if start < len(text):
        lines.append(Line(len(lines) + 1, start, len(text), len(text), text[start:]))
    return lines


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from("ab \t\n\r\u2028\x0b\x1c"), max_size=60))
def test_segment_matches_the_plain_definition(text: str) -> None:
    assert segment(text) == plain_segment(text)


def test_segment_examples() -> None:
    assert segment("") == []
    assert segment("a\n") == [Line(1, 0, 1, 2, "a")]
    assert segment("a\n\nb") == [Line(1, 0, 1, 2, "a"), Line(2, 2, 2, 3, ""), Line(3, 3, 4, 4, "b")]
    assert [line.text for line in segment("a\r\nb\rc\u2028d")] == ["a", "b", "c\u2028d"]
