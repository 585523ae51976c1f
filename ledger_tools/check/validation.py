"""Validating files and folders: one report per file, then the checks across files.

Files are parsed in worker processes (``check.isolation``): a file that crashes the parser,
exhausts the memory or hangs is ``unreadable`` on its own and the others are reported as usual.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import io
import operator
import os
import pickle
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from ledger_tools.aside import Aside
from ledger_tools.check.findings import FileReport, Status, ValidationReport, make_finding, status_for
from ledger_tools.check.isolation import CRASHED, Budget, default_workers, run_isolated, worker_count
from ledger_tools.check.reading import (
    RawRecord,
    RowCells,
    Unreadable,
    display_path,
    iter_candidate_files,
    link_problem,
    read_workbook,
    skip_reason,
)
from ledger_tools.check.rules import (
    ReadCells,
    RuleContext,
    VersionMismatch,
    check_version,
    evaluate,
    future_dates,
    read_cells,
)
from ledger_tools.config import Config
from ledger_tools.form.fields import STAGES

# The facts that make two files the same record at different stages (spec §6).
IDENTITY_FIELDS = ("received_date", "requester_name", "section")


def validate_records(
    path: Path, context: RuleContext, data: bytes | None = None, roots: Iterable[Path] = ()
) -> list[FileReport]:
    """Validate one file: one report per record (a form has one; a list one per row).

    Never raises for a bad file: it gets one report with a status and a finding. A bad row
    of a list never hides the good rows of the same file. ``roots``: the folders being read
    (a symbolic link out of them is reported, not read).
    """
    with _no_cycle_collection():
        read = _read_file(path, context, data, roots)
        return read if isinstance(read, list) else read.evaluate(read.records)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A large list makes many objects and no garbage cycles: the cyclic collector would walk the
    growing heap again and again (≈ 10 % of a 50,000-row list). It runs as usual afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class _ReadFile:
    """A file read, its rules still to apply: ``evaluate(records)`` gives the reports of any run of
    its ``records``."""

    records: list[RawRecord]
    evaluate: Callable[[list[RawRecord]], list[FileReport]]


def _read_file(
    path: Path, context: RuleContext, data: bytes | None, roots: Iterable[Path]
) -> list[FileReport] | _ReadFile:
    """The file read; when it cannot be (or holds no record), its one report."""
    shown = display_path(path)
    if code := skip_reason(Path(path)):
        return [FileReport(shown, Status.SKIPPED, findings=[make_finding(code)])]
    if roots and (problem := link_problem(Path(path), roots)):
        return [FileReport(shown, Status.UNREADABLE, findings=[make_finding(problem[0], detail=problem[1])])]
    try:
        raw = read_workbook(Path(path), context.config.limits, data)
        version = check_version(raw.template_version)
    except Unreadable as e:
        return [FileReport(shown, Status.UNREADABLE, findings=[make_finding(e.code, detail=e.detail)])]
    except VersionMismatch as e:
        return [
            FileReport(
                shown,
                Status.UNREADABLE,
                findings=[make_finding("unreadable_template_version", detail=str(e))],
            )
        ]
    except MemoryError:
        return [failure_report(shown, CRASHED, "メモリ不足")]
    except Exception as e:  # a bug must not cost the rest of the batch
        detail = f"{type(e).__name__}: {e}"
        return [
            FileReport(
                shown, Status.UNREADABLE, findings=[make_finding("unreadable_unexpected", detail=detail)]
            )
        ]
    if not raw.records:
        return [
            FileReport(
                shown, Status.SKIPPED, sha256=raw.sha256, findings=[make_finding("skipped_empty_list")]
            )
        ]
    file_notes = [make_finding("macro_not_run")] if raw.has_macros else []
    file_notes += [make_finding("sheet_copied", detail=sheet) for sheet in raw.copied_sheets]
    return _ReadFile(
        raw.records, functools.partial(_evaluated, shown, context, version, raw.sha256, file_notes)
    )


def _evaluated(
    shown: str,
    context: RuleContext,
    version: int,
    sha256: str,
    file_notes: list,
    records: list[RawRecord],
) -> list[FileReport]:
    """The reports of ``records`` (all of a file's, or a run of its list rows)."""
    try:  # a list's cells read a field at a time over all its rows
        read: list[ReadCells | None] = list(read_cells(records, context, version))
    except Exception:  # a bug reading one record's cells: each record read on its own, costing only itself
        read = [None] * len(records)
    reports = [
        _evaluate_record(shown, record, context, version, cells)
        for record, cells in zip(records, read, strict=True)
    ]
    for report in reports:
        report.sha256 = sha256
        if file_notes:
            report.findings[:0] = file_notes
            report.status = status_for(
                report.findings, report.exclusions, report.values.get("supervisor_judgement")
            )
    return reports


def _evaluate_record(
    shown: str, record, context: RuleContext, version: int, cells: ReadCells | None = None
) -> FileReport:
    """One record's report; an unexpected failure costs that record only, not its file's other rows."""
    try:
        return evaluate(shown, record, context, version, cells)
    except Exception as e:  # a bug must not cost the other rows
        finding = make_finding("unreadable_unexpected", detail=f"{type(e).__name__}: {e}")
        return FileReport(shown, Status.UNREADABLE, row=record.row, findings=[finding])


def apply_reference_date(report: FileReport, as_of: dt.date) -> None:
    """Add the future-date findings to a report made without a reference date (see RuleContext)."""
    found = future_dates(report.values, report.cells, as_of)
    if found:
        report.findings.extend(found)
        report.status = status_for(
            report.findings, report.exclusions, report.values.get("supervisor_judgement")
        )


def failure_report(shown: str, kind: str, detail: str) -> FileReport:
    """The report of a file whose reading crashed its worker or ran out of time (check.isolation)."""
    code = "unreadable_crashed" if kind == CRASHED else "unreadable_timeout"
    return FileReport(shown, Status.UNREADABLE, findings=[make_finding(code, detail=detail)])


def validate_file(path: Path, context: RuleContext, data: bytes | None = None) -> FileReport:
    """Validate a single-record file (the form); see ``validate_records`` for lists."""
    return validate_records(path, context, data)[0]


def validate_paths(
    paths: Iterable[Path],
    config: Config,
    as_of: dt.date | None = None,
    exclude: Iterable[Path] = (),
    workers: int | None = None,
    mp_context=None,
) -> ValidationReport:
    """Validate every file under ``paths`` (folders recursively) and compare them by record_id.

    ``exclude``: files not to look at (the report being written into the same folder). Files are
    read in worker processes (see ``check.isolation``); the report is in the files' order. Each
    report's ``values`` holds only what the checks across files need (identity, record id,
    judgement) and a digest of the rest."""
    context = RuleContext(config, as_of or dt.date.today())
    roots = [Path(p) for p in paths]
    excluded = {os.path.realpath(p) for p in exclude}
    files = list(iter_candidate_files(roots))
    if excluded:  # realpath costs a look-up per folder level: only when there is something to leave out
        files = [p for p in files if os.path.realpath(p) not in excluded]
    limits = config.limits
    count = worker_count(workers or default_workers(), len(files))
    results = run_isolated(
        _validate_in_worker,
        files,
        _failed_in_worker,
        Budget(limits.max_read_seconds, limits.max_read_memory_mb),
        count,
        initializer=_init_worker,
        initargs=(context, roots, len(files) > 1, count < default_workers()),
        mp_context=mp_context,
    )
    cells_seen: dict[tuple, object] = {}
    report = ValidationReport([_shared_cells(r, cells_seen) for reports in results for r in reports])
    cross_check(report.files, statuses_current=True)
    return report


# What the checks across files read of a report's values; the rest is held as a digest only, so
# that a folder of 10,000 files costs little memory (the values stay complete in validate_records).
_KEPT_VALUES = (*IDENTITY_FIELDS, "record_id", "supervisor_judgement")
VALUES_DIGEST = "\0digest"


def _compact(report: FileReport, digest: bool = True) -> FileReport:
    if report.values:
        values = report.values
        kept = {f: values[f] for f in _KEPT_VALUES if f in values}
        if digest:
            kept[VALUES_DIGEST] = values_digest(values)
        report.values = kept
    return report


def _compacted(reports: list[FileReport], digest_all: bool) -> list[FileReport]:
    """The reports as the parent keeps them. The digest is what ``cross_check`` compares among the
    reports that share a record id; when the batch is this one file, only its reports whose record
    id another of its reports has can be compared, so only they are digested (a large list's rows
    have distinct ids: no digest at all)."""
    if digest_all:
        return [_compact(r) for r in reports]
    counts = Counter(r.record_id for r in reports if r.record_id)  # no id: never compared
    repeated = {record_id for record_id, count in counts.items() if count > 1}
    return [_compact(r, r.record_id in repeated) for r in reports]


def values_digest(values: dict) -> bytes:
    """A digest of a report's values: equal values give equal digests, different ones (in practice)
    different. The keys in order and their values, pickled without pickle's memo (with it, one
    string object used twice would be written differently from two equal ones)."""
    keys = sorted(values)
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, 5)
    pickler.fast = True
    pickler.dump((keys, list(map(values.__getitem__, keys))))
    return hashlib.blake2b(buffer.getvalue(), digest_size=16).digest()


def _shared_cells(report: FileReport, seen: dict[tuple, object]) -> FileReport:
    """Forms of one version have the same cells: one mapping held for all of them."""
    if type(report.cells) is dict:
        report.cells = seen.setdefault(tuple(report.cells.items()), report.cells)  # type: ignore[assignment]
    return report


_worker_setup: tuple[RuleContext, list[Path], bool, bool] | None = None


def _init_worker(
    context: RuleContext, roots: list[Path], digest_all: bool = True, split: bool = False
) -> None:
    """``digest_all``: the batch has other files, whose reports may share a record id with these.
    ``split``: a core is left for a second process (see ``_shared_with_a_child``)."""
    global _worker_setup
    _worker_setup = (context, roots, digest_all, split)


def _validate_in_worker(path: Path) -> list[FileReport]:
    assert _worker_setup is not None, "worker not initialised"
    context, roots, digest_all, split = _worker_setup
    with _no_cycle_collection():
        read = _read_file(path, context, None, roots)
        if isinstance(read, list):
            return _Reports(_compacted(read, digest_all))
        if split and len(read.records) >= SPLIT_MIN_RECORDS:
            return _shared_with_a_child(read, digest_all)
        return _Reports(_compacted(read.evaluate(read.records), digest_all))


# A list at least this long has its rules applied in two processes when a core is spare: below it
# the second process costs about what it saves.
SPLIT_MIN_RECORDS = 5000


def _shared_with_a_child(read: _ReadFile, digest_all: bool) -> _Reports:
    """The reports of a long list, the rules of its last rows applied meanwhile in a forked child
    (``Aside``). The child sends its part packed as the parent reads it, digested where a record id
    repeats within it, with its record ids. Which reports carry a digest follows the whole list's
    ids (``_compacted``): this process's part is compacted knowing the child's ids; the child's
    part is passed on as it came, unless some of its ids are also in this part (then those reports
    are checked here again, to digest them)."""
    records = read.records
    half = len(records) * 53 // 100  # a little more here: the child also pickles its part
    rest = Aside(functools.partial(_packed_part, read.evaluate, records[half:], digest_all))
    first = read.evaluate(records[:half])
    their_ids, packed = rest.result()
    if digest_all:
        return _Reports(_compacted(first, digest_all), more=[packed])
    ours = Counter(r.record_id for r in first if r.record_id)
    both = their_ids.intersection(ours)
    repeated = {record_id for record_id, count in ours.items() if count > 1} | both
    first = [_compact(r, r.record_id in repeated) for r in first]
    if not both:
        return _Reports(first, more=[packed])
    theirs: list[FileReport] = pickle.loads(packed)
    undigested = [at for at, r in enumerate(theirs) if r.record_id in both and VALUES_DIGEST not in r.values]
    again = read.evaluate([records[half + at] for at in undigested])
    for at, report in zip(undigested, again, strict=True):
        theirs[at] = _compact(report)
    return _Reports(first + theirs)


def _packed_part(
    evaluate: Callable[[list[RawRecord]], list[FileReport]], records: list[RawRecord], digest_all: bool
) -> tuple[frozenset[str], bytes]:
    """The record ids of ``records`` and their reports compacted and pickled (see ``_Reports``)."""
    reports = evaluate(records)
    ids = frozenset(r.record_id for r in reports if r.record_id)
    return ids, pickle.dumps(_Reports(_compacted(reports, digest_all)), pickle.HIGHEST_PROTOCOL)


_REPORT_FIELDS = tuple(f.name for f in dataclasses.fields(FileReport))
_report_fields = operator.attrgetter(*_REPORT_FIELDS)
_CELLS_AT = _REPORT_FIELDS.index("cells")


class _Reports(list):
    """A file's reports as a worker sends them to the parent: each as the tuple of its fields, the
    cells of a list row as its row number (the rows share one mapping of columns). Unpickled, a
    plain list of the same reports (a list of 50,000 rows costs half as much to send). ``more``:
    the pickles of further reports, which follow these (made in a second process)."""

    def __init__(self, reports: Iterable[FileReport] = (), more: Sequence[bytes] = ()) -> None:
        super().__init__(reports)
        self.more = more

    def __reduce__(self) -> tuple:
        columns = None
        packed = []
        for fields in map(_report_fields, self):
            cells = fields[_CELLS_AT]
            if type(cells) is RowCells:
                if columns is None:
                    columns = cells.columns
                # equal columns of another object: rows checked in a second process
                if cells.columns is columns or cells.columns == columns:
                    fields = (*fields[:_CELLS_AT], cells.row, *fields[_CELLS_AT + 1 :])
            packed.append(fields)
        return (_unpack_reports, (_REPORT_FIELDS, columns, packed, self.more))


def _unpack_reports(
    names: tuple[str, ...], columns: dict | None, packed: list[tuple], more: Sequence[bytes] = ()
) -> list[FileReport]:
    reports = []
    at = names.index("cells")
    new = object.__new__
    for fields in packed:
        report = new(FileReport)
        state = report.__dict__
        state.update(zip(names, fields, strict=True))
        if type(fields[at]) is int:
            state["cells"] = RowCells(columns, fields[at])  # type: ignore[arg-type]
        reports.append(report)
    for pickled in more:
        reports += pickle.loads(pickled)
    return reports


def _failed_in_worker(path: Path, kind: str, detail: str) -> list[FileReport]:
    return [failure_report(display_path(path), kind, detail)]


def cross_check(reports: list[FileReport], statuses_current: bool = False) -> None:
    """Record-id checks across files: duplicates, supersession by a later stage, conflicts.

    ``statuses_current``: every report's status already follows from its findings (as
    ``validate_records`` makes them), so only the statuses of the reports compared are recomputed."""
    by_id: dict[str, list[FileReport]] = {}
    for report in reports:
        if report.record_id and report.status is not Status.UNREADABLE:
            by_id.setdefault(report.record_id, []).append(report)
    compared: list[FileReport] = []
    for record_id, group in by_id.items():
        if len(group) < 2:  # nothing to compare it with
            continue
        compared += group
        distinct: list[FileReport] = []
        for report in group:  # copies first: many copies of one file cost one comparison each
            original = next((d for d in distinct if d.values == report.values), None)
            if original is None:
                distinct.append(report)
            else:
                report.findings.append(
                    make_finding(
                        "duplicate_file",
                        field="record_id",
                        cell=report.cells.get("record_id"),
                        record_id=record_id,
                        other=original.location,
                    )
                )
        for a, b in combinations(distinct, 2):
            _compare(record_id, a, b)
    for report in compared if statuses_current else reports:
        if report.values:
            report.status = status_for(
                report.findings, report.exclusions, report.values.get("supervisor_judgement")
            )


def _compare(record_id: str, a: FileReport, b: FileReport) -> None:
    """Two different versions with one record_id: a later stage supersedes, otherwise a conflict."""
    same_record = all(a.values.get(f) == b.values.get(f) for f in IDENTITY_FIELDS)
    stage_a, stage_b = STAGES.index(a.stage), STAGES.index(b.stage)
    if same_record and stage_a != stage_b:
        earlier, later = (a, b) if stage_a < stage_b else (b, a)
        earlier.findings.append(
            make_finding(
                "superseded",
                field="record_id",
                cell=earlier.cells.get("record_id"),
                record_id=record_id,
                other=later.location,
            )
        )
        later.findings.append(
            make_finding(
                "supersedes",
                field="record_id",
                cell=later.cells.get("record_id"),
                record_id=record_id,
                other=earlier.location,
            )
        )
        return
    for this, other in ((a, b), (b, a)):
        this.findings.append(
            make_finding(
                "record_id_conflict",
                field="record_id",
                cell=this.cells.get("record_id"),
                record_id=record_id,
                other=other.location,
            )
        )
