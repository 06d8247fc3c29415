from __future__ import annotations

import codecs

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.readers.encoding import REPLACED, decode_bytes

GERMAN = (
    "Die Gemeinde hat beschlossen, die Straße im Frühjahr zu erneuern. Anwohner äußerten Bedenken "
    "wegen der Lärmbelästigung, doch der Bürgermeister versprach größte Rücksicht. Öffnungszeiten "
    "des Rathauses bleiben unverändert.\n"
) * 3


def test_utf8_plain_and_with_bom() -> None:
    assert decode_bytes(GERMAN.encode("utf-8")) == (GERMAN, "utf-8")
    assert decode_bytes(codecs.BOM_UTF8 + GERMAN.encode("utf-8")) == (GERMAN, "utf-8-sig")
    assert decode_bytes(b"") == ("", "utf-8")


def test_latin1_is_detected_and_recorded() -> None:
    data = GERMAN.encode("latin-1")
    text, encoding = decode_bytes(data)
    assert text == GERMAN
    assert encoding not in ("utf-8", "utf-8-sig", REPLACED)
    assert data.decode(encoding) == text  # the recorded codec reproduces the text


def test_utf16_with_bom() -> None:
    text, encoding = decode_bytes(GERMAN.encode("utf-16"))
    assert text.lstrip("\ufeff") == GERMAN and encoding.startswith("utf_16")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_crash(data: bytes) -> None:
    text, encoding = decode_bytes(data)
    assert isinstance(text, str)
    if encoding == REPLACED:
        assert text == data.decode("utf-8", errors="replace")
    elif encoding != "utf-8-sig":
        assert data.decode(encoding) == text
