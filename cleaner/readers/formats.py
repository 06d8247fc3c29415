"""Which file names the cleaner reads, and as what: one table for the readers and for discovery.

A directory is searched for every name this table knows (each also ``.gz``/``.zst``), so a
folder of HTML pages or JSONL dumps is found without a ``--glob``; what a reader cannot read
is never picked up by default.
"""

from __future__ import annotations

EXTENSIONS = {".txt": "txt", ".text": "txt", ".md": "txt", ".html": "html", ".htm": "html",
              ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
CODECS = {".gz": "gz", ".zst": "zst"}  # compressed names: a.jsonl.gz is compressed JSONL

# The --glob a directory is searched with when none is given: every readable name.
DEFAULT_GLOB = ",".join(f"*{extension}{codec}" for extension in EXTENSIONS for codec in ("", *CODECS))


def readable_names() -> str:
    """The readable extensions, for a message: ``.txt, .text, ... (each also .gz/.zst)``."""
    return f"{', '.join(EXTENSIONS)} (each also {'/'.join(CODECS)})"
