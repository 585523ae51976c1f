"""The aggregation run: the inbox read (with a cache), archived, checked across files and runs,
and written out as the master ledger and the monthly state.

    result = aggregate(Path("提出"), Path("集計"), load_config(), dt.date(2026, 11, 25))
    print(result.summary_text())

Under a lock on DIR, one run:

1. lists INBOX; a file whose size and mtime are those of the last run keeps its hash, any
   other is read (stat → bytes → stat) and hashed; a hash with a cached single-file report is
   not parsed again, the rest is validated (on all cores for many files) and every readable
   version is copied into ``DIR/archive/``; files that changed while read are tried once more.
   Reports are made and cached without the reference date; the one rule that needs it (no
   date in the future) is applied to every report of every run (cheap), so a new ``--as-of``
   parses nothing again;
2. decides what the last ledger's records become. A path present in the inbox replaces every
   version held at it before (a form saved with another record id, a list with rows removed:
   the user's correction; the old versions stay in the archive, the history says 置換 /
   行の削除), except that a file which cannot be read right now (a copy in progress) keeps its
   previous version current, flagged. A version whose path left the inbox is brought back from
   the archive (``source_missing``) unless it moved (the same hash elsewhere), a version of the
   same record (same ``IDENTITY_FIELDS``) at the same or a later stage is in the inbox, or a
   user retired it (``forget``);
3. runs ``validation.cross_check`` over all of them: a later stage supersedes, a copy is a
   duplicate, other facts under one record id are a conflict on both;
4. writes ``ledger.json``, ``台帳.xlsx``, ``台帳.csv`` and the monthly state as one set
   (``outputs.OutputSet``: all new or all as before, even after a crash), skipping any output
   whose inputs did not change;
5. then commits the manifest (``archive.Manifest``), with the sha256 of every output. A crash
   between 4 and 5 leaves new outputs under the last run's manifest: their hashes do not match
   it, so the next run does the whole run again (the same history events, recorded once) and
   ``load_verified_ledger`` refuses the ledger until then.

No output holds a wall-clock time: the same inbox, configuration and reference date give
byte-identical files. ``forget`` retires a record version whose file is gone (with a reason);
the next run drops it and logs 取消.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from ledger_tools.aside import Aside
from ledger_tools.check.findings import STATUS_LABELS_JA, FileReport, Status, make_finding, record_location
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import IDENTITY_FIELDS, apply_reference_date, cross_check
from ledger_tools.config import Config, config_data, config_digest
from ledger_tools.form.fields import STAGES, stage_label
from ledger_tools.ledger.archive import (
    ARCHIVE_DIR,
    MANIFEST_FILE,
    HistoryEvent,
    Manifest,
    ManifestError,
    ManifestRow,
    RecordState,
    Retirement,
    SeenFile,
    Slim,
    archived_hashes,
    facts_from_json,
    facts_to_json,
    find_copy,
    keep_copy,
    reports_from_json,
    reports_to_json,
    slim,
)
from ledger_tools.ledger.division_files import division_file_name, division_renderers, division_workbook_bytes
from ledger_tools.ledger.entries import (
    LEDGER_FILE,
    Ledger,
    LedgerEntry,
    LedgerError,
    LedgerReader,
    Projection,
    load_ledger,
    read_ledger_any_layout,
)
from ledger_tools.ledger.fragments import LedgerFiles
from ledger_tools.ledger.intake import (
    Examined,
    Progress,
    default_workers,
    examine_all,
    inbox_files,
    pause,
    read_snapshot,
    relative_paths,
)
from ledger_tools.ledger.monthly import (
    MonthlyState,
    month_of,
    monthly_html,
    monthly_state,
    monthly_workbook_bytes,
    parse_month,
)
from ledger_tools.ledger.workbook import (
    HISTORY_SHEET_LIMIT,
    LEDGER_CSV,
    LEDGER_WORKBOOK,
)
from ledger_tools.outputs import (
    BackgroundFlushes,
    OutputError,
    OutputSet,
    describe_os_error,
    directory_lock,
    recover_outputs,
)

LOCK_WAIT_SECONDS = 10.0  # a second run on the same DIR waits this long, then refuses
RETRY_DELAY_SECONDS = 2.0  # the pause before files that were being copied are read again (once per run)
# An inbox that lost more than this share of the files the last run saw, and at least
# MISSING_MIN_FILES of them, looks like an unmounted share: refused unless allow_missing.
MISSING_SHARE = 0.5
MISSING_MIN_FILES = 10


class AggregationError(Exception):
    """The aggregation cannot run as asked."""


class InboxNotFound(AggregationError):
    """INBOX is not a folder."""


class FoldersOverlap(AggregationError):
    """DIR is INBOX or inside it (its archive would be read as submissions)."""


class AggregationLocked(AggregationError):
    """Another aggregation is writing to the same DIR."""


class ArchiveUnwritable(AggregationError):
    """A copy could not be written into DIR/archive (disk full, no permission)."""


class InboxLooksEmpty(AggregationError):
    """The inbox is empty or most of its files are gone at once (an unmounted share?)."""


class OutputInUse(AggregationError):
    """An output file could not be replaced (open in Excel, or no permission)."""


class ForgetRefused(AggregationError):
    """The record cannot be retired as asked (its file is still there, or nothing matches)."""


class Disposition(StrEnum):
    """What became of a record version in this run."""

    LEDGER = "ledger"
    MISSING = "missing"  # its file left the inbox: kept in the ledger from the archive
    KEPT = "kept"  # its file is there but cannot be read now (a copy in progress): the previous version stays
    SUPERSEDED = "superseded"  # a later stage of the same record is current
    DUPLICATE = "duplicate"  # the same content as another file: one record


DISPOSITION_LABELS = {
    Disposition.LEDGER: "台帳に登録",
    Disposition.MISSING: "原本なし（保管庫の写しで台帳に残す）",
    Disposition.KEPT: "読み取れないため前回の版で台帳に残す",
    Disposition.SUPERSEDED: "後の段階の版に置換",
    Disposition.DUPLICATE: "重複（1件として扱う）",
}
CURRENT = (Disposition.LEDGER, Disposition.MISSING, Disposition.KEPT)
PRESENT = (Disposition.LEDGER, Disposition.KEPT)  # current, and the file is in the inbox


def monthly_file_names(month: str) -> tuple[str, str]:
    return f"月次状況_{month}.xlsx", f"月次状況_{month}.html"


@dataclass
class AggregationResult:
    """What one run did and wrote. ``ledger`` is read back from ``out_dir/ledger.json`` on first
    use when the run changed nothing (an unchanged inbox is not even decoded)."""

    out_dir: Path
    as_of: dt.date
    month: str
    summary: dict[str, int]  # status → count: ledger entries, and skipped files
    has_failures: bool  # an entry is invalid or unreadable
    conflicts: int  # record ids held by files with other facts
    overdue: int  # steps still to do past their deadline (monthly state; steps done late are listed apart)
    outputs: list[Path]
    entries: int = 0  # ledger entries
    files_read: int = 0  # inbox files examined (skipped ones not counted)
    parsed: int = 0  # of them, parsed in this run (the others came from the cache)
    superseded: int = 0
    duplicates: int = 0
    source_missing: int = 0
    unreadable_kept: int = 0  # entries shown from the previous version: their file cannot be read now
    history_total: int = (
        0  # events in the whole history (the ledger workbook shows the latest HISTORY_SHEET_LIMIT)
    )
    events: list[HistoryEvent] = field(default_factory=list)  # what changed since the last run
    _ledger: Ledger | None = field(default=None, repr=False)

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = load_ledger(self.out_dir)
        return self._ledger

    def outcome(self) -> dict[str, Any]:
        """The facts a later unchanged run reports again (kept in the manifest's runs table)."""
        facts = {name: getattr(self, name) for name in _OUTCOME_FACTS}
        # relative to DIR: 主管課別/<主管課>.xlsx is not in DIR itself
        facts["outputs"] = [path.relative_to(self.out_dir).as_posix() for path in self.outputs]
        return facts

    def summary_text(self) -> str:
        """The short Japanese summary that the CLI prints."""
        skipped = self.summary.get(Status.SKIPPED, 0)
        statuses = "、".join(
            f"{STATUS_LABELS_JA[Status(s)]} {n:,}"
            for s, n in self.summary.items()
            if n and s != Status.SKIPPED
        )
        lines = [
            f"集計しました（基準日 {self.as_of.isoformat()}、月次 {self.month}）。",
            f"ファイル: {self.files_read:,}件を確認（うち読み取り {self.parsed:,}件、前回の結果を利用 {self.files_read - self.parsed:,}件）"
            + (f"、対象外ファイル {skipped:,}件" if skipped else ""),
            f"台帳: {self.entries:,}件" + (f"（{statuses}）" if statuses else ""),
        ]
        if self.source_missing:
            lines.append(
                f"  うち原本なし {self.source_missing:,}件（フォルダから消えたため保管庫の写しで残しています。"
                "不要な記録は ledger-tools forget で理由を付けて取り消せます）"
            )
        if self.unreadable_kept:
            lines.append(
                f"  うち読み取れないファイルの記録 {self.unreadable_kept:,}件（前回読み取った版で残しています。コピー中ならコピーが終わってから再実行してください）"
            )
        lines.append(
            f"整理番号の競合: {self.conflicts:,}件、後の段階の版に置換: {self.superseded:,}件、重複ファイル: {self.duplicates:,}件"
        )
        lines.append(f"期限を過ぎている手続: {self.overdue:,}件")
        lines.append(f"変更: {len(self.events):,}件（処理履歴に記録）" if self.events else "変更: なし")
        if self.history_total > HISTORY_SHEET_LIMIT:
            lines.append(
                f"処理履歴: 全{self.history_total:,}件のうち最新の{HISTORY_SHEET_LIMIT:,}件を {LEDGER_WORKBOOK} に載せています（全件は {MANIFEST_FILE} の history 表）"
            )
        lines.append(f"出力先: {self.out_dir}")
        lines += [f"  {_relative_text(path, self.out_dir)}" for path in self.outputs]
        if self.has_failures:
            lines.append(
                f"要修正・読み取り不可の記録があります。{LEDGER_WORKBOOK} の「要修正・読取不可」シートを見て、提出元に修正を依頼してください。"
            )
        return "\n".join(lines) + "\n"


_OUTCOME_FACTS = (
    "summary",
    "has_failures",
    "conflicts",
    "overdue",
    "entries",
    "superseded",
    "duplicates",
    "source_missing",
    "unreadable_kept",
    "history_total",
)


def aggregate(
    inbox: Path,
    out_dir: Path,
    config: Config,
    as_of: dt.date,
    month: str | None = None,
    progress: bool | None = None,
    workers: int | None = None,
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
    retry_delay: float = RETRY_DELAY_SECONDS,
    allow_missing: bool = False,
) -> AggregationResult:
    """Aggregate INBOX into DIR (``out_dir``); see the module docstring.

    ``month`` (YYYY-MM, default: the month of ``as_of``) selects the monthly state; ``progress``
    None shows it when stderr is a terminal (plain lines otherwise); ``workers`` defaults to
    the usable cores. Raises ``AggregationError`` subclasses for what the user must fix, and
    ``monthly.InvalidMonth`` for a malformed month.

    An empty or unmounted share must not turn the whole ledger into 原本なし: unless
    ``allow_missing``, the run refuses (``InboxLooksEmpty``, before anything is written) when
    the inbox has no file while the ledger holds records, or when more than half of the files
    the last run saw are gone and at least 10 of them (``MISSING_SHARE``, ``MISSING_MIN_FILES``).
    """
    inbox, out_dir = Path(inbox), Path(out_dir)
    month = month or month_of(as_of)
    parse_month(month)
    _check_folders(inbox, out_dir)
    with _dir_lock(out_dir, lock_wait), _manifest_errors(out_dir):
        _recover(out_dir)
        _remove_stale_temporaries(out_dir)
        with Manifest(out_dir / MANIFEST_FILE) as manifest:
            run = _Run(
                inbox,
                out_dir,
                config,
                as_of,
                month,
                manifest,
                progress,
                workers or default_workers(),
                retry_delay,
                allow_missing,
            )
            return run.execute()


def forget(
    out_dir: Path,
    record_id: str,
    reason: str,
    path: str | None = None,
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> list[str]:
    """Retire the versions of ``record_id`` that the last run kept only from the archive (原本なし).

    For a record whose file is gone for good (a test file, the wrong one of a conflict, a row
    deleted by mistake long ago): the retired versions are never brought back again; the next
    ``aggregate`` drops them from the ledger and logs 取消 with ``reason``. ``path`` (relative to
    the inbox, as the ledger's ソースファイル shows it, with or without the row of a list:
    ``一覧.xlsx 12行目``) picks one place when the record was at several. Returns
    the retired locations; raises ``ForgetRefused`` when the record's file is still in the inbox
    (per the last run) or nothing matches.

        forget(Path("集計"), "R7-0012", "重複して提出された誤りのファイル", path="県土整備部/R7-0012.xlsx")
    """
    out_dir = Path(out_dir)
    record_id = unicodedata.normalize("NFKC", record_id).strip()  # as the form's record ids are read
    reason = " ".join(reason.split())
    if not reason:
        raise ForgetRefused("取り消す理由を書いてください（--reason）。理由は処理履歴に残ります。")
    if not (out_dir / MANIFEST_FILE).is_file():
        raise AggregationError(
            f"集計フォルダ（{out_dir}）に処理記録（{MANIFEST_FILE}）がありません。aggregate の --out に指定したフォルダを指定してください。"
        )
    place = path.replace("\\", "/").strip().strip("/") if path else None
    with (
        _dir_lock(out_dir, lock_wait),
        _manifest_errors(out_dir),
        Manifest(out_dir / MANIFEST_FILE) as manifest,
    ):
        _recover(out_dir)
        versions = [
            s
            for s in manifest.record_states()
            if s.record_id == record_id and place in (None, s.path, location_of(s))
        ]
        retired = manifest.retirements()
        missing = [
            s
            for s in versions
            if s.disposition == Disposition.MISSING and (s.path, s.row, s.sha256) not in retired
        ]
        if not missing:
            raise _forget_refusal(record_id, place, versions)
        manifest.retire(Retirement(s.path, s.row, s.sha256, s.record_id, reason) for s in missing)
        return [location_of(s) for s in missing]


def _forget_refusal(record_id: str, place: str | None, versions: list[RecordState]) -> ForgetRefused:
    """Why nothing of ``record_id`` (at ``place``) can be retired: done already, its file is there, or no such record."""
    where = f"（{place}）" if place else ""
    if any(s.disposition == Disposition.MISSING for s in versions):
        return ForgetRefused(
            f"整理番号「{record_id}」{where}の原本なしの記録は取り消し済みです。次に aggregate を実行すると台帳から除かれます。"
        )
    present = [location_of(s) for s in versions if s.disposition in PRESENT]
    if present:
        return ForgetRefused(
            f"整理番号「{record_id}」{where}のファイルは提出フォルダにあります（{'、'.join(present)}）。取り消せるのは原本なしの記録だけです。"
            "不要なファイルなら提出フォルダから削除して aggregate を実行してから取り消すか、ファイルの整理番号を直してください。"
        )
    return ForgetRefused(
        f"整理番号「{record_id}」{where}の原本なしの記録は、前回の集計の台帳にありません。"
        f"{LEDGER_WORKBOOK} で整理番号とソースファイル（原本なし）を確認してください。"
    )


def load_verified_ledger(out_dir: Path, projection: Projection | None = None) -> Ledger:
    """``DIR/ledger.json`` as the aggregation wrote it, for publishing (call under DIR's lock).

    An output set left by a killed run is completed first. Raises ``LedgerError`` (Japanese) when
    the file is missing or damaged, or when its sha256 is not the one the aggregation recorded in
    the manifest: edited by hand (e.g. an invalid record flipped to ok), written by something
    else, or with no manifest beside it at all (the manifest lost: aggregate rebuilds both).
    The file is read once, one entry line at a time (``LedgerReader``, hashed as it is read);
    with a ``projection`` only the entries and values it keeps are decoded and held.
    ``publication.publish_ledger`` takes a ``Ledger`` object and is not verified: its caller
    vouches for it.
    """
    out_dir = Path(out_dir)
    try:
        recover_outputs(out_dir)
    except OutputError as e:
        raise LedgerError(str(_output_error(e))) from None
    path = out_dir / LEDGER_FILE
    reader = LedgerReader(path, projection)
    try:
        ledger, sha256 = reader.read(), reader.sha256
    except LedgerError:  # not as the aggregation writes it: load_ledger says why (or reads it)
        ledger = read_ledger_any_layout(out_dir, projection or Projection())
        sha256 = _file_sha256(path)
    try:
        _check_recorded(out_dir, sha256)
    except LedgerError:
        if projection is not None:  # an entry left out may be damaged: the same error as without
            load_ledger(out_dir)
        raise
    return ledger


def _check_recorded(out_dir: Path, sha256: str | None) -> None:
    """``LedgerError`` unless the manifest records ``sha256`` as the aggregation's ledger.json."""
    manifest_path = out_dir / MANIFEST_FILE
    if not manifest_path.is_file():
        raise LedgerError(
            f"台帳（{out_dir / LEDGER_FILE}）を確かめる処理記録（{manifest_path}）がありません。"
            "集計が書いた台帳だけを公表します。aggregate を実行し直すと、台帳と保管庫から処理記録を作り直します。"
        )
    try:
        with Manifest(manifest_path) as manifest:
            recorded = manifest.output_state(LEDGER_FILE)
    except (ManifestError, sqlite3.DatabaseError) as e:
        raise LedgerError(
            f"処理記録（{manifest_path}）を読めません: {e}。"
            "別の名前に変えて aggregate を実行し直すと、台帳と保管庫から作り直します。"
        ) from None
    if recorded is None or recorded[1] != sha256:
        raise LedgerError(
            f"台帳（{out_dir / LEDGER_FILE}）が集計の後に変更されています（又は集計が途中で止まりました）。"
            "台帳を手で編集せず、aggregate を実行し直してください。"
        )


RECORDED_KEY = "recorded"  # the input key of a ledger recorded by ``record_ledger``: never a run's


def record_ledger(out_dir: Path, ledger: Ledger) -> Path:
    """Save ``ledger`` as DIR/ledger.json and record its sha256 in the manifest the way an
    aggregation does, so that ``load_verified_ledger`` accepts it (tests, tools building a DIR)."""
    out_dir = Path(out_dir)
    path = ledger.save(out_dir)
    with Manifest(out_dir / MANIFEST_FILE) as manifest:
        manifest.record_output(LEDGER_FILE, RECORDED_KEY, _file_sha256(path))
    return path


def _dir_lock(out_dir: Path, lock_wait: float):
    return directory_lock(out_dir, lock_wait, AggregationLocked, AggregationError)


@contextlib.contextmanager
def _manifest_errors(out_dir: Path):
    try:
        yield
    except (ManifestError, sqlite3.DatabaseError) as e:
        cause = "ディスクの空き容量が不足しています" if "disk is full" in str(e) else str(e)
        raise AggregationError(
            f"処理記録（{out_dir / MANIFEST_FILE}）を読み書きできません: {cause}。"
            "ほかのプログラムで開いていれば閉じてください。壊れているときは別の名前に変えて実行し直すと、台帳（ledger.json）と保管庫から作り直します。"
        ) from None


def _check_folders(inbox: Path, out_dir: Path) -> None:
    if not inbox.is_dir():
        raise InboxNotFound(f"提出フォルダが見つかりません: {inbox}")
    inbox_real, out_real = inbox.resolve(), out_dir.resolve()
    if out_real == inbox_real or inbox_real in out_real.parents:
        raise FoldersOverlap(
            f"出力フォルダ（{out_dir}）を提出フォルダ（{inbox}）の中に置かないでください。別のフォルダを指定してください。"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AggregationError(f"出力フォルダを作れません（{out_dir}）: {describe_os_error(e)}") from None


def _recover(out_dir: Path) -> None:
    """Complete (or discard) the output set of a run that was killed while replacing its outputs."""
    try:
        recover_outputs(out_dir)
    except OutputError as e:
        raise _output_error(e) from None


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Temporary files left by a run that was killed while writing (under the lock: none is in use)."""
    for temporary in [*out_dir.glob(".*.tmp"), *out_dir.glob(f"{ARCHIVE_DIR}/*/.*.tmp")]:
        with contextlib.suppress(OSError):
            temporary.unlink()


@cache
def code_fingerprint() -> str:
    """A hash of this package's code and templates: a new version never reuses old reports or outputs."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".j2", ".css", ".toml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def context_key(config: Config) -> str:
    """What a cached single-file report depends on besides the file: configuration and code (not
    the reference date: reports are made without it, see ``RuleContext``)."""
    data = {"config": config_data(config), "code": code_fingerprint()}
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def record_content(values: dict[str, Any], sha256: str | None) -> str:
    """A hash of a record's values (of the file for an unreadable one): what the history compares,
    so that re-saving a list changes only the rows that changed."""
    if not values:
        return sha256 or ""
    text = json.dumps(
        {k: v.isoformat() if isinstance(v, (dt.date, dt.time)) else v for k, v in values.items()},
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


class Fate(StrEnum):
    """What a record version of the last run becomes in this one (``decide_fates``)."""

    NOT_CURRENT = "not_current"  # it was not current after the last run (superseded, a duplicate)
    RETIRED = "retired"  # a user retired it (forget)
    REPLACED_BY_PATH = "replaced_by_path"  # its path is in the inbox: what is there now replaces it
    KEPT_UNREADABLE_NOW = "kept_unreadable_now"  # its file cannot be read now: this version stays, flagged
    NO_RECORD = "no_record"  # its file left the inbox and it held no record: nothing to keep
    MOVED = "moved"  # its file left, but the same bytes are elsewhere in the inbox
    SUPERSEDED_ELSEWHERE = "superseded_elsewhere"  # the same record, as far on or further, is elsewhere
    SOURCE_MISSING = "source_missing"  # its file left the inbox: kept in the ledger from the archive
    NO_COPY = "no_copy"  # it would be kept from the archive, but the archive has no copy of it


CARRIED = (Fate.KEPT_UNREADABLE_NOW, Fate.SOURCE_MISSING)  # fates that bring the archived version back


@dataclass(frozen=True)
class Version:
    """What says whether two versions are one record: the ``IDENTITY_FIELDS`` values, and the stage."""

    identity: tuple
    stage: str | None

    @classmethod
    def of(cls, report: FileReport) -> Version:
        return cls(tuple(report.values.get(f) for f in IDENTITY_FIELDS), report.stage)


@dataclass(frozen=True)
class InboxNow:
    """What the inbox holds in this run, as far as the earlier versions' fates depend on it."""

    paths: frozenset[str]  # every file in the inbox (relative path)
    unreadable: frozenset[str]  # of them, those that cannot be read now
    hashes: frozenset[str]  # the sha256 of every file examined
    records: Mapping[str, tuple[Version, ...]]  # record id → the inbox versions holding it

    @classmethod
    def of(cls, reports: Iterable[FileReport], paths: Iterable[str], hashes: Iterable[str]) -> InboxNow:
        records: dict[str, list[Version]] = {}
        unreadable = set()
        for report in reports:
            if report.record_id and report.values:
                records.setdefault(report.record_id, []).append(Version.of(report))
            elif report.status is Status.UNREADABLE:
                unreadable.add(report.path)
        return cls(
            frozenset(paths),
            frozenset(unreadable),
            frozenset(hashes),
            {k: tuple(v) for k, v in records.items()},
        )


StateKey = tuple[str, int, str]  # (path, row, sha256) of a record version


def state_key(state: RecordState) -> StateKey:
    return (state.path, state.row, state.sha256)


def wants_archive(state: RecordState, now: InboxNow, retired: Mapping[StateKey, object]) -> bool:
    """Whether the fate of ``state`` depends on its archived copy (which ``decide_fates`` is then given)."""
    return _fate_before_archive(state, now, retired) in CARRIED


def decide_fates(
    previous: Sequence[RecordState],
    now: InboxNow,
    retired: Mapping[StateKey, object],
    archived: Mapping[StateKey, Version],
) -> list[Fate]:
    """The fate of each earlier record version (pure: no file, manifest or archive is touched).

    A path present in the inbox replaces every version held at it, except that a file which
    cannot be read now keeps its previous (readable) version. A version whose path left the
    inbox is kept from the archive unless it moved (its bytes are elsewhere), it held no record,
    a user retired it, or an inbox version of the same record (same ``IDENTITY_FIELDS``) is at
    the same or a later stage. ``archived`` holds the archived version of every state that
    ``wants_archive``; one without a copy there is not brought back.
    """
    fates = []
    for state in previous:
        fate = _fate_before_archive(state, now, retired)
        if fate in CARRIED:
            version = archived.get(state_key(state))
            if version is None:
                fate = Fate.NO_COPY if fate is Fate.SOURCE_MISSING else Fate.REPLACED_BY_PATH
            elif fate is Fate.SOURCE_MISSING and _superseded(
                version, now.records.get(state.record_id or "", ())
            ):
                fate = Fate.SUPERSEDED_ELSEWHERE
        fates.append(fate)
    return fates


def _fate_before_archive(state: RecordState, now: InboxNow, retired: Mapping[StateKey, object]) -> Fate:
    if state.disposition not in CURRENT:
        return Fate.NOT_CURRENT
    if state_key(state) in retired:
        return Fate.RETIRED
    if state.path in now.paths:
        if state.path in now.unreadable and state.status is not Status.UNREADABLE:
            return Fate.KEPT_UNREADABLE_NOW
        return Fate.REPLACED_BY_PATH
    if not state.record_id:
        return Fate.NO_RECORD
    if state.sha256 in now.hashes:
        return Fate.MOVED
    return Fate.SOURCE_MISSING


def _superseded(archived: Version, inbox_versions: Iterable[Version]) -> bool:
    """An inbox version of the same record, as far on or further, replaces a version whose file left
    the inbox. Another record under the same id does not: the old version comes back and the two
    are a conflict."""
    if archived.stage not in STAGES:
        return False
    return any(
        version.identity == archived.identity
        and version.stage in STAGES
        and STAGES.index(version.stage) >= STAGES.index(archived.stage)
        for version in inbox_versions
    )


# ---------------------------------------------------------------------------- the run


@dataclass
class _Inbox:
    """Step 1's result: the inbox listed, examined and reported on (single-file reports)."""

    candidates: list[tuple[Path, str]]
    skipped: list[FileReport]
    examined: dict[str, Examined]
    seen_before: dict[str, SeenFile]
    reports: list[FileReport] = field(default_factory=list)
    parsed: int = 0

    @property
    def present(self) -> set[str]:
        return {relative for _, relative in self.candidates}


@dataclass
class _Checked:
    """Step 3's result: every version with its disposition, and the ledger made of the current ones."""

    everything: list[FileReport]
    dispositions: dict[int, Disposition]
    states: list[RecordState]
    ledger: Ledger


class _Run:
    """One aggregation, step by step (see the module docstring)."""

    def __init__(
        self,
        inbox: Path,
        out_dir: Path,
        config: Config,
        as_of: dt.date,
        month: str,
        manifest: Manifest,
        progress: bool | None,
        workers: int,
        retry_delay: float,
        allow_missing: bool = False,
    ):
        self.inbox, self.out_dir, self.config, self.as_of, self.month = inbox, out_dir, config, as_of, month
        self.manifest, self.progress, self.workers = manifest, progress, workers
        self.retry_delay, self.allow_missing = retry_delay, allow_missing
        self.context = RuleContext(config, None)  # no reference date: reports are cached for any --as-of
        self.context_key = context_key(config)
        self.archive_root = out_dir / ARCHIVE_DIR
        self.copies_written = False  # copies put back into the archive (see _restore_copy)
        self.archived: dict[tuple[str, str], dict[int, FileReport]] = {}  # (sha256, path) → reports by row
        self.archived_hashes: set[str] | None = None  # see _archived
        self.settled: set[str] = set()  # files whose new reports were cached as they came (_settle)
        self.settled_reports: list[tuple[str, str]] = []
        self.settled_facts: list[tuple[str, str]] = []
        self.slim_entries: dict[int, Slim] = {}  # id of a ledger entry made of a slim report → the report
        self.decoded: dict[str, list[FileReport]] = {}  # cached files' slim reports, by path (_decode_ahead)
        self.archive_flush = BackgroundFlushes()

    def execute(self) -> AggregationResult:
        run_id = self.manifest.begin_run(self.as_of, self.month, self.inbox, self.context_key)
        retirement_mark = self.manifest.last_retirement()
        inbox = self._examine_inbox()
        unchanged = self._unchanged_result(
            inbox.examined, inbox.seen_before, len(inbox.skipped), retirement_mark
        )
        if unchanged is not None:
            self.manifest.finish_run(run_id, {**unchanged.outcome(), "retirements": retirement_mark})
            return unchanged
        self._report_inbox(inbox)
        previous = self._previous_states()
        retired = self.manifest.retirements()
        revived, kept = self._carry_over(previous, inbox, retired)
        checked = self._cross_check(previous, inbox.reports, revived, kept)
        # the monthly state and its outputs made in a second process meanwhile (ledger/aside.py)
        monthly_job = Aside(functools.partial(monthly_outputs, checked.ledger, self.config, self.month))
        try:
            events = history_events(previous, checked.states, self.as_of, inbox.present, retired)
            history = (self.manifest.history(latest=HISTORY_SHEET_LIMIT) + events)[-HISTORY_SHEET_LIMIT:]
            written, monthly = self._write_outputs(
                checked.ledger, checked.states, history, monthly_job, _inbox_key(inbox)
            )
        finally:
            monthly_job.close()
        result = self._result(inbox, checked, monthly, written, events)
        result.history_total = self.manifest.history_count() + len(events)
        self._commit_manifest(run_id, inbox, previous, checked, events, written, result, retirement_mark)
        return result

    # -- 1. the inbox
    def _examine_inbox(self) -> _Inbox:
        """List the inbox and examine every file (from the last run's hash, or read now)."""
        candidates, skipped = inbox_files(self.inbox)
        seen_before = self.manifest.seen_files()
        if not self.allow_missing:
            self._refuse_vanished_inbox({relative for _, relative in candidates}, seen_before)
        return _Inbox(candidates, skipped, self._examine(candidates, seen_before), seen_before)

    def _refuse_vanished_inbox(self, present: set[str], seen_before: dict[str, SeenFile]) -> None:
        """An empty inbox under a ledger with records, or most files gone at once: likely not the
        real inbox (a share not connected), so nothing is retired on its word."""
        gone = sum(path not in present for path in seen_before)
        if present:
            if gone < MISSING_MIN_FILES or gone <= len(seen_before) * MISSING_SHARE:
                return
            what = f"前回の集計で確認した {len(seen_before):,}件のうち {gone:,}件のファイルが見つかりません"
        elif any(s.disposition in CURRENT for s in self._previous_states()):
            what = "ファイルが1件もありません（台帳には記録があります）"
        else:
            return
        raise InboxLooksEmpty(
            f"提出フォルダ（{self.inbox}）に{what}。提出フォルダが空か、共有フォルダが接続されていない可能性があります。"
            "フォルダの場所と接続を確かめてください。本当にファイルを削除したのなら --allow-missing を付けて実行し直してください"
            "（消えたファイルの記録は原本なしとして台帳に残ります）。"
        )

    def _report_inbox(self, inbox: _Inbox) -> None:
        """The inbox's single-file reports; the archive made durable before the manifest names copies."""
        inbox.reports, inbox.parsed = self._reports(inbox.candidates, inbox.examined, inbox.skipped)
        if self.copies_written or any(f.archived for f in inbox.examined.values()):
            self.archive_flush.sync_all(self.archive_root)  # in the background, awaited by _archive_durable

    def _unchanged_result(
        self, examined: dict[str, Examined], seen: dict[str, SeenFile], skipped: int, retirement_mark: int
    ) -> AggregationResult | None:
        """The last run's result again when nothing it depends on changed: the same files (size,
        mtime, hash), reference date, configuration, code, month and retirements, and its outputs
        untouched."""
        last = self.manifest.last_outcome(self.context_key, self.month, self.as_of)
        if last is None or len(examined) != len(seen) or last.get("retirements") != retirement_mark:
            return None
        for found in examined.values():
            before = seen.get(found.path)
            if (
                not found.cached
                or found.incomplete
                or before is None
                or (before.size, before.mtime_ns, before.sha256) != (found.size, found.mtime_ns, found.sha256)
            ):
                return None
        if not isinstance(last.get("outputs"), list) or any(name not in last for name in _OUTCOME_FACTS):
            return None  # an outcome of another shape (a damaged manifest): do the run
        input_keys = set()
        for name in last["outputs"]:
            recorded = self.manifest.output_state(name)
            if recorded is None or recorded[1] != _file_sha256(self.out_dir / name):
                return None
            input_keys.add(recorded[0])
        if len(input_keys) != 1:
            return None
        facts = {name: last[name] for name in _OUTCOME_FACTS}
        facts["summary"] = {**facts["summary"], str(Status.SKIPPED): skipped}
        return AggregationResult(
            out_dir=self.out_dir,
            as_of=self.as_of,
            month=self.month,
            outputs=[self.out_dir / n for n in last["outputs"]],
            files_read=len(examined),
            **facts,
        )

    # -- 1. reading
    def _examine(self, candidates: list[tuple[Path, str]], seen: dict[str, SeenFile]) -> dict[str, Examined]:
        """Every candidate file, by its relative path: from the last run's hash, or read now."""
        known = self.manifest.cached_shas(self.context_key)
        examined: dict[str, Examined] = {}
        to_read = []
        for path, relative in candidates:
            last = seen.get(relative)
            if last is not None and last.sha256 in known and _unchanged(path, last):
                examined[relative] = Examined(relative, last.size, last.mtime_ns, last.sha256, cached=True)
            else:
                to_read.append((path, relative))
        progress = Progress(len(candidates), "ファイルの確認", self.progress)
        progress.advance(len(examined))
        ahead = self._decode_ahead(list(examined.values()))
        try:
            inbox = (self.inbox,)
            for found in examine_all(
                to_read,
                self.context,
                self.archive_root,
                known,
                self.workers,
                progress,
                roots=inbox,
                idle=lambda: next(ahead, False),
            ):
                examined[found.path] = self._settle(found)
            again = [(path, relative) for path, relative in candidates if examined[relative].incomplete]
            if again:  # a copy still running: one pause for all of them, then a last try
                pause(self.retry_delay)
                for found in examine_all(
                    again, self.context, self.archive_root, known, 1, Progress(0, ""), final=True, roots=inbox
                ):
                    examined[found.path] = self._settle(found)
            self._store_settled()
        except OSError as e:  # reading a file never raises: this is the archive
            raise ArchiveUnwritable(
                f"保管庫（{e.filename or self.archive_root}）に書き込めません: {describe_os_error(e)}。"
                "空き容量と権限を確認してください（台帳などの出力は前回のままです）。"
            ) from None
        except BrokenProcessPool:
            raise AggregationError(
                "並列に読むプロセスが異常終了しました（メモリ不足など）。--workers 1 を付けて実行し直してください。"
            ) from None
        finally:
            progress.close()
        return examined

    def _decode_ahead(self, cached: list[Examined]) -> Iterator[bool]:
        """The slim reports of cached files decoded a batch at a time (into ``self.decoded``) while
        the workers parse the others; ``_reports`` decodes whatever is left."""
        for start in range(0, len(cached), 100):
            batch = [f for f in cached[start : start + 100] if f.sha256]
            facts = self.manifest.cached_facts([f.sha256 or "" for f in batch], self.context_key)
            for found in batch:
                if (slims := _decoded_facts(facts.get(found.sha256 or ""), found.path)) is not None:
                    self.decoded[found.path] = slims
            yield True

    def _settle(self, found: Examined) -> Examined:
        """A file's new reports cached as they come from the workers, and held as slim ones only
        (a first run never holds every full report at once)."""
        if found.reports is not None and found.stable:
            full = relative_paths(found.reports, found.path)
            self.settled_reports.append((found.sha256 or "", reports_to_json(full)))
            found.reports = self._slims(full, found.sha256 or "", self.settled_facts)
            self.settled.add(found.path)
            if len(self.settled_reports) >= 500:
                self._store_settled()
        return found

    def _store_settled(self) -> None:
        self.manifest.store_reports(self.settled_reports, self.context_key)
        self.manifest.store_facts(self.settled_facts, self.context_key)
        self.settled_reports, self.settled_facts = [], []

    def _reports(
        self, candidates: list[tuple[Path, str]], examined: dict[str, Examined], skipped: list[FileReport]
    ) -> tuple[list[FileReport], int]:
        """The single-file reports of the inbox (cached or new), before any check across files.

        What is kept of each record is its ``Slim`` report (from the ``facts`` cache, or cut from
        the full report as it comes from the workers, which is cached and let go): the main
        process never holds every full report at once."""
        reports: list[FileReport] = []
        new_cache: list[tuple[str, str]] = []
        new_facts: list[tuple[str, str]] = []
        parsed = 0
        facts: dict[str, str] = {}
        texts: dict[str, str] = {}
        for i, (path, relative) in enumerate(candidates):
            if i % 500 == 0:  # the cached texts a batch at a time: never all of them in memory
                hashes = [
                    f.sha256
                    for f in (examined[r] for _, r in candidates[i : i + 500])
                    if f.cached and f.sha256 and f.path not in self.decoded
                ]
                facts = self.manifest.cached_facts(hashes, self.context_key)
                lacking = [h for h in hashes if h not in facts]
                texts = self.manifest.cached_texts(lacking, self.context_key) if lacking else {}
            found = examined[relative]
            file_reports: list[FileReport] | None = None
            if found.cached:
                sha = found.sha256 or ""
                file_reports = self.decoded.pop(relative, None) or _decoded_facts(facts.get(sha), relative)
                if file_reports is None and (text := texts.get(sha) or self._cached_text(sha)) is not None:
                    file_reports = self._slims(reports_from_json(text, relative), sha, new_facts)
                if file_reports is None:  # the cache lost it meanwhile: parse after all
                    found = examined[relative] = next(
                        examine_all(
                            [(path, relative)],
                            self.context,
                            self.archive_root,
                            frozenset(),
                            1,
                            Progress(0, ""),
                            final=True,
                            roots=(self.inbox,),
                        )
                    )
                elif any(r.values for r in file_reports) and sha not in self._archived():
                    self._restore_copy(path, sha)
            if file_reports is None and relative in self.settled:  # cached as it came (_settle)
                parsed += 1
                file_reports, found.reports = list(found.reports or []), None
            if file_reports is None:
                parsed += 1
                file_reports = relative_paths(found.reports or [], relative)
                found.reports = None  # held from here on as slim reports only
                if found.stable:
                    new_cache.append((found.sha256 or "", reports_to_json(file_reports)))
                    file_reports = self._slims(file_reports, found.sha256 or "", new_facts)
                    if len(new_cache) >= 500:  # stored as they come: a first run never holds them all
                        self.manifest.store_reports(new_cache, self.context_key)
                        new_cache = []
            if len(new_facts) >= 500:
                self.manifest.store_facts(new_facts, self.context_key)
                new_facts = []
            for report in file_reports:
                report.sha256 = found.sha256
                (skipped if report.status is Status.SKIPPED else reports).append(report)
        self.manifest.store_reports(new_cache, self.context_key)
        self.manifest.store_facts(new_facts, self.context_key)
        return reports, parsed

    def _cached_text(self, sha256: str) -> str | None:
        return self.manifest.cached_texts([sha256], self.context_key).get(sha256)

    @staticmethod
    def _slims(full: list[FileReport], sha256: str, new_facts: list[tuple[str, str]]) -> list[FileReport]:
        """The slim reports of one file's full reports; their JSON is added to ``new_facts``."""
        slims = [slim(r, record_content(r.values, sha256)) for r in full]
        new_facts.append((sha256, facts_to_json(slims)))
        return list(slims)

    def _expand(self, reports: Sequence[FileReport]) -> dict[int, FileReport]:
        """The full single-file reports of slim ones (by ``id`` of the slim report), from the cache,
        with what the run has made of them so far (status, findings)."""
        slims = [r for r in reports if isinstance(r, Slim)]
        texts = self.manifest.cached_texts((r.sha256 or "" for r in slims), self.context_key)
        decoded: dict[tuple[str, str], dict[int, FileReport]] = {}
        full: dict[int, FileReport] = {}
        for report in slims:
            sha = report.sha256 or ""
            rows = decoded.get((sha, report.path))
            if rows is None:
                text = texts.get(sha)
                if text is None:
                    raise ManifestError(f"記録 {report.location} の検証結果が処理記録にありません")
                rows = decoded[sha, report.path] = {
                    r.row or 0: r for r in reports_from_json(text, report.path)
                }
            whole = rows.get(report.row or 0)
            if whole is None:
                raise ManifestError(f"記録 {report.location} の検証結果が処理記録にありません")
            whole.sha256, whole.status, whole.findings = report.sha256, report.status, report.findings
            full[id(report)] = whole
        return full

    def _expand_entries(self, entries: list[LedgerEntry]) -> list[LedgerEntry]:
        """Full ledger entries for ``LedgerFiles``: those of slim reports decoded from the cache."""
        slim_entries = [e for e in entries if id(e) in self.slim_entries]
        if not slim_entries:
            return entries
        reports = [self.slim_entries[id(e)] for e in slim_entries]
        full = self._expand(reports)
        out = []
        for entry in entries:
            report = self.slim_entries.get(id(entry))
            if report is None:
                out.append(entry)
            else:
                out.append(LedgerEntry.from_report(full[id(report)], source_missing=entry.source_missing))
        return out

    def _archived(self) -> set[str]:
        """The hashes of the archive's copies (listed once per run)."""
        if self.archived_hashes is None:
            self.archived_hashes = archived_hashes(self.archive_root)
        return self.archived_hashes

    def _restore_copy(self, path: Path, sha256: str) -> None:
        """Put back an archived copy that was deleted from DIR/archive, if the inbox still has it."""
        with contextlib.suppress(OSError):
            snapshot = read_snapshot(path)
            if snapshot is not None and hashlib.sha256(snapshot[0]).hexdigest() == sha256:
                self.copies_written |= keep_copy(self.archive_root, sha256, path.suffix, snapshot[0])

    # -- 2. what the last ledger's records become
    def _previous_states(self) -> list[RecordState]:
        """Where every record version stood after the last run; from ledger.json for a new manifest."""
        states = self.manifest.record_states()
        if states or self.manifest.finished_runs():
            return states
        try:
            ledger = load_ledger(self.out_dir)  # a manifest lost or moved aside: the ledger still knows
        except LedgerError:
            return []
        return [
            RecordState(
                e.path,
                e.row or 0,
                e.sha256,
                e.record_id,
                e.status,
                e.stage,
                Disposition.MISSING if e.source_missing else Disposition.LEDGER,
                record_content(e.values, e.sha256),
            )
            for e in ledger.entries
            if e.sha256
        ]

    def _carry_over(
        self, previous: list[RecordState], inbox: _Inbox, retired: dict[StateKey, Retirement]
    ) -> tuple[list[FileReport], list[FileReport]]:
        """Reports, from the archive, of the last ledger's versions that stay current although no
        inbox file gives them now: (revived: their path left the inbox, kept: their file cannot be read now)."""
        hashes = (f.sha256 for f in inbox.examined.values() if f.sha256)
        now = InboxNow.of(inbox.reports, inbox.present, hashes)
        copies = {}
        for state in previous:
            if wants_archive(state, now, retired):
                report = self._archived_report(state)
                if report is not None:
                    copies[state_key(state)] = report
        fates = decide_fates(previous, now, retired, {k: Version.of(r) for k, r in copies.items()})
        unreadable = {
            r.path: r
            for r in inbox.reports
            if r.status is Status.UNREADABLE and not (r.record_id and r.values)
        }
        revived, kept = [], []
        for state, fate in zip(previous, fates, strict=True):
            if fate is Fate.KEPT_UNREADABLE_NOW:
                report = copies[state_key(state)]
                report.findings += [*unreadable[state.path].findings, make_finding("previous_version_kept")]
                kept.append(report)
            elif fate is Fate.SOURCE_MISSING:
                report = copies[state_key(state)]
                report.findings.append(make_finding("source_missing", path=location_of(state)))
                revived.append(report)
        return sorted(revived, key=_by_location), sorted(kept, key=_by_location)

    def _archived_report(self, state: RecordState) -> FileReport | None:
        """The single-file report of an archived version (each one handed out once per run)."""
        key = (state.sha256, state.path)
        rows = self.archived.get(key)
        if rows is None:
            reports = self.manifest.cached_reports(state.sha256, self.context_key, state.path)
            if reports is None:
                copy = find_copy(self.archive_root, state.sha256)
                reports = [] if copy is None else self._examine_copy(copy, state)
                if reports:
                    self.manifest.store_reports([(state.sha256, reports_to_json(reports))], self.context_key)
            rows = self.archived[key] = {r.row or 0: r for r in reports if r.values}
        report = rows.pop(state.row, None)
        if report is not None:
            report.sha256 = state.sha256
        return report

    def _examine_copy(self, copy: Path, state: RecordState) -> list[FileReport]:
        """An archived copy read like an inbox file, in a worker process with the same budgets (a
        hostile copy costs its own record, not the run); a copy whose bytes are no longer those of
        its hash is not used."""
        found = next(
            examine_all(
                [(copy, state.path)],
                self.context,
                self.archive_root,
                frozenset(),
                1,
                Progress(0, ""),
                final=True,
            )
        )
        if found.sha256 != state.sha256:
            return []
        return relative_paths(found.reports or [], state.path)

    # -- 3. the check across files and runs
    def _cross_check(
        self,
        previous: list[RecordState],
        reports: list[FileReport],
        revived: list[FileReport],
        kept: list[FileReport],
    ) -> _Checked:
        """Check every version against the others; the current ones make the ledger.

        Only versions that share a record id with another are compared (by their full values:
        those slim ones are expanded first, in place in ``reports``); the others keep their slim
        report, which is all the ledger's entries, the monthly state and the fragments' keys need.
        """
        by_id = Counter(
            r.record_id
            for r in (*reports, *revived, *kept)
            if r.record_id and r.status is not Status.UNREADABLE
        )
        shared = [r for r in reports if isinstance(r, Slim) and by_id[r.record_id or ""] > 1]
        if shared:
            full = self._expand(shared)
            reports[:] = [full.get(id(r), r) for r in reports]
        kept_paths = {r.path for r in kept}
        reports = [
            r for r in reports if not (r.status is Status.UNREADABLE and r.path in kept_paths)
        ]  # shown by the kept version
        # Of identical copies the first is kept: the one the ledger already held, not a stray copy.
        held = {(s.path, s.row) for s in previous if s.disposition in CURRENT}
        everything = sorted(reports + revived + kept, key=lambda r: (r.path, r.row or 0) not in held)
        for report in everything:
            apply_reference_date(report, self.as_of)
        cross_check(everything)
        dispositions = self._dispose(reports, revived, kept)
        _note_copies(everything, dispositions)
        current = sorted(
            (r for r in everything if dispositions[id(r)] in CURRENT),
            key=lambda r: (r.path, r.row or 0, r.sha256 or ""),
        )
        entries = []
        for r in current:
            entry = LedgerEntry.from_report(r, source_missing=dispositions[id(r)] is Disposition.MISSING)
            if isinstance(r, Slim):
                self.slim_entries[id(entry)] = r
            entries.append(entry)
        ledger = Ledger(self.as_of, entries, config_digest(self.config))
        # A version the last run saw under the same context has the same values: its content digest stands.
        known = (
            {(s.sha256, s.row): s.content for s in previous if s.content}
            if self.manifest.last_context_key() == self.context_key
            else {}
        )
        states = [_state(r, dispositions[id(r)], known) for r in everything]
        return _Checked(everything, dispositions, states, ledger)

    @staticmethod
    def _dispose(
        reports: list[FileReport], revived: list[FileReport], kept: list[FileReport]
    ) -> dict[int, Disposition]:
        dispositions = {}
        carried = {id(r): Disposition.MISSING for r in revived} | {id(r): Disposition.KEPT for r in kept}
        for report in reports + revived + kept:
            codes = {f.code for f in report.findings}
            if "superseded" in codes:
                dispositions[id(report)] = Disposition.SUPERSEDED
            elif "duplicate_file" in codes:
                dispositions[id(report)] = Disposition.DUPLICATE
            else:
                dispositions[id(report)] = carried.get(id(report), Disposition.LEDGER)
        return dispositions

    # -- 4. outputs
    def _write_outputs(
        self,
        ledger: Ledger,
        states: list[RecordState],
        history: list[HistoryEvent],
        monthly_job: Aside[tuple[MonthlyState, dict[str, bytes]]],
        inbox_key: str,
    ) -> tuple[dict[str, tuple[str, str]], MonthlyState]:
        """Render what changed and replace those files together; (input key, sha256) of every
        output, and the monthly state (``monthly_job``'s, made meanwhile).

        The input key stands for everything an output is made from: the reference date, the
        inbox files' hashes, each record version's place, hash and fate (its report follows from
        the hash and the context), the history shown, the month.
        """
        versions = "\n".join(f"{s.path}\t{s.row}\t{s.sha256}\t{s.disposition}" for s in states)
        history_text = json.dumps(
            [[e.as_of.isoformat(), e.event, e.record_id, e.location, e.detail] for e in history],
            ensure_ascii=False,
        )
        parts = (self.context_key, self.as_of.isoformat(), self.month, inbox_key, versions, history_text)
        input_key = hashlib.sha256("\0".join(parts).encode()).hexdigest()
        files = LedgerFiles(ledger, history, self.manifest, self.context_key, self._expand_entries)
        written: dict[str, tuple[str, str]] = {}
        outputs: OutputSet | None = None  # opened for the first output that changed

        def stage(name: str, render: Callable[[], bytes]) -> None:
            nonlocal outputs
            target = self.out_dir / name
            recorded = self.manifest.output_state(name)
            if recorded is not None and recorded[0] == input_key and recorded[1] == _file_sha256(target):
                written[name] = recorded
                return
            data = render()
            digest = hashlib.sha256(data).hexdigest()
            written[name] = (input_key, digest)
            # the file on disk is hashed only when it may already be the new one (e.g. a month
            # whose state did not change), not for every ledger.json that did
            if (recorded is not None and digest != recorded[1]) or digest != _file_sha256(target):
                outputs = outputs or OutputSet(self.out_dir)
                outputs.file(name, data)  # staged at once: the large outputs are never all in memory

        try:
            stage(LEDGER_FILE, lambda: files.get("json"))
            stage(LEDGER_WORKBOOK, lambda: files.get("xlsx"))
            stage(LEDGER_CSV, lambda: files.get("csv"))
            state, made = monthly_job.result()
            monthly_xlsx, monthly_page = monthly_file_names(self.month)
            renderers: dict[str, Callable[[], bytes]] = {
                monthly_xlsx: lambda: monthly_workbook_bytes(state),
                monthly_page: lambda: monthly_html(state).encode("utf-8"),
                **division_renderers(state, self.out_dir),  # 主管課別/<主管課>.xlsx
            }

            def made_or_render(name: str, render: Callable[[], bytes]) -> bytes:
                found = made.pop(name, None)  # made in the second process, or here if it failed
                return found if found is not None else render()

            for name, render in renderers.items():
                stage(name, functools.partial(made_or_render, name, render))
        except OutputError as e:  # a file that cannot be staged discards the set itself
            raise _output_error(e) from None
        except BaseException:
            if outputs is not None:
                outputs.discard()
            raise
        finally:
            files.close()
        self._archive_durable()  # an output never names a copy that a crash could still lose
        if outputs is not None:
            try:  # all new, or (on an error, or a crash) all as before
                outputs.commit()
            except OutputError as e:
                raise _output_error(e) from None
        return written, state

    def _result(
        self,
        inbox: _Inbox,
        checked: _Checked,
        monthly: MonthlyState,
        written: dict[str, tuple[str, str]],
        events: list[HistoryEvent],
    ) -> AggregationResult:
        ledger, dispositions = checked.ledger, checked.dispositions.values()
        counts = Counter(str(e.status) for e in ledger.entries)
        counts[str(Status.SKIPPED)] = len(inbox.skipped)
        conflicts = {
            e.record_id for e in ledger.entries if any(f.code == "record_id_conflict" for f in e.findings)
        }
        return AggregationResult(
            out_dir=self.out_dir,
            as_of=self.as_of,
            month=self.month,
            summary={str(s): counts.get(str(s), 0) for s in Status},
            has_failures=any(e.status in (Status.INVALID, Status.UNREADABLE) for e in ledger.entries),
            conflicts=len(conflicts),
            overdue=len(monthly.overdue),
            outputs=[self.out_dir / name for name in written],
            entries=len(ledger.entries),
            files_read=len(inbox.candidates),
            parsed=inbox.parsed,
            superseded=sum(d is Disposition.SUPERSEDED for d in dispositions),
            duplicates=sum(d is Disposition.DUPLICATE for d in dispositions),
            source_missing=sum(e.source_missing for e in ledger.entries),
            unreadable_kept=sum(d is Disposition.KEPT for d in dispositions),
            events=events,  # ``ledger`` is read back from ledger.json if a caller asks
        )

    def _archive_durable(self) -> None:
        """Wait for the archive's copies of this run to be on disk (``sync_all`` in ``_report_inbox``)."""
        try:
            self.archive_flush.wait()
        except OSError as e:
            raise ArchiveUnwritable(
                f"保管庫（{self.archive_root}）に書き込めません: {describe_os_error(e)}。"
                "空き容量と権限を確認してください（台帳などの出力は前回のままです）。"
            ) from None

    # -- 5. the manifest
    def _commit_manifest(
        self,
        run_id: int,
        inbox: _Inbox,
        previous: list[RecordState],
        checked: _Checked,
        events: list[HistoryEvent],
        written: dict[str, tuple[str, str]],
        result: AggregationResult,
        retirement_mark: int,
    ) -> None:
        """Record the run in one transaction, after its outputs are in place (see ``_write_outputs``)."""
        self._archive_durable()
        seen = [
            SeenFile(f.path, f.size, f.mtime_ns, f.sha256)
            for f in inbox.examined.values()
            if f.stable and f.size is not None and f.mtime_ns is not None and f.sha256 is not None
        ]
        before, now = inbox.seen_before, {s.path: s for s in seen}
        states_unchanged = sorted(previous, key=_by_place) == sorted(checked.states, key=_by_place)
        self.manifest.commit_run(
            run_id,
            seen_gone=[path for path in before if path not in now],
            seen_changed=[s for path, s in now.items() if before.get(path) != s],
            states=None if states_unchanged else checked.states,
            events=events,
            accepted=[
                _manifest_row(r, inbox.examined[r.path])
                for r in inbox.reports
                if r.values and _new_sighting(r, inbox.seen_before)
            ],
            outputs=written,
            outcome={**result.outcome(), "retirements": retirement_mark},
        )


def _note_copies(reports: list[FileReport], dispositions: dict[int, Disposition]) -> None:
    """The version kept in the ledger names its identical copies (cross_check notes only the copy)."""
    kept: dict[str, list[FileReport]] = {}
    for report in reports:
        if report.record_id and dispositions[id(report)] in CURRENT:
            kept.setdefault(report.record_id, []).append(report)
    for copy in reports:
        if dispositions[id(copy)] is Disposition.DUPLICATE:
            original = next((r for r in kept.get(copy.record_id or "", []) if r.values == copy.values), None)
            if original is not None:
                original.findings.append(
                    make_finding(
                        "duplicate_file",
                        field="record_id",
                        cell=original.cells.get("record_id"),
                        record_id=copy.record_id,
                        other=copy.location,
                    )
                )


def _output_error(e: OutputError) -> AggregationError:
    if e.in_use:
        return OutputInUse(
            f"出力ファイルを置き換えられません（{e.path}）: {e.reason}。Excel などで開いていれば閉じてから実行し直してください"
            "（出力はどれも前回のままです）。"
        )
    return AggregationError(
        f"出力ファイルを書き込めません（{e.path}）: {e.reason}。出力はどれも前回のままです。"
    )


def _inbox_key(inbox: _Inbox) -> str:
    """The inbox files and their hashes: part of every output's input key."""
    return "\n".join(
        f"{f.path}\t{f.sha256 or ''}" for f in sorted(inbox.examined.values(), key=lambda f: f.path)
    )


def _decoded_facts(text: str | None, path: str) -> list[FileReport] | None:
    """A file's cached slim reports; None when not cached or damaged (cut again from the full report)."""
    if text is None:
        return None
    try:
        return list(facts_from_json(text, path))
    except ManifestError:
        return None


def monthly_outputs(ledger: Ledger, config: Config, month: str) -> tuple[MonthlyState, dict[str, bytes]]:
    """The monthly state of ``ledger`` and its outputs by name: the page, its workbook, the
    主管課別 files (what ``_write_outputs`` stages; made in a second process, see ``Aside``)."""
    state = monthly_state(ledger, config, month)
    monthly_xlsx, monthly_page = monthly_file_names(month)
    made = {monthly_xlsx: monthly_workbook_bytes(state), monthly_page: monthly_html(state).encode("utf-8")}
    made.update((division_file_name(d), division_workbook_bytes(state, d)) for d in state.divisions)
    return state, made


def _file_sha256(path: Path) -> str:
    try:
        with path.open("rb") as f:  # streamed: ledger.json of 30,000 records is ≈100 MB
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return ""


def _new_sighting(report: FileReport, seen: dict[str, SeenFile]) -> bool:
    """A version not seen at this place by the last run: a row for the manifest."""
    last = seen.get(report.path)
    return last is None or last.sha256 != report.sha256


def _by_location(report: FileReport) -> tuple:
    return (report.path, report.row or 0)


def _by_place(state: RecordState) -> tuple:
    return (
        state.path,
        state.row,
        state.record_id or "",
        state.sha256,
        str(state.status),
        state.stage or "",
        state.disposition,
        state.content,
    )


def _unchanged(path: Path, last: SeenFile) -> bool:
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == (last.size, last.mtime_ns)


def _state(
    report: FileReport, disposition: Disposition, known: Mapping[tuple[str, int], str] | None = None
) -> RecordState:
    content = (known or {}).get((report.sha256 or "", report.row or 0))
    if content is None and isinstance(report, Slim):
        content = report.content
    return RecordState(
        report.path,
        report.row or 0,
        report.sha256 or "",
        report.record_id,
        report.status,
        report.stage,
        str(disposition),
        content if content is not None else record_content(report.values, report.sha256),
    )


def _manifest_row(report: FileReport, found: Examined) -> ManifestRow:
    return ManifestRow(
        report.sha256 or "",
        report.path,
        report.row or 0,
        found.size,
        found.mtime_ns,
        report.record_id,
        report.status,
        report.stage,
    )


def location_of(state: RecordState) -> str:
    return record_location(state.path, state.row)


# ---------------------------------------------------------------------------- history


def history_events(
    previous: list[RecordState],
    current: list[RecordState],
    as_of: dt.date,
    present: Iterable[str] = (),
    retired: dict[tuple[str, int, str], Retirement] | None = None,
) -> list[HistoryEvent]:
    """What changed between two runs, one event per record version, in the order of the places.

    A record version is known by its file and record id, and compared by its values: a list
    saved again gives events only for the rows whose values changed (a row moving up because a
    row above was deleted is no change). A version that is gone while its file is still there
    (``present``) was replaced (置換) or its row deleted (行の削除); one retired by ``forget``
    is 取消 with the reason.
    """
    present, retired = set(present), retired or {}
    pairs, gone, arrived = _pair_versions(previous, current)
    events = _change_events(pairs, as_of)
    moved, arrival_events = _arrival_events(gone, arrived, present, as_of)
    events += arrival_events
    events += _departure_events(
        [old for old in gone if id(old) not in moved], current, arrived, present, retired, as_of
    )
    return [event for _, event in sorted(events, key=lambda pair: pair[0])]


_Ordered = tuple[tuple, HistoryEvent]  # an event and its place in the history's order


def _pair_versions(
    previous: list[RecordState], current: list[RecordState]
) -> tuple[list[tuple[RecordState, RecordState]], list[RecordState], list[RecordState]]:
    """(old, new) pairs of the same file and record id, same values first; the versions gone; the new ones."""
    pairs, gone, arrived = [], [], []
    before, after = _by_file_and_record(previous), _by_file_and_record(current)
    for key in before.keys() | after.keys():
        olds, news = before.get(key, []), after.get(key, [])
        if len(olds) == len(news) == 1:  # the usual case: one version then, one now (same values or not)
            pairs.append((olds[0], news[0]))
            continue
        same: dict[str, list[RecordState]] = {}
        for old in olds:
            same.setdefault(_version_key(old), []).append(old)
        unmatched, matched = [], set()
        for new in news:  # the same values first: those rows did not change, wherever they are now
            match = same.get(_version_key(new))
            if match:
                old = match.pop(0)
                matched.add(id(old))
                pairs.append((old, new))
            else:
                unmatched.append(new)
        left = [old for old in olds if id(old) not in matched]
        paired = min(len(left), len(unmatched))
        pairs += zip(left[:paired], unmatched[:paired], strict=False)
        gone += left[paired:]
        arrived += unmatched[paired:]
    return pairs, gone, arrived


def _change_events(pairs: list[tuple[RecordState, RecordState]], as_of: dt.date) -> list[_Ordered]:
    """変更 for new values; 原本なし, 読み取り不可, 原本の復帰 or 状態の変更 for a new status or fate."""
    events = []
    for old, new in pairs:
        if old.content != new.content if old.content and new.content else old.sha256 != new.sha256:
            detail = "行の内容が変更されました。" if new.row else "上書き保存されました。"
            events.append((_order(new), _event(as_of, "変更", new, detail + _describe(new))))
        elif (old.status, old.stage, old.disposition) != (new.status, new.stage, new.disposition):
            name = {Disposition.MISSING: "原本なし", Disposition.KEPT: "読み取り不可"}.get(
                Disposition(new.disposition)
            )
            if name is None:
                name = "原本の復帰" if old.disposition == Disposition.MISSING else "状態の変更"
            events.append((_order(new), _event(as_of, name, new, f"{_describe(old)} → {_describe(new)}")))
    return events


def _arrival_events(
    gone: list[RecordState], arrived: list[RecordState], present: set[str], as_of: dt.date
) -> tuple[set[int], list[_Ordered]]:
    """移動 (the same values left a file that is gone) or 追加 for each new version; the ids of the moved."""
    moved_from: dict[tuple[str, str], list[RecordState]] = {}
    for old in gone:
        if old.path not in present:
            moved_from.setdefault((old.record_id or "", _version_key(old)), []).append(old)
    moves, events = set(), []
    for new in arrived:
        origins = moved_from.get((new.record_id or "", _version_key(new)))
        if origins:
            origin = origins.pop(0)
            moves.add(id(origin))
            events.append(
                (_order(new), _event(as_of, "移動", new, f"{location_of(origin)} から移動。{_describe(new)}"))
            )
        else:
            events.append((_order(new), _event(as_of, "追加", new, _describe(new))))
    return moves, events


def _departure_events(
    gone: list[RecordState],
    current: list[RecordState],
    arrived: list[RecordState],
    present: set[str],
    retired: dict[tuple[str, int, str], Retirement],
    as_of: dt.date,
) -> list[_Ordered]:
    """取消, 置換, 行の削除 or 削除 for each version gone (not moved)."""
    current_ids = {s.record_id for s in current if s.record_id}
    now_at: dict[str, list[str]] = {}
    for state in current:
        now_at.setdefault(state.path, []).append(state.record_id or "")
    arrived_at = {(s.path, s.row): s for s in arrived if s.row}
    events = []
    for old in gone:
        retirement = retired.get((old.path, old.row, old.sha256))
        if retirement is not None:
            detail = (
                f"原本なしの記録を取り消しました（理由: {retirement.reason}）。保管庫の写しは残っています。"
            )
            events.append((_order(old), _event(as_of, "取消", old, detail)))
        elif old.path in present:
            if old.status is Status.UNREADABLE:
                continue  # the file can be read now: its new content has its own event
            if old.row and (old.path, old.row) in arrived_at:
                other = arrived_at[old.path, old.row].record_id
                detail = f"一覧の同じ行が{f'別の記録（整理番号 {other}）' if other else '整理番号の読めない内容'}に書き換えられました。"
                events.append(
                    (_order(old), _event(as_of, "置換", old, detail + "前の版は保管庫に残っています。"))
                )
            elif old.row:
                detail = "一覧から行が削除されました。"
                events.append(
                    (_order(old), _event(as_of, "行の削除", old, detail + "前の版は保管庫に残っています。"))
                )
            else:
                ids = sorted({i for i in now_at.get(old.path, []) if i})
                other = (
                    f"別の記録（整理番号 {'、'.join(ids)}）"
                    if ids
                    else "整理番号の読めない内容"
                    if now_at.get(old.path)
                    else "記録のない内容"
                )
                detail = f"同じファイルが{other}で上書き保存されました。前の版は保管庫に残っています。"
                events.append((_order(old), _event(as_of, "置換", old, detail)))
        else:
            detail = "フォルダからなくなりました"
            if old.record_id in current_ids:
                detail += "（同じ整理番号の新しい版があります）"
            events.append((_order(old), _event(as_of, "削除", old, detail)))
    return events


def _by_file_and_record(states: Iterable[RecordState]) -> dict[tuple[str, str], list[RecordState]]:
    groups: dict[tuple[str, str], list[RecordState]] = {}
    for state in sorted(states, key=lambda s: (s.path, s.row)):
        groups.setdefault((state.path, state.record_id or ""), []).append(state)
    return groups


def _version_key(state: RecordState) -> str:
    """What makes two versions the same: their values (the file and row, for a state recorded
    before values were hashed)."""
    return state.content or f"{state.sha256}#{state.row}"


def _order(state: RecordState) -> tuple:
    return (state.path, state.row, state.record_id or "")


def _event(as_of: dt.date, name: str, state: RecordState, detail: str) -> HistoryEvent:
    return HistoryEvent(as_of, name, state.record_id, location_of(state), detail)


def _describe(state: RecordState) -> str:
    status = STATUS_LABELS_JA[state.status] + (
        f"、段階: {stage_label(state.stage)}" if state.stage and state.status is not Status.UNREADABLE else ""
    )
    return f"{DISPOSITION_LABELS[Disposition(state.disposition)]}（{status}）"


def _relative_text(path: Path, out_dir: Path) -> str:
    """An output's path as the user finds it in DIR (主管課別/県土整備部監理課.xlsx)."""
    try:
        return Path(path).relative_to(out_dir).as_posix()
    except ValueError:
        return Path(path).name
