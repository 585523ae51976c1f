"""A small streaming writer of table workbooks (the ledger's large sheets).

Each sheet is a plain table: a bold, frozen header row, filters over the table, column widths
(at least what the header needs, capped; text wraps), print settings (A4 landscape, one page wide,
the header row on every page, a footer with the sheet name and page number), typed cells (text as inline strings, never a formula; dates and times as numbers with a date or
time format; numbers; booleans). Rows go to a temporary file as they are added, so a sheet of any
size costs little memory; the package is zipped with fixed entry times and fixed document
properties, so its bytes depend only on its content. The parts are those XlsxWriter writes in
constant-memory mode (its default theme included), measured ≈6× faster on the ledger's sheets.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO

from ledger_tools.outputs import FIXED_TIMESTAMP, clean_text

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_EXCEL_EPOCH = dt.date(1899, 12, 31)
_HEADER_STYLE, _DATE_STYLE, _TIME_STYLE = 1, 2, 3
_MAX_DIGIT_WIDTH, _PADDING = 7, 5  # Calibri 11: the pixels behind a column width
_HEADER_WIDTH_CAP = 24  # a longer header wraps instead of widening its column further
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ESCAPE_LIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_COMPRESS_LEVEL = 1  # deflate: ≈3× faster than the default 6 on the ledger's sheets, ≈20 % larger
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def excel_serial(value: dt.date) -> int:
    """A date as Excel's day number (1900 system, with its 29 February 1900)."""
    days = (value - _EXCEL_EPOCH).days
    return days + 1 if days > 59 else days


def text_xml(text: str) -> str:
    """The ``<is>`` content of an inline string: escaped, control characters as ``_xHHHH_``."""
    text = clean_text(text)
    if "_x" in text:
        text = _ESCAPE_LIKE.sub(r"_x005F\1", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text and (text[0].isspace() or text[-1].isspace()):
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


def _escape_attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


ROW_MARK = "\0"  # the row number in a cached row fragment (never in a cell: clean_text removes it)
_ROW_MARK = ROW_MARK.encode()


def numbered(cells: bytes, row: int) -> bytes:
    """A ``<row>`` element from cells made with the row number ``ROW_MARK`` (UTF-8)."""
    number = b"%d" % row
    return b'<row r="%s">%s</row>' % (number, cells.replace(_ROW_MARK, number))


def row_cells(values: Sequence[object], letters: Sequence[str], row: int | str) -> str:
    """The ``<c>`` elements of one row (empty values written as no cell)."""
    parts = []
    for col, value in enumerate(values):
        if value is None or value == "":
            continue
        ref = f"{letters[col]}{row}"
        if isinstance(value, str):
            parts.append(f'<c r="{ref}" t="inlineStr"><is>{text_xml(value)}</is></c>')
        elif isinstance(value, bool):
            parts.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, (int, float)):
            parts.append(f'<c r="{ref}"><v>{value:.16G}</v></c>')
        elif type(value) is dt.date:
            parts.append(f'<c r="{ref}" s="{_DATE_STYLE}"><v>{excel_serial(value)}</v></c>')
        elif type(value) is dt.time:
            seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
            parts.append(f'<c r="{ref}" s="{_TIME_STYLE}"><v>{seconds / 86400:.16G}</v></c>')
        else:
            parts.append(f'<c r="{ref}" t="inlineStr"><is>{text_xml(str(value))}</is></c>')
    return "".join(parts)


def _width(width: float) -> float:
    """A column width as Excel stores it (XlsxWriter's conversion)."""
    if width < 1:
        pixels = int(width * (_MAX_DIGIT_WIDTH + _PADDING) + 0.5)
    else:
        pixels = int(width * _MAX_DIGIT_WIDTH + 0.5) + _PADDING
    return int(pixels / _MAX_DIGIT_WIDTH * 256) / 256


def header_width(name: str) -> float:
    """The width a header needs on one line (a full-width character counts two), capped."""
    needed = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in name) + 1
    return min(needed, _HEADER_WIDTH_CAP)


def fitted_widths(columns: Sequence[str], widths: Sequence[float]) -> list[float]:
    """``widths``, each widened to what its header needs (``header_width``)."""
    fitted = list(widths) + [8.43] * (len(columns) - len(widths))
    return [max(w, header_width(columns[i])) if i < len(columns) else w for i, w in enumerate(fitted)]


# A4 (paperSize 9) landscape, one page wide and as many pages high as needed (fitToHeight 0),
# gridlines, the sheet name and 「page / pages」 in the footer (sheetPr comes first, the rest last).
_SHEET_PR = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
_PRINT_SETUP = (
    '<printOptions gridLines="1"/>'
    '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
    '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
    "<headerFooter><oddFooter>&amp;L&amp;A&amp;R&amp;P / &amp;N</oddFooter></headerFooter>"
)


def _cols(widths: Sequence[float]) -> str:
    if not widths:
        return ""
    parts, start = [], 0
    for col in range(1, len(widths) + 1):
        if col == len(widths) or widths[col] != widths[start]:
            parts.append(
                f'<col min="{start + 1}" max="{col}" width="{_width(widths[start]):.16G}" customWidth="1"/>'
            )
            start = col
    return "<cols>" + "".join(parts) + "</cols>"


def _quote_sheet(title: str) -> str:
    """A sheet name as a reference needs it (quoted unless plain letters, digits, underscores)."""
    if re.fullmatch(r"[^\W\d]\w*", title):
        return title
    return "'" + title.replace("'", "''") + "'"


class SheetWorkbook:
    """A workbook of plain tables, written sheet by sheet (``add_sheet``), then ``to_bytes()``."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buffer, "w", zipfile.ZIP_DEFLATED)
        self._sheets: list[tuple[str, str]] = []  # (title, filter range)

    def add_sheet(
        self, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], widths: Sequence[float]
    ) -> None:
        """A sheet of ``rows`` (values of any supported type) under a header of ``columns``."""
        letters = [column_letter(i) for i in range(max(len(columns), len(widths)))]
        width = [len(columns)]

        def xml_rows() -> Iterator[str]:
            for number, values in enumerate(rows, start=2):
                if len(values) > len(letters):
                    letters.extend(column_letter(i) for i in range(len(letters), len(values)))
                width[0] = max(width[0], len(values))
                yield f'<row r="{number}">{row_cells(values, letters, number)}</row>'

        self.add_rows(title, columns, xml_rows(), widths, lambda: width[0])

    def add_rows(
        self,
        title: str,
        columns: Sequence[str],
        rows: Iterable[str],
        widths: Sequence[float],
        used_columns: Callable[[], int] | None = None,
    ) -> None:
        """A sheet of rows given as ``<row>`` elements, numbered from 2."""
        last = 1
        with tempfile.TemporaryFile() as body:
            chunk: list[str] = []
            for row in rows:
                last += 1
                chunk.append(row)
                if len(chunk) >= 500:
                    body.write("".join(chunk).encode())
                    chunk = []
            body.write("".join(chunk).encode())
            self.add_body(title, columns, body, last, widths, used_columns() if used_columns else None)

    def add_body(
        self,
        title: str,
        columns: Sequence[str],
        body: IO[bytes],
        last: int,
        widths: Sequence[float],
        used_columns: int | None = None,
    ) -> None:
        """A sheet whose rows 2 to ``last`` are the ``<row>`` elements in ``body`` (UTF-8, read from
        its start; ``numbered`` makes them from cached fragments)."""
        header = "".join(
            f'<c r="{column_letter(col)}1" s="{_HEADER_STYLE}" t="inlineStr"><is>{text_xml(name)}</is></c>'
            for col, name in enumerate(columns)
        )
        max_col = max(used_columns or len(columns), 1)
        end = f"{column_letter(max_col - 1)}{last}"
        filter_end = f"{column_letter(max(len(columns), 1) - 1)}{max(last, 2)}"
        index = len(self._sheets)
        selected = ' tabSelected="1"' if index == 0 else ""
        head = (
            f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f'{_SHEET_PR}<dimension ref="A1:{end}"/><sheetViews><sheetView{selected} workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/>{_cols(fitted_widths(columns, widths))}<sheetData>'
            f'<row r="1">{header}</row>'
        )
        tail = f'</sheetData><autoFilter ref="A1:{filter_end}"/>{_PRINT_SETUP}</worksheet>'
        body.seek(0)
        with self._zip.open(self._info(f"xl/worksheets/sheet{index + 1}.xml"), "w") as part:
            part.write(head.encode())
            shutil.copyfileobj(body, part, 1 << 20)
            part.write(tail.encode())
        self._sheets.append((title, f"A1:{filter_end}"))

    @staticmethod
    def _info(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        # a ZipInfo of one's own does not get the ZipFile's level (3.11–3.13 name it so)
        info._compresslevel = _COMPRESS_LEVEL  # type: ignore[attr-defined]
        info.external_attr = 0o600 << 16
        return info

    def _write(self, name: str, text: str) -> None:
        self._zip.writestr(self._info(name), text.encode())

    def to_bytes(self) -> bytes:
        """The package: the sheets added, then workbook, styles, theme, relationships, properties."""
        from xlsxwriter.theme import THEME_XML_2007  # the default Office theme, as text

        n = len(self._sheets)
        sheets = "".join(
            f'<sheet name="{_escape_attribute(title)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
            for i, (title, _) in enumerate(self._sheets)
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{_escape_attribute(_quote_sheet(title))}!{_absolute(ref)}</definedName>"
            for i, (title, ref) in sorted(enumerate(self._sheets), key=lambda item: item[1][0])
        ) + "".join(
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
            f"{_escape_attribute(_quote_sheet(title))}!$1:$1</definedName>"
            for i, (title, _) in sorted(enumerate(self._sheets), key=lambda item: item[1][0])
        )
        self._write(
            "xl/workbook.xml",
            f'{_XML_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            '<fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/>'
            '<workbookPr defaultThemeVersion="124226"/><bookViews>'
            '<workbookView xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/>'
            f"</bookViews><sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>',
        )
        self._write("xl/styles.xml", _STYLES)
        self._write("xl/theme/theme1.xml", THEME_XML_2007)
        rels = "".join(
            f'<Relationship Id="rId{i + 1}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(n)
        )
        self._write(
            "xl/_rels/workbook.xml.rels",
            f'{_XML_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">{rels}'
            f'<Relationship Id="rId{n + 1}" Type="{_REL_NS}/theme" Target="theme/theme1.xml"/>'
            f'<Relationship Id="rId{n + 2}" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>',
        )
        self._write(
            "_rels/.rels",
            f'{_XML_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_PKG_REL_NS}/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>",
        )
        titles = "".join(f"<vt:lpstr>{_escape_attribute(title)}</vt:lpstr>" for title, _ in self._sheets)
        self._write(
            "docProps/app.xml",
            f'{_XML_DECLARATION}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
            ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
            '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
            f"</vt:variant><vt:variant><vt:i4>{n}</vt:i4></vt:variant></vt:vector></HeadingPairs>"
            f'<TitlesOfParts><vt:vector size="{n}" baseType="lpstr">{titles}</vt:vector></TitlesOfParts>'
            "<Company></Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
            "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>",
        )
        stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ")
        self._write(
            "docProps/core.xml",
            f'{_XML_DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
            ' xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:creator>ledger-tools</dc:creator><cp:lastModifiedBy>ledger-tools</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>',
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{_CT_SHEET}"/>'
            for i in range(n)
        )
        doc = "application/vnd.openxmlformats-officedocument"
        self._write(
            "[Content_Types].xml",
            f'{_XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{doc}.extended-properties+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{doc}.spreadsheetml.styles+xml"/>'
            f'<Override PartName="/xl/theme/theme1.xml" ContentType="{doc}.theme+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{doc}.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>",
        )
        self._zip.close()
        return self._buffer.getvalue()


def _absolute(ref: str) -> str:
    """``A1:E5`` → ``$A$1:$E$5``."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":"))


_WRAP = '<alignment vertical="top" wrapText="1"/>'  # every cell: long text shows whole, on screen and paper
_STYLES = (
    f'{_XML_DECLARATION}<styleSheet xmlns="{_MAIN_NS}"><numFmts count="2">'
    '<numFmt numFmtId="164" formatCode="yyyy/m/d"/><numFmt numFmtId="165" formatCode="hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font><font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    '<family val="2"/><scheme val="minor"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid">'
    '<fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills><borders count="1"><border>'
    '<left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    f"{_WRAP}</xf>"
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    f"{_WRAP}</xf>"
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1">'
    f"{_WRAP}</xf>"
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1">'
    f"{_WRAP}</xf></cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles><dxfs count="0"/>'
    '<tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)
