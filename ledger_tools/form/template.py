"""The blank 対応記録簿 workbook: form sheet, 記入要領 (guide) sheet and hidden choice lists.

Everything is generated from the field catalogue (``fields.FIELDS``) and the configuration
(organs and departments); a new catalogue entry appears in the template without code here.

Layout of the form sheet (see ``form_layout`` / ``field_cells``):

* row 1: title (A:B) and the template version cell (C1, defined name ``template_version``);
* row 2: a short note on the markers and colours;
* then, for each section in ``SECTIONS`` order, one header row ("A 識別") followed by one row
  per field of that section in catalogue order: column A the label (``※`` when always
  required), column B the requirement text, column C the input cell (one cell, never merged, so
  its row grows with the text), which is the workbook-scoped defined name equal to the field id.

The form of each version (``FormSpec.version``) has its own layout: the fields of that version.
Regenerate the committed files with ``ledger-tools template --out workbook_templates/対応記録簿_v2.xlsx``
(and ``--form-version 1`` for the v1 file, which stays readable).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import absolute_coordinate, get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.worksheet import Worksheet

from ledger_tools.config import Config, Organisation
from ledger_tools.form.fields import (
    APPLICABLE,
    FIELDS,
    LATER_STAGE_FIELD_IDS,
    NOT_APPLICABLE,
    SECTIONS,
    STAGE_G_FIELD_IDS,
    TEMPLATE_VERSION,
    TEMPLATE_VERSION_NAME,
    Field,
    FieldType,
    Need,
    Requirement,
    Section,
    fields_for,
    fields_of,
)
from ledger_tools.outputs import workbook_bytes, write_bytes_atomic

FORM_SHEET = "対応記録簿"
GUIDE_SHEET = "記入要領"
LISTS_SHEET = "選択肢"
TEMPLATE_FILENAME = f"{FORM_SHEET}_v{TEMPLATE_VERSION}.xlsx"


def template_filename(version: int = TEMPLATE_VERSION) -> str:
    return f"{FORM_SHEET}_v{version}.xlsx"


# --- form geometry -----------------------------------------------------------------------
LABEL_COL, REQUIREMENT_COL, INPUT_COL = "A", "B", "C"
LAST_COL = INPUT_COL  # the input is one cell, never merged: a merged cell never grows with its text
COLUMN_WIDTHS = {"A": 28, "B": 32, "C": 64}
TITLE_ROW, NOTE_ROW, FIRST_SECTION_ROW = 1, 2, 3
VERSION_CELL = f"{LAST_COL}{TITLE_ROW}"

FONT_NAME = "ＭＳ Ｐゴシック"
# The workbook's Normal font sets the unit of column widths. Arial 10 has a 7-pixel digit in Excel,
# and LibreOffice measures it the same (Liberation Sans has Arial's metrics), so the columns print
# as wide everywhere; Calibri, openpyxl's default, becomes a wider font where it is missing.
NORMAL_FONT = Font(name="Arial", size=10, family=2)
BODY_PT, SMALL_PT, HEADER_PT, TITLE_PT = 9, 8, 10, 14
# The printed form is A4 portrait, one page wide and as many pages tall as the texts need
# (fitToHeight=0, no manual break): a form filled to typical lengths prints on one page, the
# longest texts push the rest onto a second page, and every text prints whole at the same size.
# That works because no input cell is merged and no field row has a custom height: Excel sizes
# such a row to its text (when the file is opened and while typing), LibreOffice keeps the height
# stored in the file, so the rows are written with an estimate (``fit_form_rows``) marked as not
# custom, which Excel recomputes and LibreOffice prints. The columns (A label, B requirement,
# C input) print at about 79 % in Excel (9 pt as about 7 pt): blank about 0.75 of the page,
# typical texts 0.86, the longest 1.2 pages (tests/test_template.py models it, test_paper.py
# prints it with LibreOffice).
PRINT_WHOLE_CHARS = 400  # the longest text without a max_length that tests print whole
WRAPPED_TEXT_FIT_CHARS = {"not_told_reason": 100}  # a text field that may hold a sentence
MIN_ROW_HEIGHT = 13.5
SECTION_ROW_HEIGHT = 15.0
TITLE_ROW_HEIGHT = 21.0

DATE_FORMAT = "yyyy/m/d"
TIME_FORMAT = "h:mm"
TEXT_FORMAT = "@"
NUMBER_FORMATS = {
    FieldType.DATE: DATE_FORMAT,
    FieldType.TIME: TIME_FORMAT,
    FieldType.TEXT: TEXT_FORMAT,
    FieldType.LONG_TEXT: TEXT_FORMAT,
}
TYPE_NAMES = {
    FieldType.TEXT: "文字",
    FieldType.LONG_TEXT: "文章",
    FieldType.CHOICE: "選択",
    FieldType.DATE: "日付",
    FieldType.TIME: "時刻",
}

REQUIRED_MARK = "※"
MISSING_FILL = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")  # required, still empty
RECOMMENDED_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")  # needed later (warning)
LABEL_FILL = PatternFill("solid", start_color="F2F2F2", end_color="F2F2F2")
SECTION_FILL = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)

# Excel's limits on data-validation texts.
PROMPT_TITLE_MAX, PROMPT_MAX, ERROR_TITLE_MAX, ERROR_MAX, LIST_FORMULA_MAX = 32, 255, 32, 225, 255


# --- layout ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FormRow:
    """One row of the form sheet below the note: a section header or a field."""

    row: int
    section: Section
    field: Field | None = None


@dataclass(frozen=True)
class FormLayout:
    """Where each field of one form version sits on the form sheet."""

    rows: tuple[FormRow, ...]

    @functools.cached_property
    def field_rows(self) -> dict[str, int]:
        return {r.field.id: r.row for r in self.rows if r.field}

    @functools.cached_property
    def field_cells(self) -> dict[str, str]:
        return {fid: f"{INPUT_COL}{row}" for fid, row in self.field_rows.items()}

    @property
    def print_area(self) -> str:
        return f"A1:{LAST_COL}{self.rows[-1].row}"

    def input_range(self, field_id: str) -> str:
        """The input of a field, e.g. ``C4`` (one cell: the range its validation and highlights cover)."""
        return self.field_cells[field_id]


@functools.cache
def form_layout(version: int = TEMPLATE_VERSION) -> FormLayout:
    """Section header, then its fields (of ``version``) in catalogue order, for each section in order."""
    unplaced = [f.id for f in FIELDS if f.section not in {s.letter for s in SECTIONS}]
    if unplaced:
        raise ValueError(f"fields in no section of SECTIONS: {unplaced}")
    rows: list[FormRow] = []
    row = FIRST_SECTION_ROW
    for section in SECTIONS:
        rows.append(FormRow(row, section))
        row += 1
        for f in fields_of(section.letter, version):
            rows.append(FormRow(row, section, f))
            row += 1
    return FormLayout(tuple(rows))


def field_cells(version: int = TEMPLATE_VERSION) -> dict[str, str]:
    """Field id -> "A1" cell of its input on the form sheet of ``version``."""
    return dict(form_layout(version).field_cells)


def input_range(field_id: str, version: int = TEMPLATE_VERSION) -> str:
    """The input of a field, e.g. ``C4``."""
    return form_layout(version).input_range(field_id)


@dataclass(frozen=True)
class FormSpec:
    """What one generated workbook is made of: the configuration, the organisation in force on
    its date, and the form version."""

    config: Config
    organisation: Organisation
    version: int = TEMPLATE_VERSION

    @classmethod
    def of(cls, config: Config, as_of: dt.date | None = None, version: int = TEMPLATE_VERSION) -> FormSpec:
        """The form for the organisation in force on ``as_of`` (default: today)."""
        return cls(config, config.organisation_on(as_of or dt.date.today()), version)

    @property
    def fields(self) -> tuple[Field, ...]:
        return fields_for(self.version)

    @property
    def layout(self) -> FormLayout:
        return form_layout(self.version)


def _abs(cell: str) -> str:
    return absolute_coordinate(cell)


# --- choice lists ------------------------------------------------------------------------
def choice_list_name(f: Field) -> str:
    """The defined name of a choice field's list on the lists sheet, e.g. ``choices_method``."""
    return f"choices_{f.id}"


def department_list_name(organ_index: int) -> str:
    """The defined name of the departments of the ``organ_index``-th organ (1-based, config order)."""
    return f"departments_{organ_index}"


def organ_field() -> Field | None:
    """The field whose choice the department list depends on."""
    return next((f for f in FIELDS if f.choices_from == "organs"), None)


def write_choice_lists(wb: Workbook, ws: Worksheet, spec: FormSpec) -> None:
    """One column per choice field, then one column of departments per organ; each a defined name."""
    organisation = spec.organisation
    columns: list[tuple[str, str, Sequence[str]]] = [
        (choice_list_name(f), f.label, f.allowed_values(organisation)) for f in spec.fields if f.has_list
    ]
    columns += [
        (department_list_name(i), organ, organisation.departments_by_organ[organ])
        for i, organ in enumerate(organisation.organ_names, start=1)
    ]
    for col, (name, header, values) in enumerate(columns, start=1):
        letter = get_column_letter(col)
        ws.cell(row=1, column=col, value=header).font = Font(name=FONT_NAME, bold=True, charset=128)
        for row, value in enumerate(values, start=2):
            ws.cell(row=row, column=col, value=value)
        last = max(2, len(values) + 1)  # an empty list still names one (blank) cell
        define_name(wb, name, ws.title, f"{letter}2:{letter}{last}")
        ws.column_dimensions[letter].width = 24
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


def define_name(wb: Workbook, name: str, sheet: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(sheet)}!{_abs(ref)}")


# --- conditional formatting: requirement -> Excel condition -------------------------------
def _ref(layout: FormLayout, field_id: str) -> str:
    return _abs(layout.field_cells[field_id])


def _is_empty(layout: FormLayout, field_id: str) -> str:
    return f"LEN(TRIM({_ref(layout, field_id)}))=0"


def _equals_any(layout: FormLayout, field_id: str, values: Iterable[str]) -> str:
    tests = [f'{_ref(layout, field_id)}="{v}"' for v in values]
    return tests[0] if len(tests) == 1 else f"OR({','.join(tests)})"


def _any_filled(layout: FormLayout, field_ids: Iterable[str]) -> str:
    """COUNTA over the input cells of ``field_ids`` (those on this form), consecutive rows joined."""
    rows = sorted(layout.field_rows[fid] for fid in field_ids if fid in layout.field_rows)
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][-1] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    refs = [
        _abs(f"{INPUT_COL}{r[0]}") if len(r) == 1 else _abs(f"{INPUT_COL}{r[0]}:{INPUT_COL}{r[-1]}")
        for r in runs
    ]
    return f"COUNTA({','.join(refs)})>0"


def requirement_condition(req: Requirement, layout: FormLayout | None = None) -> str | None:
    """The Excel formula that is TRUE when ``req`` applies (mirrors ``Requirement.applies``); None if unknown."""
    layout = layout or form_layout()
    if req.need is Need.ALWAYS:
        return "TRUE"
    if req.need is Need.DECIDED:
        return _equals_any(layout, "supervisor_judgement", (APPLICABLE, NOT_APPLICABLE))
    if req.need is Need.LATER_STAGE:
        return _any_filled(layout, LATER_STAGE_FIELD_IDS)
    if req.need is Need.STAGE_G:
        return _any_filled(layout, STAGE_G_FIELD_IDS)
    if req.need is Need.PUBLICATION:
        parts = [
            _equals_any(layout, "supervisor_judgement", (APPLICABLE,)),
            f"NOT({_is_empty(layout, 'shared_with_general_affairs_date')})",
        ]
        if req.when_field:
            parts.append(_equals_any(layout, req.when_field, req.when_values))
        return f"AND({','.join(parts)})"
    if req.need is Need.WHEN and req.when_field:
        return _equals_any(layout, req.when_field, req.when_values)
    return None


def missing_formula(f: Field, severity: str, layout: FormLayout | None = None) -> str | None:
    """Formula TRUE when ``f`` is empty although one of its ``severity`` requirements applies."""
    layout = layout or form_layout()
    if severity == "error" and f.always_required:
        return _is_empty(layout, f.id)
    conditions = [c for r in f.required if r.severity == severity and (c := requirement_condition(r, layout))]
    if not conditions:
        return None
    condition = conditions[0] if len(conditions) == 1 else f"OR({','.join(conditions)})"
    return f"AND({_is_empty(layout, f.id)},{condition})"


def _add_missing_highlights(ws: Worksheet, spec: FormSpec) -> None:
    """Yellow: required and empty; blue: recommended (warning) and empty. Errors take priority."""
    for severity, fill in (("error", MISSING_FILL), ("warning", RECOMMENDED_FILL)):
        for f in spec.fields:
            formula = missing_formula(f, severity, spec.layout)
            if formula:
                ws.conditional_formatting.add(
                    spec.layout.input_range(f.id), FormulaRule(formula=[formula], fill=fill)
                )


# --- text measurement for row heights -----------------------------------------------------
def _column_pixels(width: float) -> float:
    return width * 7 + 5


def text_lines(text: str, width_px: float, font_pt: float) -> int:
    """Roughly how many lines ``text`` wraps to in a cell ``width_px`` wide (full-width = 1 em)."""
    em_px = font_pt * 96 / 72
    capacity = max(1.0, (width_px - 8) / (em_px / 2))  # in half-width units
    lines = 0
    for paragraph in text.split("\n"):
        units = sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in paragraph)
        lines += max(1, math.ceil(units / capacity))
    return lines


@dataclass(frozen=True)
class LineMetrics:
    """How tall a row of wrapped text is: ``spacing`` (line pitch / font size) per line, plus
    ``padding``, at least ``minimum``; an empty long text counts ``blank_lines`` lines."""

    spacing: float
    padding: float
    minimum: float
    blank_lines: int


# What the file stores: generous, for the CJK fonts LibreOffice falls back to (a pitch up to
# about 1.45), with room to write by hand in the long-text rows of a form printed blank.
STORED_METRICS = LineMetrics(spacing=1.45, padding=1.5, minimum=MIN_ROW_HEIGHT, blank_lines=3)
# How Excel fits a row set in MS P Gothic (9 pt: 11.25 pt a line); an empty cell is one line.
EXCEL_METRICS = LineMetrics(spacing=1.25, padding=0, minimum=11.25, blank_lines=1)
# The 記入要領 rows (fixed heights; shared with the list form's guide).
GUIDE_METRICS = LineMetrics(spacing=1.2, padding=3, minimum=MIN_ROW_HEIGHT, blank_lines=1)


def row_height(lines: int, font_pt: float, metrics: LineMetrics = STORED_METRICS) -> float:
    return round(max(metrics.minimum, lines * font_pt * metrics.spacing + metrics.padding), 2)


# --- the form sheet ----------------------------------------------------------------------
def font(size: float = BODY_PT, **kwargs) -> Font:
    return Font(name=FONT_NAME, size=size, charset=128, **kwargs)


def form_label(f: Field) -> str:
    """The label shown on the form: the catalogue label, ``※`` when always required."""
    return f"{f.label} {REQUIRED_MARK}" if f.always_required else f.label


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def input_validation(
    f: Field, spec: FormSpec, target: str | None = None, organ_ref: str | None = None
) -> DataValidation:
    """The data validation of a field's input: dropdown, length limit or just the input prompt.

    ``target`` is the range it covers (default: the field's input on the form) and ``organ_ref``
    the cell holding the organ that the department list depends on (default: the form's).
    """
    requirement = f"（{f.requirement_text()}）"
    error = ""
    if f.choices_from == "departments" and (organ := organ_field()):
        fallback = choice_list_name(f)
        formula = (
            f'INDIRECT(IFERROR("departments_"&MATCH({organ_ref or _ref(spec.layout, organ.id)},{choice_list_name(organ)},0),'
            f'"{fallback}"))'
        )
        dv = DataValidation(type="list", formula1=formula, allow_blank=True)
        error = f"「{organ.label}」に応じた「{f.label}」を一覧から選択してください。"
        hint = f.hint or "一覧から選択してください"
    elif f.is_choice:
        dv = DataValidation(type="list", formula1=choice_list_name(f), allow_blank=True)
        error = f"「{f.label}」は一覧から選択してください。"
        hint = f.hint or "一覧から選択してください"
    elif f.suggestions_from:
        dv = DataValidation(type="list", formula1=choice_list_name(f), allow_blank=True)
        error = f"「{f.label}」の一覧にない値です。このまま入力するときは「はい」を選んでください。"
        hint = f.hint
    elif f.max_length:
        dv = DataValidation(
            type="textLength", operator="lessThanOrEqual", formula1=str(f.max_length), allow_blank=True
        )
        error = f"「{f.label}」は{f.max_length}文字以内で入力してください。"
        hint = f.hint
    else:
        dv = DataValidation(allow_blank=True)  # any value: only the input prompt
        hint = f.hint
    if dv.formula1 and len(dv.formula1) >= LIST_FORMULA_MAX:
        raise ValueError(f"data-validation formula of {f.id} is too long for Excel: {dv.formula1}")
    dv.promptTitle = _clip(f.label, PROMPT_TITLE_MAX)
    dv.prompt = _clip("\n".join(p for p in (hint, requirement) if p), PROMPT_MAX)
    dv.showInputMessage = True
    if error:
        dv.errorTitle = _clip("入力できない値です", ERROR_TITLE_MAX)
        dv.error = _clip(error, ERROR_MAX)
        dv.errorStyle = "warning" if f.suggestions_from else "stop"
        dv.showErrorMessage = True
    dv.add(target or spec.layout.input_range(f.id))
    return dv


def print_whole_chars(f: Field) -> int:
    """Up to how many characters the printed form shows the field's text whole (0: one line)."""
    if f.type is FieldType.LONG_TEXT:
        return f.max_length or PRINT_WHOLE_CHARS
    return WRAPPED_TEXT_FIT_CHARS.get(f.id, 0)


class AutoHeightRow(RowDimension):
    """A row whose height is an estimate, not set by hand (written without ``customHeight``):
    Excel fits the row to its text again, LibreOffice prints it at this height."""

    @property
    def customHeight(self) -> bool:
        return False


def field_row_height(f: Field, value: object = None, metrics: LineMetrics = STORED_METRICS) -> float:
    """The estimated height of a field's row holding ``value``: its label, requirement and text wrapped."""
    label_lines = text_lines(form_label(f), _column_pixels(COLUMN_WIDTHS[LABEL_COL]), BODY_PT)
    req_lines = text_lines(f.requirement_text(), _column_pixels(COLUMN_WIDTHS[REQUIREMENT_COL]), SMALL_PT)
    input_lines = metrics.blank_lines if f.type is FieldType.LONG_TEXT else 1
    if isinstance(value, str) and value and f.type in (FieldType.LONG_TEXT, FieldType.TEXT):
        input_lines = text_lines(value, _column_pixels(COLUMN_WIDTHS[INPUT_COL]), BODY_PT)
    return max(
        row_height(max(label_lines, input_lines), BODY_PT, metrics), row_height(req_lines, SMALL_PT, metrics)
    )


def fit_form_rows(ws: Worksheet, version: int = TEMPLATE_VERSION) -> None:
    """Size each field row of the form sheet ``ws`` to the text now in it (see ``AutoHeightRow``);
    call after writing values into a form, so LibreOffice too prints every text whole."""
    layout = form_layout(version)
    for form_row in layout.rows:
        if form_row.field is not None:
            value = ws[layout.field_cells[form_row.field.id]].value
            height = field_row_height(form_row.field, value)
            ws.row_dimensions[form_row.row] = AutoHeightRow(ws, index=form_row.row, ht=height)


def _write_field_row(ws: Worksheet, row: int, f: Field) -> None:
    label = ws[f"{LABEL_COL}{row}"]
    label.value = form_label(f)
    label.font = font(bold=f.always_required)
    label.fill = LABEL_FILL
    label.border = BOX
    label.alignment = Alignment(vertical="center", wrap_text=True)

    requirement = ws[f"{REQUIREMENT_COL}{row}"]
    requirement.value = f.requirement_text()
    requirement.font = font(SMALL_PT, color="595959")
    requirement.fill = LABEL_FILL
    requirement.border = BOX
    requirement.alignment = Alignment(vertical="center", wrap_text=True)

    cell = ws[f"{INPUT_COL}{row}"]
    cell.font = font()
    cell.border = BOX
    cell.protection = Protection(locked=False)
    cell.number_format = NUMBER_FORMATS.get(f.type, "General")
    long_text = f.type is FieldType.LONG_TEXT
    cell.alignment = Alignment(
        vertical="top" if long_text else "center", wrap_text=long_text or f.type is FieldType.TEXT
    )


def _write_section_row(ws: Worksheet, row: int, section: Section) -> None:
    cell = ws[f"{LABEL_COL}{row}"]
    cell.value = f"{section.letter} {section.title}"
    cell.font = font(HEADER_PT, bold=True)
    cell.fill = SECTION_FILL
    cell.border = BOX
    cell.alignment = Alignment(vertical="center")
    ws.merge_cells(f"{LABEL_COL}{row}:{LAST_COL}{row}")
    ws.row_dimensions[row].height = SECTION_ROW_HEIGHT


FORM_TITLE = "対応記録簿（不当な働きかけの記録）"
FORM_NOTE = (
    f"{REQUIRED_MARK}は必ず記入する項目です。記入欄が黄色のときは未記入の必須項目、水色のときは公表等のため記入が必要な項目です。"
    f"記入方法は「{GUIDE_SHEET}」シートを参照してください。"
)


def _write_form(wb: Workbook, ws: Worksheet, spec: FormSpec) -> None:
    for letter, width in COLUMN_WIDTHS.items():
        ws.column_dimensions[letter].width = width

    title = ws[f"A{TITLE_ROW}"]
    title.value = FORM_TITLE
    title.font = font(TITLE_PT, bold=True)
    title.alignment = Alignment(vertical="center")
    ws.merge_cells(f"A{TITLE_ROW}:{REQUIREMENT_COL}{TITLE_ROW}")
    version = ws[VERSION_CELL]
    version.value = spec.version
    version.number_format = '"様式 v"0'
    version.font = font(SMALL_PT, color="595959")
    version.alignment = Alignment(horizontal="right", vertical="center")
    define_name(wb, TEMPLATE_VERSION_NAME, ws.title, VERSION_CELL)
    ws.row_dimensions[TITLE_ROW].height = TITLE_ROW_HEIGHT

    note = ws[f"A{NOTE_ROW}"]
    note.value = FORM_NOTE
    note.font = font(SMALL_PT)
    note.alignment = Alignment(vertical="center", wrap_text=True)
    ws.merge_cells(f"A{NOTE_ROW}:{LAST_COL}{NOTE_ROW}")
    note_width = sum(_column_pixels(w) for w in COLUMN_WIDTHS.values())
    ws.row_dimensions[NOTE_ROW].height = row_height(text_lines(FORM_NOTE, note_width, SMALL_PT), SMALL_PT)

    layout = spec.layout
    for form_row in layout.rows:
        if form_row.field is None:
            _write_section_row(ws, form_row.row, form_row.section)
        else:
            _write_field_row(ws, form_row.row, form_row.field)
            ws.add_data_validation(input_validation(form_row.field, spec))
            define_name(wb, form_row.field.id, ws.title, layout.field_cells[form_row.field.id])
    _add_missing_highlights(ws, spec)
    fit_form_rows(ws, spec.version)

    ws.protection.sheet = True
    ws.protection.formatRows = False  # staff may make a row taller for long text
    ws.sheet_view.showGridLines = False
    first = layout.field_cells[spec.fields[0].id]
    ws.sheet_view.selection[0].activeCell = first
    ws.sheet_view.selection[0].sqref = first
    setup_print(ws, layout.print_area, fit_height=0)  # one page wide, as many tall as the texts need
    ws.print_title_rows = f"{TITLE_ROW}:{TITLE_ROW}"
    ws.oddFooter.center.text = f"{FORM_SHEET}（様式 v{spec.version}）　&P / &N"
    ws.oddFooter.center.size = 8


def setup_print(ws: Worksheet, area: str, fit_height: int) -> None:
    """A4 portrait, one page wide (and ``fit_height`` pages tall; 0 = as many as needed)."""
    ws.print_area = area
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = fit_height
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.page_margins.header = ws.page_margins.footer = 0.2


# --- the guide sheet ---------------------------------------------------------------------
GUIDE_COLUMNS: tuple[tuple[str, float], ...] = (
    ("欄", 5),
    ("項目", 26),
    ("定義名（項目ID）", 28),
    ("種類", 7),
    ("選択肢・書式", 32),
    ("記入", 24),
    ("公表", 6),
)
EXCLUSIONS = (
    "不特定多数の者がその内容を知り得る場（説明会、公開の場など）で行われたもの",
    "議事録が作成される会議の場で行われたもの",
    "県の機関あてに発出された文書によるもの",
)


FORM_LAYOUT_NOTE = (
    f"「{FORM_SHEET}」シートの名前、行・列の構成は変えないでください（記入欄は名前で読み取ります）。"
)


def form_sections(first: str, last: str) -> str:
    """How the guide names sections ``first``..``last`` of the form: "D欄", "A〜E欄"."""
    return f"{first}欄" if first == last else f"{first}〜{last}欄"


def guide_paragraphs(
    spec: FormSpec,
    layout_note: str = FORM_LAYOUT_NOTE,
    sections: Callable[[str, str], str] = form_sections,
) -> list[tuple[str, str]]:
    """The 記入要領 text as (kind, text) pairs; kind is "heading" or "text". ``sections`` names
    a run of sections where the guide refers to them (the list form names its columns)."""
    config = spec.config
    exclusions = [f"（{i}）{text}" for i, text in enumerate(EXCLUSIONS, start=1)]
    organs = "、".join(spec.organisation.organ_names)
    public_labels = "、".join(f.label for f in spec.fields if f.public)
    h_fields = fields_of(SECTIONS[-1].letter, spec.version)
    return [
        ("heading", "1 目的と対象"),
        (
            "text",
            "この記録簿は、働きかけ記録制度に基づき、入札・契約、許認可、補助金等の事務に利害関係を有する外部の者から、"
            "職務上不正な行為をするよう、又は相当の行為をしないよう要求・依頼（不当な働きかけ）を受けたときに、"
            "その内容と対応を記録するものです。",
        ),
        (
            "text",
            "働きかけを受けた職員は、相手方に「要求には応じられないこと」と「記録されること」を伝えるよう努め、"
            f"速やかにこの記録簿を作成して所属長に報告してください（受けた日から{config.rules.report_due_days}日以内が目安）。",
        ),
        (
            "text",
            "説明の後に相手方が要求を撤回した場合も、記録の対象です（撤回しても記録は省略できません）。",
        ),
        ("text", f"対象となる機関: {organs}。"),
        ("heading", "2 対象外となるもの（除外事由）"),
        (
            "text",
            f"次のいずれかに当たる働きかけは、この制度の対象外です。{sections('D', 'D')}で一つずつ確認してください。",
        ),
        *[("text", line) for line in exclusions],
        (
            "text",
            "いずれかが「該当する」場合も、記録簿は提出してください（対象外として区別して整理され、公表されません）。",
        ),
        ("heading", "3 記入と報告の流れ"),
        ("text", f"① 職員: {sections('A', 'E')}を記入し、所属長に報告します。"),
        (
            "text",
            f"② 所属長: {sections('F', 'F')}に判断と日付を記入します。不当な働きかけに該当すると判断したときは、主管課長へ送付し、"
            "その事務を所管する主務課長と内容を共有します。",
        ),
        (
            "text",
            "退職管理の観点から不適切と認められる働きかけ（県職員OBなど再就職者によるもの等）は、所属長が人事課長へ情報提供します。",
        ),
        (
            "text",
            f"地方公務員法第38条の2の規制対象となる働きかけは、この制度とは別に、人事委員会へ届け出てください（届出日を{sections('F', 'F')}に記入）。",
        ),
        (
            "text",
            f"③ 主管課: {sections('G', 'G')}を記入します。必要に応じて主務課長と連携して措置を講じ、結果を所属長に通知し、"
            "記録と結果を総務課へ共有します。"
            + ("措置が「要」のときは、主務課長と連携したかどうかも記入します。" if spec.version >= 2 else ""),
        ),
        (
            "text",
            "④ 総務課: 年度（4月〜翌年3月）ごとに、不当な働きかけの概要を県のホームページで公表します。",
        ),
        ("heading", "4 日付・時刻の書き方"),
        (
            "text",
            "日付は次のどの書き方でも読み取れます: 2025/3/1、2025-03-01、令和7年3月1日、令和元年5月1日、R7.3.1、R07/03/01、"
            "Ｒ７．３．１（全角）。",
        ),
        (
            "text",
            "存在しない日付（令和7年2月30日など）や元号の期間を過ぎた日付（平成31年5月1日など）はエラーになります。"
            "時刻は 14:30 のように記入してください。",
        ),
        ("heading", f"5 {sections(SECTIONS[-1].letter, SECTIONS[-1].letter)}（{SECTIONS[-1].title}）の注意"),
        (
            "text",
            f"{'・'.join(f.label for f in h_fields)}は、そのまま県のホームページで公表されます。"
            "氏名、会社・団体名などの所属、電話番号、メールアドレス、郵便番号、個人番号を書かないでください。",
        ),
        ("text", f"公表されるのは次の項目だけです: {public_labels}。"),
        ("heading", "6 記号と色"),
        (
            "text",
            f"{REQUIRED_MARK} は必ず記入する項目です。記入欄が黄色のときは、未記入の必須項目です"
            "（条件付きの項目は、条件を満たしたときに黄色になります）。水色は、公表等のため記入が必要な項目です。",
        ),
        ("text", layout_note),
        ("heading", "7 項目一覧"),
    ]


def _choices_text(f: Field, organisation: Organisation) -> str:
    if f.choices_from == "departments":
        return "／".join(
            f"{organ}: {'、'.join(deps)}" for organ, deps in organisation.departments_by_organ.items()
        )
    if f.is_choice:
        return "、".join(f.allowed_values(organisation))
    if f.suggestions_from:
        return "一覧から選択又は直接入力: " + "、".join(f.allowed_values(organisation))
    text = f.hint
    if f.max_length and str(f.max_length) not in text:
        text = f"{text}（{f.max_length}文字以内）" if text else f"{f.max_length}文字以内"
    return text


def guide_table(spec: FormSpec, columns: Mapping[str, str] | None = None) -> list[tuple[str, ...]]:
    """One row per field: section (or its column in ``columns``), label, field id, type,
    choices/format, requirement, public."""
    return [
        (
            columns[f.id] if columns else f.section,
            f.label,
            f.id,
            TYPE_NAMES.get(f.type, str(f.type)),
            _choices_text(f, spec.organisation),
            f.requirement_text(),
            "○" if f.public else "－",
        )
        for f in spec.fields
    ]


def write_guide(
    ws: Worksheet,
    spec: FormSpec,
    paragraphs: list[tuple[str, str]] | None = None,
    columns: Mapping[str, str] | None = None,
) -> None:
    """The 記入要領 sheet: ``paragraphs`` (default: the form's) then the table of every field,
    by section or, given ``columns`` (field id -> column letter), by column."""
    last_col = get_column_letter(len(GUIDE_COLUMNS))
    widths = [w for _, w in GUIDE_COLUMNS]
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    full_width = sum(_column_pixels(w) for w in widths)

    ws["A1"].value = f"{FORM_SHEET} 記入要領（様式 v{spec.version}）"
    ws["A1"].font = font(TITLE_PT, bold=True)
    ws.row_dimensions[1].height = 24
    row = 2
    for kind, text in paragraphs or guide_paragraphs(spec):
        cell = ws.cell(row=row, column=1, value=text)
        heading = kind == "heading"
        cell.font = font(HEADER_PT if heading else BODY_PT, bold=heading)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.merge_cells(f"A{row}:{last_col}{row}")
        size = HEADER_PT if heading else BODY_PT
        ws.row_dimensions[row].height = row_height(
            text_lines(text, full_width, size), size, GUIDE_METRICS
        ) + (4 if heading else 0)
        row += 1

    for col, (header, _) in enumerate(GUIDE_COLUMNS, start=1):
        cell = ws.cell(row=row, column=col, value="列" if columns and col == 1 else header)
        cell.font = font(bold=True)
        cell.fill = SECTION_FILL
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.print_title_rows = f"{row}:{row}"  # repeat the table header on every printed page
    row += 1
    for values in guide_table(spec, columns):
        lines = 1
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col, value=value)
            cell.font = font()
            cell.border = BOX
            cell.alignment = Alignment(
                vertical="center", wrap_text=True, horizontal="center" if col in (1, 4, 7) else None
            )
            lines = max(lines, text_lines(value, _column_pixels(widths[col - 1]), BODY_PT))
        ws.row_dimensions[row].height = row_height(lines, BODY_PT, GUIDE_METRICS)
        row += 1

    ws.protection.sheet = True
    ws.sheet_view.showGridLines = False
    setup_print(ws, f"A1:{last_col}{row - 1}", fit_height=0)


# --- workbook ----------------------------------------------------------------------------
def new_workbook(main_title: str, spec: FormSpec) -> tuple[Workbook, Worksheet, Worksheet, Worksheet]:
    """A workbook with its main sheet, the 記入要領 sheet and the (filled, hidden) choice lists."""
    wb = Workbook()
    main = wb.active
    main.title = main_title
    guide = wb.create_sheet(GUIDE_SHEET)
    lists = wb.create_sheet(LISTS_SHEET)
    write_choice_lists(wb, lists, spec)
    set_normal_font(wb)
    return wb, main, guide, lists


def set_normal_font(wb: Workbook) -> None:
    """Make ``NORMAL_FONT`` the workbook's first font, that of the Normal style."""
    fonts = wb._fonts
    list.__setitem__(fonts, 0, NORMAL_FONT)
    fonts.clean = False


def build_template(config: Config, as_of: dt.date | None = None, version: int = TEMPLATE_VERSION) -> Workbook:
    """The blank form workbook of ``version`` for the organisation in force on ``as_of`` (default
    today): form sheet (active), 記入要領, hidden choice lists."""
    spec = FormSpec.of(config, as_of, version)
    wb, form, guide, _ = new_workbook(FORM_SHEET, spec)
    _write_form(wb, form, spec)
    write_guide(guide, spec)
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is form
    return wb


def template_bytes(config: Config, as_of: dt.date | None = None, version: int = TEMPLATE_VERSION) -> bytes:
    """The template as reproducible xlsx bytes (identical across calls and processes)."""
    return workbook_bytes(build_template(config, as_of, version))


def write_template(
    path: Path, config: Config, as_of: dt.date | None = None, version: int = TEMPLATE_VERSION
) -> None:
    """Write the template to ``path`` atomically."""
    write_bytes_atomic(Path(path), template_bytes(config, as_of, version))
