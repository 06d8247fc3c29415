"""Bytes to text without ever crashing, recording which decoding was used.

UTF-8 is tried first and strictly: it is what almost every dump is in, and a strict decode
that succeeds is never wrong. Only bytes that are not valid UTF-8 go to charset-normalizer,
whose guess is recorded in the provenance so a wrong guess can be found later. If even that
fails, the text is UTF-8 with U+FFFD for the bad bytes and the encoding says so.
"""

from __future__ import annotations

import codecs

import charset_normalizer

REPLACED = "utf-8-replace"


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
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("utf-8", errors="replace"), REPLACED
