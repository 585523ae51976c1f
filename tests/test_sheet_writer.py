"""The ledger's own sheet writer gives the same parts as XlsxWriter (constant-memory mode)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl

from ledger_tools.ledger.sheets import SheetWorkbook, column_letter, excel_serial
from ledger_tools.ledger.workbook import TableWorkbook, add_table_sheet

AWKWARD = [
    ["=1+1", "<b>&amp;</b>", " leading", "trailing\u3000", "a\rb\nc\td", "_x0041_ kept", "\x01bell"],
    [dt.date(2025, 4, 1), dt.time(9, 30), dt.date(1900, 2, 28), dt.date(1900, 1, 1), True, False, 0],
    [3.25, -7, 12345678901, None, "", "後ろ", dt.datetime(2025, 4, 1, 8, 0)],
    ["only one"],
]


def _build(wb) -> bytes:
    add_table_sheet(wb, "対象の記録", [f"列{i}" for i in range(7)], AWKWARD, (10, 10, 40, 8, 8, 12, 30))
    add_table_sheet(wb, "要修正・読取不可", ["a", "b"], [], (10, 20))
    add_table_sheet(wb, "処理'履歴", ["x"], [["y"]] * 3, (5,))
    return wb.to_bytes()


def _sheet_data(xml: bytes) -> bytes:
    return xml[xml.index(b"<sheetData>") : xml.index(b"</sheetData>")]


def test_same_parts_as_xlsxwriter() -> None:
    """The same parts and cells; print settings, wrapping and header widths are the writer's own."""
    ours, theirs = _build(SheetWorkbook()), _build(TableWorkbook())
    with zipfile.ZipFile(io.BytesIO(ours)) as a, zipfile.ZipFile(io.BytesIO(theirs)) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        for name in b.namelist():
            if name.startswith("xl/worksheets/"):
                assert _sheet_data(a.read(name)) == _sheet_data(b.read(name)), name
            elif name not in ("xl/styles.xml", "xl/workbook.xml"):
                assert a.read(name) == b.read(name), name


def test_print_settings_and_header_widths() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(_build(SheetWorkbook())))
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.print_title_rows == "$1:$1"
        assert "&A" in ws.oddFooter.left.text and ws.oddFooter.right.text == "&P / &N"
    ws = wb["要修正・読取不可"]
    assert ws["A1"].alignment.wrap_text
    wide = SheetWorkbook()
    add_table_sheet(wide, "件数", ["記録済み（所属長の判断待ち）", "計"], [[1, 1]], (9, 9))
    ws = openpyxl.load_workbook(io.BytesIO(wide.to_bytes()))["件数"]
    assert ws.column_dimensions["A"].width >= 24 and ws.column_dimensions["B"].width < 10


def test_reads_back_typed_never_a_formula() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(_build(SheetWorkbook())))
    ws = wb["対象の記録"]
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"
    assert ws["B2"].value == "<b>&amp;</b>"
    assert ws["C2"].value == " leading"
    assert ws["A3"].value == dt.datetime(2025, 4, 1) and ws["A3"].number_format == "yyyy/m/d"
    assert ws["B3"].value == dt.time(9, 30)
    assert ws["E3"].value is True
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:G5"
    assert ws.column_dimensions["C"].width == 40.7109375
    assert wb["要修正・読取不可"].max_row == 1


def test_helpers() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 48, 701, 702)] == ["A", "Z", "AA", "AW", "ZZ", "AAA"]
    assert excel_serial(dt.date(2025, 4, 1)) == 45748
    assert excel_serial(dt.date(1900, 3, 1)) == 61
