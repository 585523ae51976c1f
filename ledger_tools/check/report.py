"""Renderings of a validation report: text for people, JSON, and the Excel report for sections."""

from __future__ import annotations

import json
from pathlib import Path

from ledger_tools.check.findings import CODES, STATUS_LABELS_JA, Finding, Severity, Status, ValidationReport
from ledger_tools.form.fields import FIELD_BY_ID, stage_label

SEVERITY_LABELS_JA = {Severity.ERROR: "エラー", Severity.WARNING: "警告", Severity.INFO: "情報"}


def render_text(report: ValidationReport, *, show_skipped: bool = True) -> str:
    """Grouped by file, in Japanese; the last line sums up the statuses."""
    lines: list[str] = []
    for file in report.files:
        if file.status is Status.SKIPPED and not show_skipped:
            continue
        head = f"[{STATUS_LABELS_JA[file.status]}] {file.location}"
        details = []
        if file.record_id:
            details.append(f"整理番号 {file.record_id}")
        if file.stage and file.status is not Status.SKIPPED:
            details.append(f"段階 {stage_label(file.stage)}")
        lines.append(head + (f"（{'、'.join(details)}）" if details else ""))
        for finding in sorted(file.findings, key=_form_order):
            where, message = _where_and_message(finding)
            lines.append(
                f"  {SEVERITY_LABELS_JA[finding.severity]}: {where + ': ' if where else ''}{message}"
            )
    counts = report.summary()
    files = len({f.path for f in report.files})
    records = sum(counts.values())
    total = f"{files}件のファイル" + (f"（{records}件の記録）" if records != files else "")
    lines.append("")
    lines.append(
        f"{total}: " + "、".join(f"{STATUS_LABELS_JA[Status(s)]} {n}" for s, n in counts.items() if n)
    )
    return "\n".join(lines) + "\n"


_FORM_ORDER = {field_id: i for i, field_id in enumerate(FIELD_BY_ID)}


def _form_order(finding: Finding) -> int:
    """Findings about the whole file first, then in the order of the form's fields."""
    return -1 if finding.field is None else _FORM_ORDER.get(finding.field, len(_FORM_ORDER))


def _where_and_message(finding: Finding) -> tuple[str, str]:
    """The cell a finding is about, and its message naming the field's label exactly once."""
    spec = FIELD_BY_ID.get(finding.field or "")
    message = finding.message
    if spec is not None and f"「{spec.label}」" not in message:
        message = f"「{spec.label}」: {message}"
    return finding.cell or "", message


def render_json(report: ValidationReport) -> str:
    """The report as JSON, each file's findings in the order of the form (as in the text)."""
    data = report.to_dict()
    for file, shown in zip(report.files, data["files"], strict=True):
        shown["findings"] = [f.to_dict() for f in sorted(file.findings, key=_form_order)]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


REPORT_COLUMNS = (
    "ファイル",
    "状態",
    "整理番号",
    "重大度",
    "区分",
    "項目",
    "項目ID",
    "セル",
    "内容と直し方",
    "コード",
)


def report_rows(report: ValidationReport) -> list[list[str]]:
    rows = []
    for file in report.files:
        if file.status is Status.SKIPPED:
            continue
        for finding in sorted(file.findings, key=_form_order):
            spec = FIELD_BY_ID.get(finding.field or "")
            rows.append(
                [
                    file.location,
                    STATUS_LABELS_JA[file.status],
                    file.record_id or "",
                    SEVERITY_LABELS_JA[finding.severity],
                    CODES[finding.code].title,
                    spec.label if spec else "",
                    finding.field or "",
                    finding.cell or "",
                    finding.message,
                    finding.code,
                ]
            )
    return rows


def write_excel_report(report: ValidationReport, path: Path) -> None:
    """The findings as a workbook a 主管課 can send back: filters on, user text kept as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from ledger_tools.outputs import save_workbook_atomic, set_text

    wb = Workbook()
    ws = wb.active
    ws.title = "指摘事項"
    ws.append(list(REPORT_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row_index, row in enumerate(report_rows(report), start=2):
        for col_index, value in enumerate(row, start=1):
            set_text(ws.cell(row=row_index, column=col_index), value)
            ws.cell(row=row_index, column=col_index).alignment = Alignment(
                wrap_text=col_index == 9, vertical="top"
            )
    widths = (40, 14, 16, 8, 18, 28, 26, 16, 80, 24)
    for col_index, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=1, column=col_index).column_letter].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{ws.cell(row=1, column=len(REPORT_COLUMNS)).column_letter}{max(ws.max_row, 2)}"
    summary = wb.create_sheet("集計")
    summary.append(["状態", "ファイル数"])
    for status, count in report.summary().items():
        summary.append([STATUS_LABELS_JA[Status(status)], count])
    save_workbook_atomic(wb, path)
