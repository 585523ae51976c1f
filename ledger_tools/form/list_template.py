"""The list-format 対応記録簿: one row per record, the same fields as the form.

Layout of the list sheet: row 1 the sections ("A 識別" … "H 公表用", each merged over its
columns), row 2 (hidden) the field ids, row 3 the Japanese labels, records from row 4. The
defined name ``record_list`` points at the field-id row, so the reader finds each field's column
by its id (a list of an older layout, ids in row 1, reads the same). The sheet is protected except
the field columns below the header: the header rows cannot be changed or deleted, filters and
sorting stay usable.

Printed on A4 landscape at a fixed zoom (``print_zoom()``, 70 %), one group of adjacent sections per page
width (``PRINT_GROUPS``, manual column breaks between them; "fit to width" would ignore them and
print 42 columns at about 18 %). The section and label rows (the hidden id row never prints) and
the 整理番号 column are repeated on every page. Pages run over then down: the pages of one batch
of rows (A–B, C, D–E, F, G–H) come together, so a record's whole story is on consecutive sheets
that can be laid side by side, and records added later only add pages at the end. Long texts wrap
and print whole: a blank row has no stored height, so Excel sizes it to the text typed in; rows this
module writes (imported records) get a height for their longest text, since LibreOffice does not
size rows on opening, up to Excel's tallest row (409 pt, about ``PRINT_WHOLE_LONG_TEXT`` characters
in a long-text column; a longer text is cut on paper).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, PatternFill, Protection
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from ledger_tools.config import Config
from ledger_tools.form.fields import (
    FIELD_BY_ID,
    RECORD_LIST_NAME,
    SECTIONS,
    TEMPLATE_VERSION,
    TEMPLATE_VERSION_NAME,
    FieldType,
    fields_for,
)
from ledger_tools.form.template import (
    BODY_PT,
    BOX,
    GUIDE_COLUMNS,
    HEADER_PT,
    MISSING_FILL,
    NUMBER_FORMATS,
    SECTION_ROW_HEIGHT,
    FormSpec,
    define_name,
    font,
    form_label,
    guide_paragraphs,
    input_validation,
    new_workbook,
    organ_field,
    row_height,
    template_filename,
    text_lines,
    write_guide,
)
from ledger_tools.outputs import set_text, workbook_bytes, write_bytes_atomic

LIST_SHEET = "対応記録簿一覧"
LIST_TEMPLATE_FILENAME = f"対応記録簿_一覧_v{TEMPLATE_VERSION}.xlsx"


def list_template_filename(version: int = TEMPLATE_VERSION) -> str:
    return f"対応記録簿_一覧_v{version}.xlsx"


SECTION_ROW, ID_ROW, LABEL_ROW, FIRST_RECORD_ROW = 1, 2, 3, 4
GUIDE_ID_COL, GUIDE_REQUIREMENT_COL = 2, 5  # 0-based, in template.GUIDE_COLUMNS
LAST_VALIDATED_ROW = 1_048_576  # dropdowns and highlights cover whole columns
LAST_FILTER_ROW = 1_048_576  # the filter (and sorting) covers every row: it cannot grow on a protected sheet
DATA_ALIGNMENT = Alignment(vertical="top", wrap_text=True)
COLUMN_WIDTHS = {
    FieldType.TEXT: 18,
    FieldType.LONG_TEXT: 36,
    FieldType.CHOICE: 16,
    FieldType.DATE: 12,
    FieldType.TIME: 8,
}
# Printing: sections that share a page width, the zoom at which the widest group (with the
# repeated 整理番号 column) fits the printable width of A4 landscape.
PRINT_GROUPS: tuple[str, ...] = ("AB", "C", "DE", "F", "GH")
IDENTITY_FIELD = "record_id"
PAGE_MARGIN_IN = 0.4
A4_LANDSCAPE_WIDTH_IN = 297 / 25.4
PRINT_WHOLE_LONG_TEXT = 500  # characters of a long text a row of the largest height prints whole
MAX_ROW_HEIGHT = 409  # points: Excel's tallest row
# Rows are sized with room to spare, since fonts differ between PCs: as if the columns were
# narrower, and at the line height of the widest-spaced Japanese fallback font (Noto Sans CJK).
WRAP_MARGIN = 0.9
LINE_PT = BODY_PT * 1.6
SHORTEST_WRAP = 3  # characters: the narrowest column (時刻) holds three full-width characters a line
SECTION_COLORS = {
    "A": "D9E1F2",
    "B": "E2EFDA",
    "C": "FFF2CC",
    "D": "FCE4D6",
    "E": "EDEDED",
    "F": "DDEBF7",
    "G": "E4DFEC",
    "H": "F8CBAD",
}

LIST_LAYOUT_NOTE = (
    f"「{LIST_SHEET}」シートは1行に1件を記入します（{FIRST_RECORD_ROW}行目から）。1行目は記録の区分（A 識別〜H 公表用）、"
    f"{LABEL_ROW}行目は項目名です（{ID_ROW}行目は項目IDの非表示の行）。見出しの行は保護されていて変更・削除できませんが、"
    "フィルターと並べ替えは使えます。空の行は読み飛ばします。記録をやめるときは、その行の内容を消してください。"
)
PRINT_NOTE = (
    "印刷は A4 横、{zoom} %の固定の倍率です。区分のまとまり（{groups}）ごとに1ページ幅で、各ページに1〜3行目の見出しと"
    "整理番号の列が付きます（2行目は印刷されません）。ページは横に進むので、同じ行の記録のすべての区分が続くページに並び、"
    "並べて読めます。記録を足すと最後にページが増えます。長い文章は折り返し、行の高さが文章に合っていれば全文が印刷されます"
    "（Excel で入力した行は自動で合います。1つのセルで約{chars}字まで。行の高さを変えた行で文章を長くしたときは、"
    "行番号の下の境界をダブルクリックすると合います）。全部の列を1ページ幅に収めて印刷することもできますが"
    "（印刷の設定で「すべての列を1ページに印刷」）、約{one_width} %に縮むので文字は読めない大きさになります。"
)
LIST_INTRO = [
    ("heading", "一覧形式について"),
    (
        "text",
        "一覧形式は、多数の記録をまとめて管理する主管課や、既存の記録簿（再就職者からの働きかけの記録など）を"
        "移行するときに使います。1件ずつ記入するときは、通常の様式（{form}）を使ってください。",
    ),
]


def column_letters(version: int = TEMPLATE_VERSION) -> dict[str, str]:
    """Field id → its column in the list template of ``version`` (catalogue order, from A)."""
    return {f.id: get_column_letter(i) for i, f in enumerate(fields_for(version), start=1)}


def _fill(section: str) -> PatternFill:
    color = SECTION_COLORS.get(section, "D9E1F2")
    return PatternFill("solid", start_color=color, end_color=color)


def section_columns(version: int = TEMPLATE_VERSION) -> dict[str, tuple[str, str]]:
    """Section letter -> its first and last column in the list template of ``version``."""
    letters = column_letters(version)
    spans: dict[str, tuple[str, str]] = {}
    for f in fields_for(version):
        first = spans.get(f.section, (letters[f.id],))[0]
        spans[f.section] = (first, letters[f.id])
    return spans


def list_sections(version: int = TEMPLATE_VERSION) -> Callable[[str, str], str]:
    """How the list's 記入要領 names sections ``first``..``last``: by their columns, e.g.
    "D 除外事由の確認の列（R〜T列）"."""
    spans = section_columns(version)
    titles = {s.letter: s.title for s in SECTIONS}

    def name(first: str, last: str) -> str:
        start, end = spans[first][0], spans[last][1]
        label = (
            f"{first} {titles[first]}" if first == last else f"{first} {titles[first]}〜{last} {titles[last]}"
        )
        return f"「{label}」の列（{start}〜{end}列）"

    return name


def requirement_sections(version: int = TEMPLATE_VERSION) -> Callable[[str, str], str]:
    """How a requirement in the list's 記入要領 names sections ``first``..``last``: by their
    titles and columns, e.g. "所属長の判断・主管課の措置（Z〜AN列）"."""
    spans = section_columns(version)
    titles = {s.letter: s.title for s in SECTIONS}

    def name(first: str, last: str) -> str:
        letters = [s.letter for s in SECTIONS if first <= s.letter <= last]
        return f"{'・'.join(titles[s] for s in letters)}（{spans[first][0]}〜{spans[last][1]}列）"

    return name


def _name_columns_in_guide(guide: Worksheet, version: int) -> None:
    """The table of the 記入要領: each requirement names the list's columns, not the form's 欄."""
    letters = column_letters(version)
    sections = requirement_sections(version)
    widths = [_column_pixels(width) for _, width in GUIDE_COLUMNS]
    for row in guide.iter_rows(min_col=1, max_col=len(GUIDE_COLUMNS)):
        field = FIELD_BY_ID.get(str(row[GUIDE_ID_COL].value))
        if field is None or row[0].value != letters.get(field.id):
            continue
        row[GUIDE_REQUIREMENT_COL].value = field.requirement_text(sections, letters)
        lines = max(text_lines(str(c.value or ""), w, BODY_PT) for c, w in zip(row, widths, strict=True))
        guide.row_dimensions[row[0].row].height = max(
            guide.row_dimensions[row[0].row].height or 0, row_height(lines, BODY_PT)
        )


def _list_paragraphs(spec: FormSpec) -> list[tuple[str, str]]:
    """The 記入要領 text of the list: the form's, naming the list's columns."""
    name = list_sections(spec.version)
    last = SECTIONS[-1]
    doubled = f"5 {name(last.letter, last.letter)}（{last.title}）の注意"  # the list's name has the title
    intro = [(kind, text.format(form=template_filename(spec.version))) for kind, text in LIST_INTRO]
    paragraphs = [
        (kind, f"5 {name(last.letter, last.letter)}の注意" if text == doubled else text)
        for kind, text in guide_paragraphs(spec, LIST_LAYOUT_NOTE, name)
    ]
    groups = "、".join("〜".join(dict.fromkeys((g[0], g[-1]))) for g in PRINT_GROUPS)
    note = PRINT_NOTE.format(
        zoom=print_zoom(spec.version),
        groups=groups,
        chars=PRINT_WHOLE_LONG_TEXT,
        one_width=one_width_zoom(spec.version),
    )
    return _insert_after(intro + paragraphs, LIST_LAYOUT_NOTE, note)


def _insert_after(paragraphs: list[tuple[str, str]], text: str, new: str) -> list[tuple[str, str]]:
    at = next(i for i, (_, t) in enumerate(paragraphs) if t == text) + 1
    return [*paragraphs[:at], ("text", new), *paragraphs[at:]]


def _column_pixels(width: float) -> float:
    return width * 7 + 5  # the default font's 7-pixel digit, plus the cell padding


def print_groups(version: int = TEMPLATE_VERSION) -> list[tuple[str, str]]:
    """The first and last column of each group of sections printed on one page width."""
    spans = section_columns(version)
    return [(spans[group[0]][0], spans[group[-1]][1]) for group in PRINT_GROUPS if group[0] in spans]


def print_zoom(version: int = TEMPLATE_VERSION) -> int:
    """The print scale in percent (a multiple of 5) at which the widest group, with the repeated
    identity column, fits the printable width of A4 landscape."""
    fields = fields_for(version)
    widths = [_column_pixels(COLUMN_WIDTHS[f.type]) for f in fields]
    identity = next(i for i, f in enumerate(fields) if f.id == IDENTITY_FIELD)
    printable = (A4_LANDSCAPE_WIDTH_IN - 2 * PAGE_MARGIN_IN) * 96
    needed = 0.0
    for first, last in print_groups(version):
        start, end = column_index_from_string(first) - 1, column_index_from_string(last)
        title = 0 if start <= identity < end else widths[identity]
        needed = max(needed, sum(widths[start:end]) + title)
    return min(100, 5 * math.floor(100 * printable / needed / 5))


def one_width_zoom(version: int = TEMPLATE_VERSION) -> int:
    """The scale in percent at which every column fits one A4 landscape width (what "fit all
    columns on one page" gives: far too small to read, hence the groups)."""
    widths = sum(_column_pixels(COLUMN_WIDTHS[f.type]) for f in fields_for(version))
    return max(1, math.floor(100 * (A4_LANDSCAPE_WIDTH_IN - 2 * PAGE_MARGIN_IN) * 96 / widths))


def _write_header(ws: Worksheet, spec: FormSpec) -> None:
    for col, f in enumerate(spec.fields, start=1):
        letter = get_column_letter(col)
        ws.cell(row=ID_ROW, column=col, value=f.id).font = font(8, color="595959")
        label = ws.cell(row=LABEL_ROW, column=col, value=form_label(f))
        label.font = font(bold=True)
        label.fill = _fill(f.section)
        label.border = BOX
        label.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        column = ws.column_dimensions[letter]
        column.width = COLUMN_WIDTHS[f.type]
        column.number_format = NUMBER_FORMATS.get(f.type, "General")
        column.protection = Protection(locked=False)  # the data area: every row below the header
        column.alignment = DATA_ALIGNMENT
    titles = {s.letter: s.title for s in SECTIONS}
    for section, (first, last) in section_columns(spec.version).items():
        cell = ws[f"{first}{SECTION_ROW}"]
        cell.value = f"{section} {titles[section]}"
        cell.font = font(HEADER_PT, bold=True)
        cell.fill = _fill(section)
        cell.border = BOX
        cell.alignment = Alignment(vertical="center", horizontal="center")
        if first != last:
            ws.merge_cells(f"{first}{SECTION_ROW}:{last}{SECTION_ROW}")
    ws.row_dimensions[SECTION_ROW].height = SECTION_ROW_HEIGHT
    ws.row_dimensions[ID_ROW].hidden = True
    ws.row_dimensions[LABEL_ROW].height = 42
    last = get_column_letter(len(spec.fields))
    ws.freeze_panes = f"B{FIRST_RECORD_ROW}"
    ws.auto_filter.ref = f"A{LABEL_ROW}:{last}{LAST_FILTER_ROW}"


def _protect_and_print(ws: Worksheet, version: int) -> None:
    """Protected but for the data area; filters, sorting and row/column sizes allowed (False =
    allowed). Printed as the module docstring says."""
    protection = ws.protection
    protection.sheet = True
    protection.autoFilter = False
    protection.sort = False
    protection.formatColumns = False
    protection.formatRows = False
    protection.selectLockedCells = False
    protection.selectUnlockedCells = False
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.scale = print_zoom(version)
    ws.page_setup.pageOrder = "overThenDown"
    ws.sheet_properties.pageSetUpPr.fitToPage = False  # "fit to" would ignore the column breaks
    for _, last in print_groups(version)[:-1]:
        ws.col_breaks.append(Break(id=column_index_from_string(last), max=LAST_VALIDATED_ROW - 1))
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = PAGE_MARGIN_IN
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.page_margins.header = ws.page_margins.footer = 0.2
    identity = column_letters(version)[IDENTITY_FIELD]
    ws.print_title_rows = f"{SECTION_ROW}:{LABEL_ROW}"
    ws.print_title_cols = f"{identity}:{identity}"
    ws.oddFooter.center.text = f"{LIST_SHEET}　&P / &N"
    ws.oddFooter.center.size = 8


def _add_validations(ws: Worksheet, spec: FormSpec) -> None:
    letters = column_letters(spec.version)
    organ = organ_field()
    organ_ref = f"${letters[organ.id]}{FIRST_RECORD_ROW}" if organ else None
    for f in spec.fields:
        letter = letters[f.id]
        target = f"{letter}{FIRST_RECORD_ROW}:{letter}{LAST_VALIDATED_ROW}"
        ws.add_data_validation(input_validation(f, spec, target, organ_ref))


def _add_missing_highlights(ws: Worksheet, spec: FormSpec) -> None:
    """In a row that has been started, an always-required cell still empty is yellow."""
    last = get_column_letter(len(spec.fields))
    started = f"COUNTA($A{FIRST_RECORD_ROW}:${last}{FIRST_RECORD_ROW})>0"
    letters = column_letters(spec.version)
    for f in spec.fields:
        if f.always_required:
            letter = letters[f.id]
            formula = f"AND({started},LEN(TRIM({letter}{FIRST_RECORD_ROW}))=0)"
            ws.conditional_formatting.add(
                f"{letter}{FIRST_RECORD_ROW}:{letter}{LAST_VALIDATED_ROW}",
                FormulaRule(formula=[formula], fill=MISSING_FILL),
            )


def build_list_template(
    config: Config,
    records: Iterable[Mapping[str, object]] = (),
    as_of: dt.date | None = None,
    version: int = TEMPLATE_VERSION,
) -> Workbook:
    """The list workbook of ``version`` for the organisation in force on ``as_of`` (default today):
    list sheet, 記入要領, hidden choice lists; optionally with ``records`` (fields of other
    versions are left out)."""
    spec = FormSpec.of(config, as_of, version)
    wb, ws, guide, lists = new_workbook(LIST_SHEET, spec)
    version_row = lists.max_row + 2
    lists.cell(row=version_row, column=1, value="template_version")
    lists.cell(row=version_row, column=2, value=version)
    define_name(wb, TEMPLATE_VERSION_NAME, lists.title, f"B{version_row}")
    _write_header(ws, spec)
    define_name(wb, RECORD_LIST_NAME, ws.title, f"A{ID_ROW}:{get_column_letter(len(spec.fields))}{ID_ROW}")
    _add_validations(ws, spec)
    _add_missing_highlights(ws, spec)
    write_guide(guide, spec, _list_paragraphs(spec), column_letters(version))
    _name_columns_in_guide(guide, version)
    _protect_and_print(ws, version)
    for row, record in enumerate(records, start=FIRST_RECORD_ROW):
        lines = 1
        for col, f in enumerate(spec.fields, start=1):
            if record.get(f.id) is not None:
                cell = ws.cell(row=row, column=col)
                set_text(cell, record[f.id])
                cell.number_format = NUMBER_FORMATS.get(f.type, "General")
                cell.protection = Protection(locked=False)
                cell.alignment = DATA_ALIGNMENT
                text = str(record[f.id])
                if len(text) > SHORTEST_WRAP:  # shorter texts fit one line of any column
                    width = _column_pixels(COLUMN_WIDTHS[f.type]) * WRAP_MARGIN
                    lines = max(lines, text_lines(text, width, BODY_PT))
        if (
            lines > 1
        ):  # LibreOffice does not size rows to their text on opening; Excel sizes blank rows as typed
            ws.row_dimensions[row].height = min(MAX_ROW_HEIGHT, round(lines * LINE_PT + 3, 1))
    wb.active = 0
    return wb


def list_template_bytes(
    config: Config,
    records: Iterable[Mapping[str, object]] = (),
    as_of: dt.date | None = None,
    version: int = TEMPLATE_VERSION,
) -> bytes:
    return workbook_bytes(build_list_template(config, records, as_of, version))


def write_list_template(
    path: Path,
    config: Config,
    records: Iterable[Mapping[str, object]] = (),
    as_of: dt.date | None = None,
    version: int = TEMPLATE_VERSION,
) -> None:
    write_bytes_atomic(Path(path), list_template_bytes(config, records, as_of, version))
