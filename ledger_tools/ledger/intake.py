"""Reading the inbox: a stable snapshot of each file, validated on all cores, kept in the archive.

A file is read as stat → bytes → stat: if its size or mtime moved meanwhile (a copy still
running), or its zip is cut short, it is tried again once after a pause by the aggregation;
it is never half-read; a file that reads the same twice but is still damaged on the last try
is damaged (its report is cached like any other). Files whose hash already has a cached report
are not parsed again. Input files are only ever opened for reading.

Every file is parsed in a worker process (``check.isolation``), with the per-file time and memory
budget of ``[limits]``: a file that crashes the parser, runs out of memory or hangs is unreadable
on its own (unreadable_crashed / unreadable_timeout, cached by its hash like any report), and the
other files are read as usual. The worker functions are top-level and their arguments
picklable, so the pool also works with the 'spawn' start method (Windows).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ledger_tools.check.findings import FileReport, Status, make_finding
from ledger_tools.check.isolation import Budget, run_isolated
from ledger_tools.check.isolation import default_workers as default_workers
from ledger_tools.check.reading import (
    Unreadable,
    display_path,
    iter_candidate_files,
    link_problem,
    read_regular_file,
    skip_reason,
)
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import failure_report, validate_records
from ledger_tools.config import Limits
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
    prefix = os.path.join(str(inbox), "")
    for path in iter_candidate_files([inbox]):
        text = str(path)
        if text.startswith(prefix):  # as relative_to(inbox).as_posix(), at a fraction of its cost
            inside = text[len(prefix) :]
            relative = display_path(inside.replace(os.sep, "/") if os.sep != "/" else inside)
        else:
            relative = display_path(path.relative_to(inbox).as_posix())
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


def read_snapshot(
    path: Path, max_bytes: int = Limits().max_file_bytes
) -> tuple[bytes, os.stat_result] | None:
    """The file's bytes and stat, or None when it changed while being read. OSError for a file
    that cannot be read (not a regular file, too large, an I/O error)."""
    try:
        data, before, after = read_regular_file(path, max_bytes)
    except Unreadable as e:
        raise OSError(f"{e.code}: {e.detail}") from None
    return None if _changed(data, before, after) else (data, after)


def _changed(data: bytes, before: os.stat_result, after: os.stat_result) -> bool:
    return (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        data
    ) != after.st_size


def examine(
    path: Path,
    relative: str,
    context: RuleContext,
    archive_root: Path,
    known: frozenset[str],
    final: bool = False,
    roots: Sequence[Path] = (),
) -> Examined:
    """Read one file once: hash it, validate it unless its hash is ``known``, archive a readable version.

    On the ``final`` attempt a file that still changes while read is reported unreadable, and
    one that read the same twice is taken as it is (damaged, if it is): no further try.
    ``roots``: the inbox (a link out of it is reported, not read).
    """
    shown = display_path(path)
    if roots and (problem := link_problem(path, roots)):
        finding = make_finding(problem[0], detail=problem[1])
        return Examined(relative, reports=[FileReport(shown, Status.UNREADABLE, findings=[finding])])
    try:
        data, before, stat = read_regular_file(path, context.config.limits.max_file_bytes)
    except Unreadable as e:
        reports = [FileReport(shown, Status.UNREADABLE, findings=[make_finding(e.code, detail=e.detail)])]
        return Examined(relative, reports=reports, incomplete=_incomplete(reports))
    if _changed(data, before, stat):
        if not final:
            return Examined(relative, incomplete=True)
        report = FileReport(
            shown,
            Status.UNREADABLE,
            findings=[make_finding("unreadable_corrupt", detail=CHANGED_WHILE_READ)],
        )
        return Examined(relative, reports=[report], incomplete=True)
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

_worker_setup: tuple[RuleContext, Path, frozenset[str], bool, tuple[Path, ...]] | None = None


def _init_worker(
    context: RuleContext, archive_root: Path, known: frozenset[str], final: bool, roots: tuple[Path, ...]
) -> None:
    global _worker_setup
    _worker_setup = (context, archive_root, known, final, roots)


def _examine_in_worker(item: tuple[Path, str]) -> Examined:
    assert _worker_setup is not None, "worker not initialised"
    context, archive_root, known, final, roots = _worker_setup
    path, relative = item
    return examine(path, relative, context, archive_root, known, final, roots)


def _failed_in_worker(max_bytes: int, item: tuple[Path, str], kind: str, detail: str) -> Examined:
    """A file that crashed or hung its worker: unreadable, and kept by its hash so that the next
    run does not parse it again (a changed file has another hash)."""
    path, relative = item
    found = Examined(relative, reports=[failure_report(display_path(path), kind, detail)])
    try:
        data, before, after = read_regular_file(path, max_bytes)
    except Unreadable:
        return found
    if not _changed(data, before, after):
        found.size, found.mtime_ns = after.st_size, after.st_mtime_ns
        found.sha256 = hashlib.sha256(data).hexdigest()
        for report in found.reports or []:
            report.sha256 = found.sha256
    return found


def examine_all(
    items: list[tuple[Path, str]],
    context: RuleContext,
    archive_root: Path,
    known: frozenset[str],
    workers: int,
    progress: Progress,
    mp_context=None,
    final: bool = False,
    roots: Sequence[Path] = (),
    idle: Callable[[], bool] | None = None,
) -> Iterator[Examined]:
    """Examine ``items`` in order, each in a worker process (one process for a few files, up to
    ``workers`` for many); a file that crashes or hangs its worker is unreadable on its own.
    ``idle``: other work, a step at a time, while the workers are busy (``run_isolated``)."""
    count = pool_size(workers) if len(items) >= PARALLEL_MIN_FILES else 1
    limits = context.config.limits
    yield from run_isolated(
        _examine_in_worker,
        items,
        functools.partial(_failed_in_worker, limits.max_file_bytes),
        Budget(limits.max_read_seconds, limits.max_read_memory_mb),
        count,
        initializer=_init_worker,
        initargs=(context, archive_root, known, final, tuple(roots)),
        mp_context=mp_context,
        on_result=progress.advance,
        idle=idle,
    )


def pool_size(workers: int) -> int:
    """The number of worker processes this system can run (Windows: at most 61)."""
    if sys.platform == "win32":
        return min(workers, WINDOWS_MAX_WORKERS)
    return workers


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
