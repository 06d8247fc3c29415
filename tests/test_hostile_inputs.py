"""Inputs nobody has read, through the real CLI: one bad file never stops or corrupts a run.

With `--on-error skip` (the default) every bad input is reported as one line naming the file and
the cause, in stats.json "errors" and on stderr, and the rest is cleaned. With `--on-error fail`
the run exits 1 and the previous OUT is left byte for byte as it was.

Most cases share one corpus and one run (the module fixture `skip_run`); each test then checks
what happened to its own file.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import zstandard
from conftest import REPO, SEEDS

from cleaner.cli import main
from cleaner.pipeline import InputFailure, Settings, Task, TaskWorker
from cleaner.readers.discover import discover
from cleaner.spill import read_result

GOOD = "Die Stadt plant einen neuen Park am Fluss. Die Bürger wurden gefragt, was sie sich dort wünschen.\n"
GLOB = "*.txt,*.gz,*.zst,*.jsonl,*.html"
DEPTH = 200


def slow_page(divs: int) -> str:
    body = "".join(f'<div class="c{i}"><p>Satz Nummer {i} mit etwas Text und einem <a href="/l{i}">Link</a>.</p></div>'
                   for i in range(divs))
    return f"<html><body>{body}</body></html>"


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


# name -> bytes; every file here is bad in one way and must be reported, never crash the run
BAD_FILES: dict[str, bytes] = {
    "binary.txt": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 8,
    "late-nul.txt": GOOD.encode() * 300 + b"\0" + GOOD.encode(),
    "cut.txt.gz": truncated(gzip.compress(GOOD.encode() * 400)),
    "cut.txt.zst": truncated(zstandard.ZstdCompressor().compress(GOOD.encode() * 400)),
    "slow.html": slow_page(30000).encode(),
}
BAD_MESSAGES = {
    "binary.txt": "binary.txt: binary file (NUL byte at offset 8), not text",
    "late-nul.txt": f"late-nul.txt: binary file (NUL byte at offset {len(GOOD.encode()) * 300}), not text",
    "cut.txt.gz": "cut.txt.gz: truncated gzip stream",
    "cut.txt.zst": "cut.txt.zst: truncated zst stream",
    "slow.html": "slow.html: extraction timed out after 0.3s",
}
JSONL_LINES = [
    b'{"text": "Erster guter Datensatz mit genug Worten darin."}',
    b'{"text": "kaputt',
    b'{"title": "ohne Textfeld"}',
    b'{"text": "Gr\xfc\xdfe aus M\xfcnchen und sch\xf6ne Tage am See."}',
    b'{"text": "halbes Emoji \\ud83d am Ende einer Zeile"}',
    b'["keine", "Zeile"]',
]


def one_line_errors(stats: dict) -> list[str]:
    messages = [error["message"] for error in stats["errors"]]
    assert all("\n" not in m and "\r" not in m for m in messages)
    return messages


def build_corpus(root: Path, outside: Path) -> None:
    root.mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(seed, root / seed.name)
    for name, data in BAD_FILES.items():
        (root / name).write_bytes(data)
    (root / "latin1.txt").write_bytes("Grüße aus München, schöne Tage am Fluss wünschen wir allen Lesern.\n"
                                      .encode("cp1252") * 5)
    (root / "one-bad-byte.txt").write_bytes(GOOD.encode() * 5 + b"\xff" + GOOD.encode())
    (root / "utf16.txt").write_bytes(GOOD.encode("utf-16"))
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.txt").write_bytes(b"  \n\t\n\r\n   ")
    (root / "long-word.txt").write_text(GOOD + "x" * 200_000 + "\n" + GOOD, encoding="utf-8")
    (root / "records.jsonl").write_bytes(b"\n".join(JSONL_LINES) + b"\n")
    (root / "line\nbreak.txt").write_text("Ein Name mit Zeilenumbruch ist kein Grund zum Absturz.\n", encoding="utf-8")
    with open(os.fsencode(root) + b"/latin1-\xe4.txt", "wb") as handle:  # a file name that is not UTF-8
        handle.write(b"Ein Name in Latin-1 ist auch kein Grund zum Absturz.\n")
    deep = root.joinpath(*["d"] * DEPTH)
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text(GOOD, encoding="utf-8")
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the input root\n", encoding="utf-8")
    os.symlink("..", root / "loop")
    os.symlink(root, root / "d" / "back-to-root")
    os.symlink(outside / "secret.txt", root / "linked-secret.txt")
    os.symlink(outside, root / "linked-dir")
    os.mkfifo(root / "pipe.txt")  # reading a FIFO blocks forever: it must be passed over


@pytest.fixture(scope="module")
def skip_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("hostile")
    corpus, out = base / "corpus", base / "out"
    build_corpus(corpus, base / "outside")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.run([sys.executable, "-m", "cleaner.cli", "clean", str(corpus), "-o", str(out),
                              "--glob", GLOB, "--workers", "2", "--html-timeout", "0.3",
                              "--no-dedup"],  # the same test sentence recurs across these files
                             env=env, capture_output=True, text=True, timeout=120)
    records = {}
    for stem in ("documents", "rejected"):
        for line in (out / f"{stem}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            source = record["metadata"]["source"]
            key = source["path"] + (f":{source['record']}" if "record" in source else "")
            records[key] = (stem, record)
    return {"process": process, "corpus": corpus, "out": out, "records": records,
            "stats": json.loads((out / "stats.json").read_text(encoding="utf-8"))}


def test_run_completes_and_reports_each_bad_file_once(skip_run: dict) -> None:
    assert skip_run["process"].returncode == 0, skip_run["process"].stderr
    messages = one_line_errors(skip_run["stats"])
    for name, expected in BAD_MESSAGES.items():
        assert expected in messages, name
        assert f"cleaner: warning: skipped {expected}\n" in skip_run["process"].stderr
    assert not set(BAD_FILES) & {key.split(":")[0] for key in skip_run["records"]}
    assert all(m.split(":")[0] in (*BAD_FILES, "records.jsonl") for m in messages), messages


def test_seeds_next_to_bad_files_are_cleaned(skip_run: dict) -> None:
    for seed in sorted(SEEDS.glob("*.txt"))[:2]:
        stem, record = skip_run["records"][seed.name]
        assert stem == "documents" and record["text"]


def test_invalid_utf8_is_decoded_with_its_encoding_recorded(skip_run: dict) -> None:
    _, latin = skip_run["records"]["latin1.txt"]
    assert "Grüße aus München" in latin["text"]
    assert latin["metadata"]["source"]["encoding"] not in ("utf-8", "utf-8-sig", "utf-8-replace")
    _, mixed = skip_run["records"]["one-bad-byte.txt"]
    assert mixed["metadata"]["source"]["encoding"] != "utf-8"
    assert mixed["metadata"]["source"]["encoding"] == "utf-8-replace"  # damaged UTF-8 stays UTF-8
    assert "Die Bürger" in mixed["text"] and "\ufffd" in mixed["text"]
    _, wide = skip_run["records"]["utf16.txt"]  # NUL bytes, but a UTF-16 byte order mark: text
    assert wide["text"] == GOOD and wide["metadata"]["source"]["encoding"].startswith("utf_16")


def test_empty_and_blank_files_are_rejected_documents(skip_run: dict) -> None:
    for name in ("empty.txt", "blank.txt"):
        stem, record = skip_run["records"][name]
        assert stem == "rejected" and record["text"].strip() == ""
        assert record["metadata"]["rejection"]["reason"] == "quality.word_count"


def test_very_long_word_does_not_break_the_document(skip_run: dict) -> None:
    stem, record = skip_run["records"]["long-word.txt"]
    assert len(record["text"]) + sum(len(r["text"]) for r in record["metadata"]["removed"]) == len(GOOD) * 2 + 200_001
    assert stem in ("documents", "rejected")


def test_file_names_that_are_not_utf8_or_hold_line_breaks(skip_run: dict) -> None:
    """Names are bytes on POSIX; they are read by their real path and named with \\xNN escapes."""
    assert skip_run["records"]["line\\x0abreak.txt"][1]["text"].startswith("Ein Name mit Zeilenumbruch")
    assert skip_run["records"]["latin1-\\xe4.txt"][1]["text"].startswith("Ein Name in Latin-1")


def test_deep_tree_is_read(skip_run: dict) -> None:
    key = "/".join(["d"] * DEPTH) + "/deep.txt"
    assert skip_run["records"][key][1]["text"] == GOOD


def test_symlinks_and_fifos_in_a_tree_are_not_followed(skip_run: dict) -> None:
    paths = set(skip_run["records"])
    assert not any(p.startswith(("loop/", "linked-dir/", "d/back-to-root/")) for p in paths), paths
    assert "linked-secret.txt" not in paths and "pipe.txt" not in paths
    manifest = json.loads((skip_run["out"] / "manifest.json").read_text(encoding="utf-8"))
    assert not any("secret" in entry["path"] for entry in manifest["inputs"])


def test_jsonl_bad_lines_are_reported_and_the_rest_read(skip_run: dict) -> None:
    messages = one_line_errors(skip_run["stats"])
    assert [m for m in messages if m.startswith("records.jsonl")] == [
        "records.jsonl:2: invalid JSON: Unterminated string starting at column 10",
        "records.jsonl:3: missing field 'text'",
        "records.jsonl:6: record is a JSON list, not an object",
    ]
    records = skip_run["records"]
    latin = records["records.jsonl:3"][1]
    assert latin["text"].startswith("Grüße aus München") and latin["metadata"]["source"]["encoding"] != "utf-8"
    surrogate = records["records.jsonl:4"][1]  # a lone surrogate is replaced, counted, never crashes the writer
    assert surrogate["text"] == "halbes Emoji \ufffd am Ende einer Zeile"
    assert surrogate["metadata"]["input"]["replaced_surrogates"] == 1


def test_symlink_given_as_input_is_followed(tmp_path: Path) -> None:
    """A link named on the command line is the user's explicit choice, so it is read."""
    target = tmp_path / "real.txt"
    target.write_text(GOOD, encoding="utf-8")
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "link.txt"
    os.symlink(target, link)
    out = tmp_path / "out"
    assert main(["clean", str(link), "-o", str(out), "--workers", "1", "-q"]) == 0
    record = json.loads((out / "documents.jsonl").read_text(encoding="utf-8"))
    assert record["metadata"]["source"]["path"] == "link.txt" and record["text"] == GOOD


def test_shell_glob_does_not_follow_symlinks(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(GOOD, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(GOOD, encoding="utf-8")
    os.symlink("..", corpus / "loop")
    os.symlink(outside, corpus / "linked")
    assert [f.relative for f in discover([f"{corpus}/**/*.txt"])] == ["a.txt"]


@pytest.fixture(scope="module")
def previous_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("previous") / "out"
    assert main(["clean", str(SEEDS), "-o", str(out), "--workers", "1", "-q"]) == 0
    return out


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", ["binary.txt", "cut.txt.gz", "cut.txt.zst", "slow.html", "records.jsonl"])
def test_on_error_fail_stops_and_keeps_previous_output(name: str, tmp_path: Path, previous_out: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], corpus)
    data = BAD_FILES.get(name) or b"\n".join(JSONL_LINES)
    (corpus / name).write_bytes(data)
    out = tmp_path / "out"
    shutil.copytree(previous_out, out)
    before = tree_bytes(out)
    capsys.readouterr()
    code = main(["clean", str(corpus), "-o", str(out), "--glob", GLOB, "--on-error", "fail", "--workers", "1",
                 "--html-timeout", "0.3", "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(f"cleaner: error: {name}"), err
    assert tree_bytes(out) == before
    assert not [p.name for p in tmp_path.iterdir() if "staging" in p.name]  # no staging left behind


def test_file_vanishing_between_discovery_and_reading(tmp_path: Path, shipped_rules) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "gone.txt").write_text(GOOD, encoding="utf-8")
    (file,) = discover([str(corpus)])
    (corpus / "gone.txt").unlink()
    spill = tmp_path / "spill"
    spill.mkdir()
    TaskWorker(shipped_rules, Settings(), spill)(Task(0, (file,), size=len(GOOD.encode())))
    result = read_result(spill, 0)
    assert result.documents == [] and [(r.path, r.errors) for r in result.inputs] == [
        ("gone.txt", ["gone.txt: No such file or directory"])]
    with pytest.raises(InputFailure, match=r"^gone\.txt: No such file or directory$"):
        TaskWorker(shipped_rules, Settings(on_error="fail"), spill)(Task(1, (file,), size=len(GOOD.encode())))


def test_single_line_file_of_several_megabytes(tmp_path: Path) -> None:
    """Figures for 50 MB are in benchmarks/hostile_inputs.py; here a size that keeps the suite fast."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    words = "Haus Katze läuft schnell über Straße und die Stadt plant einen Park".split()
    line = " ".join(words[i % len(words)] for i in range(400_000))
    (corpus / "one-line.txt").write_text(line, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["clean", str(corpus), "-o", str(out), "--workers", "1", "-q"]) == 0
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["documents"]["in"] == 1 and stats["characters"]["in"] == len(line)


UNPRIVILEGED = 65534
_AS_NOBODY = f"""\
import contextlib, io, os, sys
from cleaner.cli import main
warm, args = sys.argv[1], sys.argv[2:]
# The interpreter may live where only root can read (pyenv under /root), so everything a run
# imports or loads lazily is loaded by a first run as root; then privileges are dropped for good.
with contextlib.redirect_stderr(io.StringIO()):
    main(["clean", warm, "-o", warm + "-out", "-q", "--workers", "1"])
os.setgroups([]); os.setgid({UNPRIVILEGED}); os.setuid({UNPRIVILEGED})
sys.exit(main(args))
"""
needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="needs root to create files an unprivileged user cannot read")


def _shipped_copy(target: Path) -> Path:
    """The package and its rules, copied where the unprivileged user can read them: the checkout
    itself may sit in a directory only root may enter (a CI runner's `mktemp -d`)."""
    for name in ("cleaner", "rules"):
        shutil.copytree(REPO / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (target, *target.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def _as_nobody(base: Path, package: Path, warm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _AS_NOBODY, str(warm), *args], capture_output=True, text=True,
                          timeout=120, cwd=base, env={**os.environ, "PYTHONPATH": str(package)})


def _world_base() -> tuple[Path, Path]:
    """A directory everyone may enter, with a warm-up corpus in it."""
    base = Path(tempfile.mkdtemp(prefix="cleaner-perm-"))
    base.chmod(0o777)
    warm = base / "warm"
    warm.mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], warm)
    return base, warm


@needs_root
def test_unreadable_file_and_directory() -> None:
    base, warm = _world_base()
    try:
        package = _shipped_copy(base / "repo")
        corpus = base / "corpus"
        corpus.mkdir()
        shutil.copy(sorted(SEEDS.glob("*.txt"))[0], corpus)
        (corpus / "locked.txt").write_text(GOOD, encoding="utf-8")
        (corpus / "locked.txt").chmod(0)
        (corpus / "locked-dir").mkdir()
        (corpus / "locked-dir" / "inside.txt").write_text(GOOD, encoding="utf-8")
        (corpus / "locked-dir").chmod(0)
        done = _as_nobody(base, package, warm, "clean", str(corpus), "-o", str(base / "out"), "--workers", "1")
        assert done.returncode == 0, done.stderr
        stats = json.loads((base / "out" / "stats.json").read_text(encoding="utf-8"))
        locked_dir, locked_file = one_line_errors(stats)
        assert locked_dir.startswith("locked-dir: ") and locked_dir.endswith("Permission denied")
        assert locked_file == "locked.txt: Permission denied"
        assert stats["documents"]["in"] == 1
        before = tree_bytes(base / "out")
        failed = _as_nobody(base, package, warm, "clean", str(corpus), "-o", str(base / "out"), "--workers", "1",
                            "--on-error", "fail")
        assert failed.returncode == 1
        assert failed.stderr.startswith("cleaner: error: locked-dir: ")
        assert tree_bytes(base / "out") == before
    finally:
        for path in (base / "corpus" / "locked-dir", base / "corpus" / "locked.txt"):
            if path.exists():
                path.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


@needs_root
def test_unreadable_rules_directory_is_one_line() -> None:
    base, warm = _world_base()
    try:
        private = base / "private"  # a checkout only root may enter, as `git clone . "$(mktemp -d)/c"` makes
        package = _shipped_copy(private / "repo")
        private.chmod(0o700)
        done = _as_nobody(base, package, warm, "clean", str(warm), "-o", str(base / "out"))
        assert done.returncode == 2
        assert done.stderr == f"cleaner: error: {package / 'rules'}: cannot read rules directory: Permission denied\n"
        locked = base / "locked-rules"
        locked.mkdir(mode=0)
        done = _as_nobody(base, package, warm, "explain", str(warm), "--no-default-rules", "--rules", str(locked))
        assert (done.returncode, done.stderr) == (2, f"cleaner: error: {locked}: cannot read rules directory: "
                                                     "Permission denied\n")
        assert not (base / "out").exists()
    finally:
        private.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
