"""The archive of accepted file versions and the manifest that remembers every run.

``DIR/archive/<2 hex>/<sha256>.<ext>`` holds one copy of every file version that was read as
a record (valid or not), named by its SHA-256: copied once, never changed, so the ledger can be
rebuilt even when a file has left the inbox. ``DIR/manifest.sqlite`` is the memory of the runs:

- ``manifest``: every accepted version as first seen at a place (source path, size, mtime,
  hash, record_id, status, stage, run id; the time is that of the run);
- ``reports``: the single-file validation reports by hash (before the checks across files),
  so that an unchanged file is never parsed again;
- ``facts``: the same reports cut down to what a run needs of every record (``Slim``), so that
  an unchanged record's full report is never decoded;
- ``ledger_fragments``: each record's ledger.json line, 台帳.csv line and 台帳.xlsx row
  (``fragments.py``);
- ``seen_files``: size and mtime of each inbox file at the last run, the shortcut to its hash;
- ``record_state``: where every record version stood after the last run (in the ledger,
  superseded, a duplicate, kept from the archive), with a hash of its values;
- ``history``: the events that changed something, with the run's reference date (the ledger
  workbook shows the latest ones; this table keeps them all);
- ``retired``: record versions whose file is gone that a user retired with ``forget`` (with
  the reason): never brought back from the archive again;
- ``runs`` (the only wall-clock times, and each run's outcome) and ``outputs`` (what each
  output was made from).

SQLite, because one run changes all of these together: a transaction makes a crash leave the
previous state whole; lookups by hash and path are indexed; the history can be queried with
any SQLite client; and it is one file in Python's standard library. Only one process writes,
behind the lock on DIR (SQLite's own locking is not trusted on network shares).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import orjson

from ledger_tools.check.findings import FileReport, Status
from ledger_tools.check.validation import IDENTITY_FIELDS
from ledger_tools.form.fields import DATE_FIELD_IDS
from ledger_tools.ledger.entries import REPORT_FIELD_NAMES, LedgerEntry, entry_fields
from ledger_tools.outputs import atomic_output

P = ParamSpec("P")
R = TypeVar("R")

ARCHIVE_DIR = "archive"
MANIFEST_FILE = "manifest.sqlite"
SCHEMA_VERSION = 2
_USUAL_SUFFIXES = (".xlsx", ".xlsm")  # looked up first; a copy keeps its file's own suffix, whatever it is

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT,
    as_of TEXT NOT NULL, month TEXT NOT NULL, inbox TEXT NOT NULL, context_key TEXT NOT NULL, outcome TEXT);
CREATE TABLE IF NOT EXISTS manifest (
    sha256 TEXT NOT NULL, path TEXT NOT NULL, row INTEGER NOT NULL, size INTEGER, mtime_ns INTEGER, record_id TEXT,
    status TEXT NOT NULL, stage TEXT, run_id INTEGER NOT NULL REFERENCES runs(run_id),
    PRIMARY KEY (sha256, path, row));
CREATE INDEX IF NOT EXISTS manifest_record ON manifest(record_id);
CREATE TABLE IF NOT EXISTS reports (sha256 TEXT PRIMARY KEY, context_key TEXT NOT NULL, reports TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen_files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS record_state (
    path TEXT NOT NULL, row INTEGER NOT NULL, sha256 TEXT NOT NULL, record_id TEXT, status TEXT NOT NULL,
    stage TEXT, disposition TEXT NOT NULL, content TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS retired (
    retirement_id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, row INTEGER NOT NULL, sha256 TEXT NOT NULL,
    record_id TEXT, reason TEXT NOT NULL, retired_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    run_id INTEGER NOT NULL, seq INTEGER NOT NULL, as_of TEXT NOT NULL, event TEXT NOT NULL,
    record_id TEXT, location TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (run_id, seq));
CREATE TABLE IF NOT EXISTS outputs (name TEXT PRIMARY KEY, input_key TEXT NOT NULL, sha256 TEXT NOT NULL);
DROP TABLE IF EXISTS fragments;
DROP TABLE IF EXISTS record_fragments;
CREATE TABLE IF NOT EXISTS ledger_fragments (
    key TEXT PRIMARY KEY, json BLOB NOT NULL, csv BLOB NOT NULL, cells BLOB NOT NULL, checksum INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS facts (sha256 TEXT PRIMARY KEY, context_key TEXT NOT NULL, facts TEXT NOT NULL);
CREATE VIEW IF NOT EXISTS manifest_with_time AS
    SELECT manifest.*, runs.started_at AS time FROM manifest JOIN runs USING (run_id);
"""
# What a manifest of an earlier version needs to become the current one (the rest is in _SCHEMA).
_MIGRATIONS = {1: "ALTER TABLE record_state ADD COLUMN content TEXT NOT NULL DEFAULT '';"}


class ManifestError(Exception):
    """The manifest in DIR cannot be opened or is of another version."""


# ---------------------------------------------------------------------------- the archive


def keep_copy(archive_root: Path, sha256: str, suffix: str, data: bytes) -> bool:
    """Copy a file version into the archive once; False when it was already there.

    The copy keeps the file's own suffix (``find_copy`` finds it whatever it is). Written to a
    temporary beside it and renamed, so a copy is never half there. Where the system can flush
    everything at once, the copies of a run are made durable together (``os.sync`` in the
    background, ``BackgroundFlushes.sync_all``: one flush instead of one per file, which cost more
    than reading them).
    """
    if find_copy(archive_root, sha256) is not None:
        return False
    target = archive_root / sha256[:2] / f"{sha256}{suffix.lower() or '.xlsx'}"
    with atomic_output(target, durable=not hasattr(os, "sync")) as f:
        f.write(data)
    return True


def archived_hashes(archive_root: Path) -> set[str]:
    """The hashes of every copy in the archive, from one listing (``find_copy`` for each would
    look up every record's copy one by one)."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for folder in os.scandir(archive_root):
            if folder.is_dir() and len(folder.name) == 2:
                with contextlib.suppress(OSError):
                    for entry in os.scandir(folder.path):
                        if entry.name.startswith(folder.name) and entry.is_file():
                            found.add(entry.name.split(".", 1)[0])
    return found


def find_copy(archive_root: Path, sha256: str) -> Path | None:
    """The archived copy of a version, whatever its suffix; None when it was never kept."""
    folder = Path(archive_root) / sha256[:2]
    for suffix in _USUAL_SUFFIXES:  # the usual case without listing the folder
        if os.path.isfile(folder / f"{sha256}{suffix}"):
            return folder / f"{sha256}{suffix}"
    try:
        names = sorted(name for name in os.listdir(folder) if name.startswith(sha256 + "."))
    except OSError:  # no copy with these first two digits yet
        return None
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None


# ---------------------------------------------------------------------------- cached reports


def reports_to_json(reports: Iterable[FileReport]) -> str:
    """Single-file reports as JSON, without their path (the cache is by content, not place)."""
    items = []
    for report in reports:
        data = LedgerEntry.from_report(report, path="-").to_json()
        data["row"] = report.row
        items.append(data)
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


def _parsing(method: Callable[P, R]) -> Callable[P, R]:
    """Values in the manifest that do not parse (a damaged or hand-edited file) are a ManifestError."""

    @functools.wraps(method)
    def read(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
            raise ManifestError(f"保存されている値を読めません（{type(e).__name__}: {e}）") from None

    return read


_CELLS: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}


def _shared(cells: Mapping[str, str]) -> Mapping[str, str]:
    """Forms of one layout have the same cells: one mapping held for all of them (≈5 KiB a record)."""
    if len(_CELLS) > 256:  # the rows of lists, each with its own cells: keep the cache small
        _CELLS.clear()
    return _CELLS.setdefault(tuple(cells.items()), cells)


@_parsing
def reports_from_json(text: str, path: str) -> list[FileReport]:
    return [_report(FileReport, data, path) for data in _items(text)]


def _items(text: str) -> list[dict[str, Any]]:
    try:
        return orjson.loads(text)  # ≈2× json.loads
    except orjson.JSONDecodeError:  # what only json reads (NaN), or not JSON: json decides
        return json.loads(text)


def _report(kind: type[FileReport], data: dict[str, Any], path: str, **extra: Any) -> Any:
    found = entry_fields(data)  # the report itself, without a LedgerEntry in between
    del found["source_missing"]
    found.update(path=path, cells=_shared(found["cells"]), sha256=found["sha256"] or None, **extra)
    return kind(**found)


# What a run needs of every record's values (and their cells): the fates and the cross-check
# (identity, record id), the future-date rule (every date), the monthly state, the 主管課別 files
# and readiness (organ, department, section, 主管課, judgement, measures, the public texts).
SLIM_FIELDS = frozenset(
    {
        *DATE_FIELD_IDS,
        *IDENTITY_FIELDS,
        "record_id",
        "organ",
        "department",
        "section",
        "lead_division",
        "supervisor_judgement",
        "measures_needed",
        "public_summary",
        "public_measures",
    }
)


@dataclass
class Slim(FileReport):
    """A single-file report with only the values (and cells) of ``SLIM_FIELDS``, and ``content``,
    the digest of all its values: what a run holds of every record instead of its full report
    (``aggregation`` expands the few it must show in detail from the ``reports`` cache)."""

    content: str = ""


def slim(report: FileReport, content: str) -> Slim:
    """``report`` cut down to ``SLIM_FIELDS`` (its own lists: the full report is not shared)."""
    values = {k: v for k, v in report.values.items() if k in SLIM_FIELDS}
    if report.values and not values:  # still a record with values (sheet_of, the fates ask)
        values = dict(report.values)
    copied = {name: getattr(report, name) for name in REPORT_FIELD_NAMES}
    copied.update(
        values=values,
        cells=_shared({k: c for k, c in report.cells.items() if k in values}),
        findings=list(report.findings),
        exclusions=list(report.exclusions),
    )
    return Slim(**copied, content=content)


def facts_to_json(slims: Iterable[Slim]) -> str:
    """Slim reports as JSON, without their path (cached by content, like the reports)."""
    items = []
    for report in slims:
        data = LedgerEntry.from_report(report, path="-").to_json()
        data["row"] = report.row
        data["content"] = report.content
        items.append(data)
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


@_parsing
def facts_from_json(text: str, path: str) -> list[Slim]:
    reports = []
    for data in _items(text):
        if not isinstance(data.get("content"), str):
            raise TypeError("content の値の型が違います")
        reports.append(_report(Slim, data, path, content=data["content"]))
    return reports


# ---------------------------------------------------------------------------- the manifest


@dataclass(frozen=True)
class SeenFile:
    """An inbox file as last read: the size and mtime that vouch for its hash."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class RecordState:
    """Where one record version (a file, or a row of a list) stood after a run."""

    path: str
    row: int  # 0 for a form (one record per file)
    sha256: str
    record_id: str | None
    status: Status
    stage: str | None
    disposition: str  # see aggregation.Disposition
    content: str = ""  # a hash of the record's values (of the file for an unreadable one); "" if unknown


@dataclass(frozen=True)
class Retirement:
    """A record version whose file is gone, retired by a user (``forget``) with a reason."""

    path: str
    row: int
    sha256: str
    record_id: str | None
    reason: str


@dataclass(frozen=True)
class HistoryEvent:
    """One change the aggregation noticed: the 処理履歴 of the ledger workbook."""

    as_of: dt.date
    event: str
    record_id: str | None
    location: str
    detail: str


@dataclass(frozen=True)
class ManifestRow:
    """An accepted file version at a place, for the ``manifest`` table."""

    sha256: str
    path: str
    row: int  # 0 for a form
    size: int | None
    mtime_ns: int | None
    record_id: str | None
    status: Status
    stage: str | None


class Manifest:
    """``DIR/manifest.sqlite``: open it, read the last run's state, commit a run in one transaction."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)  # transactions are explicit
            self.db.executescript(_SCHEMA)
            version = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if version is None:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif version[0] != str(SCHEMA_VERSION):
                self._migrate(version[0])
        except sqlite3.DatabaseError as e:
            raise ManifestError(str(e)) from None

    def _migrate(self, version: str) -> None:
        """Bring a manifest of an earlier version up to date, in one transaction."""
        if not version.isdigit() or not 1 <= int(version) < SCHEMA_VERSION:
            raise ManifestError(f"版 {version} に対応していません")
        with _transaction(self.db):
            for step in range(int(version), SCHEMA_VERSION):
                self.db.execute(_MIGRATIONS[step])
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs
    def begin_run(self, as_of: dt.date, month: str, inbox: Path, context_key: str) -> int:
        cursor = self.db.execute(
            "INSERT INTO runs (started_at, as_of, month, inbox, context_key) VALUES (?, ?, ?, ?, ?)",
            (_now(), as_of.isoformat(), month, str(inbox), context_key),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @_parsing
    def last_outcome(self, context_key: str, month: str, as_of: dt.date) -> dict[str, Any] | None:
        """The outcome of the last finished run, if it had the same context, month and reference date."""
        row = self.db.execute(
            "SELECT context_key, month, as_of, outcome FROM runs WHERE finished_at IS NOT NULL ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        if row is None or (row[0], row[1], row[2]) != (context_key, month, as_of.isoformat()) or not row[3]:
            return None
        return json.loads(row[3])

    def last_context_key(self) -> str | None:
        """The context key of the last finished run (None before the first)."""
        row = self.db.execute(
            "SELECT context_key FROM runs WHERE finished_at IS NOT NULL ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        return row[0] if row and isinstance(row[0], str) else None

    def finished_runs(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0])

    def finish_run(self, run_id: int, outcome: dict[str, Any]) -> None:
        """Close a run that changed nothing (``commit_run`` closes the others)."""
        with _transaction(self.db):
            self._finish(run_id, outcome)

    def _finish(self, run_id: int, outcome: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE runs SET finished_at = ?, outcome = ? WHERE run_id = ?",
            (_now(), json.dumps(outcome, ensure_ascii=False, sort_keys=True), run_id),
        )

    # -- the report cache
    def cached_shas(self, context_key: str) -> frozenset[str]:
        return frozenset(
            r[0] for r in self.db.execute("SELECT sha256 FROM reports WHERE context_key = ?", (context_key,))
        )

    @_parsing
    def cached_reports(self, sha256: str, context_key: str, path: str) -> list[FileReport] | None:
        row = self.db.execute(
            "SELECT reports FROM reports WHERE sha256 = ? AND context_key = ?", (sha256, context_key)
        ).fetchone()
        return reports_from_json(row[0], path) if row else None

    def cached_texts(self, hashes: Iterable[str], context_key: str) -> dict[str, str]:
        """The cached reports (JSON) of many hashes at once."""
        return self._cached_by_hash("reports", hashes, context_key)

    def store_reports(self, items: Iterable[tuple[str, str]], context_key: str) -> None:
        """Cache (sha256, reports JSON) pairs; committed at once (a cache: safe to keep even if the run fails)."""
        self._store_by_hash("reports", items, context_key)

    def cached_facts(self, hashes: Iterable[str], context_key: str) -> dict[str, str]:
        """The cached slim reports (JSON, see ``Slim``) of many hashes at once."""
        return self._cached_by_hash("facts", hashes, context_key)

    def store_facts(self, items: Iterable[tuple[str, str]], context_key: str) -> None:
        """Cache (sha256, slim reports JSON) pairs; committed at once (a cache, like ``store_reports``)."""
        self._store_by_hash("facts", items, context_key)

    # The tables ``reports`` and ``facts`` share a layout: (sha256, context_key, <table name>).
    def _cached_by_hash(self, table: str, hashes: Iterable[str], context_key: str) -> dict[str, str]:
        wanted = sorted(set(hashes))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            query = f"SELECT sha256, {table} FROM {table} WHERE context_key = ? AND sha256 IN ({marks})"
            found.update(self.db.execute(query, (context_key, *batch)))
        return found

    def _store_by_hash(self, table: str, items: Iterable[tuple[str, str]], context_key: str) -> None:
        with _transaction(self.db):
            self.db.executemany(
                f"INSERT OR REPLACE INTO {table} (sha256, context_key, {table}) VALUES (?, ?, ?)",
                ((sha, context_key, text) for sha, text in items),
            )

    # -- the per-record fragments of the ledger's outputs (see fragments.py)
    def cached_fragments(self, keys: Sequence[str]) -> dict[str, tuple[bytes, bytes, bytes, int]]:
        """(json, csv, cells, checksum) of the keys found, as UTF-8; the caller verifies the checksum
        (a row of another type, e.g. text of an earlier version, is not found)."""
        found: dict[str, tuple[bytes, bytes, bytes, int]] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            query = f"SELECT key, json, csv, cells, checksum FROM ledger_fragments WHERE key IN ({','.join('?' * len(batch))})"
            for key, line, csv, cells, checksum in self.db.execute(query, batch):
                if type(line) is type(csv) is type(cells) is bytes and type(checksum) is int:
                    found[key] = (line, csv, cells, checksum)
        return found

    def store_fragments(self, items: Iterable[tuple[str, bytes, bytes, bytes, int]]) -> None:
        """Cache (key, json, csv, cells, checksum) rows; committed at once (a cache: safe to keep if the run fails)."""
        with _transaction(self.db):
            self.db.executemany("INSERT OR REPLACE INTO ledger_fragments VALUES (?, ?, ?, ?, ?)", items)

    def prune_fragments(self, keep: Iterable[str], slack: int) -> None:
        """Drop the fragments not in ``keep`` once more than ``slack`` others have gathered."""
        keep = set(keep)
        total = int(self.db.execute("SELECT COUNT(*) FROM ledger_fragments").fetchone()[0])
        if total <= len(keep) + slack:
            return
        with _transaction(self.db):
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS keep_fragments (key TEXT PRIMARY KEY)")
            self.db.execute("DELETE FROM keep_fragments")
            self.db.executemany("INSERT OR IGNORE INTO keep_fragments VALUES (?)", ((k,) for k in keep))
            self.db.execute("DELETE FROM ledger_fragments WHERE key NOT IN (SELECT key FROM keep_fragments)")
            self.db.execute("DELETE FROM keep_fragments")

    # -- the last run's state
    @_parsing
    def seen_files(self) -> dict[str, SeenFile]:
        return {
            r[0]: SeenFile(*r) for r in self.db.execute("SELECT path, size, mtime_ns, sha256 FROM seen_files")
        }

    @_parsing
    def record_states(self) -> list[RecordState]:
        rows = self.db.execute(
            "SELECT path, row, sha256, record_id, status, stage, disposition, content FROM record_state ORDER BY path, row"
        )
        return [
            RecordState(p, row, sha, rid, Status(status), stage, disp, content)
            for p, row, sha, rid, status, stage, disp, content in rows
        ]

    @_parsing
    def history(self, latest: int | None = None) -> list[HistoryEvent]:
        """The history, oldest first; only the ``latest`` events when given."""
        query = "SELECT as_of, event, record_id, location, detail, run_id, seq FROM history"
        if latest is None:
            rows = list(self.db.execute(query + " ORDER BY run_id, seq"))
        else:
            rows = list(self.db.execute(query + " ORDER BY run_id DESC, seq DESC LIMIT ?", (latest,)))[::-1]
        return [HistoryEvent(dt.date.fromisoformat(a), e, r, loc, d) for a, e, r, loc, d, _run, _seq in rows]

    def history_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM history").fetchone()[0])

    # -- retired records
    def retire(self, retirements: Iterable[Retirement]) -> None:
        """Retire record versions whose file is gone (``aggregation.forget``), all or nothing."""
        with _transaction(self.db):
            self.db.executemany(
                "INSERT INTO retired (path, row, sha256, record_id, reason, retired_at) VALUES (?, ?, ?, ?, ?, ?)",
                ((r.path, r.row, r.sha256, r.record_id, r.reason, _now()) for r in retirements),
            )

    @_parsing
    def retirements(self) -> dict[tuple[str, int, str], Retirement]:
        """Every retired version by (path, row, sha256); the latest reason wins."""
        rows = self.db.execute(
            "SELECT path, row, sha256, record_id, reason FROM retired ORDER BY retirement_id"
        )
        return {(p, row, sha): Retirement(p, row, sha, rid, reason) for p, row, sha, rid, reason in rows}

    def last_retirement(self) -> int:
        """A number that grows with every retirement (the unchanged-run shortcut must see them)."""
        return int(self.db.execute("SELECT COALESCE(MAX(retirement_id), 0) FROM retired").fetchone()[0])

    def output_state(self, name: str) -> tuple[str, str] | None:
        """(input key, sha256 of the bytes) of an output as last written."""
        row = self.db.execute("SELECT input_key, sha256 FROM outputs WHERE name = ?", (name,)).fetchone()
        return (row[0], row[1]) if row else None

    def record_output(self, name: str, input_key: str, sha256: str) -> None:
        """Record an output's state outside a run (``aggregation.record_ledger``)."""
        with _transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)", (name, input_key, sha256))

    def commit_run(
        self,
        run_id: int,
        *,
        seen_gone: Iterable[str],
        seen_changed: Iterable[SeenFile],
        states: Iterable[RecordState] | None,
        events: list[HistoryEvent],
        accepted: Iterable[ManifestRow],
        outputs: dict[str, tuple[str, str]],
        outcome: dict[str, Any],
    ) -> None:
        """Record the run's outcome, all or nothing: the inbox files gone and those new or changed
        since ``seen_files`` was read; ``states`` None: unchanged."""
        with _transaction(self.db):
            self.db.executemany("DELETE FROM seen_files WHERE path = ?", ((path,) for path in seen_gone))
            self.db.executemany(
                "INSERT OR REPLACE INTO seen_files VALUES (?, ?, ?, ?)",
                ((s.path, s.size, s.mtime_ns, s.sha256) for s in seen_changed),
            )
            if states is not None:
                self.db.execute("DELETE FROM record_state")
                self.db.executemany(
                    "INSERT INTO record_state VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        (
                            s.path,
                            s.row,
                            s.sha256,
                            s.record_id,
                            str(s.status),
                            s.stage,
                            s.disposition,
                            s.content,
                        )
                        for s in states
                    ),
                )
            self.db.executemany(
                "INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (run_id, seq, e.as_of.isoformat(), e.event, e.record_id, e.location, e.detail)
                    for seq, e in enumerate(events, start=1)
                ),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO manifest VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (m.sha256, m.path, m.row, m.size, m.mtime_ns, m.record_id, str(m.status), m.stage, run_id)
                    for m in accepted
                ),
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)",
                ((n, k, s) for n, (k, s) in outputs.items()),
            )
            self._finish(run_id, outcome)


class _transaction:
    """BEGIN … COMMIT, or ROLLBACK on any exception (the connection is in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_exc: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
