"""Inputs and outputs named by fsspec URLs give the same output as the same tree on local disk.

Real fsspec filesystems throughout: ``memory://`` (in this process, and in forked workers,
which inherit its contents) and ``file://``. The one fault-injecting filesystem below is a
real fsspec implementation that loses its connection after a number of writes, the way a
network store does mid-upload.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import shutil
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from conftest import SEEDS, empty_memory_stores, run_cli
from fsspec.implementations.memory import MemoryFileSystem

from cleaner import remote
from cleaner.pipeline import InputFailure, Settings, run
from cleaner.readers import ReadOptions, read_input, split_lines
from cleaner.readers.discover import InputError, discover
from cleaner.readers.jsonl import read_jsonl
from cleaner.remote import RemotePath, published
from cleaner.rules.loader import RuleSet
from cleaner.writers.output_dir import OutputError

GLOB = "*.txt,*.jsonl,*.jsonl.gz"


class FlakyMemoryFileSystem(MemoryFileSystem):
    """An in-memory store whose connection drops after `writes_left` more object writes."""

    protocol = "flakymem"
    store: dict = {}
    pseudo_dirs = [""]
    writes_left = 1_000_000

    @classmethod
    def _strip_protocol(cls, path):  # type: ignore[no-untyped-def]
        if isinstance(path, str) and path.startswith("flakymem://"):
            path = "memory://" + path[len("flakymem://"):]
        return super()._strip_protocol(path)

    def _count_write(self) -> None:
        if FlakyMemoryFileSystem.writes_left <= 0:
            raise ConnectionError("connection reset by peer")
        FlakyMemoryFileSystem.writes_left -= 1

    def put_file(self, lpath, rpath, **kwargs):  # type: ignore[no-untyped-def]
        self._count_write()
        return super().put_file(lpath, rpath, **kwargs)

    def cp_file(self, path1, path2, **kwargs):  # type: ignore[no-untyped-def]
        self._count_write()
        return super().cp_file(path1, path2, **kwargs)


fsspec.register_implementation("flakymem", FlakyMemoryFileSystem, clobber=True)


@pytest.fixture(autouse=True)
def empty_stores() -> Iterator[None]:
    empty_memory_stores(FlakyMemoryFileSystem)
    FlakyMemoryFileSystem.writes_left = 1_000_000
    yield
    empty_memory_stores(FlakyMemoryFileSystem)


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def make_corpus(root: Path) -> Path:
    """The seeds plus JSON Lines (plain and gzip) in a subfolder, under a folder named `corpus`."""
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus / "seeds")
    records = [{"text": (SEEDS / name).read_text(encoding="utf-8"), "url": f"https://example.org/{i}"}
               for i, name in enumerate(sorted(p.name for p in SEEDS.iterdir()))]
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + "not json\n"
    (corpus / "records").mkdir()
    (corpus / "records" / "a.jsonl").write_text(lines, encoding="utf-8")
    (corpus / "records" / "b.jsonl.gz").write_bytes(gzip.compress(lines[::-1].encode("utf-8"), mtime=0))
    return corpus


def upload(local: Path, url: str) -> None:
    fs = fsspec.filesystem(url.partition("://")[0])
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.pipe_file(f"{url}/{path.relative_to(local).as_posix()}", path.read_bytes())


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def remote_tree(url: str) -> dict[str, bytes]:
    fs, _, (path,) = fsspec.get_fs_token_paths(url)
    return {name[len(path) + 1:]: fs.cat_file(name) for name in sorted(fs.find(path))}


def local_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def comparable(tree: dict[str, bytes]) -> dict[str, object]:
    """Output files as they must match between runs: the manifest without its timings."""
    result: dict[str, object] = dict(tree)
    manifest = json.loads(tree["manifest.json"])
    manifest.pop("timings")
    result["manifest.json"] = manifest
    return result


def clean(inputs: list[str], out: str, rules: RuleSet, **settings: object) -> None:
    """What `cleaner clean` does with -o OUT (the glue the CLI needs for URL outputs)."""
    with published(out, inputs) as local:
        run(inputs, local, rules, Settings(glob=GLOB, formats=("jsonl", "txt"), **settings))  # type: ignore[arg-type]


@pytest.fixture
def local_run(tmp_path: Path, shipped_rules: RuleSet) -> tuple[Path, dict[str, object]]:
    corpus = make_corpus(tmp_path / "local")
    clean([str(corpus)], str(tmp_path / "local-out"), shipped_rules)
    expected = comparable(tree_bytes(tmp_path / "local-out"))
    assert b"invalid JSON" in tree_bytes(tmp_path / "local-out")["stats.json"]  # the bad lines are reported
    return corpus, expected


def test_memory_inputs_give_the_same_output_as_local(local_run: tuple[Path, dict[str, object]], tmp_path: Path,
                                                     shipped_rules: RuleSet) -> None:
    corpus, expected = local_run
    upload(corpus, "memory://bucket/corpus")
    clean(["memory://bucket/corpus/"], str(tmp_path / "out1"), shipped_rules)
    assert comparable(tree_bytes(tmp_path / "out1")) == expected


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                    reason="forked workers inherit the memory filesystem; spawned ones start empty")
def test_memory_inputs_in_two_worker_processes(local_run: tuple[Path, dict[str, object]], tmp_path: Path,
                                               shipped_rules: RuleSet) -> None:
    """Workers get only URLs and re-create the filesystem from them."""
    corpus, expected = local_run
    upload(corpus, "memory://bucket/corpus")
    clean(["memory://bucket/corpus"], str(tmp_path / "out2"), shipped_rules, workers=2)
    assert comparable(tree_bytes(tmp_path / "out2")) == expected


@pytest.mark.parametrize("workers", [1, 2])
def test_file_urls_in_and_out(local_run: tuple[Path, dict[str, object]], tmp_path: Path, shipped_rules: RuleSet,
                              workers: int) -> None:
    corpus, expected = local_run
    out = tmp_path / "file-out"
    clean([corpus.as_uri()], out.as_uri(), shipped_rules, workers=workers)
    assert comparable(tree_bytes(out)) == expected
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".file-out")]


def test_memory_output_is_published_and_replaced(local_run: tuple[Path, dict[str, object]],
                                                 shipped_rules: RuleSet) -> None:
    corpus, expected = local_run
    clean([str(corpus)], "memory://bucket/clean", shipped_rules)
    assert comparable(remote_tree("memory://bucket/clean")) == expected
    # A second run with fewer inputs replaces OUT whole: nothing of the first output remains.
    clean([str(corpus / "seeds")], "memory://bucket/clean", shipped_rules)
    second = remote_tree("memory://bucket/clean")
    assert any(name.startswith("text/records/") for name in remote_tree("memory://bucket/clean") | expected) and \
        not any(name.startswith("text/records/") for name in second)
    assert sorted(name for name in second if name.startswith("text/")) == \
        sorted(f"text/{p.name}" for p in (corpus / "seeds").iterdir())
    assert sorted(MemoryFileSystem().ls("/bucket", detail=False)) == ["/bucket/clean"]  # no staging left over


def test_glob_over_a_url_matches_like_a_local_glob(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    (corpus / "seeds" / ".hidden.txt").write_text("hidden", encoding="utf-8")
    upload(corpus, "memory://bucket/corpus")
    for pattern in ("**/*.txt", "*/*.jsonl*", "seeds/00[0-2]_*.txt", "**/.*.txt"):
        local = discover([f"{corpus}/{pattern}"])
        remote = discover([f"memory://bucket/corpus/{pattern}"])
        assert local, pattern
        assert [(f.relative, f.source_name) for f in remote] == [(f.relative, f.source_name) for f in local]
        assert all(isinstance(f.path, RemotePath) for f in remote)


def test_a_remote_jsonl_splits_into_the_same_byte_ranges(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    upload(corpus, "memory://bucket/corpus")
    local, remote = corpus / "records" / "a.jsonl", RemotePath("memory://bucket/corpus/records/a.jsonl")
    digest, size, ranges = split_lines(local, 200)
    assert split_lines(remote, 200) == (digest, size, ranges)
    assert len(ranges) > 2
    (item,) = discover([remote.url])
    assert item.relative == "a.jsonl" and item.source_name == "records"
    options, errors = ReadOptions(), []
    whole = list(read_input(item, options, errors.append))
    parts = [doc for part in ranges for doc in read_jsonl(remote, whole[0].source, errors.append, byte_range=part)]
    assert [d.text for d in parts] == [d.text for d in whole] and len(whole) == 5
    assert [d.source.record for d in parts] == [0, 1, 2, 3, 4]


def test_missing_url_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match=r"^memory://bucket/nothing: no such file or directory$"):
        discover(["memory://bucket/nothing"])
    with pytest.raises(InputError, match=r"^memory://bucket/\*\.txt: no input matches this pattern$"):
        discover(["memory://bucket/*.txt"])
    with pytest.raises(InputError, match=r"^nosuchproto://x: cannot open: ValueError: Protocol not known"):
        discover(["nosuchproto://x"])
    assert run_cli("clean", "memory://bucket/nothing", "-o", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "memory://bucket/nothing: no such file or directory" in err


def test_failed_run_leaves_previous_remote_output(local_run: tuple[Path, dict[str, object]],
                                                  shipped_rules: RuleSet) -> None:
    corpus, expected = local_run
    clean([str(corpus)], "memory://bucket/clean", shipped_rules)
    with pytest.raises(InputFailure, match="invalid JSON"):
        clean([str(corpus)], "memory://bucket/clean", shipped_rules, on_error="fail")
    assert comparable(remote_tree("memory://bucket/clean")) == expected
    assert sorted(MemoryFileSystem().ls("/bucket", detail=False)) == ["/bucket/clean"]


def test_failed_upload_leaves_previous_output(local_run: tuple[Path, dict[str, object]],
                                              shipped_rules: RuleSet) -> None:
    corpus, expected = local_run
    clean([str(corpus)], "flakymem://bucket/clean", shipped_rules)
    FlakyMemoryFileSystem.writes_left = 3
    with pytest.raises(OutputError, match=r"^flakymem://bucket/clean: upload failed, previous output left in "
                                          r"place: ConnectionError: connection reset by peer$"):
        clean([str(corpus / "seeds")], "flakymem://bucket/clean", shipped_rules)
    assert comparable(remote_tree("flakymem://bucket/clean")) == expected
    assert sorted(FlakyMemoryFileSystem().ls("/bucket", detail=False)) == ["/bucket/clean"]


def test_failed_swap_keeps_previous_output_and_never_a_stale_manifest(
        local_run: tuple[Path, dict[str, object]], shipped_rules: RuleSet) -> None:
    """The connection drops while the new output is copied into OUT, after the old one was retired."""
    corpus, expected = local_run
    clean([str(corpus)], "flakymem://bucket/clean", shipped_rules)
    clean([str(corpus / "seeds")], str(corpus.parent / "seeds-out"), shipped_rules)
    new_files = len(tree_bytes(corpus.parent / "seeds-out"))
    FlakyMemoryFileSystem.writes_left = new_files + len(expected) + 2  # upload, retire, then two copies into OUT
    with pytest.raises(OutputError, match="publishing failed part-way") as failure:
        clean([str(corpus / "seeds")], "flakymem://bucket/clean", shipped_rules)
    out = remote_tree("flakymem://bucket/clean")
    assert len(out) == 2 and "manifest.json" not in out  # OUT is visibly unfinished, never old files under a manifest
    retired = str(failure.value).split("previous output is in ")[1].split(",")[0]
    assert comparable(remote_tree(retired)) == expected
    with pytest.raises(OutputError, match="was not written by cleaner"):
        clean([str(corpus)], "flakymem://bucket/clean", shipped_rules)


def test_remote_output_checks(tmp_path: Path, shipped_rules: RuleSet) -> None:
    corpus = make_corpus(tmp_path)
    upload(corpus, "memory://bucket/corpus")
    with pytest.raises(OutputError, match="^memory://bucket/corpus/out: output directory is inside the input"):
        clean(["memory://bucket/corpus"], "memory://bucket/corpus/out", shipped_rules)
    with pytest.raises(OutputError, match="^memory://bucket/corpus/seeds: exists and was not written by cleaner"):
        clean([str(corpus)], "memory://bucket/corpus/seeds", shipped_rules)
    with pytest.raises(OutputError, match="^memory://bucket/corpus/records/a.jsonl: exists and is not a directory"):
        clean([str(corpus)], "memory://bucket/corpus/records/a.jsonl", shipped_rules)
    assert remote_tree("memory://bucket/corpus") == tree_bytes(corpus)  # inputs never modified


def split_seeds(root: Path) -> tuple[Path, Path]:
    """Two batches of a corpus: the seeds, then the seeds again plus one new article, so the
    second run of an incremental pair skips or deduplicates everything but the new article."""
    first, second = root / "first", root / "second"
    shutil.copytree(SEEDS, first)
    shutil.copytree(SEEDS, second)
    (second / "new.txt").write_text("Ein neuer Artikel über den Hafen von Hamburg und seine Geschichte.\n" * 3,
                                    encoding="utf-8")
    return first, second


def test_state_at_a_url_gives_the_incremental_runs_of_a_local_state(tmp_path: Path) -> None:
    first, second = split_seeds(tmp_path)
    for state, tag in ((str(tmp_path / "state"), "local"), ("memory://bucket/state", "url")):
        for batch in (first, second):
            # one worker: memory:// lives in this process, where the state's files are written
            assert run_cli("clean", batch, "-o", tmp_path / f"{tag}-{batch.name}", "--state", state,
                           "--workers", "1") == 0
    for batch in ("first", "second"):
        local, remote = tree_bytes(tmp_path / f"local-{batch}"), tree_bytes(tmp_path / f"url-{batch}")
        assert local["documents.jsonl"] == remote["documents.jsonl"]
        assert json.loads(remote["manifest.json"])["state"] == "memory://bucket/state"
    second_run = tree_bytes(tmp_path / "url-second")["documents.jsonl"].decode().splitlines()
    assert len(second_run) == 1 and "Hafen" in second_run[0]  # the seeds were remembered as seen
    remote, local = remote_tree("memory://bucket/state"), local_tree(tmp_path / "state")
    assert remote == local and "index.json" in remote  # the same runs; no temporary upload left


@pytest.mark.parametrize("state_at", ["path", "url"])
def test_state_moves_on_only_when_the_url_output_is_published(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              state_at: str) -> None:
    """An upload that fails must leave the state as it was: otherwise the next run would skip
    inputs whose output never arrived. The failed run's uncommitted files go with the next run."""
    first, second = split_seeds(tmp_path)
    state = str(tmp_path / "state") if state_at == "path" else "memory://bucket/state"
    options = ["--state", state, "--workers", "1"]

    def index() -> bytes:
        return (Path(state) / "index.json").read_bytes() if state_at == "path" else remote_tree(state)["index.json"]

    def runs() -> set[str]:
        names = local_tree(Path(state)) if state_at == "path" else remote_tree(state)
        return {name.split("/")[1] for name in names if name.startswith("runs/")}

    assert run_cli("clean", first, "-o", "flakymem://bucket/out", *options) == 0
    before = index()
    FlakyMemoryFileSystem.writes_left = 2
    assert run_cli("clean", second, "-o", "flakymem://bucket/out", *options, "--force") != 0
    assert "upload failed" in capsys.readouterr().err
    assert index() == before and runs() == {"00000001", "00000002"}  # run 2 written, not committed
    FlakyMemoryFileSystem.writes_left = 1_000_000
    assert run_cli("clean", second, "-o", "flakymem://bucket/out", *options, "--force") == 0
    assert index() != before and [run["name"] for run in json.loads(index())["runs"]] == ["00000001", "00000002"]
    assert runs() == {"00000001", "00000002"}  # the failed run's files went first
    assert b"Hafen von Hamburg" in remote_tree("flakymem://bucket/out")["documents.jsonl"]


def test_remote_state_is_untouched_by_a_failed_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = split_seeds(tmp_path)
    assert run_cli("clean", first, "-o", tmp_path / "out1", "--state", "memory://bucket/state") == 0
    before = remote_tree("memory://bucket/state")
    (second / "kaputt.txt").write_bytes(b"\x00binary\x00" * 10)
    assert run_cli("clean", second, "-o", tmp_path / "out2", "--state", "memory://bucket/state",
                   "--on-error", "fail") != 0
    assert "kaputt.txt" in capsys.readouterr().err
    assert remote_tree("memory://bucket/state") == before


@pytest.mark.parametrize("state_at", ["path", "url"])
@pytest.mark.parametrize("out_at", ["path", "url"])
def test_state_stays_when_a_guard_trips_after_dedup_and_resume_finishes_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], state_at: str, out_at: str) -> None:
    """A run that deduplicated (its new run written into the state) but may not replace OUT
    leaves the state as it was, for a state and an OUT at a path or a URL; --resume then takes
    over its finished tasks (the state, keyed by its index, is the same) and commits."""
    first, second = split_seeds(tmp_path)
    state = str(tmp_path / "state") if state_at == "path" else "memory://bucket/state"
    out = [str(tmp_path / f"out-{i}") if out_at == "path" else f"memory://bucket/out-{i}" for i in (1, 2)]
    options = ["--state", state, "--workers", "1"]
    assert run_cli("clean", first, "-o", out[0], *options) == 0

    def state_files() -> dict[str, bytes]:
        return local_tree(Path(state)) if state_at == "path" else remote_tree(state)

    before = state_files()
    assert run_cli("clean", second, "-o", out[1], *options, "--min-output-docs", "2") == 3
    assert "previous output left in place" in capsys.readouterr().err
    assert state_files() == before  # the uncommitted run's files went too
    assert run_cli("clean", second, "-o", out[1], *options, "--resume") == 0
    written = tree_bytes(Path(out[1])) if out_at == "path" else remote_tree(out[1])
    assert json.loads(written["manifest.json"])["timings"]["tasks_resumed"] == 1
    assert len(written["documents.jsonl"].decode().splitlines()) == 1 and b"Hafen" in written["documents.jsonl"]
    index = json.loads(state_files()["index.json"])
    assert len(index["runs"]) == 2 and index["runs"][1]["documents"] == 1


def test_workers_write_a_url_output_straight_to_its_staging_prefix(
        local_run: tuple[Path, dict[str, object]], shipped_rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """OUT and --work-dir both URLs (a cluster: workers do not share the driver's disk): workers
    spill to the work URL and write shards and texts to OUT's staging prefix; the driver uploads
    only stats.json and manifest.json. The output is the same, and a failed run leaves the
    previous one and no staging prefix."""
    corpus, expected = local_run
    uploaded: list[list[str]] = []
    real_publish = remote.publish

    def recording(local: Path, *args: object) -> None:
        uploaded.append(sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()))
        real_publish(local, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(remote, "publish", recording)
    args = ["clean", str(corpus), "-o", "memory://bucket/clean", "--glob", GLOB, "--format", "jsonl,txt",
            "--work-dir", "memory://bucket/tmp", "--workers", "1", "-q"]
    assert run_cli(*args) == 0
    assert uploaded == [["manifest.json", "stats.json"]]
    assert comparable(remote_tree("memory://bucket/clean")) == expected
    assert sorted(MemoryFileSystem().ls("/bucket", detail=False)) == ["/bucket/clean", "/bucket/tmp"]
    assert MemoryFileSystem().find("/bucket/tmp") == []  # this run's work prefix is gone, the staging prefix too
    assert run_cli(*args, "--on-error", "fail") == 1
    assert comparable(remote_tree("memory://bucket/clean")) == expected
    assert not [name for name in MemoryFileSystem().ls("/bucket", detail=False) if ".clean.staging-" in name]
    assert run_cli(*args, "--report") == 2
