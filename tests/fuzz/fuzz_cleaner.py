"""Run the property tests of tests/test_properties.py for a long time and report what they found.

    FUZZ_SECONDS=300 python tests/fuzz/fuzz_cleaner.py      # what `make fuzz` runs

The properties run in rounds of FUZZ_ROUND fresh random examples (the hypothesis profile `fuzz`
registered in tests/conftest.py: no example database, no deadline), round after round, each
property in turn, until FUZZ_SECONDS have passed. A property that fails is reported with its
minimised falsifying example (hypothesis prints it) and is not run again. Exit status 1 when
anything failed. `make test` never runs this; it runs the same properties with the short default
profile.
"""

from __future__ import annotations

import inspect
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(TESTS.parent), str(TESTS)]
os.environ["HYPOTHESIS_PROFILE"] = "fuzz"  # before conftest is imported, so the properties pick it up

import test_properties  # noqa: E402  (needs the path and profile above)

from cleaner.filters.examples import load_checked_rules  # noqa: E402
from cleaner.stages import DocumentCleaner  # noqa: E402


def properties() -> dict[str, Callable[..., None]]:
    return {name: getattr(test_properties, name) for name in dir(test_properties)
            if name.startswith("test_") and hasattr(getattr(test_properties, name), "hypothesis")}


def fixtures(scratch: Path) -> dict[str, Any]:
    return {"document_cleaner": DocumentCleaner(load_checked_rules()), "tmp_path": scratch}


def fixtures_of(test: Callable[..., None], available: dict[str, Any]) -> dict[str, Any]:
    """The fixtures a property asks for; `@given` hides the generated parameters from the signature."""
    parameters = inspect.signature(test).parameters
    return {key: value for key, value in available.items() if key in parameters}


def count_examples(test: Callable[..., None], counter: dict[str, int], name: str) -> None:
    inner = test.hypothesis.inner_test  # type: ignore[attr-defined]

    def counted(*args: Any, **kwargs: Any) -> None:
        counter[name] += 1
        inner(*args, **kwargs)

    test.hypothesis.inner_test = counted  # type: ignore[attr-defined]


def main() -> int:
    seconds = float(os.environ.get("FUZZ_SECONDS", "300"))
    tests = properties()
    counter = {name: 0 for name in tests}
    rounds = {name: 0 for name in tests}
    failures: dict[str, str] = {}
    for name, test in tests.items():
        count_examples(test, counter, name)
    with tempfile.TemporaryDirectory(prefix="cleaner-fuzz-") as scratch:
        available = fixtures(Path(scratch))
        deadline = time.monotonic() + seconds
        print(f"fuzzing {len(tests)} properties for {seconds:g}s in rounds of "
              f"{os.environ.get('FUZZ_ROUND', '200')} examples", flush=True)
        while time.monotonic() < deadline and len(failures) < len(tests):
            for name, test in tests.items():
                if name in failures or time.monotonic() >= deadline:
                    continue
                try:
                    test(**fixtures_of(test, available))
                except Exception:  # a property failed: keep its minimised example and move on
                    failures[name] = traceback.format_exc(limit=-3)
                    print(f"FAILED {name}\n{failures[name]}", flush=True)
                rounds[name] += 1
    print(f"\n{'property':<62} {'rounds':>7} {'examples':>9}  result")
    for name in tests:
        print(f"{name:<62} {rounds[name]:>7} {counter[name]:>9}  {'FAILED' if name in failures else 'ok'}")
    print(f"{sum(counter.values())} examples, {len(failures)} failing properties")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
