"""What 総務課 sends back: one workbook per 主管課, ``主管課別/<主管課>.xlsx``.

Each holds that division's items of the monthly state only: its overdue steps, every problem of
its files to fix (file, cell, field, problem, how to fix) and its 該当 records that cannot be
published yet. Written by ``aggregate`` beside the monthly state; a division with nothing to chase
gets no file (an earlier one is removed, so no stale file is sent).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path

from ledger_tools.check.findings import CODES, Severity
from ledger_tools.check.report import SEVERITY_LABELS_JA
from ledger_tools.form.fields import FIELD_BY_ID
from ledger_tools.ledger.monthly import HELD_COLUMNS, OVERDUE_COLUMNS, MonthlyState
from ledger_tools.ledger.workbook import add_table_sheet, table_workbook

DIVISION_FOLDER = "主管課別"
SHEET_OVERDUE, SHEET_FIX, SHEET_HELD = "期限を過ぎている手続", "直すこと", "公表の準備中"
FIX_COLUMNS = ("ファイル", "整理番号", "状態", "重大度", "セル", "項目", "問題", "直し方")
# What an empty section says (as the monthly page does), so a reader sees it is empty, not broken.
EMPTY_NOTES = {
    SHEET_OVERDUE: "期限を過ぎている手続はありません。",
    SHEET_FIX: "要修正・読み取り不可のファイルはありません。",
    SHEET_HELD: "公表できない該当の記録はありません。",
}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM\d|LPT\d)(\..*)?", re.IGNORECASE)


def safe_file_name(name: str) -> str:
    """A file name Windows accepts: no \\ / : * ? " < > | or control characters, no trailing dot or
    space, no reserved device name (Japanese is kept)."""
    safe = _UNSAFE.sub("_", name).strip().rstrip(". ")
    if not safe:
        safe = "主管課不明"
    if _RESERVED.fullmatch(safe):
        safe = "_" + safe
    return safe[:100]


def division_file_name(division: str) -> str:
    """``主管課別/県土整備部監理課.xlsx`` (relative to the output folder, with a forward slash)."""
    return f"{DIVISION_FOLDER}/{safe_file_name(division)}.xlsx"


def _or_note(rows: list[list[object]], sheet: str) -> list[list[object]]:
    """``rows``, or one row saying the section is empty."""
    return rows or [[EMPTY_NOTES[sheet]]]


def division_workbook_bytes(state: MonthlyState, division: str) -> bytes:
    """One 主管課's workbook: its overdue steps, the problems of its files, its records held back."""
    mine = state.for_division(division)
    wb = table_workbook()
    add_table_sheet(
        wb,
        SHEET_OVERDUE,
        OVERDUE_COLUMNS,
        _or_note([i.cells() for i in mine.overdue], SHEET_OVERDUE),
        (24, 12, 16, 16, 16, 12, 26, 24, 12, 10, 48),
    )
    rows: list[list[object]] = []
    for fix in mine.fixes:
        for finding in fix.entry.findings:
            if finding.severity is Severity.INFO:
                continue
            spec = FIELD_BY_ID.get(finding.field or "")
            rows.append(
                [
                    fix.path,
                    fix.record_id,
                    fix.status,
                    SEVERITY_LABELS_JA[finding.severity],
                    finding.cell or "",
                    spec.label if spec else "",
                    CODES[finding.code].title,
                    finding.message,
                ]
            )
    add_table_sheet(wb, SHEET_FIX, FIX_COLUMNS, _or_note(rows, SHEET_FIX), (48, 16, 12, 8, 10, 26, 24, 80))
    add_table_sheet(
        wb,
        SHEET_HELD,
        HELD_COLUMNS,
        _or_note([i.cells() for i in mine.held], SHEET_HELD),
        (24, 12, 16, 16, 16, 12, 26, 48, 48),
    )
    return wb.to_bytes()


def division_renderers(state: MonthlyState, out_dir: Path) -> dict[str, Callable[[], bytes]]:
    """Output name → renderer for every 主管課 with something to chase; files of divisions that no
    longer have anything are removed from ``out_dir/主管課別``."""
    renderers: dict[str, Callable[[], bytes]] = {}
    for division in state.divisions:
        renderers[division_file_name(division)] = functools.partial(division_workbook_bytes, state, division)
    folder = Path(out_dir) / DIVISION_FOLDER
    if folder.is_dir():
        wanted = {Path(name).name for name in renderers}
        for stale in folder.glob("*.xlsx"):
            if stale.name not in wanted:
                stale.unlink(missing_ok=True)
    return renderers
