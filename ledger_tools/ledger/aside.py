"""Work done in a second process while this one goes on.

A changed run's monthly state and its outputs (the page, its workbook, the 主管課別 files) follow
from the ledger alone, and take about as long as the history and the three ledger files, which
this process makes meanwhile: on two cores the run is shorter by the one or the other. Where a
process can be forked (Linux) the work runs in a forked child, which shares this process's memory
and pickles only its result back; elsewhere (Windows, macOS: a new process would have to import
the package and be sent the ledger) and whenever the child fails, the work is done here when its
result is asked for. The result is the same either way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

T = TypeVar("T")
WAIT_SECONDS = 600.0  # a child still at work after this long is given up (the work is done here)


def _run(conn: Connection, func: Callable[[], Any]) -> None:
    try:
        conn.send((True, func()))
    except Exception:  # done again by the parent, which reports what goes wrong
        with contextlib.suppress(OSError):
            conn.send((False, None))
    finally:
        conn.close()


class Aside(Generic[T]):
    """``result()`` is ``func()``: computed ahead in a forked child where there can be one."""

    def __init__(self, func: Callable[[], T]) -> None:
        self._func = func
        self._conn: Connection | None = None
        self._process: Any = None
        if sys.platform == "linux":
            ctx = multiprocessing.get_context("fork")
            self._conn, child = ctx.Pipe(duplex=False)
            self._process = ctx.Process(target=_run, args=(child, func), daemon=True)
            try:
                self._process.start()
            except OSError:  # no process to spare: done here
                self._conn.close()
                self._conn = self._process = None
            finally:
                child.close()

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
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
