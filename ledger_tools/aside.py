"""Work done in a second process while this one goes on.

Two uses: a changed aggregate run makes its monthly state and outputs (the page, its workbook,
the 主管課別 files) while this process makes the history and the three ledger files; a large list
has the rules of half its rows applied while this process applies them to the other half. On two
cores either takes about half as long.

Where a process can be forked (Linux) the work runs in a forked child, which shares this process's
memory and pickles only its result back. The child is forked with ``os.fork`` rather than
``multiprocessing`` so that a worker process of ``check.isolation`` (a daemon, which
``multiprocessing`` forbids to have children) can use it too; the child dies with the process that
made it. Elsewhere (Windows, macOS: a new process would have to import the package and be sent its
data) and whenever the child fails, the work is done here when its result is asked for. The result
is the same either way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

T = TypeVar("T")
WAIT_SECONDS = 600.0  # a child still at work after this long is given up (the work is done here)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:
    """Ask the kernel to kill this (forked) process when the process that forked it dies: a worker
    killed for taking too long takes its helper with it."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _child(conn: Connection, func: Callable[[], Any]) -> None:
    """What the forked child does: the work, its result sent back, and out without clean-up (the
    clean-up of the process it was forked from is that process's own)."""
    status = 0
    try:
        _die_with_parent()
        try:
            result = (True, func())
        except Exception:  # done again by the parent, which reports what goes wrong
            result = (False, None)
        with contextlib.suppress(OSError):
            conn.send(result)
    except BaseException:
        status = 1
    finally:
        os._exit(status)


class Aside(Generic[T]):
    """``result()`` is ``func()``: computed ahead in a forked child where there can be one."""

    def __init__(self, func: Callable[[], T]) -> None:
        self._func = func
        self._conn: Connection | None = None
        self._pid: int | None = None
        if sys.platform != "linux":
            return
        try:
            read_end, write_end = os.pipe()
        except OSError:  # no descriptor to spare: done here
            return
        try:
            pid = os.fork()
        except OSError:  # no process to spare: done here
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:
            os.close(read_end)
            _child(Connection(write_end, readable=False), func)
        os.close(write_end)
        self._pid = pid
        self._conn = Connection(read_end, writable=False)

    def result(self) -> T:
        done = False
        if self._conn is not None:
            try:
                if self._conn.poll(WAIT_SECONDS):
                    done, value = self._conn.recv()
            except (EOFError, OSError):  # the child died
                done = False
        self.close()
        return value if done else self._func()

    def close(self) -> None:
        """Let the child go (also when the result is never asked for)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)  # done already, or given up
            with contextlib.suppress(OSError):
                os.waitpid(self._pid, 0)
            self._pid = None
