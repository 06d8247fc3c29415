"""A run killed at any moment leaves OUT either as it was or complete, never a mix.

The kill test overwrites a complete earlier OUT (and its --state) with a run over a bigger corpus
and kills it with SIGKILL in every phase (seeded jitter after progress points read from the
files the run writes); after every kill documents.jsonl, rejected.jsonl and stats.json must be
byte for byte the old reference or the new one (SOURCE_DATE_EPOCH pins timestamps), and the
next normal run must succeed and clean up what the killed runs left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SEEDS, run_cli

from cleaner.dedup.settings import DedupSettings
from cleaner.dedup.state import FILENAME as DEDUP_STATE_FILE
from cleaner.dedup.state import DedupState
from cleaner.writers.output_dir import StagedOutput

KILLS = int(os.environ.get("CRASH_KILLS", "8"))
COMPARED = ("documents.jsonl", "rejected.jsonl", "stats.json")
EPOCH = "1700000000"


def make_corpus(root: Path, files: int) -> Path:
    """Seed texts with a numbered addendum each, so every file is a distinct document."""
    root.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for i in range(files):
        text = seeds[i % len(seeds)].read_text(encoding="utf-8")
        addendum = f"\nNachtrag {i}: Die Redaktion hat diesen Text am Tag {i} um einen Absatz ergänzt.\n"
        (root / f"{i // 50:02d}" / f"{i:04d}.txt").parent.mkdir(exist_ok=True)
        (root / f"{i // 50:02d}" / f"{i:04d}.txt").write_text(text + addendum, encoding="utf-8")
    return root


def tree_digest(root: Path) -> dict[str, str]:
    """Every file, directory and link under root with its content hash and mode."""
    entries = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        entries[path.relative_to(root).as_posix()] = f"{info.st_mode:o} {info.st_mtime_ns} {content}"
    return entries


def outputs(out: Path) -> dict[str, bytes | None]:
    return {name: (out / name).read_bytes() if (out / name).exists() else None for name in COMPARED}


# A real `cleaner clean` process per kill, forked from a process that has already loaded the
# interpreter, the libraries and the rules once (a cold start takes ~2 s, all before OUT is
# touched; forking skips it so the kills land in the part of the run that writes).
LAUNCHER = """\
import json, os, sys
from cleaner.cli import main
main(json.loads(sys.stdin.readline()))  # warm-up run
print("ready", flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        os._exit(main(json.loads(line)))
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""


class Launcher:
    def __init__(self, warm_up: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        self._send(warm_up)
        assert self._receive() == "ready"

    def start(self, args: list[str]) -> int:
        self._send(args)
        return int(self._receive())

    def exit_code(self) -> int:
        return int(self._receive())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)

    def _send(self, args: list[str]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(args) + "\n")
        self.process.stdin.flush()

    def _receive(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()


def clean_args(corpus: Path, out: Path, state: Path) -> list[str]:
    return ["clean", str(corpus), "-o", str(out), "--state", str(state), "--workers", "1", "-q"]


def leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def reached(parent: Path, name: str, phase: str, previous_stats: bytes) -> bool:
    """Has the run writing parent/name got this far? Progress is read from the files it writes,
    not from the clock, so the kills land in the same phases however loaded the machine is."""
    if phase == "swapped":  # OUT is the new output; the state is saved next
        try:
            return (parent / name / "stats.json").read_bytes() != previous_stats
        except FileNotFoundError:
            return False
    staging = list(parent.glob(f".{name}.staging-*"))
    if phase.startswith("spilled"):  # phase 1: this many tasks (of 64 files) cleaned and spilled
        done = len(list((parent / f".{name}.work").glob("*.docs.pkl")))
        return bool(staging) and done >= int(phase.split()[1])
    if phase == "records":  # phase 2: workers writing each task's records to part files
        return bool(staging) and any((parent / f".{name}.work").glob("*.documents.jsonl"))
    if phase == "writing":  # phase 2: workers cutting the parts into output shards
        return any((s / "documents.jsonl").exists() for s in staging)
    return any((s / "manifest.json").exists() for s in staging)  # complete: fsync and swap next


def snapshot(state: Path) -> tuple[tuple[str, bytes], ...] | None:
    """The state's content: its archive members, without the zip timestamps that differ per save."""
    path = state / DEDUP_STATE_FILE
    if not path.exists():
        return None
    with zipfile.ZipFile(path) as archive:
        return tuple((info.filename, archive.read(info)) for info in archive.infolist())


def test_kill_9_leaves_old_or_new_output_and_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills at seeded moments of every phase of a run that replaces OUT and updates --state.

    After each kill OUT is the old or the new output, the state is the old or the new state and
    loads, and a new state never goes with an old OUT (the state is saved after OUT is in place).
    """
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    env = {**os.environ, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": EPOCH}
    old_corpus, new_corpus = make_corpus(tmp_path / "old", 10), make_corpus(tmp_path / "new", 100)  # 2 tasks
    inputs_before = {"old": tree_digest(old_corpus), "new": tree_digest(new_corpus)}
    reference_old, reference_new = tmp_path / "ref-old", tmp_path / "ref-new"
    state_old, state_new = tmp_path / "state-old", tmp_path / "state-new"
    launcher = Launcher(clean_args(old_corpus, reference_old, state_old), env)
    work = tmp_path / "work"
    work.mkdir()
    out, state = work / "out", work / "state"
    try:
        shutil.copytree(state_old, state_new)
        launcher.start(clean_args(new_corpus, reference_new, state_new))
        assert launcher.exit_code() == 0
        old, new = outputs(reference_old), outputs(reference_new)
        assert old != new and all(new[name] is not None for name in ("documents.jsonl", "stats.json"))
        states = {snapshot(state_old): "old", snapshot(state_new): "new"}
        assert len(states) == 2 and None not in states
        previous_stats = (reference_old / "stats.json").read_bytes()

        rng = random.Random(6)
        phases = ["spilled 0", "spilled 1", "records", "writing", "complete", "swapped"]
        phases += rng.sample(phases, max(0, KILLS - len(phases)))
        outcomes = []
        for phase in phases:
            jitter = 0.0 if phase in ("complete", "swapped") else rng.uniform(0.0, 0.2)
            for target, source in ((out, reference_old), (state, state_old)):
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target)
            pid = launcher.start(clean_args(new_corpus, out, state))
            deadline = time.monotonic() + 120
            while not reached(work, "out", phase, previous_stats) and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(jitter)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            code = launcher.exit_code()
            now = outputs(out)
            assert now in (old, new), f"mixed output after a kill at {phase} +{jitter:.2f}s"
            output_is = "new" if now == new else "old"
            state_is = states.get(snapshot(state))
            assert state_is is not None, f"state is neither the old nor the new one after a kill at {phase}"
            DedupState.load(state, DedupSettings())
            assert (output_is, state_is) != ("old", "new")
            outcomes.append(f"{phase} +{jitter:.2f}s: out {output_is}, state {state_is}"
                            + ("" if code == -signal.SIGKILL else f" (exit {code} before the kill)"))
        print("kill -9 at", *outcomes, sep="\n  ")
    finally:
        launcher.close()

    shutil.rmtree(state)
    shutil.copytree(state_old, state)
    assert run_cli("clean", new_corpus, "-o", out, "--state", state, "--workers", "1", "-q") == 0
    assert outputs(out) == new and snapshot(state) == snapshot(state_new)
    assert leftovers(work, "out") == []  # staging, retired, lock and work files of killed runs are gone
    assert {"old": tree_digest(old_corpus), "new": tree_digest(new_corpus)} == inputs_before


def test_inputs_are_never_modified(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", 6)
    os.symlink(SEEDS / "000_9fa1950a3167ef65.txt", corpus / "link.txt")
    (corpus / "readonly.txt").write_text("Ein Satz, der nur gelesen werden darf.\n", encoding="utf-8")
    (corpus / "readonly.txt").chmod(0o444)
    before = tree_digest(corpus)
    assert run_cli("clean", corpus, "-o", tmp_path / "out", "--format", "jsonl,txt,parquet", "--workers", "1",
                   "-q") == 0
    assert tree_digest(corpus) == before


def test_output_inside_input_root_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = make_corpus(tmp_path / "corpus", 2)
    before = tree_digest(corpus)
    os.symlink(corpus, tmp_path / "alias")
    for out in (corpus, corpus / "out", tmp_path / "alias" / "out"):
        capsys.readouterr()
        assert run_cli("clean", corpus, "-o", out, "-q") == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "inside the input root" in err
    assert tree_digest(corpus) == before


def test_foreign_output_is_refused_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = make_corpus(tmp_path / "corpus", 2)
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"generator": "something else"}', encoding="utf-8")
    assert run_cli("clean", corpus, "-o", foreign, "-q") == 2
    assert "not written by cleaner" in capsys.readouterr().err
    assert (foreign / "manifest.json").read_text(encoding="utf-8") == '{"generator": "something else"}'
    afile = tmp_path / "a-file"
    afile.write_text("x", encoding="utf-8")
    assert run_cli("clean", corpus, "-o", afile, "-q") == 2
    assert "not a directory" in capsys.readouterr().err
    assert run_cli("clean", corpus, "-o", foreign, "--force", "-q") == 0
    assert json.loads((foreign / "manifest.json").read_text(encoding="utf-8"))["generator"] == "cleaner"


def test_second_run_on_the_same_output_is_refused_while_one_writes(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    corpus = make_corpus(tmp_path / "corpus", 2)
    out = tmp_path / "out"
    with StagedOutput(out) as staging:
        (staging / "manifest.json").write_text('{"generator": "cleaner"}', encoding="utf-8")
        assert run_cli("clean", corpus, "-o", out, "-q") == 2
        assert "another cleaner run is writing this output" in capsys.readouterr().err
    assert run_cli("clean", corpus, "-o", out, "-q") == 0
    assert leftovers(tmp_path, "out") == []


def test_output_retired_by_a_killed_fallback_swap_is_restored(tmp_path: Path) -> None:
    """Without renameat2 the swap is two renames; a kill between them leaves OUT retired and the
    new output staged. The next run puts the previous output back before anything else, so even
    when that run fails, OUT is the previous output; the stale staging directory is removed."""
    corpus = make_corpus(tmp_path / "corpus", 2)
    work = tmp_path / "work"
    work.mkdir()
    assert run_cli("clean", corpus, "-o", work / "out", "--workers", "1", "-q") == 0
    previous = outputs(work / "out")
    os.rename(work / "out", work / ".out.retired-0123456789ab")
    (work / ".out.staging-0123456789ab").mkdir()
    (work / ".out.staging-0123456789ab" / "documents.jsonl").write_text("half written", encoding="utf-8")
    (corpus / "broken.txt").write_bytes(b"\0binary")
    assert run_cli("clean", corpus, "-o", work / "out", "--workers", "1", "-q", "--on-error", "fail") == 1
    assert outputs(work / "out") == previous
    assert leftovers(work, "out") == [".out.work"]  # kept on failure for --resume
