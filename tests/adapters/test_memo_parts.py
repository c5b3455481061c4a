"""adapters.cache.memoized_parts: a whole result stored as several entries, each written as it
comes and read back one at a time, used only when ``join`` accepts what is stored."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from complaints.adapters import cache


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    folder = tmp_path / "repo"
    folder.mkdir()
    return folder


def _split(value: dict[str, list[int]]) -> Iterator[tuple[str, Any]]:
    yield from value.items()


class _Join:
    """Accepts parts named a..z holding lists of ints; counts what it was given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, parts: Iterator[tuple[str, Any]]) -> dict[str, list[int]] | None:
        value: dict[str, list[int]] = {}
        for name, part in parts:
            self.seen.append(name)
            if len(name) != 1 or not isinstance(part, list) or not all(type(n) is int for n in part):
                return None
            value[name] = part
        return value or None


def test_what_is_stored_is_joined_back_without_computing(root: Path) -> None:
    value = {"a": [1, 2], "b": [3], "c": list(range(1000))}
    computed: list[int] = []

    def compute() -> dict[str, list[int]]:
        computed.append(1)
        return value

    join = _Join()
    assert cache.memoized_parts(root, "parts", "p1", compute, _split, join) == value
    assert computed == [1] and join.seen == []  # nothing stored yet
    assert cache.memoized_parts(root, "parts", "p1", compute, _split, join) == value
    assert computed == [1] and join.seen == ["a", "b", "c"]  # in the order written
    # Another purpose is another key: computed again.
    assert cache.memoized_parts(root, "parts", "p2", compute, _split, _Join()) == value
    assert computed == [1, 1]


def test_parts_the_join_refuses_are_computed_afresh_and_replaced(root: Path) -> None:
    bad = {"a": [1], "bb": [2], "c": [3]}
    cache.memoized_parts(root, "parts", "p", lambda: bad, _split, _Join())
    join = _Join()
    good = {"a": [4]}
    assert cache.memoized_parts(root, "parts", "p", lambda: good, _split, join) == good
    assert join.seen == ["a", "bb"]  # stopped at the part it refused: the rest never decoded
    again = _Join()
    assert cache.memoized_parts(root, "parts", "p", lambda: bad, _split, again) == good  # the replacement
    assert again.seen == ["a"]


def test_a_part_that_cannot_be_stored_leaves_no_file(root: Path) -> None:
    def split(value: Any) -> Iterator[tuple[str, Any]]:
        yield "a", [1]
        yield "b", object()  # not plain data: the file is spoilt, not written

    assert cache.memoized_parts(root, "parts", "p", lambda: {"a": [1]}, split, _Join()) == {"a": [1]}
    store = cache.ResultCache(root, "parts", cache.environment_key(root, "p"))
    assert store.load() == {}


def test_a_split_that_raises_aborts_the_write(root: Path) -> None:
    cache.memoized_parts(root, "parts", "p", lambda: {"a": [1]}, _split, _Join())

    def split(value: Any) -> Iterator[tuple[str, Any]]:
        yield "a", [2]
        raise RuntimeError("stopped")

    store = cache.ResultCache(root, "parts", cache.environment_key(root, "p"))
    assert store.path is not None
    store.path.write_bytes(b"damaged")  # so that the next call computes
    with pytest.raises(RuntimeError):
        cache.memoized_parts(root, "parts", "p", lambda: {"a": [2]}, split, _Join())
    assert store.path.read_bytes() == b"damaged"  # the half-written file never replaced it
    assert not [p for p in store.path.parent.iterdir() if p.name != store.path.name and p.name.startswith("parts")]
