"""Reading the inbox: a stable snapshot of each file, validated on all cores, kept in the archive.

A file is read as stat → bytes → stat: if its size or mtime moved meanwhile (a copy still
running), or its zip is cut short, it is tried again once after a pause by the aggregation;
it is never half-read; a file that reads the same twice but is still damaged on the last try
is damaged (its report is cached like any other). Files whose hash already has a cached report
are not parsed again. Input files are only ever opened for reading.

The worker functions are top-level and their arguments picklable, so the pool also works
with the 'spawn' start method (Windows).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ledger_tools.check.findings import FileReport, Status, make_finding
from ledger_tools.check.reading import iter_candidate_files, skip_reason
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_records
from ledger_tools.ledger.archive import keep_copy

# Results that may come from a file still being written: worth one more try after a pause.
INCOMPLETE_CODES = frozenset({"unreadable_corrupt", "unreadable_io"})
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 200
# Windows cannot wait on more than 61 worker processes (ProcessPoolExecutor raises ValueError).
WINDOWS_MAX_WORKERS = 61
CHANGED_WHILE_READ = "読み取り中にファイルの大きさ又は更新日時が変わりました"


@dataclass
class Examined:
    """What reading one inbox file gave."""

    path: str  # relative to the inbox, with forward slashes
    size: int | None = None
    mtime_ns: int | None = None
    sha256: str | None = None
    reports: list[FileReport] | None = None  # the reports made now; None when ``cached`` or not read through
    cached: bool = False  # the hash has a cached report: not parsed (the caller takes the cached one)
    incomplete: bool = False  # changed while read, or cut short: try again after a pause
    archived: bool = False  # a new copy was written into the archive (to be synced)

    @property
    def stable(self) -> bool:
        return self.sha256 is not None and not self.incomplete


def inbox_files(inbox: Path) -> tuple[list[tuple[Path, str]], list[FileReport]]:
    """The inbox's candidate files as (absolute, relative) pairs, and reports for the skipped ones."""
    candidates, skipped = [], []
    for path in iter_candidate_files([inbox]):
        relative = path.relative_to(inbox).as_posix()
        if code := skip_reason(path):
            skipped.append(FileReport(relative, Status.SKIPPED, findings=[make_finding(code)]))
        else:
            candidates.append((path, relative))
    return candidates, skipped


def relative_paths(reports: Iterable[FileReport], relative: str) -> list[FileReport]:
    """Point the reports of one file at its place in the inbox."""
    result = list(reports)
    for report in result:
        report.path = relative
    return result


def read_snapshot(path: Path) -> tuple[bytes, os.stat_result] | None:
    """The file's bytes and stat, or None when it changed while being read. OSError propagates."""
    before = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    after = os.stat(path)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        data
    ) != after.st_size:
        return None
    return data, after


def examine(
    path: Path,
    relative: str,
    context: RuleContext,
    archive_root: Path,
    known: frozenset[str],
    final: bool = False,
) -> Examined:
    """Read one file once: hash it, validate it unless its hash is ``known``, archive a readable version.

    On the ``final`` attempt a file that still changes while read is reported unreadable, and
    one that read the same twice is taken as it is (damaged, if it is): no further try.
    """
    try:
        size = os.stat(path).st_size
        snapshot = read_snapshot(path) if size <= context.config.limits.max_file_bytes else None
    except OSError:
        snapshot, size = None, None
    if snapshot is None and (size is None or size > context.config.limits.max_file_bytes):
        reports = validate_records(path, context)  # reports the I/O error or the size, as `validate` does
        return Examined(relative, reports=reports, incomplete=_incomplete(reports))
    if snapshot is None:
        if not final:
            return Examined(relative, incomplete=True)
        report = FileReport(
            str(path),
            Status.UNREADABLE,
            findings=[make_finding("unreadable_corrupt", detail=CHANGED_WHILE_READ)],
        )
        return Examined(relative, reports=[report], incomplete=True)
    data, stat = snapshot
    sha256 = hashlib.sha256(data).hexdigest()
    found = Examined(relative, stat.st_size, stat.st_mtime_ns, sha256)
    if sha256 in known:
        found.cached = True
        return found
    found.reports = validate_records(path, context, data)
    for report in found.reports:
        report.sha256 = sha256
    if any(r.values for r in found.reports):
        found.archived = keep_copy(archive_root, sha256, Path(relative).suffix, data)
    found.incomplete = not final and _incomplete(found.reports)
    return found


def _incomplete(reports: list[FileReport]) -> bool:
    return (
        len(reports) == 1
        and reports[0].status is Status.UNREADABLE
        and reports[0].findings[0].code in INCOMPLETE_CODES
    )


# ---------------------------------------------------------------------------- on all cores

_worker_setup: tuple[RuleContext, Path, frozenset[str]] | None = None


def _init_worker(context: RuleContext, archive_root: Path, known: frozenset[str]) -> None:
    global _worker_setup
    _worker_setup = (context, archive_root, known)


def _examine_chunk(items: list[tuple[Path, str]]) -> list[Examined]:
    assert _worker_setup is not None, "worker not initialised"
    context, archive_root, known = _worker_setup
    return [examine(path, relative, context, archive_root, known) for path, relative in items]


def examine_all(
    items: list[tuple[Path, str]],
    context: RuleContext,
    archive_root: Path,
    known: frozenset[str],
    workers: int,
    progress: Progress,
    mp_context=None,
) -> Iterator[Examined]:
    """Examine ``items`` in order; in worker processes when there are enough of them."""
    workers = pool_size(workers)
    if workers <= 1 or len(items) < PARALLEL_MIN_FILES:
        for path, relative in items:
            yield examine(path, relative, context, archive_root, known)
            progress.advance()
        return
    size = max(4, min(64, len(items) // (workers * 8)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    with ProcessPoolExecutor(
        workers, mp_context=mp_context, initializer=_init_worker, initargs=(context, archive_root, known)
    ) as pool:
        for results in pool.map(_examine_chunk, chunks):
            yield from results
            progress.advance(len(results))


def pool_size(workers: int) -> int:
    """The number of worker processes this system can run (Windows: at most 61)."""
    if sys.platform == "win32":
        return min(workers, WINDOWS_MAX_WORKERS)
    return workers


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def pause(seconds: float) -> None:
    """Wait for copies in progress to finish (a seam for tests)."""
    time.sleep(seconds)


# ---------------------------------------------------------------------------- progress


class Progress:
    """A progress bar on a terminal (stderr), plain lines otherwise (every tenth), or nothing.

    ``enabled`` None: on for a terminal, and off the terminal for fewer than ``PLAIN_MIN`` files.
    """

    PLAIN_MIN = 50

    def __init__(self, total: int, label: str, enabled: bool | None = None, stream: IO[str] | None = None):
        self.stream = stream or sys.stderr
        self.total, self.label, self.done = total, label, 0
        interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = None
        self.enabled = total > 0 and (
            enabled if enabled is not None else interactive or total >= self.PLAIN_MIN
        )
        if self.enabled and interactive:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, desc=label, unit="件", file=self.stream, leave=False, dynamic_ncols=True
            )
        self.step = max(1, total // 10)

    def advance(self, n: int = 1) -> None:
        if not self.enabled:
            return
        before, self.done = self.done, self.done + n
        if self.bar is not None:
            self.bar.update(n)
        elif before // self.step != self.done // self.step or self.done == self.total:
            print(f"{self.label}: {self.done:,}/{self.total:,}件", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
