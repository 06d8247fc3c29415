"""The work-location helpers behave the same on a local directory and on an fsspec store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import empty_memory_stores

from cleaner import storage


@pytest.fixture(autouse=True)
def empty_memory_store() -> Iterator[None]:
    empty_memory_stores()
    yield
    empty_memory_stores()


@pytest.fixture(params=["local", "file-url", "memory"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return {"local": str(tmp_path / "work"), "file-url": f"file://{tmp_path}/work",
            "memory": "memory://bucket/work"}[request.param]


def test_write_read_list_remove(location: str) -> None:
    storage.make_dirs(location)
    assert storage.list_names(location) == []
    storage.write_atomically(storage.join(location, "b.pkl"), b"second")
    with storage.open_atomically(storage.join(location, "a.pkl"), durable=True) as handle:
        handle.write(b"first")
    assert storage.list_names(location) == ["a.pkl", "b.pkl"]
    assert storage.read_bytes(storage.join(location, "a.pkl")) == b"first"
    assert storage.exists(storage.join(location, "b.pkl"))
    storage.remove(storage.join(location, "b.pkl"))
    storage.remove(storage.join(location, "b.pkl"))  # already gone: fine
    assert storage.list_names(location) == ["a.pkl"]
    storage.remove_tree(location)
    assert not storage.exists(storage.join(location, "a.pkl"))
    assert storage.list_names(location) == []


def test_failed_write_leaves_nothing(location: str) -> None:
    storage.make_dirs(location)
    target = storage.join(location, "x.pkl")
    storage.write_atomically(target, b"old")
    with pytest.raises(RuntimeError), storage.open_atomically(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("worker died")
    assert storage.read_bytes(target) == b"old"
    assert storage.list_names(location) == ["x.pkl"]  # no temporary left beside it


def test_join() -> None:
    assert storage.join("s3://bucket/work/", "00000001.docs.pkl") == "s3://bucket/work/00000001.docs.pkl"
    assert storage.join("/tmp/w", "runs", "3") == "/tmp/w/runs/3"
    assert storage.join(Path("/tmp/w")) == "/tmp/w"
