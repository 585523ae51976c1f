"""Reading untrusted files in worker processes, so that no file can take the batch down.

Each file is handed to a worker process on its own, and its result comes back through a pipe.
When the worker dies while reading it (a native crash in a parser, a memory ceiling reached:
python-calamine aborts the process when an allocation fails), or the file takes longer than
``[limits] max_read_seconds``, the worker is killed and replaced, and that one file gets a
result made by ``on_failure`` (``unreadable_crashed`` / ``unreadable_timeout``); the other files
are read as usual. Results come back in the order of the items, whatever the number of workers.

Limits per worker:

- POSIX (Linux, macOS): the address space of each worker is capped with
  ``resource.setrlimit(RLIMIT_AS, max_read_memory_mb)``; a larger allocation fails inside the
  worker (MemoryError, or an abort in native code), never on the machine.
- Windows: ``resource`` does not exist and a Job Object needs pywin32, so when ``psutil`` is
  installed the parent watches each worker's resident memory (every 0.2 s) and kills a worker
  above the ceiling; without psutil memory is NOT capped on Windows (the time limit, the size
  limits before parsing and the sheet-extent check still apply). The time limit works the same
  on every system (the parent waits with a timeout and kills the worker).

Worker functions and their arguments must be picklable top-level objects ('spawn' on Windows).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

CRASHED, TIMEOUT = "crashed", "timeout"
WATCH_INTERVAL = 0.2  # seconds between two looks at the workers' memory (psutil watchdog)


@dataclass(frozen=True)
class Budget:
    """What one file may cost a worker: seconds of wall time, megabytes of memory (0: no limit)."""

    seconds: float
    memory_mb: int


def _limit_memory(memory_mb: int) -> bool:
    """Cap this process's address space; False where the system has no such limit."""
    try:
        import resource
    except ImportError:
        return False
    if memory_mb <= 0:
        return True
    limit = memory_mb * 1024 * 1024
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        return False
    return True


def _quiet_stderr() -> None:
    """A parser dying prints its own backtrace (Rust's allocation failure, a native abort): the user
    sees the file's finding instead, so the worker's standard error goes nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass


def _worker_main(
    conn: Connection,
    func: Callable[[Any], Any],
    initializer: Callable[..., None] | None,
    initargs: tuple,
    memory_mb: int,
) -> None:
    if initializer is not None:
        initializer(*initargs)
    _limit_memory(memory_mb)  # after the set-up: the ceiling is for reading files
    _quiet_stderr()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, item = message
        try:
            result = (True, func(item))
        except MemoryError:
            result = (False, "memory")
        except Exception as e:  # not the file's fault (func reports bad files): raised in the parent
            result = (False, e)
        try:
            conn.send((index, result))
        except MemoryError:
            conn.send((index, (False, "memory")))
        except Exception as e:  # an exception that does not pickle
            conn.send((index, (False, RuntimeError(f"{type(e).__name__}: {e}"))))


class _Worker:
    def __init__(self, ctx, func, initializer, initargs, memory_mb: int):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main, args=(child, func, initializer, initargs, memory_mb), daemon=True
        )
        self.process.start()
        child.close()
        self.task: tuple[int, Any] | None = None
        self.started = 0.0

    def give(self, index: int, item: Any) -> None:
        self.task = (index, item)
        self.started = time.monotonic()
        self.conn.send((index, item))

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


def _memory_watch() -> Callable[[int], int] | None:
    """A function giving a process's resident bytes, where the memory cannot be capped by the OS."""
    if sys.platform != "win32":
        return None
    try:
        import psutil  # optional: only for the Windows watchdog
    except ImportError:
        return None

    def rss(pid: int) -> int:
        try:
            return int(psutil.Process(pid).memory_info().rss)
        except psutil.Error:
            return 0

    return rss


def run_isolated(
    func: Callable[[Any], Any],
    items: Iterable[Any],
    on_failure: Callable[[Any, str, str], Any],
    budget: Budget,
    workers: int = 1,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
    mp_context=None,
    on_result: Callable[[], None] | None = None,
    idle: Callable[[], bool] | None = None,
) -> Iterator[Any]:
    """``func(item)`` for every item, each in a worker process, yielded in the order of ``items``.

    ``idle``, when given, is called while every busy worker is still at work (instead of only
    waiting), as long as it returns True: a short step of other work each time.

    A worker that dies, runs out of memory or exceeds ``budget.seconds`` on an item yields
    ``on_failure(item, kind, detail)`` for it (kind ``CRASHED`` or ``TIMEOUT``) and is replaced.
    An exception raised by ``func`` (not the file's fault: e.g. the archive cannot be written)
    is raised here, as if ``func`` had run in this process.
    """
    pending = deque(enumerate(items))
    if not pending:
        return
    ctx = mp_context or multiprocessing.get_context()
    count = max(1, min(workers, len(pending)))
    rss = _memory_watch() if budget.memory_mb > 0 else None

    def start() -> _Worker:
        return _Worker(ctx, func, initializer, initargs, budget.memory_mb)

    pool: list[_Worker | None] = [start() for _ in range(count)]
    done: dict[int, Any] = {}
    next_index = 0
    try:
        while pending or any(w is not None and w.task is not None for w in pool):
            for worker in pool:
                if worker is not None and worker.task is None and pending:
                    worker.give(*pending.popleft())
            busy = [w for w in pool if w is not None and w.task is not None]
            now = time.monotonic()
            timeout = min(w.started + budget.seconds - now for w in busy) if budget.seconds > 0 else None
            if rss is not None:
                timeout = WATCH_INTERVAL if timeout is None else min(timeout, WATCH_INTERVAL)
            connections = [w.conn for w in busy]
            ready = []
            while idle is not None and not (ready := wait(connections, 0)) and idle():
                pass
            if not ready:
                ready = wait(connections, None if timeout is None else max(timeout, 0))
            for i, worker in enumerate(pool):
                if worker is None or worker.task is None:
                    continue
                index, item = worker.task
                failure: tuple[str, str] | None = None
                if worker.conn in ready:
                    try:
                        got_index, (ok, value) = worker.conn.recv()
                    except (EOFError, OSError):
                        worker.process.join(5)
                        failure = (CRASHED, _exit_detail(worker.process.exitcode, budget))
                    else:
                        if ok:
                            done[got_index] = value
                            worker.task = None
                        elif value == "memory":
                            failure = (CRASHED, _memory_detail(budget))
                        else:
                            raise value
                elif budget.seconds > 0 and time.monotonic() - worker.started >= budget.seconds:
                    failure = (TIMEOUT, f"{budget.seconds:g}秒")
                elif rss is not None and rss(worker.process.pid or 0) > budget.memory_mb * 1024 * 1024:
                    failure = (CRASHED, _memory_detail(budget))
                if failure is not None:
                    done[index] = on_failure(item, *failure)
                    worker.kill()
                    pool[i] = start() if pending else None
            while next_index in done:
                yield done.pop(next_index)
                next_index += 1
                if on_result is not None:
                    on_result()
    finally:
        for worker in pool:
            if worker is None:
                continue
            if worker.task is not None:
                worker.kill()
            else:
                worker.stop()


def _memory_detail(budget: Budget) -> str:
    return f"メモリの上限 {budget.memory_mb:,} MB を超えました"


def _exit_detail(exitcode: int | None, budget: Budget) -> str:
    if exitcode is not None and exitcode < 0:
        signal_name = {-6: "SIGABRT", -9: "SIGKILL", -11: "SIGSEGV", -7: "SIGBUS"}.get(
            exitcode, f"シグナル{-exitcode}"
        )
        hint = f"。メモリの上限 {budget.memory_mb:,} MB を超えた可能性があります" if budget.memory_mb else ""
        return f"{signal_name}{hint}"
    return f"終了コード {exitcode}"


def worker_count(requested: int, items: int, per_worker: int = 50) -> int:
    """Workers worth starting for ``items`` files: one per ``per_worker`` files, at most ``requested``
    (Windows: at most 61, the number of processes it can wait on)."""
    count = max(1, min(requested, -(-items // per_worker)))
    return min(count, 61) if sys.platform == "win32" else count


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
