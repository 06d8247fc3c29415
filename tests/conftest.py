"""Shared test helpers: the repository's paths, the shipped rules loaded once, a CLI runner."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fsspec.implementations.memory import MemoryFileSystem
from hypothesis import HealthCheck, Phase, settings

from cleaner.cli import main
from cleaner.document import Cleaned, Document, Source, document_id
from cleaner.filters.boilerplate import RuleFilter
from cleaner.filters.examples import load_checked_rules
from cleaner.rules.loader import RuleSet, load_rules
from cleaner.stages import DocumentCleaner

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"

# `make test` runs the "test" profile: hypothesis's default 100 examples per property, drawn from
# a seed fixed per test (derandomize), so a commit passes or fails its gate the same way on every
# machine and every run. Looking for new counterexamples is the job of the fuzz profile, for
# tests/fuzz/fuzz_cleaner.py, which runs the properties in rounds of this many fresh random
# examples until its time is up; it must be chosen before the test modules are imported. It skips
# the explicit @example cases (known counterexamples, run by `make test`) to look for new ones.
settings.register_profile("test", derandomize=True)
settings.register_profile("fuzz", max_examples=int(os.environ.get("FUZZ_ROUND", "200")), deadline=None,
                          database=None, suppress_health_check=list(HealthCheck),
                          phases=[Phase.generate, Phase.shrink])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "test"))


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CLI remembers rule sets that passed their example check in the user's cache
    directory (cleaner.rules.example_cache): tests neither read nor write the real one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(scope="session")
def shipped_rules() -> RuleSet:
    return load_checked_rules()


@pytest.fixture(scope="session")
def document_cleaner(shipped_rules: RuleSet) -> DocumentCleaner:
    return DocumentCleaner(shipped_rules)


def make_document(text: str, path: str = "doc.txt", url: str | None = None) -> Document:
    data = text.encode("utf-8")
    source = Source(path=path, root="tests", sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                    format="txt", url=url)
    return Document(document_id(source), text, source)


def clean_text(cleaner: DocumentCleaner, text: str, **kwargs: str) -> Cleaned:
    return cleaner.clean(make_document(text, **kwargs))


def filtered(rule_filter: RuleFilter, text: str, lang: str | None = "de", **kwargs: str) -> Cleaned:
    """`text` as a document after the rules that `rule_filter` finds applicable to it in `lang`."""
    cleaned = Cleaned.start(make_document(text, **kwargs))
    rule_filter.apply(cleaned, rule_filter.applicable(cleaned, lang))
    return cleaned


def rules_from(tmp_path: Path, body: str) -> RuleFilter:
    """A rule filter over one pack whose TOML is `body`, written as a real file and loaded."""
    (tmp_path / "p.toml").write_text(body, encoding="utf-8")
    return RuleFilter(load_rules([tmp_path]))


def run_cli(*args: str) -> int:
    return main([str(a) for a in args])


def empty_memory_stores(*filesystems: type[MemoryFileSystem]) -> None:
    """Empty fsspec's in-memory store and these subclasses' own: their objects live on the
    class, so a test would otherwise see the last one's."""
    for cls in (MemoryFileSystem, *filesystems):
        cls.store.clear()
        cls.pseudo_dirs[:] = [""]
