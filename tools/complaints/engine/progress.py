"""Progress of long runs over many case files, reported to whoever listens.

The library calls :func:`tick` as files are checked; the CLI listens (on a terminal only) and
draws "checked N/TOTAL files" on standard error. Nothing here prints or reads the clock.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

Listener = Callable[[int, int], None]  # (files done, files in the run)

_listeners: list[Listener] = []


def tick(done: int, total: int) -> None:
    for listener in _listeners:
        listener(done, total)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
