"""Command line: argument parsing and what the user sees. The work happens in the pipeline."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from cleaner import __version__
from cleaner.dedup import DedupSettings, StateError
from cleaner.dedup.settings import WITHIN_DOCUMENT
from cleaner.engines.local import WorkerLost
from cleaner.explain import explain_cleaned, explain_record, find_record
from cleaner.filters.classifier import ModelError
from cleaner.filters.examples import check_examples, load_checked_rules
from cleaner.filters.generic import GenericConfigError
from cleaner.filters.quality import QualityConfigError
from cleaner.guards import Guards, GuardTripped, InputsSkipped, removed_fraction
from cleaner.pipeline import (
    ENGINES,
    ON_ERROR,
    InputFailure,
    Settings,
    run_uncommitted,
)
from cleaner.readers import INPUT_FORMATS, ReadOptions, read_input
from cleaner.readers.discover import InputError, discover
from cleaner.readers.errors import ReadError
from cleaner.readers.formats import DEFAULT_GLOB
from cleaner.readers.records import RecordFields
from cleaner.remote import direct_staging, published
from cleaner.rules.loader import RulePackError, RuleSet, default_rules_dir, load_rules
from cleaner.stages import DocumentCleaner, StageSettings
from cleaner.stats import RunStats
from cleaner.writers.output_dir import OutputError
from cleaner.writers.shards import FORMATS

EXIT_OK = 0
EXIT_INPUT = 1  # inputs were skipped (with --strict) or one failed (with --on-error fail)
EXIT_USAGE = 2
EXIT_GUARD = 3  # a guard refused the run's output; the previous output is still in place
EXIT_INTERRUPTED = 130
_WARNINGS_SHOWN = 20  # skipped inputs named on stderr; stats.json lists every one

# What --preset switches on; explicit flags still win.
PRESETS = {
    "default": {"quality": "default", "generic": False, "foreign_paragraphs": "keep", "within_document": "keep"},
    "training": {"quality": "training", "generic": True, "foreign_paragraphs": "remove", "within_document": "remove"},
}

_CATEGORY_COLOURS = {"duplicate": "35", "recurring": "35", "ad": "31", "promo": "31", "job_listing": "31"}


class UsageError(Exception):
    """Options that parse but do not fit together."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or EXIT_OK)
    except (UsageError, RulePackError, InputError, OutputError, FileExistsError, QualityConfigError,
            GenericConfigError, ModelError, StateError, ReadError, WorkerLost) as exc:
        return _failed(args, EXIT_USAGE, "error", str(exc), f"cleaner: error: {exc}")
    except InputFailure as exc:
        return _failed(args, EXIT_INPUT, "input_failed", str(exc),
                       f"cleaner: error: {exc} (--on-error fail: nothing written)")
    except KeyboardInterrupt:
        return _failed(args, EXIT_INTERRUPTED, "interrupted", "interrupted",
                       "cleaner: interrupted; previous output left as it was")
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # a bug: the traceback is shown, and the pipeline still gets its summary
        _summarise(args, None, "crashed", 1, f"{type(exc).__name__}: {exc}")
        raise


def _failed(args: argparse.Namespace, code: int, status: str, reason: str, line: str) -> int:
    """A run that ends before it could publish anything: one line on stderr, and the summary."""
    print(line, file=sys.stderr)
    _summarise(args, None, status, code, reason)
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cleaner", description="Strip boilerplate from web-text dumps, "
                                     "with provenance for every removal.")
    parser.add_argument("--version", action="version", version=f"cleaner {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    clean = commands.add_parser("clean", help="clean inputs into an output directory")
    clean.add_argument("inputs", nargs="+", metavar="INPUT", help="files, directories or globs")
    clean.add_argument("-o", "--output", required=True, metavar="OUT", help="a directory or an fsspec URL")
    clean.add_argument("--glob", default=DEFAULT_GLOB,
                       help="file patterns inside directories, comma-separated (default: every readable "
                            "name: *.txt, *.md, *.html, *.htm, *.jsonl, *.ndjson, *.parquet, each also .gz/.zst)")
    clean.add_argument("--format", default="jsonl", type=_formats,
                       help=f"comma-separated output formats: {', '.join(FORMATS)} (default: jsonl)")
    clean.add_argument("--compress", choices=("gz", "zst"), help="compress JSONL output")
    clean.add_argument("--shard-size", type=_positive, metavar="RECORDS",
                       help="split documents/rejected output into numbered shards of this many records")
    clean.add_argument("--force", action="store_true", help="replace an OUT that cleaner did not write")
    clean.add_argument("--report", action="store_true", help="also write OUT/report.html")
    clean.add_argument("--state", metavar="DIR",
                       help="incremental runs: skip inputs seen before, deduplicate against everything indexed "
                            "before, and remember this run (created if missing; a path or an fsspec URL)")
    dedup = clean.add_argument_group("deduplication")
    dedup.add_argument("--no-dedup", dest="dedup", action="store_false", help="no corpus-wide deduplication")
    dedup.add_argument("--dedup-threshold", type=_fraction, default=DedupSettings.threshold,
                       help="Jaccard similarity of word shingles at which paragraphs are duplicates (default: 0.8)")
    dedup.add_argument("--dedup-ngram", type=_positive, default=DedupSettings.ngram,
                       help="words per shingle (default: 5)")
    dedup.add_argument("--recurring-min-docs", type=_positive, default=DedupSettings.recurring_min_docs,
                       help="a short line in this many documents is boilerplate everywhere (default: 3)")
    dedup.add_argument("--recurring-max-words", type=_positive, default=DedupSettings.recurring_max_words,
                       help="lines up to this many words can be recurring boilerplate (default: 12)")
    dedup.add_argument("--duplicate-document-fraction", type=_fraction,
                       default=DedupSettings.duplicate_document_fraction,
                       help="drop a document when this share of its text duplicates one earlier document "
                            "(default: 0.8)")
    dedup.add_argument("--within-document", choices=WITHIN_DOCUMENT,
                       help="a long paragraph repeated inside its own document: keep every copy (the default "
                            "preset), or remove the later ones (the training preset)")
    clean.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                       help="processes for the per-document phase (default: number of cores)")
    clean.add_argument("--on-error", choices=ON_ERROR, default="skip",
                       help="an unreadable input: skip it and report it (default), or stop the run")
    clean.add_argument("--strict", action="store_true",
                       help="exit 1 and keep the previous output if any input or record was skipped")
    clean.add_argument("-q", "--quiet", action="store_true",
                       help="no progress bar: only warnings, errors and the one-line summary on stderr")
    clean.add_argument("--engine", choices=ENGINES, default="local",
                       help="where the per-document phase and the dedup candidate search run: local processes "
                            "(default) or Ray (pip install 'cleaner[ray]'); the output is identical")
    clean.add_argument("--ray-address", metavar="ADDR",
                       help="with --engine ray: join this Ray cluster ('auto' on a cluster node, HOST:PORT or "
                            "ray://HOST:10001) instead of starting a local Ray instance with --workers CPUs")
    clean.add_argument("--work-dir", metavar="DIR_OR_URL",
                       help="where workers keep the run's intermediate files (default: .OUT.work beside OUT); "
                            "on a cluster whose machines do not share a disk, a URL they all reach (s3://bucket/tmp)")
    clean.add_argument("--resume", action="store_true",
                       help="reuse the finished work of an interrupted run with the same inputs and settings")
    ci = clean.add_argument_group("unattended runs (CI)")
    ci.add_argument("--max-removed-fraction", type=_fraction, metavar="F",
                    help="fail (exit 3, previous output kept) if more than this share of the input characters "
                         "would not reach the output")
    ci.add_argument("--min-output-docs", type=int, metavar="N",
                    help="fail (exit 3, previous output kept) if fewer documents would be written")
    ci.add_argument("--summary-json", type=Path, metavar="FILE", help="write a machine-readable run summary here")
    ci.add_argument("--json", action="store_true", help="print the run summary as JSON on stdout")
    _add_rule_options(clean)
    _add_langid_option(clean)
    clean.set_defaults(handler=_clean)

    explain = commands.add_parser("explain", help="show each line of a file as kept or removed, and why")
    explain.add_argument("file", metavar="FILE|ID", help="a file to clean and explain, or with --run a "
                         "source path or document id from that run")
    explain.add_argument("--run", metavar="OUT", help="explain a document of a finished run (a directory "
                         "or a URL), duplicates included, instead of cleaning FILE afresh")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    _add_rule_options(explain)
    _add_langid_option(explain)
    explain.set_defaults(handler=_explain)

    report = commands.add_parser("report", help="write OUT/report.html for a finished run")
    report.add_argument("output", metavar="OUT", help="the run's output directory or URL")
    report.add_argument("--sample", type=_positive, default=200, help="documents shown in the document view")
    report.set_defaults(handler=_report)

    rules = commands.add_parser("rules", help="inspect and test rule packs")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True)
    listing = rule_commands.add_parser("list", help="show every loaded rule")
    listing.add_argument("--json", action="store_true")
    _add_rule_options(listing)
    listing.set_defaults(handler=_rules_list)
    testing = rule_commands.add_parser("test", help="check every rule's keep/remove examples")
    _add_rule_options(testing)
    testing.set_defaults(handler=_rules_test)
    return parser


def _add_rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", action="append", type=Path, default=[], metavar="DIR",
                        help="extra rule directory; a pack with the same relative name replaces the "
                             "shipped one (repeatable)")
    parser.add_argument("--no-default-rules", action="store_true", help="do not load the shipped rules")


def _add_langid_option(parser: argparse.ArgumentParser) -> None:
    """Options that change what happens to each document; shared by clean and explain."""
    parser.add_argument("--input-format", choices=INPUT_FORMATS, help="read every input as this format "
                        "(default: by extension; .gz/.zst are decompressed)")
    parser.add_argument("--text-field", default="text", help="JSONL/Parquet field with the text (default: text)")
    parser.add_argument("--id-field", help="JSONL/Parquet field with the record's own id")
    parser.add_argument("--url-field", default="url", help="JSONL/Parquet field with the URL (default: url)")
    parser.add_argument("--html-field", help="JSONL/Parquet field holding HTML to extract")
    parser.add_argument("--html-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="time limit for extracting one HTML page (default: 30)")
    parser.add_argument("--html-fast", action="store_true",
                        help="faster HTML extraction (10-25%% on typical pages, more on pages without date "
                             "metadata): no fallback extractors, and no date searched for in the body text "
                             "(pages dated only there get no date)")
    parser.add_argument("--preset", choices=tuple(PRESETS), default="default",
                        help="default: lenient, for indexing; training: quality heuristics, generic "
                             "boilerplate detection and foreign-paragraph removal on")
    StageSettings.add_options(parser)  # each stage's own options, declared beside it


def _settings(args: argparse.Namespace) -> Settings:
    if args.html_timeout <= 0:
        raise UsageError("--html-timeout must be positive")
    preset = PRESETS[args.preset]
    fields = RecordFields(text_field=args.text_field, id_field=args.id_field, url_field=args.url_field,
                          html_field=args.html_field, timeout=args.html_timeout, html_fast=args.html_fast)
    return Settings(
        glob=getattr(args, "glob", "*"),
        read=ReadOptions(input_format=args.input_format, fields=fields, html_timeout=args.html_timeout,
                         html_fast=args.html_fast),
        formats=getattr(args, "format", ("jsonl",)),
        compress=getattr(args, "compress", None),
        shard_size=getattr(args, "shard_size", None),
        stages=StageSettings.from_args(args, preset),
        dedup=_dedup_settings(args),
        engine=getattr(args, "engine", "local"),
        ray_address=getattr(args, "ray_address", None),
        on_error=getattr(args, "on_error", "skip"),
        workers=getattr(args, "workers", 1),
    )


def _dedup_settings(args: argparse.Namespace) -> DedupSettings | None:
    if not getattr(args, "dedup", False):
        return None  # explain cleans one file: nothing to deduplicate against
    return DedupSettings(threshold=args.dedup_threshold, ngram=args.dedup_ngram,
                         recurring_min_docs=args.recurring_min_docs, recurring_max_words=args.recurring_max_words,
                         duplicate_document_fraction=args.duplicate_document_fraction,
                         within_document=args.within_document or PRESETS[args.preset]["within_document"])


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number



def _fraction(value: str) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError("must be in (0, 1]")
    return number


def _formats(value: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(unknown) or value!r}; choose from {', '.join(FORMATS)}")
    return formats


def _rule_dirs(args: argparse.Namespace) -> list[Path]:
    return ([] if args.no_default_rules else [default_rules_dir()]) + list(args.rules)


def _clean(args: argparse.Namespace) -> int:
    ruleset = load_checked_rules(_rule_dirs(args), cached=True)
    if args.compress and "jsonl" not in args.format:
        raise UsageError("--compress applies to jsonl output; add jsonl to --format")
    if args.ray_address and args.engine != "ray":
        raise UsageError("--ray-address needs --engine ray")
    if args.engine == "ray" and importlib.util.find_spec("ray") is None:
        raise UsageError("--engine ray needs Ray: pip install 'cleaner[ray]'")
    settings = _settings(args)
    records_to = direct_staging(args.output, args.work_dir)  # a cluster: workers write OUT's records to the store
    if records_to is not None and args.report:
        raise UsageError("--report reads OUT's records on this machine; with a URL OUT and a URL --work-dir, "
                         "run `cleaner report OUT` after the run instead")
    guards = Guards(args.max_removed_fraction, args.min_output_docs, strict=args.strict)
    try:
        with published(args.output, args.inputs, force=args.force, staging=records_to) as out:
            stats, commit_state = run_uncommitted(
                args.inputs, out, ruleset, settings, force=args.force, state=args.state, resume=args.resume,
                progress=sys.stderr.isatty() and not args.quiet, guards=guards, work_dir=args.work_dir,
                records_to=records_to)
            if args.report:  # inside: a URL output is published with its report
                from cleaner.report import write_report

                write_report(out)
        commit_state()  # OUT is in place, published included: only now may the state move on
    except InputsSkipped as skipped:
        _warn_skipped(args, skipped.stats)
        return _refused(args, skipped, "inputs_skipped", EXIT_INPUT)
    except GuardTripped as tripped:
        return _refused(args, tripped, "guard", EXIT_GUARD)
    _summarise(args, stats, "ok", EXIT_OK, None)
    _warn_skipped(args, stats)
    data = stats.to_json()
    docs, chars = data["documents"], data["characters"]
    print(f"cleaned {docs['in']} documents into {args.output}: {docs['out']} written, {docs['rejected']} "
          f"rejected, {len(stats.errors)} inputs or records skipped, {removed_fraction(stats):.1%} of {chars['in']} "
          f"characters removed", file=sys.stderr)
    return EXIT_OK


def _refused(args: argparse.Namespace, refusal: GuardTripped, status: str, code: int) -> int:
    """A run that finished but may not replace OUT (a guard, or --strict): OUT stays as it was."""
    _summarise(args, refusal.stats, status, code, str(refusal))
    print(f"cleaner: error: {refusal} (previous output left in place)", file=sys.stderr)
    return code


def _warn_skipped(args: argparse.Namespace, stats: RunStats) -> None:
    for error in stats.errors[:_WARNINGS_SHOWN]:
        print(f"cleaner: warning: skipped {error['message']}", file=sys.stderr)
    if len(stats.errors) > _WARNINGS_SHOWN:
        print(f"cleaner: warning: ... and {len(stats.errors) - _WARNINGS_SHOWN} more skipped inputs or records, "
              f"all listed in the summary (--summary-json) or, after a successful run, "
              f"{args.output.rstrip('/')}/stats.json", file=sys.stderr)


def _summarise(args: argparse.Namespace, stats: RunStats | None, status: str, code: int, message: str | None) -> None:
    """The run in one JSON object, for pipelines: --summary-json FILE and/or --json on stdout.

    Written on every exit of `clean`, so a CI step that uploads it `if: always()` always has it.
    The counts are null when the run ended before it had any (a rule-pack error, a refused OUT,
    an interrupt); OUT was replaced only when `status` is "ok".
    """
    if args.command != "clean" or not (args.summary_json or args.json):
        return
    summary = {"status": status, "exit_code": code, "message": message, "output": str(args.output),
               "output_replaced": status == "ok",
               **(_summary_counts(stats) if stats is not None else dict.fromkeys(_summary_counts(RunStats())))}
    text = json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
    if args.summary_json:
        args.summary_json.write_text(text, encoding="utf-8")
    if args.json:
        sys.stdout.write(text)


def _summary_counts(stats: RunStats) -> dict[str, Any]:
    data = stats.to_json()
    top = sorted(data["removed_by_rule"].items(), key=lambda item: (-item[1]["chars"], item[0]))[:10]
    return {
        "documents": data["documents"],
        "characters": data["characters"],
        "removed_fraction": round(removed_fraction(stats), 6),
        "duplicates": data.get("duplicates"),
        "top_rules": [{"rule": rule, **entry} for rule, entry in top],
        "inputs_skipped": data["errors"],
        "inputs_unchanged": data["inputs_unchanged"],
    }


def _explain(args: argparse.Namespace) -> int:
    if args.run is not None:
        _show_explanation(explain_record(args.run, find_record(args.run, args.file)), args)
        return EXIT_OK
    ruleset = load_checked_rules(_rule_dirs(args), cached=True)
    files = discover([str(args.file)], "*")
    settings = _settings(args)
    cleaner = DocumentCleaner(ruleset, settings.stages)
    documents = (doc for item in files for doc in read_input(item, settings.read, lambda m: print(
        f"cleaner: warning: {m}", file=sys.stderr)))
    for document in documents:
        _show_explanation(explain_cleaned(cleaner.clean(document)), args)
    return EXIT_OK


def _show_explanation(explanation: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        json.dump(explanation, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_explanation(explanation, _use_colour(args.color, sys.stdout), sys.stdout)


def _use_colour(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    return stream.isatty() and "NO_COLOR" not in os.environ


def _print_explanation(explanation: dict[str, Any], colour: bool, out: TextIO) -> None:
    lines = explanation["lines"]
    width = max((len(f"{l['rule']} [{l['category']}]") for l in lines if not l["kept"]), default=4)
    for line in lines:
        if line["kept"]:
            out.write(f"{line['line']:5d}  {'keep'.ljust(width)}  │ {line['text']}\n")
            continue
        label = f"{line['rule']} [{line['category']}]".ljust(width)
        text = line["text"]
        if colour:
            code = _CATEGORY_COLOURS.get(line["category"], "33")
            label, text = f"\x1b[{code}m{label}\x1b[0m", f"\x1b[9;2m{text}\x1b[0m"
        out.write(f"{line['line']:5d}  {label}  │ {text}\n")
        if "score" in line:
            out.write(f"{'':5}  {'':{width}}  └ {_evidence_text(line)}\n")
        original = line.get("duplicate_of")
        if original:
            where = f"{original['path']}:{original['lines'][0]} ({original['id']}), Jaccard {line.get('jaccard')}"
            out.write(f"{'':5}  {'':{width}}  └ duplicates {where}: {original.get('text', '').strip()}\n")
    rejection = explanation.get("rejection")
    verdict = f"; rejected: {rejection['reason']}" if rejection else ""
    out.write(f"-- {explanation['path']}: lang={explanation['lang']}{verdict}; "
              f"extracted={json.dumps(explanation['extracted'], ensure_ascii=False)}\n")


def _evidence_text(line: dict[str, Any]) -> str:
    """A scored removal's evidence on one line: score, threshold, and the deciding features with
    their values (and, for the line classifier, how much each added to the log-odds)."""
    threshold = f" > {line['threshold']}" if "threshold" in line else ""
    contributions = line.get("contributions", {})
    features = ", ".join(f"{name}={value}" + (f" ({contributions[name]:+})" if name in contributions else "")
                         for name, value in line.get("features", {}).items())
    return f"score {line['score']}{threshold}: {features}"


def _report(args: argparse.Namespace) -> int:
    from cleaner.report import write_report
    from cleaner.report.load import run_files

    if "stats.json" not in run_files(args.output):
        raise OutputError(f"{args.output}: not a finished cleaner run (no stats.json)")

    path = write_report(args.output, sample=args.sample)
    print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def _rules_list(args: argparse.Namespace) -> int:
    ruleset = load_rules(_rule_dirs(args))
    if args.json:
        json.dump([rule.summary() for rule in ruleset.rules], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    _print_rule_table(ruleset, sys.stdout)
    return EXIT_OK


def _print_rule_table(ruleset: RuleSet, out: TextIO) -> None:
    rows = [(r.id, r.category, r.kind, _scope_text(r.scope.to_json()), f"{r.file}:{r.line}") for r in ruleset.rules]
    header = ("ID", "CATEGORY", "KIND", "SCOPE", "FILE")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] + "\n")
    out.write(f"{len(rows)} rules from {len(ruleset.packs)} packs\n")


def _scope_text(scope: dict[str, list[str]]) -> str:
    return "; ".join(f"{key}={','.join(values)}" for key, values in scope.items()) or "all"


def _rules_test(args: argparse.Namespace) -> int:
    ruleset = load_rules(_rule_dirs(args), compile_all=True)
    failures = check_examples(ruleset)
    examples = sum(len(rule.examples) for rule in ruleset.rules)
    for failure in failures:
        print(f"FAIL {failure.message()}")
    print(f"{len(ruleset.rules)} rules, {examples} examples: {examples - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
