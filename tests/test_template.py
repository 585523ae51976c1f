"""The blank 対応記録簿 workbook, as staff see it in Excel (loaded back with openpyxl)."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from ledger_tools.config import load_config
from ledger_tools.form import fields, template
from ledger_tools.form.fields import FIELDS, SECTIONS, TEMPLATE_VERSION, FieldType
from ledger_tools.form.template import FORM_SHEET, GUIDE_SHEET, LISTS_SHEET, template_bytes
from ledger_tools.outputs import workbook_bytes

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "workbook_templates" / f"{FORM_SHEET}_v{TEMPLATE_VERSION}.xlsx"
CHOICE_FIELDS = [f for f in FIELDS if f.is_choice]


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def data(config) -> bytes:
    return template_bytes(config)


@pytest.fixture(scope="module")
def wb(data):
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def form(wb):
    return wb[FORM_SHEET]


def destination(wb, name: str) -> tuple[str, str]:
    """(sheet, "C4") of a workbook-scoped defined name that points at one range."""
    dests = list(wb.defined_names[name].destinations)
    assert len(dests) == 1, f"{name} should point at exactly one range: {dests}"
    sheet, ref = dests[0]
    return sheet, ref.replace("$", "")


def name_values(wb, name: str) -> tuple:
    """The non-empty values of the range a defined name points at."""
    sheet, ref = destination(wb, name)
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    rows = wb[sheet].iter_rows(
        min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=True
    )
    return tuple(v for row in rows for v in row if v is not None)


def validation_of(ws, cell: str):
    found = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
    assert len(found) == 1, f"{cell} should have exactly one data validation, has {len(found)}"
    return found[0]


def cell_of(field_id: str) -> str:
    return template.field_cells()[field_id]


# --- the committed file and reproducibility ---------------------------------------------
def test_committed_template_is_up_to_date(data):
    assert COMMITTED.exists(), (
        f"missing {COMMITTED}; run: ledger-tools template --out workbook_templates/{COMMITTED.name}"
    )
    assert COMMITTED.read_bytes() == data, (
        f"{COMMITTED.name} is stale; regenerate it with `ledger-tools template --out workbook_templates/{COMMITTED.name}` "
        "and commit it"
    )


def test_bytes_are_identical_across_calls_and_processes(config, data):
    assert template_bytes(config) == data
    code = (
        "import hashlib, sys; from ledger_tools.config import load_config; from ledger_tools.form.template import template_bytes;"
        "sys.stdout.write(hashlib.sha256(template_bytes(load_config())).hexdigest())"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=REPO
    )
    assert out.stdout == hashlib.sha256(data).hexdigest()


def test_no_save_time_inside_the_file(data):
    core = zipfile.ZipFile(io.BytesIO(data)).read("docProps/core.xml").decode()
    assert ">2025-03-01T00:00:00Z</dcterms:modified>" in core, core


def test_write_template_writes_the_same_bytes_atomically(tmp_path, config, data):
    out = tmp_path / "sub" / "t.xlsx"
    template.write_template(out, config)
    assert out.read_bytes() == data
    assert [p.name for p in out.parent.iterdir()] == ["t.xlsx"]  # no temporary file left behind


# --- names and layout ------------------------------------------------------------------
def test_every_field_is_a_named_unlocked_input_on_the_form(wb, form):
    dests = []
    for f in FIELDS:
        assert f.id in wb.defined_names, f"no workbook-scoped defined name {f.id}"
        sheet, cell = destination(wb, f.id)
        assert sheet == FORM_SHEET and ":" not in cell, f"{f.id} -> {sheet}!{cell}"
        assert cell == cell_of(f.id)
        assert form[cell].protection.locked is False, f"{f.id} ({cell}) is locked: staff cannot type in it"
        assert form[cell].value is None, f"{f.id} ({cell}) is not blank"
        dests.append(cell)
    assert len(set(dests)) == len(dests), "two fields share an input cell"


def test_template_version_is_two(wb):
    sheet, cell = destination(wb, fields.TEMPLATE_VERSION_NAME)
    assert wb[sheet][cell].value == 2 == TEMPLATE_VERSION


def test_form_shows_sections_and_labels_in_catalogue_order(form):
    headers = {form.cell(row, 1).value: row for row in range(1, form.max_row + 1)}
    last_row = 0
    for section in SECTIONS:
        header_row = headers[f"{section.letter} {section.title}"]
        assert header_row > last_row, f"section {section.letter} out of order"
        last_row = header_row
        for f in fields.fields_of(section.letter):
            row = form[cell_of(f.id)].row
            assert row > last_row, (
                f"{f.id} is not below the header of section {section.letter} / the previous field"
            )
            label = form.cell(row, 1).value
            assert label.startswith(f.label), f"row {row}: label {label!r} is not {f.label!r}"
            assert label.endswith(template.REQUIRED_MARK) == f.always_required
            assert form.cell(row, 2).value == f.requirement_text()
            assert form.cell(row, 1).protection.locked, "labels must stay locked"
            last_row = row


def row_tags(data: bytes) -> dict[int, str]:
    """The ``<row ...>`` start tag of each row of the form sheet, as written."""
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    return {int(m.group(1)): m.group(0) for m in re.finditer(r'<row r="(\d+)"[^>]*>', xml)}


def test_inputs_are_single_cells_whose_rows_grow_with_the_text(form, data):
    """A merged cell never grows with its text (Excel, LibreOffice): no input is merged, and no
    field row has a height set by hand (no customHeight), so Excel fits each row to its text."""
    tags = row_tags(data)
    for f in FIELDS:
        cell = form[cell_of(f.id)]
        assert not any(cell.coordinate in r for r in form.merged_cells.ranges), f"{f.id} is merged"
        assert "customHeight" not in tags[cell.row] and "ht=" in tags[cell.row], tags[cell.row]
        if f.type is FieldType.LONG_TEXT:
            assert cell.alignment.wrap_text and cell.alignment.vertical == "top", f.id


def test_blank_long_text_rows_leave_room_to_write(form):
    single_line = min(form.row_dimensions[form[cell_of(f.id)].row].height for f in FIELDS)
    for f in FIELDS:
        if f.type is FieldType.LONG_TEXT:
            assert form.row_dimensions[form[cell_of(f.id)].row].height >= 2.5 * single_line, f.id


def test_a_new_catalogue_entry_appears_without_template_code(monkeypatch, config):
    extra = fields.Field("extra_note", "追加の項目", FieldType.TEXT, "B", hint="テスト用")
    at = fields.FIELDS.index(fields.FIELD_BY_ID["staff_title"]) + 1
    monkeypatch.setattr(fields, "FIELDS", (*fields.FIELDS[:at], extra, *fields.FIELDS[at:]))
    monkeypatch.setitem(fields.FIELD_BY_ID, extra.id, extra)
    fields.fields_for.cache_clear()
    try:
        patched = importlib.reload(template)
        wb = openpyxl.load_workbook(io.BytesIO(patched.template_bytes(config)))
        sheet, cell = destination(wb, "extra_note")
        ws = wb[sheet]
        assert ws.cell(ws[cell].row, 1).value.startswith("追加の項目")
        assert ws[cell].row == ws[patched.field_cells()["staff_title"]].row + 1
        assert "extra_note" in [c.value for row in wb[GUIDE_SHEET].iter_rows() for c in row]
    finally:
        monkeypatch.undo()
        fields.fields_for.cache_clear()
        importlib.reload(template)


# --- dropdowns, prompts, formats --------------------------------------------------------
@pytest.mark.parametrize(
    "f", [f for f in CHOICE_FIELDS if f.choices_from != "departments"], ids=lambda f: f.id
)
def test_choice_fields_are_dropdowns_with_catalogue_choices(wb, form, config, f):
    dv = validation_of(form, cell_of(f.id))
    assert dv.type == "list" and dv.showErrorMessage and dv.errorStyle in (None, "stop")
    assert dv.error and dv.errorTitle and dv.showInputMessage and dv.prompt
    organisation = config.organisation_on(dt.date.today())  # the template's default date
    expected = organisation.organ_names if f.choices_from == "organs" else f.choices
    assert name_values(wb, dv.formula1) == tuple(expected)
    assert destination(wb, dv.formula1)[0] == LISTS_SHEET


def test_department_dropdown_follows_the_chosen_organ(wb, form, config):
    dv = validation_of(form, cell_of("department"))
    assert dv.type == "list" and len(dv.formula1) < 255
    organ_cell = "$" + cell_of("organ")[0] + "$" + cell_of("organ")[1:]
    assert "INDIRECT(" in dv.formula1 and organ_cell in dv.formula1 and '"departments_"' in dv.formula1
    organisation = config.organisation_on(dt.date.today())  # the template's default date
    for i, organ in enumerate(organisation.organ_names, start=1):
        assert name_values(wb, f"departments_{i}") == organisation.departments_by_organ[organ], organ
    # Before an organ is chosen the list falls back to every department.
    fallback = dv.formula1.rsplit('"', 2)[1]
    assert name_values(wb, fallback) == organisation.all_departments


def test_every_validation_formula_fits_excel_limit(form):
    for dv in form.data_validations.dataValidation:
        assert dv.formula1 is None or len(dv.formula1) < 255, dv.formula1
        assert dv.promptTitle is None or len(dv.promptTitle) <= 32
        assert dv.prompt is None or len(dv.prompt) <= 255


def test_date_time_and_text_cells_are_formatted_with_prompts(form):
    for f in FIELDS:
        cell = form[cell_of(f.id)]
        dv = validation_of(form, cell.coordinate)
        assert dv.showInputMessage and dv.promptTitle, f"{f.id} has no input prompt"
        if f.hint:
            assert f.hint in dv.prompt, f"{f.id}: prompt {dv.prompt!r} lacks the hint"
        if f.type is FieldType.DATE:
            assert cell.number_format == "yyyy/m/d", f.id
            assert dv.type is None, f"{f.id}: dates typed as 令和7年3月1日 must not be rejected"
        elif f.type is FieldType.TIME:
            assert cell.number_format == "h:mm", f.id
    assert form[cell_of("record_id")].number_format == "@", "record_id must keep leading zeros"


def test_length_limits_are_enforced_in_excel(form):
    for f in FIELDS:
        if f.max_length and not f.is_choice:
            dv = validation_of(form, cell_of(f.id))
            assert (dv.type, dv.operator, dv.formula1) == (
                "textLength",
                "lessThanOrEqual",
                str(f.max_length),
            ), f.id


# --- protection, sheets, printing -------------------------------------------------------
def test_sheets_order_visibility_and_protection(wb, form):
    assert wb.sheetnames == [FORM_SHEET, GUIDE_SHEET, LISTS_SHEET]
    assert wb.active.title == FORM_SHEET
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets] == [True, False, False]
    assert wb[LISTS_SHEET].sheet_state == "hidden"
    assert form.protection.sheet
    assert form[f"A{form[cell_of(FIELDS[0].id)].row}"].protection.locked


def test_form_prints_a4_portrait_one_page_wide_as_tall_as_needed(form):
    assert int(form.page_setup.paperSize) == int(form.PAPERSIZE_A4)  # 9 = A4
    assert form.page_setup.orientation == "portrait"
    assert form.sheet_properties.pageSetUpPr.fitToPage
    assert (form.page_setup.fitToWidth, form.page_setup.fitToHeight) == (1, 0)
    last_row = max(form[c].row for c in template.field_cells().values())
    assert form.print_area.replace("$", "").endswith(f"!A1:C{last_row}")
    assert not form.row_breaks.brk, "no manual page break: the texts decide where a page ends"
    assert form.print_title_rows.replace("$", "") == "1:1"


def page_zoom(form) -> tuple[float, float]:
    """The fit-to-width zoom and the printable page height in points."""
    margins = form.page_margins
    page_w_pt = 595.3 - 72 * (margins.left + margins.right)
    page_h_pt = 841.9 - 72 * (margins.top + margins.bottom)
    width_pt = sum((form.column_dimensions[c].width * 7 + 5) * 0.75 for c in "ABC")
    return min(1.0, page_w_pt / width_pt), page_h_pt


def printed_pages(ws) -> float:
    """About how many A4 pages Excel prints the form sheet on: each field row as Excel fits it
    to its text (modelled with Excel's column widths and MS P Gothic's line pitch), the other
    rows at their fixed heights, at the fit-to-width zoom. (LibreOffice prints the heights
    stored in the file, which are taller.)"""
    zoom, page_h_pt = page_zoom(ws)
    layout = template.form_layout()
    height = ws.row_dimensions[1].height + ws.row_dimensions[2].height
    for form_row in layout.rows:
        if form_row.field is None:
            height += ws.row_dimensions[form_row.row].height
        else:
            value = ws[layout.field_cells[form_row.field.id]].value
            height += template.field_row_height(form_row.field, value, template.EXCEL_METRICS)
    return height * zoom / page_h_pt


def test_printed_form_is_not_shrunk_below_readability(form):
    """One page wide at about 79 %: 9 pt prints as about 7 pt, the size of a dense printed form."""
    assert page_zoom(form)[0] >= 0.78


@pytest.mark.parametrize("name, most_pages", [("blank", 1), ("typical", 1), ("longest", 2)])
def test_the_form_fills_one_page_unless_the_texts_are_long(config, name, most_pages):
    """Blank and typical (``test_paper.TYPICAL``): one page in Excel; the longest texts the form
    prints whole: two. tests/test_paper.py proves the same with LibreOffice."""
    from test_paper import filled_texts

    from ledger_tools.form.samples import complete_values, filled_workbook

    values = (
        {} if name == "blank" else complete_values(told_cannot_comply="伝えていない", **filled_texts(name))
    )
    pages = printed_pages(filled_workbook(values, config)[FORM_SHEET])
    assert most_pages - 1 < pages <= most_pages


def test_filled_rows_are_sized_to_their_text(config):
    """The filling helper sizes each row to its text: a 400-character request makes its row tall
    enough for every line (about 37 full-width characters a line at 9 pt); still no fixed height."""
    from ledger_tools.form.samples import complete_values, filled_workbook

    text = "予定価格を事前に教えるよう求められた。" * 21  # 399 characters
    ws = filled_workbook(complete_values(request_content=text[:400]), config)[FORM_SHEET]
    row = ws[cell_of("request_content")].row
    lines = -(-400 // 37)
    assert ws.row_dimensions[row].height >= lines * 9 * 1.2
    assert "customHeight" not in row_tags(workbook_bytes(ws.parent))[row]
    short = ws[cell_of("record_id")].row
    assert ws.row_dimensions[short].height < 20


# --- conditional formatting -------------------------------------------------------------
def highlight_rules(form, cell: str):
    return [(rule, cf.sqref) for cf in form.conditional_formatting for rule in cf.rules if cell in cf.sqref]


def test_empty_required_cells_are_highlighted(form):
    for f in FIELDS:
        if not f.always_required:
            continue
        cell = cell_of(f.id)
        absolute = f"$C${cell[1:]}"
        rules = highlight_rules(form, cell)
        assert any(f"LEN(TRIM({absolute}))=0" == r.formula[0] for r, _ in rules), (
            f"{f.id}: no empty-cell highlight"
        )
        fills = {r.dxf.fill.fgColor.rgb[-6:] for r, _ in rules}
        assert "FFF2CC" in fills


def test_conditionally_required_cell_is_highlighted_on_its_condition(form):
    rules = highlight_rules(form, cell_of("judgement_date"))
    judgement = f"$C${cell_of('supervisor_judgement')[1:]}"
    assert any(judgement in r.formula[0] and fields.APPLICABLE in r.formula[0] for r, _ in rules)
    assert not highlight_rules(form, cell_of("staff_title")), "an optional field is highlighted"


# --- the guide sheet --------------------------------------------------------------------
def guide_text(wb) -> str:
    return "\n".join(str(c.value) for row in wb[GUIDE_SHEET].iter_rows() for c in row if c.value is not None)


def test_guide_explains_every_field_and_the_exclusions(wb):
    text = guide_text(wb)
    for f in FIELDS:
        assert f.label in text and f.id in text, f.id
        assert f.requirement_text() in text, f.id
    for phrase in (
        "不特定多数の者がその内容を知り得る場",
        "議事録が作成される会議の場",
        "県の機関あてに発出された文書",
    ):
        assert phrase in text
    for phrase in (
        "入札・契約",
        "許認可",
        "補助金等",
        "撤回",
        "人事課長",
        "地方公務員法第38条の2",
        "人事委員会",
        "総務課",
        "令和7年3月1日",
        "R7.3.1",
        "Ｒ７．３．１",
        "電話番号",
        "メールアドレス",
    ):
        assert phrase in text, phrase


def test_guide_table_marks_public_fields(wb):
    ws = wb[GUIDE_SHEET]
    rows = {row[2]: row for row in ws.iter_rows(values_only=True) if row[2] in fields.FIELD_BY_ID}
    assert set(rows) == set(fields.FIELD_IDS)
    for fid, row in rows.items():
        assert row[-1] == ("○" if fields.FIELD_BY_ID[fid].public else "－"), fid


# --- configuration ----------------------------------------------------------------------
def test_other_organs_change_the_dropdowns(tmp_path):
    toml = tmp_path / "config.toml"
    toml.write_text(
        '[[organs]]\nname = "市長部局"\ndepartments = [{ name = "財政局" }, { name = "建設局" }]\n'
        '[[organs]]\nname = "水道局"\ndepartments = [{ name = "水道局" }]\n',
        encoding="utf-8",
    )
    config = load_config(toml)
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes(config)))
    organ_dv = validation_of(wb[FORM_SHEET], cell_of("organ"))
    assert name_values(wb, organ_dv.formula1) == ("市長部局", "水道局")
    assert name_values(wb, "departments_1") == ("財政局", "建設局")
    assert name_values(wb, "departments_2") == ("水道局",)
    assert "departments_3" not in wb.defined_names
    assert "市長部局" in guide_text(wb)


def test_the_lead_division_offers_the_configured_ones_but_accepts_others(wb, form, config):
    dv = next(dv for dv in form.data_validations.dataValidation if cell_of("lead_division") in str(dv.sqref))
    assert (dv.type, dv.formula1, dv.errorStyle) == ("list", "choices_lead_division", "warning")
    assert name_values(wb, "choices_lead_division") == config.organisation_on(dt.date.today()).lead_divisions
