"""Bytes to text without ever crashing, recording which decoding was used.

UTF-8 is tried first and strictly: it is what almost every dump is in, and a strict decode
that succeeds is never wrong. A file that is UTF-8 apart from a few damaged bytes (a cut
multi-byte character, one stray Latin-1 byte) stays UTF-8 with U+FFFD for the bad bytes:
handing it to a detector would re-read every correct umlaut as mojibake (``Bürger`` as
``BĂĽrger``). Only bytes that are mostly not UTF-8 go to charset-normalizer, whose guess is
recorded in the provenance so a wrong guess can be found later. If even that fails, the text
is UTF-8 with U+FFFD for the bad bytes, and the encoding says so in both cases.
"""

from __future__ import annotations

import codecs

import charset_normalizer

REPLACED = "utf-8-replace"
# Valid non-ASCII UTF-8 characters needed per damaged sequence to call the bytes damaged UTF-8.
# Latin-1/cp1252 text almost never forms valid multi-byte sequences, so it scores near zero.
MOSTLY_UTF8 = 4
_ENCODED_REPLACEMENT = "\ufffd".encode("utf-8")


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)``; encoding is a Python codec name or ``"utf-8-replace"``."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    replaced = data.decode("utf-8", errors="replace")
    if _mostly_utf8(data, replaced):
        return replaced, REPLACED
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    return replaced, REPLACED


def _mostly_utf8(data: bytes, replaced: str) -> bool:
    """True when valid multi-byte characters outnumber the damaged sequences MOSTLY_UTF8 to 1."""
    damaged = replaced.count("\ufffd") - data.count(_ENCODED_REPLACEMENT)
    ascii_chars = len(replaced.encode("ascii", errors="ignore"))
    valid_non_ascii = len(replaced) - ascii_chars - replaced.count("\ufffd")
    return valid_non_ascii >= MOSTLY_UTF8 * damaged
