"""engine/forked.py: work done in a forked child, its answer (or its exception) sent back; the
work done here instead wherever the child cannot answer."""
from __future__ import annotations

import datetime as dt
import gc
import os
import signal
import threading
import time
from typing import NamedTuple

import pytest

from complaints.engine import forked
from complaints.engine.forked import Aside

PARENT = os.getpid()


REAL_ALONE = forked._alone


@pytest.fixture(autouse=True)
def any_test_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test process may hold more than a command does (pytest, hypothesis, every test
    module) and run a thread of its own (pytest-xdist's): forking is not refused for either
    here, except where a test says so."""
    monkeypatch.setattr(forked, "MAX_RESIDENT", 1 << 40)
    monkeypatch.setattr(forked, "_alone", lambda: True)


def where() -> tuple[int, list[int]]:
    return os.getpid(), list(range(5))


def test_the_work_runs_in_a_child_and_its_result_comes_back() -> None:
    with Aside(where) as aside:
        assert aside.forked
        pid, value = aside.result()
    assert pid != PARENT and value == [0, 1, 2, 3, 4]


class Refused(ValueError):
    pass


def refuse() -> None:
    raise Refused(f"refused in {os.getpid()}")


def test_a_child_that_fails_leaves_the_work_to_this_process_which_raises() -> None:
    with Aside(refuse) as aside, pytest.raises(Refused) as raised:
        assert aside.forked
        aside.result()
    assert str(raised.value) == f"refused in {PARENT}"  # raised here, by the work done again here


def die_there() -> int:
    if os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid()


def not_plain_there() -> object:
    return (lambda: None) if os.getpid() != PARENT else os.getpid()


@pytest.mark.parametrize("work", [die_there, not_plain_there], ids=["child killed", "answer not plain data"])
def test_a_child_that_cannot_answer_leaves_the_work_to_this_process(work: object) -> None:
    with Aside(work) as aside:  # type: ignore[arg-type]
        assert aside.forked
        assert aside.result() == PARENT


class Point(NamedTuple):
    x: int
    day: dt.date


def points() -> list[tuple[int, Point]]:
    return [(os.getpid(), Point(1, dt.date(2026, 3, 2))), (2, Point(-3, dt.date(2025, 12, 31)))]


def test_the_answer_comes_back_as_the_records_named() -> None:
    with Aside(points, (Point,)) as aside:
        (pid, first), second = aside.result()
    assert pid != PARENT and first == Point(1, dt.date(2026, 3, 2)) and second == (2, Point(-3, dt.date(2025, 12, 31)))
    assert type(first) is Point


def test_without_fork_the_work_runs_here_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "FORKS", False)
    calls: list[int] = []
    aside = Aside(lambda: calls.append(os.getpid()) or len(calls))
    assert not aside.forked and calls == []
    assert aside.result() == 1 and calls == [PARENT]


def test_a_process_running_threads_does_not_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "_alone", REAL_ALONE)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forked._alone()
        with Aside(where) as aside:
            assert not aside.forked
            assert aside.result()[0] == PARENT
    finally:
        stop.set()
        thread.join()


def linger() -> None:
    time.sleep(60)


def test_leaving_before_the_result_stops_the_child() -> None:
    started = time.monotonic()
    with Aside(linger) as aside:
        pid = aside._pid
        assert pid is not None
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):  # stopped and reaped: no child of that id is left
        os.waitpid(pid, os.WNOHANG)


def test_the_child_leaves_the_objects_it_inherits_to_this_process() -> None:
    # Set aside from the child's garbage collector (which would otherwise write to every
    # inherited object's header, copying each page); this process takes them back at once.
    held = [object() for _ in range(1000)]
    with Aside(gc.get_freeze_count) as aside:
        assert gc.get_freeze_count() == 0
        inherited = aside.result()
    assert inherited > len(held)


def test_a_large_process_does_the_work_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    assert 0 < forked._resident() < 4 << 30  # this process's own, measured
    monkeypatch.setattr(forked, "MAX_RESIDENT", forked._resident() // 2)
    with Aside(where) as aside:
        assert not aside.forked
        assert aside.result()[0] == PARENT
