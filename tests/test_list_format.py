"""List-format workbooks: one record per row, columns found by their field ids."""

import datetime as dt
import io
import multiprocessing
import os
import re
import sys
from pathlib import Path

import openpyxl
import pytest
from conftest import AS_OF

from ledger_tools.check.findings import Status
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_paths, validate_records
from ledger_tools.form.fields import FIELD_BY_ID, FIELDS, SECTIONS
from ledger_tools.form.list_template import (
    LIST_SHEET,
    LIST_TEMPLATE_FILENAME,
    PRINT_GROUPS,
    build_list_template,
    column_letters,
    list_template_bytes,
    print_zoom,
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
    assert [c.value for c in ws[2]] == [f.id for f in FIELDS]
    assert ws.row_dimensions[2].hidden
    assert [c.value.rstrip(" ※") for c in ws[3]] == [f.label for f in FIELDS]
    assert ws.freeze_panes == "B4" and ws.auto_filter.ref.startswith("A3:")
    assert ws["A1"].value == "A 識別" and "A1:C1" in ws.merged_cells  # 整理番号, 機関, 部局
    assert {c.value for c in ws[1] if c.value} == {f"{s.letter} {s.title}" for s in SECTIONS}
    method_col = openpyxl.utils.get_column_letter([f.id for f in FIELDS].index("method") + 1)
    dropdowns = [
        dv
        for dv in ws.data_validations.dataValidation
        if dv.type == "list" and f"{method_col}4:{method_col}1048576" in str(dv.sqref)
    ]
    assert dropdowns and dropdowns[0].formula1 == "choices_method"
    assert list(wb.defined_names["template_version"].destinations)
    assert "一覧形式" in str(wb["記入要領"]["A2"].value)


def guide_text(config) -> tuple[str, str]:
    """The list's 記入要領: the paragraphs above the table, and the whole sheet."""
    wb = openpyxl.load_workbook(io.BytesIO(list_template_bytes(config)))
    rows = [[str(c) for c in row if c is not None] for row in wb["記入要領"].iter_rows(values_only=True)]
    firsts = [row[0] if row else "" for row in rows]
    paragraphs = "\n".join(firsts[: firsts.index("列")])
    return paragraphs, "\n".join(" | ".join(row) for row in rows)


def test_the_guide_names_the_list_columns(config):
    text, _ = guide_text(config)
    letters = column_letters()
    d_first, d_last = letters["excl_public_venue"], letters["excl_official_document"]
    assert f"「D 除外事由の確認」の列（{d_first}〜{d_last}列）で一つずつ確認" in text
    assert "「A 識別〜E 職員の対応」の列（A〜" in text
    h_first, h_last = letters["public_summary"], letters["public_measures"]
    assert f"5 「H 公表用」の列（{h_first}〜{h_last}列）の注意" in text
    assert f"A4 横、{print_zoom()} %" in text and "2行目は印刷されません" in text  # how it prints


def test_a_list_rows_findings_name_sections_by_title_not_by_the_single_forms_letters(validate_list):
    """On a list, 「G欄」 would read as column G: a missing 主管課 names its section by title."""
    values = complete_values(record_id="L-1")
    del values["lead_division"]
    [report] = validate_list([values])
    [finding] = [f for f in report.findings if f.field == "lead_division"]
    assert finding.code == "required_missing"
    assert "「主管課の措置」の項目を記入したとき必須" in finding.message
    assert not re.findall(r"[A-H](?:[・〜][A-H])*欄", finding.message)


def test_no_requirement_in_the_list_guide_means_a_section_of_the_single_form(config):
    """「F欄」 on the list reads as Excel column F: every requirement names the list's columns."""
    _, sheet = guide_text(config)
    assert not re.findall(r"[A-H](?:[・〜][A-H])*欄", sheet)
    letters = column_letters()
    judgement, g_first = letters["supervisor_judgement"], letters["lead_division"]
    g_last = letters["shared_with_general_affairs_date"]
    rows = {line.split(" | ")[2]: line for line in sheet.splitlines() if line.count(" | ") >= 5}
    assert (
        f"所属長の判断・主管課の措置（{judgement}〜{g_last}列）を記入したとき必須"
        in rows["supervisor_judgement"]
    )
    assert f"主管課の措置（{g_first}〜{g_last}列）を記入したとき必須" in rows["measures_needed"]
    assert (
        f"「所属長の判断」（{judgement}列）が「不当な働きかけに該当する」のとき必須"
        in rows["sent_to_lead_date"]
    )
    assert f"（{letters['told_cannot_comply']}列）又は" in rows["not_told_reason"]


def test_the_single_form_keeps_its_own_wording():
    assert FIELD_BY_ID["supervisor_judgement"].requirement_text() == "F・G欄を記入したとき必須"
    assert FIELD_BY_ID["measures_needed"].requirement_text() == "G欄を記入したとき必須"
    assert (
        FIELD_BY_ID["sent_to_lead_date"].requirement_text()
        == "「所属長の判断」が「不当な働きかけに該当する」のとき必須"
    )


def test_only_the_data_area_is_unlocked_and_filters_and_sorting_stay_usable(config):
    wb = openpyxl.load_workbook(io.BytesIO(list_template_bytes(config, [complete_values()])))
    ws = wb[LIST_SHEET]
    protection = ws.protection
    assert protection.sheet and protection.deleteRows and protection.deleteColumns  # True = protected
    assert not protection.autoFilter and not protection.sort  # False = allowed
    for row in (1, 2, 3):
        assert all(c.protection.locked for c in ws[row]), row
    assert not any(c.protection.locked for c in ws[4][: len(FIELDS)] if c.value is not None)  # a record
    letter = openpyxl.utils.get_column_letter(len(FIELDS))
    assert not ws.column_dimensions[letter].protection.locked  # rows still to be written
    assert ws.auto_filter.ref == f"A3:{letter}1048576"


def test_the_list_prints_a_section_group_per_page_width_at_a_fixed_zoom(config):
    """Excel ignores manual breaks under "fit to", so a scale; the 整理番号 column and header rows repeat."""
    ws = openpyxl.load_workbook(io.BytesIO(list_template_bytes(config)))[LIST_SHEET]
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.page_setup.orientation == "landscape"
    assert not ws.sheet_properties.pageSetUpPr.fitToPage  # "fit to" would ignore the column breaks
    assert int(ws.page_setup.scale) == print_zoom()
    assert ws.page_setup.pageOrder == "overThenDown"
    assert len(ws.col_breaks.brk) == len(PRINT_GROUPS) - 1
    assert ws.print_title_rows.replace("$", "") == "1:3"
    assert ws.print_title_cols.replace("$", "") == "A:A"


def test_every_row_is_a_record_and_a_bad_row_hides_no_good_row(validate_list):
    reports = validate_list(
        [
            complete_values(record_id="L-1"),
            recorded_values(record_id="L-2", place=None, received_date="R7.6.10"),
            recorded_values(record_id="L-3", received_date="令和7年6月10日"),
        ]
    )
    assert [(r.row, r.record_id, r.status) for r in reports] == [
        (4, "L-1", Status.OK),
        (5, "L-2", Status.INVALID),
        (6, "L-3", Status.OK),
    ]
    place_col = openpyxl.utils.get_column_letter([f.id for f in FIELDS].index("place") + 1)
    assert [(f.code, f.field, f.cell) for f in reports[1].findings] == [
        ("required_missing", "place", f"{LIST_SHEET}!{place_col}5")
    ]
    assert reports[2].values["received_date"] == dt.date(2025, 6, 10)


def test_reordered_columns_are_found_by_their_ids(validate_list):
    def reverse_columns(ws):  # as a user might on the unprotected sheet, the section row unmerged
        for merged in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(merged))
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=ws.max_row)]
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(reversed(values), start=1):
                ws.cell(row=r, column=c).value = value

    reports = validate_list([complete_values(record_id="L-9")], transform=reverse_columns)
    assert [(r.record_id, r.status) for r in reports] == [("L-9", Status.OK)]
    assert reports[0].cells["record_id"].endswith(openpyxl.utils.get_column_letter(len(FIELDS)) + "4")


def test_empty_rows_are_ignored(validate_list):
    def blank_middle_row(ws):
        for cell in ws[5]:
            cell.value = None

    reports = validate_list(
        [recorded_values(record_id="A"), recorded_values(record_id="B"), recorded_values(record_id="C")],
        transform=blank_middle_row,
    )
    assert [r.row for r in reports] == [4, 6]


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
    assert "list.xlsx 4行目" in by_path[("form.xlsx", None)].findings[0].message


def test_cells_outside_the_field_columns_never_make_a_record(validate_list):
    def memo_column(ws):
        last = len(FIELDS) + 2
        for row in range(4, 10):
            ws.cell(row=row, column=last).value = "メモ"
        ws.cell(row=6, column=1).value = "\u3000"

    reports = validate_list([recorded_values(record_id="A")], transform=memo_column)
    assert [(r.row, r.record_id, r.status) for r in reports] == [(4, "A", Status.OK)]


def test_a_deleted_label_row_loses_no_record(validate_list):
    reports = validate_list(
        [recorded_values(record_id="A"), recorded_values(record_id="B")],
        transform=lambda ws: ws.delete_rows(3),
    )
    assert [(r.row, r.record_id) for r in reports] == [(3, "A"), (4, "B")]


def test_a_duplicated_column_is_reported(validate_list):
    def duplicate_place(ws):
        column = [f.id for f in FIELDS].index("place") + 1
        extra = len(FIELDS) + 1
        for row in range(2, 5):
            ws.cell(row=row, column=extra).value = ws.cell(row=row, column=column).value

    reports = validate_list([recorded_values()], transform=duplicate_place)
    assert [(r.status, r.findings[0].code) for r in reports] == [
        (Status.UNREADABLE, "unreadable_list_duplicate_columns")
    ]


def test_rows_of_one_list_that_share_a_record_id_are_compared_when_the_list_is_the_only_file(
    tmp_path, config
):
    """A batch of one list file digests only the rows whose record id another row has."""
    rows = [
        complete_values(record_id="D-1"),
        complete_values(record_id="D-1"),  # a copy of the row above
        complete_values(record_id="C-1"),
        complete_values(record_id="C-1", place="別の会議室"),  # the same id, other values
        complete_values(record_id="U-1"),
    ]
    path = tmp_path / "一覧.xlsx"
    path.write_bytes(list_template_bytes(config, rows))
    alone = validate_paths([path], config, AS_OF)
    found = [(r.row, [f.code for f in r.findings if f.field == "record_id"]) for r in alone.files]
    assert found == [
        (4, []),
        (5, ["duplicate_file"]),
        (6, ["record_id_conflict"]),
        (7, ["record_id_conflict"]),
        (8, []),
    ]
    # the same rows with another file in the batch (every report digested): the same findings
    (tmp_path / "other.xlsx").write_bytes(list_template_bytes(config, [complete_values(record_id="Z-9")]))
    batch = validate_paths([tmp_path], config, AS_OF)
    assert [
        (r.row, [f.code for f in r.findings if f.field == "record_id"])
        for r in batch.files
        if Path(r.path).name == "一覧.xlsx"
    ] == found


ROWS_ACROSS_HALVES = [  # three rows each side of the middle; the repeated ids across it
    complete_values(record_id="D-1"),
    complete_values(record_id="C-1"),
    recorded_values(record_id="B-1", place=None, received_date="R7.6.10"),
    complete_values(record_id="D-1"),  # a copy of the first row, in the other half
    complete_values(record_id="C-1", place="別の会議室"),  # the same id, other values
    complete_values(record_id="U-1", public_summary="山田太郎氏（090-1234-5678）から"),
]
ROWS_WITHIN_HALVES = [  # the repeated ids each within one half
    complete_values(record_id="D-1"),
    complete_values(record_id="D-1"),
    recorded_values(record_id="B-1", place=None, received_date="R7.6.10"),
    complete_values(record_id="C-1"),
    complete_values(record_id="C-1", place="別の会議室"),
    complete_values(record_id="U-1", public_summary="山田太郎氏（090-1234-5678）から"),
]


@pytest.mark.parametrize("rows", [ROWS_ACROSS_HALVES, ROWS_WITHIN_HALVES], ids=["across", "within"])
@pytest.mark.parametrize("other_files", [0, 1])
def test_a_long_lists_rows_shared_with_a_second_process_give_the_same_reports(
    tmp_path, config, monkeypatch, rows, other_files
):
    """With a core spare, the worker checks half a long list's rows in a forked child (``aside``)."""
    from ledger_tools.check import validation

    forks = tmp_path / "forks.txt"  # a line per list shared: by which process, and whether it forked

    class Recorded(validation.Aside):  # type: ignore[name-defined]
        def __init__(self, func):
            super().__init__(func)
            with forks.open("a") as f:
                f.write(f"{os.getpid()} {self._pid is not None}\n")

    def shared_by() -> list[tuple[bool, bool]]:
        lines = [line.split() for line in forks.read_text().splitlines()] if forks.exists() else []
        forks.unlink(missing_ok=True)
        return [(int(pid) == os.getpid(), forked == "True") for pid, forked in lines]

    monkeypatch.setattr(validation, "SPLIT_MIN_RECORDS", 2)
    monkeypatch.setattr(validation, "Aside", Recorded)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "一覧.xlsx").write_bytes(list_template_bytes(config, rows))
    if other_files:  # every report digested: the batch has another file
        (inbox / "別.xlsx").write_bytes(list_template_bytes(config, [complete_values(record_id="C-1")]))
    monkeypatch.setattr(validation, "default_workers", lambda: 2)  # one worker: a core spare
    shared = validate_paths([inbox], config, AS_OF, workers=1)
    if multiprocessing.get_start_method() == "fork":  # a spawned worker does not see the patches above
        assert shared_by() == [(False, sys.platform == "linux")]  # shared by the worker process
    monkeypatch.setattr(validation, "default_workers", lambda: 1)
    alone = validate_paths([inbox], config, AS_OF, workers=1)
    assert shared_by() == []
    assert shared.files == alone.files
    codes = {f.code for r in shared.files for f in r.findings}
    assert {"duplicate_file", "record_id_conflict", "required_missing", "personal_data_in_public"} <= codes
