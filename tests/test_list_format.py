"""List-format workbooks: one record per row, columns found by their field ids."""

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from conftest import AS_OF

from ledger_tools.check.findings import Status
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_paths, validate_records
from ledger_tools.form.fields import FIELDS
from ledger_tools.form.list_template import (
    LIST_SHEET,
    LIST_TEMPLATE_FILENAME,
    build_list_template,
    list_template_bytes,
)
from ledger_tools.form.samples import complete_values, recorded_values
from ledger_tools.outputs import workbook_bytes

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def validate_list(tmp_path, config):
    def run(records, name="一覧.xlsx", transform=None):
        wb = build_list_template(config, records)
        if transform:
            transform(wb[LIST_SHEET])
        path = tmp_path / name
        path.write_bytes(workbook_bytes(wb))
        return validate_records(path, RuleContext(config, AS_OF))

    return run


def test_committed_list_template_is_up_to_date(config):
    committed = REPO / "workbook_templates" / LIST_TEMPLATE_FILENAME
    assert committed.read_bytes() == list_template_bytes(config), (
        f"run: ledger-tools template --list --out workbook_templates/{LIST_TEMPLATE_FILENAME}"
    )


def test_list_template_has_ids_labels_dropdowns_and_filters(config):
    wb = openpyxl.load_workbook(io.BytesIO(list_template_bytes(config)))
    ws = wb[LIST_SHEET]
    assert [c.value for c in ws[1]] == [f.id for f in FIELDS]
    assert ws.row_dimensions[1].hidden
    assert [c.value.rstrip(" ※") for c in ws[2]] == [f.label for f in FIELDS]
    assert ws.freeze_panes == "B3" and ws.auto_filter.ref.startswith("A2:")
    method_col = openpyxl.utils.get_column_letter([f.id for f in FIELDS].index("method") + 1)
    dropdowns = [
        dv
        for dv in ws.data_validations.dataValidation
        if dv.type == "list" and f"{method_col}3:{method_col}1048576" in str(dv.sqref)
    ]
    assert dropdowns and dropdowns[0].formula1 == "choices_method"
    assert list(wb.defined_names["template_version"].destinations)
    assert "一覧形式" in str(wb["記入要領"]["A2"].value)


def test_every_row_is_a_record_and_a_bad_row_hides_no_good_row(validate_list):
    reports = validate_list(
        [
            complete_values(record_id="L-1"),
            recorded_values(record_id="L-2", place=None, received_date="R7.6.10"),
            recorded_values(record_id="L-3", received_date="令和7年6月10日"),
        ]
    )
    assert [(r.row, r.record_id, r.status) for r in reports] == [
        (3, "L-1", Status.OK),
        (4, "L-2", Status.INVALID),
        (5, "L-3", Status.OK),
    ]
    place_col = openpyxl.utils.get_column_letter([f.id for f in FIELDS].index("place") + 1)
    assert [(f.code, f.field, f.cell) for f in reports[1].findings] == [
        ("required_missing", "place", f"{LIST_SHEET}!{place_col}4")
    ]
    assert reports[2].values["received_date"] == dt.date(2025, 6, 10)


def test_reordered_columns_are_found_by_their_ids(validate_list):
    def reverse_columns(ws):
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=ws.max_row)]
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(reversed(values), start=1):
                ws.cell(row=r, column=c).value = value

    reports = validate_list([complete_values(record_id="L-9")], transform=reverse_columns)
    assert [(r.record_id, r.status) for r in reports] == [("L-9", Status.OK)]
    assert reports[0].cells["record_id"].endswith(openpyxl.utils.get_column_letter(len(FIELDS)) + "3")


def test_empty_rows_are_ignored(validate_list):
    def blank_middle_row(ws):
        for cell in ws[4]:
            cell.value = None

    reports = validate_list(
        [recorded_values(record_id="A"), recorded_values(record_id="B"), recorded_values(record_id="C")],
        transform=blank_middle_row,
    )
    assert [r.row for r in reports] == [3, 5]


def test_a_list_without_records_is_skipped(validate_list):
    reports = validate_list([])
    assert [(r.status, r.findings[0].code) for r in reports] == [(Status.SKIPPED, "skipped_empty_list")]


def test_a_deleted_column_makes_the_list_unreadable(validate_list):
    reports = validate_list([recorded_values()], transform=lambda ws: ws.delete_cols(3))
    assert [(r.status, r.findings[0].code) for r in reports] == [
        (Status.UNREADABLE, "unreadable_list_columns")
    ]
    assert "department" in reports[0].findings[0].message


def test_rows_and_forms_are_compared_across_files(tmp_path, write_workbook, config):
    write_workbook(recorded_values(record_id="X-1"), name="form.xlsx")
    (tmp_path / "list.xlsx").write_bytes(list_template_bytes(config, [complete_values(record_id="X-1")]))
    report = validate_paths([tmp_path], config, AS_OF)
    by_path = {(Path(r.path).name, r.row): r for r in report.files}
    assert [f.code for f in by_path[("form.xlsx", None)].findings] == ["superseded"]
    assert "list.xlsx 3行目" in by_path[("form.xlsx", None)].findings[0].message


def test_cells_outside_the_field_columns_never_make_a_record(validate_list):
    def memo_column(ws):
        last = len(FIELDS) + 2
        for row in range(3, 9):
            ws.cell(row=row, column=last).value = "メモ"
        ws.cell(row=5, column=1).value = "\u3000"

    reports = validate_list([recorded_values(record_id="A")], transform=memo_column)
    assert [(r.row, r.record_id, r.status) for r in reports] == [(3, "A", Status.OK)]


def test_a_deleted_label_row_loses_no_record(validate_list):
    reports = validate_list(
        [recorded_values(record_id="A"), recorded_values(record_id="B")],
        transform=lambda ws: ws.delete_rows(2),
    )
    assert [(r.row, r.record_id) for r in reports] == [(2, "A"), (3, "B")]


def test_a_duplicated_column_is_reported(validate_list):
    def duplicate_place(ws):
        column = [f.id for f in FIELDS].index("place") + 1
        extra = len(FIELDS) + 1
        for row in range(1, 4):
            ws.cell(row=row, column=extra).value = ws.cell(row=row, column=column).value

    reports = validate_list([recorded_values()], transform=duplicate_place)
    assert [(r.status, r.findings[0].code) for r in reports] == [
        (Status.UNREADABLE, "unreadable_list_duplicate_columns")
    ]
