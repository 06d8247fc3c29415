"""Start-up cost: CPU seconds before a run cleans anything, as the rule packs grow.

Issue 18 allows start-up to grow by at most 0.2 s while packs are added for more languages. A
run compiles a pack's regexes only when a document needs that pack, and checks the rules'
examples only for a rule set it has not seen pass before (cleaner.rules.example_cache), so a
tiny run should cost about the same however many packs there are. This prints, per number of
packs (the shipped ones, then with copies of the six newest language packs under made-up
language codes, which no document here is in):

- `load_rules`: loading and validating every pack (patterns compiled on first use), and
  `load_rules(compile_all=True)` + `check_examples`: what `cleaner rules test` does, and what
  every run did before the example cache;
- a tiny run, `cleaner clean seeds -o OUT` (5 small files), in a fresh interpreter, user+sys
  CPU seconds of it and its workers: the first run (empty cache: the example check runs) and
  the next one (cache warm, the usual case).

    python benchmarks/startup.py              # shipped, +6 and +12 packs; best of 3
    python benchmarks/startup.py --quick      # shipped and +6 packs; one run each (or BENCH_QUICK=1)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "rules"
SEEDS = ROOT / "seeds"
CLONED = ("es", "fr", "it", "nl", "pl", "pt")  # language packs copied under made-up codes


def rules_with_copies(directory: Path, copies: int) -> Path:
    """The shipped rules directory (packs, quality presets, generic vocabularies), plus `copies`
    copies of the CLONED packs with their ids and language renamed."""
    rules = directory / "rules"
    shutil.copytree(SHIPPED, rules)
    for number in range(copies):
        lang = CLONED[number % len(CLONED)]
        code = f"x{number}"
        text = (SHIPPED / f"{lang}.toml").read_text(encoding="utf-8")
        text = text.replace(f'languages = ["{lang}"]', f'languages = ["{code}"]')
        text = text.replace(f'id = "{lang}.', f'id = "{code}-{lang}.')
        (rules / f"{code}.toml").write_text(text, encoding="utf-8")
    return rules


def child(mode: str, rules: Path, out: Path) -> None:
    """In a fresh interpreter: the shipped rules directory is `rules`; print what `mode` measures."""
    import cleaner.cli
    from cleaner.rules import loader

    shipped = loader.default_rules_dir
    for module in list(sys.modules.values()):
        if getattr(module, "default_rules_dir", None) is shipped:
            module.default_rules_dir = lambda: rules  # type: ignore[attr-defined]
    if mode == "run":
        code = cleaner.cli.main(["clean", str(SEEDS), "-o", str(out), "-q", "--force"])
        print(code)
        return
    from cleaner.filters.examples import check_examples

    start = time.process_time()
    ruleset = loader.load_rules()
    loaded = time.process_time()
    compiled = loader.load_rules(compile_all=True)
    failures = check_examples(compiled)
    checked = time.process_time()
    print(len(ruleset.packs), len(ruleset.rules), loaded - start, checked - loaded, len(failures))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(mode: str, rules: Path, out: Path, cache: Path) -> tuple[str, float]:
    """The child's stdout and the CPU seconds it (with its worker processes) used."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "SOURCE_DATE_EPOCH": "1700000000",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    before = _children_cpu()
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(rules), str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip(), _children_cpu() - before


def measure(copies: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cleaner-startup-") as scratch:
        base = Path(scratch)
        rules = rules_with_copies(base, copies)
        loads = []
        for _ in range(repeat):
            line, _ = run_child("load", rules, base / "unused", base / "cache-load")
            packs, count, load, check, failures = line.split()
            loads.append((float(load), float(check)))
        first, warm = [], []
        for number in range(repeat):
            cache = base / f"cache-{number}"  # empty: the first run checks the examples
            first.append(run_child("run", rules, base / "out", cache)[1])
            warm.append(run_child("run", rules, base / "out", cache)[1])
        print(f"{packs:>5} {count:>5} {min(l for l, _ in loads):>10.3f} {min(c for _, c in loads):>18.3f} "
              f"{min(first):>16.2f} {min(warm):>15.2f}" + (f"  ({failures} failing examples!)" if failures != "0" else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")))
    parser.add_argument("--child", nargs=3, metavar=("MODE", "RULES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, rules, out = args.child
        child(mode, Path(rules), Path(out))
        return
    repeat = 1 if args.quick else 3
    print("CPU seconds (user+sys); load_rules and the example check in-process, runs in a fresh interpreter")
    print(f"{'packs':>5} {'rules':>5} {'load_rules':>10} {'compile+examples':>18} {'run, 1st (check)':>16} "
          f"{'run, cache warm':>15}")
    for copies in ((0, 6) if args.quick else (0, 6, 12)):
        measure(copies, repeat)


if __name__ == "__main__":
    main()
