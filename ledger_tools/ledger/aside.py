"""Outputs rendered in a second process while this one goes on.

A changed run's monthly outputs (the page, its workbook, the 主管課別 files) follow from the
monthly state alone, and take about as long to render as the three ledger files, which this
process assembles meanwhile: on two cores the run is shorter by the one or the other. Where a
process can be forked (Linux) the renderers run in a forked child, which shares this process's
memory and needs nothing pickled but the bytes it sends back; elsewhere (Windows, macOS: a new
process would have to import the package and be sent the state) and whenever the child fails,
each output is rendered here when it is asked for. The outputs are the same bytes either way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from collections.abc import Callable, Collection, Mapping
from multiprocessing.connection import Connection
from typing import Any

WAIT_SECONDS = 600.0  # a child still rendering after this long is given up (rendered here instead)


def _render_all(conn: Connection, renderers: Mapping[str, Callable[[], bytes]]) -> None:
    try:
        conn.send({name: render() for name, render in renderers.items()})
    except Exception:  # rendered again by the parent, which reports what goes wrong
        with contextlib.suppress(OSError):
            conn.send(None)
    finally:
        conn.close()


class RenderedAside:
    """``get(name)`` gives what ``renderers[name]()`` gives; those named in ``ahead`` are rendered
    ahead in a child where one can be forked."""

    def __init__(self, renderers: Mapping[str, Callable[[], bytes]], ahead: Collection[str]) -> None:
        self._renderers = dict(renderers)
        self._results: dict[str, bytes] | None = None
        self._conn: Connection | None = None
        self._process: Any = None
        if ahead and sys.platform == "linux":
            ctx = multiprocessing.get_context("fork")
            self._conn, child = ctx.Pipe(duplex=False)
            chosen = {name: self._renderers[name] for name in ahead}
            self._process = ctx.Process(target=_render_all, args=(child, chosen), daemon=True)
            try:
                self._process.start()
            except OSError:  # no process to spare: each is rendered here
                self._conn.close()
                self._conn = self._process = None
            finally:
                child.close()

    def get(self, name: str) -> bytes:
        if self._results is None:
            self._results = self._collect()
        found = self._results.pop(name, None)
        return found if found is not None else self._renderers[name]()

    def close(self) -> None:
        """Let the child go (a run that failed before asking for everything)."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _collect(self) -> dict[str, bytes]:
        results: dict[str, bytes] = {}
        if self._conn is not None:
            try:
                if self._conn.poll(WAIT_SECONDS):
                    results = self._conn.recv() or {}
            except (EOFError, OSError):  # the child died: rendered here
                results = {}
        self.close()
        return results
