"""台帳.csv, 台帳.xlsx and ledger.json assembled from per-record fragments cached in the manifest.

A record's CSV line and its 台帳.xlsx row (cells with the row number left out, ``sheets.ROW_MARK``)
follow from its ledger entry alone: they are cached in the manifest's ``fragments`` table under
the hash of the entry's ``ledger.json`` line and the context key (configuration and code), so a
run renders only the records whose entry changed. Every cached row carries a checksum of its
content and is rendered again when it does not match (a damaged manifest never shapes an
output). The outputs are assembled in ledger order through temporary files, batch by batch, so
the rendered rows are never all in memory at once.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator, Sequence
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
_SEPARATOR = "\x01"  # between cached cells in a temporary file (never in a cell: clean_text removes it)
_RECORD_SHEETS = (SHEET_RECORDS, SHEET_EXCLUDED, SHEET_NOT_APPLICABLE)


def fragment_key(context_key: str, json_line: str) -> str:
    return hashlib.sha256(f"{context_key}\0{json_line}".encode()).hexdigest()


def _checksum(key: str, csv: str, cells: str) -> str:
    return hashlib.sha256(f"{key}\0{csv}\0{cells}".encode()).hexdigest()


def render_fragments(entry: LedgerEntry) -> tuple[str, str]:
    """(CSV line, 台帳.xlsx cells with ``ROW_MARK`` for the row number, empty when on no record sheet)."""
    row = record_row(entry)
    return csv_line(row), row_cells(row, _LETTERS, ROW_MARK) if sheet_of(entry) is not None else ""


class LedgerFiles:
    """The three renderings of a ledger, made together in one pass over its entries."""

    def __init__(
        self, ledger: Ledger, history: Sequence[HistoryEvent], manifest: Manifest, context_key: str
    ) -> None:
        self.ledger, self.history, self.manifest, self.context_key = ledger, history, manifest, context_key
        self.rendered = 0  # entries whose fragments were not in the cache (or failed their checksum)
        self._files: dict[str, bytes] | None = None

    def get(self, which: str) -> bytes:
        """``json``, ``csv`` or ``xlsx``."""
        if self._files is None:
            self._files = self._make()
        return self._files[which]

    def _make(self) -> dict[str, bytes]:
        ledger = self.ledger
        keys: list[str] = []
        with (
            tempfile.TemporaryFile() as json_file,
            tempfile.TemporaryFile() as csv_file,
            tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as records,
            tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as excluded,
            tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as not_applicable,
        ):
            sheets = dict(zip(_RECORD_SHEETS, (records, excluded, not_applicable), strict=True))
            json_file.write(ledger.json_head().encode())
            csv_file.write(("\ufeff" + csv_line(RECORD_COLUMNS)).encode())
            entries = ledger.entries
            for start in range(0, len(entries), BATCH):
                batch = entries[start : start + BATCH]
                lines = [e.json_line() for e in batch]
                batch_keys = [fragment_key(self.context_key, line) for line in lines]
                keys += batch_keys
                cached = self.manifest.cached_fragments(batch_keys)
                new = []
                csv_parts = []
                for entry, key in zip(batch, batch_keys, strict=True):
                    found = cached.get(key)
                    if found is not None and found[2] == _checksum(key, found[0], found[1]):
                        csv, cells = found[0], found[1]
                    else:
                        csv, cells = render_fragments(entry)
                        new.append((key, csv, cells, _checksum(key, csv, cells)))
                    csv_parts.append(csv)
                    if (sheet := sheet_of(entry)) is not None:
                        sheets[sheet].write(cells + _SEPARATOR)
                if new:
                    self.manifest.store_fragments(new)
                    self.rendered += len(new)
                json_file.write(((",\n" if start else "") + ",\n".join(lines)).encode())
                csv_file.write("".join(csv_parts).encode())
            json_file.write(Ledger.JSON_TAIL.encode())
            self.manifest.prune_fragments(keys, slack=len(keys) + 1000)
            wb = SheetWorkbook()
            for title, body in sheets.items():
                body.seek(0)
                rows = (numbered(cells, number) for number, cells in enumerate(_split(body), start=2))
                wb.add_rows(title, RECORD_COLUMNS, rows, RECORD_WIDTHS)
            failing = ValidationReport(
                [e for e in entries if e.status in (Status.INVALID, Status.UNREADABLE)]
            )
            wb.add_sheet(SHEET_ERRORS, REPORT_COLUMNS, report_rows(failing), ERROR_WIDTHS)
            history_rows = (
                [e.as_of, e.event, e.record_id or "", e.location, e.detail]
                for e in self.history[-HISTORY_SHEET_LIMIT:]
            )
            wb.add_sheet(SHEET_HISTORY, HISTORY_COLUMNS, history_rows, HISTORY_WIDTHS)
            return {"json": _read(json_file), "csv": _read(csv_file), "xlsx": wb.to_bytes()}


def _read(file: IO[bytes]) -> bytes:
    file.seek(0)
    return file.read()


def _split(file: IO[str]) -> Iterator[str]:
    """The items of a temporary file written as ``item + _SEPARATOR``, read a megabyte at a time."""
    rest = ""
    while chunk := file.read(1 << 20):
        items = (rest + chunk).split(_SEPARATOR)
        rest = items.pop()
        yield from items
