"""Work done beside this process: a function run in a forked child while this process goes on,
its result sent back through a pipe as plain data (JSON of adapters/datacodec.py's records).

For the independent pieces of work a command has left once the scan is done: `stats` and the
site build compute the past years' reports for the history, half of them in a child while
this process computes the rest and the period's own report (commands/stats.py). On two cores
that halves the part of the run that no worker shares.

Only where the scan forks its workers (Linux, see engine/scan.py), from a process with no
other thread and of a modest size (MAX_RESIDENT); elsewhere, or when the fork fails, the
function runs here when its result is asked for. A child that fails, dies without answering
(killed, out of memory), or whose answer cannot be read, is no error either: the function then
runs here, and raises here what it raises. The child never returns into the caller's code: whatever happens it
leaves through os._exit, so no exit handler, buffered output or temporary file of this process
is run, flushed or removed twice."""
from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from typing import Callable, Generic, TypeVar, cast

import orjson

from complaints.adapters.datacodec import DataFormatError, decode, encode, register

T = TypeVar("T")

FORKS = sys.platform.startswith("linux")

# A process holding more than this does the work itself. The child shares this process's
# pages only until either writes to them, and both go on computing: at a million cases the
# child of a 115 MB `stats` came to hold some 90 MB of its own, and the run's peak reached
# 198 MB (the budget is 200). At 100,000 cases the process holds about 63 MB.
MAX_RESIDENT = 96 << 20


def _alone() -> bool:
    """Whether this process runs no thread but this one."""
    return threading.active_count() == 1


def _resident() -> int:
    """This process's resident memory in bytes (Linux); the largest number when unknown."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return sys.maxsize


class Aside(Generic[T]):
    """``work`` started in a forked child at once; ``result()`` waits for it. Its value is
    sent back as plain data (adapters/datacodec.py, with ``records`` the classes it is made
    of), never pickled: the parent reads back only values of those classes. A context
    manager: leaving it before asking for the result stops the child."""

    def __init__(self, work: Callable[[], T], records: tuple[type, ...] = ()) -> None:
        register(*records)
        self._work = work
        self._parent = os.getpid()
        self._pid: int | None = None
        self._pipe: int | None = None
        # Not from a process running threads of its own: a lock one of them held would stay
        # held in the child for good; nor from a large one (see MAX_RESIDENT).
        if FORKS and _alone() and _resident() <= MAX_RESIDENT:
            self._start()

    def _start(self) -> None:
        read, write = os.pipe()
        # Every object alive now is set aside from the garbage collector while forking (as
        # the scan forks its workers): a collection in the child would otherwise write to each
        # inherited object's header and make the child its own copy of every page this
        # process holds (some 90 MB at a million cases). This process takes them back at once.
        gc.freeze()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        finally:
            if os.getpid() == self._parent:
                gc.unfreeze()
        if pid == 0:  # the child
            try:
                os.close(read)
                try:
                    answer = orjson.dumps(encode(self._work()))
                except BaseException:  # no answer: the parent does the work itself
                    answer = b""
                with os.fdopen(write, "wb") as out:
                    out.write(answer)
            finally:
                os._exit(0)
        os.close(write)
        self._pid, self._pipe = pid, read

    @property
    def forked(self) -> bool:
        """Whether the work runs in a child (False: it runs here when asked for)."""
        return self._pid is not None

    def result(self) -> T:
        """What ``work`` returned; where the child gave no answer (it failed, was killed, or
        its value is not plain data), ``work`` run here, which raises what it raises."""
        if self._pipe is None:
            return self._work()
        with os.fdopen(self._pipe, "rb") as pipe:
            self._pipe = None
            data = pipe.read()
        self._reap()
        try:
            return cast(T, decode(orjson.loads(data)))
        except (ValueError, DataFormatError, RecursionError):  # no answer, or not a whole one
            return self._work()

    def _reap(self) -> None:
        if self._pid is not None:
            pid, self._pid = self._pid, None
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    def close(self) -> None:
        """Stop the child if its result was not asked for (the caller stopped early)."""
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()

    def __enter__(self) -> Aside[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
