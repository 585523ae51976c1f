"""The master ledger as 総務課 opens it: the workbook 台帳.xlsx and the CSV 台帳.csv.

Both are renderings of ``Ledger`` (one row per entry, the field catalogue's labels as headers:
the columns of every form version, empty where a record's version has no such field, and the
record's 様式の版).
Text that users typed is never a formula: a string cell in Excel, a leading ``'`` in CSV. The
処理履歴 sheet holds the latest ``HISTORY_SHEET_LIMIT`` events (a clean table, no note rows);
the full history stays in ``manifest.sqlite`` (table ``history``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ledger_tools.check.findings import STATUS_LABELS_JA, Status, ValidationReport
from ledger_tools.check.report import REPORT_COLUMNS, report_rows
from ledger_tools.check.rules import EXCLUSION_LABELS_JA
from ledger_tools.form.fields import FIELDS, NOT_APPLICABLE, STAGES, FieldType
from ledger_tools.ledger.archive import HistoryEvent
from ledger_tools.ledger.entries import Ledger, LedgerEntry
from ledger_tools.outputs import csv_bytes, set_text, workbook_bytes

if TYPE_CHECKING:
    from openpyxl import Workbook

LEDGER_WORKBOOK = "台帳.xlsx"
LEDGER_CSV = "台帳.csv"
EXCLUDED, NOT_APPLICABLE_LABEL = "除外", "非該当"  # the categories of a record beside its stage

RECORD_COLUMNS = (
    "状態",
    "段階",
    "除外事由",
    *(f.label for f in FIELDS),
    "様式の版",
    "原本なし",
    "指摘件数",
    "ソースファイル",
)
HISTORY_COLUMNS = ("基準日", "事象", "整理番号", "ファイル", "内容")
SHEET_RECORDS, SHEET_EXCLUDED, SHEET_NOT_APPLICABLE, SHEET_ERRORS, SHEET_HISTORY = (
    "対象の記録",
    "除外",
    "非該当",
    "要修正・読取不可",
    "処理履歴",
)
_WIDTHS = {
    FieldType.TEXT: 18,
    FieldType.LONG_TEXT: 40,
    FieldType.CHOICE: 14,
    FieldType.DATE: 12,
    FieldType.TIME: 8,
}
RECORD_WIDTHS = (10, 8, 20, *(_WIDTHS[f.type] if f.id != "record_id" else 16 for f in FIELDS), 8, 8, 8, 40)
_NUMBER_FORMATS = {dt.date: "yyyy-mm-dd", dt.time: "hh:mm"}
HISTORY_SHEET_LIMIT = 10_000  # events on the 処理履歴 sheet: the latest ones


def record_row(entry: LedgerEntry) -> list[object]:
    """One ledger entry in the order of ``RECORD_COLUMNS``."""
    reasons = "、".join(EXCLUSION_LABELS_JA.get(r, r) for r in entry.exclusions)
    return [
        STATUS_LABELS_JA[entry.status],
        entry.stage or "",
        reasons,
        *(entry.values.get(f.id) for f in FIELDS),
        entry.form_version,
        "原本なし" if entry.source_missing else "",
        len(entry.findings),
        entry.location,
    ]


def ledger_csv_bytes(ledger: Ledger) -> bytes:
    """Every entry, one row each: UTF-8 with BOM, CRLF, RFC 4180, ISO 8601 dates, formulas neutralised."""
    return csv_bytes(RECORD_COLUMNS, (record_row(e) for e in ledger.entries))


def category(entry: LedgerEntry) -> str:
    """Where a record belongs: 除外 (an exclusion applies), 非該当 (judged so), or its stage."""
    if entry.exclusions:
        return EXCLUDED
    if entry.values.get("supervisor_judgement") == NOT_APPLICABLE:
        return NOT_APPLICABLE_LABEL
    return entry.stage or STAGES[0]


def sheet_of(entry: LedgerEntry) -> str | None:
    """Which record sheet lists an entry; None for an unreadable file (only on the error sheet)."""
    if not entry.values:
        return None
    return {EXCLUDED: SHEET_EXCLUDED, NOT_APPLICABLE_LABEL: SHEET_NOT_APPLICABLE}.get(
        category(entry), SHEET_RECORDS
    )


def ledger_workbook_bytes(ledger: Ledger, history: Sequence[HistoryEvent]) -> bytes:
    """台帳.xlsx: in-scope records, excluded, not applicable, files with errors, processing history
    (the latest ``HISTORY_SHEET_LIMIT`` events of ``history``, oldest first)."""
    wb = table_workbook()
    by_sheet: dict[str, list[LedgerEntry]] = {SHEET_RECORDS: [], SHEET_EXCLUDED: [], SHEET_NOT_APPLICABLE: []}
    for entry in ledger.entries:
        if (sheet := sheet_of(entry)) is not None:
            by_sheet[sheet].append(entry)
    for title, entries in by_sheet.items():
        add_table_sheet(wb, title, RECORD_COLUMNS, (record_row(e) for e in entries), RECORD_WIDTHS)
    failing = ValidationReport([e for e in ledger.entries if e.status in (Status.INVALID, Status.UNREADABLE)])
    add_table_sheet(
        wb, SHEET_ERRORS, REPORT_COLUMNS, report_rows(failing), (40, 14, 16, 8, 18, 28, 26, 16, 80, 24)
    )
    history_rows = (
        [e.as_of, e.event, e.record_id or "", e.location, e.detail] for e in history[-HISTORY_SHEET_LIMIT:]
    )
    add_table_sheet(wb, SHEET_HISTORY, HISTORY_COLUMNS, history_rows, (12, 12, 16, 40, 60))
    return workbook_bytes(wb)


def table_workbook() -> Workbook:
    """A write-only workbook: rows go to disk as they are added, so memory stays with the ledger."""
    from openpyxl import Workbook

    return Workbook(write_only=True)


def add_table_sheet(
    wb: Workbook,
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    widths: Sequence[int],
) -> None:
    """A sheet with a bold frozen header row, filters, column widths; dates as dates, text as text."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    for col, width in enumerate(widths, start=1):  # before the first row: written ahead of the rows
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws)
        set_text(cell, name)
        cell.font, cell.fill = bold, fill
        header.append(cell)
    ws.append(header)
    count = 1
    for count, row in enumerate(rows, start=2):  # noqa: B007 - the last row number sets the filter range
        cells: list[object] = []
        for value in row:
            if value is None or value == "":
                cells.append(None)
                continue
            cell = WriteOnlyCell(ws)
            set_text(cell, value)
            if (number_format := _NUMBER_FORMATS.get(type(value))) is not None:
                cell.number_format = number_format
            cells.append(cell)
        ws.append(cells)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(count, 2)}"
