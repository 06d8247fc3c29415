"""Remember which rule sets passed their example check, so a run does not check them again.

Every `cleaner clean` and `cleaner explain` refuses rule packs whose rules fail their own
examples. Checking them compiles every pattern of every pack and runs each example through the
rules, which costs more than cleaning a small corpus, yet the verdict depends only on the packs'
contents (the rule set's digest) and on the code that matches them (cleaner's version and the
`regex` module's): a pass is remembered under that key in the user's cache directory
(`$XDG_CACHE_HOME/cleaner`, else `~/.cache/cleaner`). Changing any pack changes the digest, so
the changed set is checked again; a failing set is never remembered, so it is reported on every
run.

Why a cache rather than checking each pack's examples when it is first compiled during a run: a
keep example must also survive every neighbouring pack's rules (see `check_examples`), so a
lazy check would compile the neighbours it exists to spare, and a failure found mid-run would
stop a run that has already done work. The cache is only a shortcut: a directory that cannot be
read or written means checking again, and nothing in it changes any output. `cleaner rules
test` and the test suite always check everything.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import regex

from cleaner import __version__
from cleaner.rules.loader import RuleSet

CACHE_FILE = "examples-passed"
KEYS_KEPT = 64  # rule sets remembered (a user switching between a few --rules directories)


def cache_dir() -> Path:
    """Where cleaner keeps its per-user cache (the XDG base directory convention); raises
    RuntimeError when there is neither XDG_CACHE_HOME nor a home directory."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cleaner"


def cache_key(ruleset: RuleSet) -> str:
    """What the example check's verdict depends on: the packs and the code that matches them."""
    return hashlib.sha256(f"{ruleset.digest}\0{__version__}\0{regex.__version__}".encode()).hexdigest()


def examples_passed(ruleset: RuleSet) -> bool:
    """Did this rule set pass its example check before (as far as the cache remembers)?"""
    return cache_key(ruleset) in _keys()


def remember_passed(ruleset: RuleSet) -> None:
    """Record that this rule set passed; silently does nothing where the cache cannot be written."""
    key = cache_key(ruleset)
    keys = [k for k in _keys() if k != key][-(KEYS_KEPT - 1):] + [key]
    try:
        directory = cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{CACHE_FILE}.")
    except (OSError, RuntimeError):
        return
    try:
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write("".join(f"{k}\n" for k in keys))
        os.replace(temporary, directory / CACHE_FILE)  # readers see the old file or the new one
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _keys() -> list[str]:
    try:
        return (cache_dir() / CACHE_FILE).read_text(encoding="ascii").split()
    except (OSError, RuntimeError, UnicodeDecodeError):  # RuntimeError: no home directory
        return []
