"""台帳.csv, 台帳.xlsx and ledger.json assembled from per-record fragments cached in the manifest.

A record's ledger.json line, its CSV line and its 台帳.xlsx row (cells with the row number left
out, ``sheets.ROW_MARK``) follow from its single-file report (its hash, its row and the context
key: configuration and code) and what the run made of it (its path, status, findings and whether
its file is gone): they are cached in the manifest's ``ledger_fragments`` table under a hash of
those (``entry_key``), so a run neither decodes nor renders a record that did not change. Every
cached row carries a checksum of its content and is rendered again when it does not match (a
damaged manifest never shapes an output). The outputs are assembled in ledger order through
temporary files, batch by batch, so the rendered rows are never all in memory at once.
"""

from __future__ import annotations

import hashlib
import tempfile
import zlib
from collections.abc import Callable, Sequence
from typing import IO

from ledger_tools.check.findings import Status, ValidationReport
from ledger_tools.check.report import REPORT_COLUMNS, report_rows
from ledger_tools.ledger.archive import HistoryEvent, Manifest
from ledger_tools.ledger.entries import Ledger, LedgerEntry
from ledger_tools.ledger.sheets import ROW_MARK, SheetWorkbook, column_letter, numbered, row_cells
from ledger_tools.ledger.workbook import (
    ERROR_WIDTHS,
    HISTORY_COLUMNS,
    HISTORY_SHEET_LIMIT,
    HISTORY_WIDTHS,
    RECORD_COLUMNS,
    RECORD_WIDTHS,
    SHEET_ERRORS,
    SHEET_EXCLUDED,
    SHEET_HISTORY,
    SHEET_NOT_APPLICABLE,
    SHEET_RECORDS,
    record_row,
    sheet_of,
)
from ledger_tools.outputs import csv_line

BATCH = 500
_LETTERS = [column_letter(i) for i in range(len(RECORD_COLUMNS))]
_RECORD_SHEETS = (SHEET_RECORDS, SHEET_EXCLUDED, SHEET_NOT_APPLICABLE)


def entry_key(context_key: str, entry: LedgerEntry) -> str | None:
    """What an entry's fragments follow from; None for an entry without a hash (not cached)."""
    if not entry.sha256:
        return None
    findings = "\x1e".join(
        f"{f.code}\x1f{f.severity}\x1f{f.message}\x1f{f.field}\x1f{f.cell}" for f in entry.findings
    )
    text = "\0".join(
        (
            context_key,
            entry.sha256,
            str(entry.row or 0),
            entry.path,
            "1" if entry.source_missing else "0",
            str(entry.status),
            findings,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _checksum(key: str, line: bytes, csv: bytes, cells: bytes) -> int:
    """Catches a damaged cached row (CRC-32, as a zip checks its entries)."""
    return zlib.crc32(cells, zlib.crc32(csv, zlib.crc32(line, zlib.crc32(key.encode()))))


def render_fragments(entry: LedgerEntry) -> tuple[bytes, bytes]:
    """(CSV line, 台帳.xlsx cells with ``ROW_MARK`` for the row number, empty when on no record sheet)."""
    row = record_row(entry)
    cells = row_cells(row, _LETTERS, ROW_MARK) if sheet_of(entry) is not None else ""
    return csv_line(row).encode(), cells.encode()


class LedgerFiles:
    """The three renderings of a ledger, made together in one pass over its entries."""

    def __init__(
        self,
        ledger: Ledger,
        history: Sequence[HistoryEvent],
        manifest: Manifest,
        context_key: str,
        expand: Callable[[list[LedgerEntry]], list[LedgerEntry]] = list,
    ) -> None:
        """``expand`` gives the full entries of a batch (``ledger`` may hold slim ones): called for
        the entries whose fragments are not in the cache."""
        self.ledger, self.history, self.manifest, self.context_key = ledger, history, manifest, context_key
        self.expand = expand
        self.rendered = 0  # entries whose fragments were not in the cache (or failed their checksum)
        self._files: dict[str, IO[bytes] | bytes] | None = None

    def get(self, which: str) -> bytes:
        """``json``, ``csv`` or ``xlsx``, each handed out once (a large ledger's files are not all
        held in memory together)."""
        if self._files is None:
            self._files = self._make()
        made = self._files.pop(which)
        if isinstance(made, bytes):
            return made
        with made:
            return _read(made)

    def close(self) -> None:
        for made in (self._files or {}).values():
            if not isinstance(made, bytes):
                made.close()
        self._files = {}

    def _make(self) -> dict[str, IO[bytes] | bytes]:
        ledger = self.ledger
        keys: list[str] = []
        json_file, csv_file = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 (handed out by get)
        with (
            tempfile.TemporaryFile() as records,
            tempfile.TemporaryFile() as excluded,
            tempfile.TemporaryFile() as not_applicable,
        ):
            # each record sheet's rows, numbered as they come (row 1 is the header)
            sheets = {
                title: _SheetRows(body)
                for title, body in zip(_RECORD_SHEETS, (records, excluded, not_applicable), strict=True)
            }
            json_file.write(ledger.json_head().encode())
            csv_file.write(("\ufeff" + csv_line(RECORD_COLUMNS)).encode())
            entries = ledger.entries
            for start in range(0, len(entries), BATCH):
                batch = entries[start : start + BATCH]
                batch_keys = [entry_key(self.context_key, e) for e in batch]
                keys += [k for k in batch_keys if k]
                cached = self.manifest.cached_fragments([k for k in batch_keys if k])
                made: dict[int, tuple[bytes, bytes, bytes]] = {}
                for i, key in enumerate(batch_keys):
                    found = cached.get(key) if key else None
                    if found is not None and found[3] == _checksum(key or "", *found[:3]):
                        made[i] = found[:3]
                missing = [i for i in range(len(batch)) if i not in made]
                new = []
                if missing:
                    for i, full in zip(missing, self.expand([batch[i] for i in missing]), strict=True):
                        line = full.json_line().encode()
                        csv, cells = render_fragments(full)
                        made[i] = (line, csv, cells)
                        if key := batch_keys[i]:
                            new.append((key, line, csv, cells, _checksum(key, line, csv, cells)))
                    self.rendered += len(missing)
                lines, csv_parts = [], []
                for i, entry in enumerate(batch):
                    line, csv, cells = made[i]
                    lines.append(line)
                    csv_parts.append(csv)
                    if (sheet := sheet_of(entry)) is not None:
                        sheets[sheet].add(cells)
                for rows in sheets.values():
                    rows.flush()
                if new:
                    self.manifest.store_fragments(new)
                if start:
                    json_file.write(b",\n")
                json_file.write(b",\n".join(lines))
                csv_file.write(b"".join(csv_parts))
            json_file.write(Ledger.JSON_TAIL.encode())
            self.manifest.prune_fragments(keys, slack=len(keys) + 1000)
            wb = SheetWorkbook()
            for title, rows in sheets.items():
                wb.add_body(title, RECORD_COLUMNS, rows.body, rows.last, RECORD_WIDTHS)
            failing = ValidationReport(
                [e for e in entries if e.status in (Status.INVALID, Status.UNREADABLE)]
            )
            wb.add_sheet(SHEET_ERRORS, REPORT_COLUMNS, report_rows(failing), ERROR_WIDTHS)
            history_rows = (
                [e.as_of, e.event, e.record_id or "", e.location, e.detail]
                for e in self.history[-HISTORY_SHEET_LIMIT:]
            )
            wb.add_sheet(SHEET_HISTORY, HISTORY_COLUMNS, history_rows, HISTORY_WIDTHS)
            return {"json": json_file, "csv": csv_file, "xlsx": wb.to_bytes()}


class _SheetRows:
    """A record sheet's ``<row>`` elements written to a temporary file, numbered from 2."""

    def __init__(self, body: IO[bytes]) -> None:
        self.body, self.last = body, 1
        self._pending: list[bytes] = []

    def add(self, cells: bytes) -> None:
        self.last += 1
        self._pending.append(numbered(cells, self.last))

    def flush(self) -> None:
        self.body.write(b"".join(self._pending))
        self._pending = []


def _read(file: IO[bytes]) -> bytes:
    file.seek(0)
    return file.read()
