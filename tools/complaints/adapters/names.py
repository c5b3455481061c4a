"""A sorted list of file names held compactly: the listing of cases/ at a million files.

A Python list of a million ``str`` takes about 85 bytes a name (the object, its header and
the list's pointer); the same names as one buffer of their UTF-8 bytes, each followed by a
NUL, with an array of where each ends, take about 45. The scan's worker processes are forked
after the listing is made and share its pages with the command: two objects, not a million,
so no worker's garbage collector or reference count ever writes to them.

Names are encoded with ``surrogatepass``, so that every ``str`` (a name of bytes that are not
UTF-8 reaches Python with surrogate escapes) is held and given back exactly; that encoding
keeps the order of code points, so the buffer is in the order Python sorts the names in.
"""
from __future__ import annotations

import operator
from array import array
from itertools import accumulate, islice
from typing import Iterable, Iterator, Sequence, overload

_ENCODING = ("utf-8", "surrogatepass")
# Names decoded at a time when iterating.
_CHUNK = 4096


class FileNames(Sequence[str]):
    """Names in strictly increasing order (as ``sorted`` orders ``str``), each given back as
    a new ``str`` when asked for. A slice is a plain list of its names."""

    __slots__ = ("_data", "_ends")

    def __init__(self, data: bytes = b"", ends: array[int] | None = None) -> None:
        self._data = data
        self._ends = ends if ends is not None else array("q")

    @classmethod
    def of(cls, names: Iterable[str]) -> FileNames:
        """The names, sorted, each once."""
        builder = NamesBuilder()
        builder.extend(sorted(set(names)))
        return builder.build()

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._ends))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._between(start, stop)
        i = operator.index(index)
        n = len(self._ends)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("FileNames index out of range")
        begin = self._ends[i - 1] if i else 0
        return self._data[begin : self._ends[i] - 1].decode(*_ENCODING)

    def _between(self, start: int, stop: int) -> list[str]:
        if stop <= start:
            return []
        begin = self._ends[start - 1] if start else 0
        return self._data[begin : self._ends[stop - 1] - 1].decode(*_ENCODING).split("\x00")

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self._ends), _CHUNK):
            yield from self._between(start, start + _CHUNK if start + _CHUNK < len(self._ends) else len(self._ends))

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        low, high = 0, len(self._ends)
        while low < high:  # the names are sorted: a search, not a scan
            mid = (low + high) // 2
            if self[mid] < name:
                low = mid + 1
            else:
                high = mid
        return low < len(self._ends) and self[low] == name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FileNames):
            return self._data == other._data and self._ends == other._ends
        if isinstance(other, (list, tuple)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._data)

    def __repr__(self) -> str:
        shown = ", ".join(repr(n) for n in self[:3])
        return f"FileNames([{shown}{', ...' if len(self) > 3 else ''}], {len(self)} names)"

    def joined(self, start: int, stop: int) -> bytes:
        """The names ``start`` to ``stop`` (exclusive) as their encoded bytes, each followed by
        NUL, as ``git ls-files -z`` writes them (one slice, nothing decoded)."""
        stop = min(stop, len(self._ends))
        if stop <= start:
            return b""
        begin = self._ends[start - 1] if start else 0
        return self._data[begin : self._ends[stop - 1]]

    def ending_with(self, suffix: str) -> FileNames:
        """The names that end with ``suffix`` (itself when all do, which costs one count)."""
        tail = suffix.encode(*_ENCODING) + b"\x00"
        if self._data.count(tail) == len(self._ends):
            return self
        builder = NamesBuilder()
        builder.extend(n for n in self if n.endswith(suffix))
        return builder.build()


_SMALL = "I" if array("I").itemsize == 4 else "q"
_SMALL_LIMIT = 1 << 32 if _SMALL == "I" else 1 << 63


class NamesBuilder:
    """FileNames made from names given in increasing order (the caller's promise: the
    listing below gives them so), a batch at a time."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        # Four bytes an end while the names take under 4 GiB (a million names take 40 MB), then eight.
        self._ends = array(_SMALL)

    def extend(self, names: Iterable[str]) -> None:
        batch = list(names)
        if not batch:
            return
        text = "\x00".join(batch) + "\x00"
        data = text.encode(*_ENCODING)
        if self._size + len(data) >= _SMALL_LIMIT and self._ends.typecode == _SMALL:
            self._ends = array("q", self._ends)
        if len(data) == len(text):  # all ASCII: a name's length is its length in bytes
            self._ends.extend(islice(accumulate((len(n) + 1 for n in batch), initial=self._size), 1, None))
        else:
            at = self._size
            for name in batch:
                at += len(name.encode(*_ENCODING)) + 1
                self._ends.append(at)
        self._parts.append(data)
        self._size += len(data)

    def build(self) -> FileNames:
        data = b"".join(self._parts)
        self._parts = []
        return FileNames(data, self._ends)

