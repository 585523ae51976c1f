"""Reading submitted workbooks safely and fast.

Before any parser sees a file, its first bytes and its zip container are checked (encrypted,
legacy .xls, truncated, zip bomb). Fields are then found by the workbook-scoped defined
names of the template, resolved to their sheet and cell, and their values read with
python-calamine (shared/inline strings without furigana, Japanese date formats as dates).
Nothing here knows about rules: it returns raw values with the cell they came from.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from xml.etree import ElementTree

from ledger_tools.config import Limits
from ledger_tools.fields import FIELD_BY_ID, FIELD_IDS, TEMPLATE_VERSION_NAME

RECORD_LIST_NAME = "record_list"  # list-format workbooks: the defined name of the field-id row

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xltx", ".xltm", ".ods"}
ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: legacy .xls or an encrypted xlsx
ENCRYPTION_MARKER = "EncryptionInfo".encode("utf-16-le")



class Unreadable(Exception):
    """The file is not a readable v1 workbook; ``code`` is a finding code."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class RawRecord:
    """One record as stored: the whole form, or one row of a list-format workbook."""

    row: int | None  # the sheet row of a list record; None for the form
    values: dict[str, object]  # field id -> stored value, for the cells that are not empty
    cells: Mapping[str, str]  # field id -> "sheet!A1", for every field
    formulas: frozenset[str] = frozenset()  # fields holding a formula without a cached value


class RowCells(Mapping[str, str]):
    """The cells of one list row, made on demand ("sheet!C12"): a list may have many rows."""

    __slots__ = ("_columns", "_row")

    def __init__(self, columns: dict[str, str], row: int):
        self._columns = columns  # field id -> "sheet!C", shared by every row
        self._row = row

    def __getitem__(self, field_id: str) -> str:
        return f"{self._columns[field_id]}{self._row}"

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


@dataclass
class RawWorkbook:
    path: Path
    sha256: str
    records: list[RawRecord]
    template_version: object
    has_macros: bool = False
    is_list: bool = False


@dataclass(frozen=True)
class CellRef:
    sheet: str
    row: int  # 1-based
    col: int  # 1-based

    @property
    def a1(self) -> str:
        return f"{self.sheet}!{column_letter(self.col)}{self.row}"


def column_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def skip_reason(path: Path) -> str | None:
    """The finding code of a file that is not a submission, or None for a candidate."""
    name = path.name
    if name.startswith("~$"):
        return "skipped_lock_file"
    if name.startswith(".") or name.lower().endswith((".tmp", ".temp", ".crdownload", ".part", "~")) or _is_hidden(path):
        return "skipped_hidden_file"
    if path.suffix.lower() not in SPREADSHEET_SUFFIXES:
        return "skipped_not_spreadsheet"
    return None


def _is_hidden(path: Path) -> bool:
    """Windows' hidden attribute; on other systems the dot prefix (checked above) is all."""
    try:
        attributes = getattr(os.stat(path), "st_file_attributes", 0)
    except OSError:
        return False
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def iter_candidate_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every file under ``paths`` (folders recursively), in a stable order; hidden folders skipped."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


def read_workbook(path: Path, limits: Limits, data: bytes | None = None) -> RawWorkbook:
    """Read one submission; raise ``Unreadable`` with a reason code for anything else."""
    if data is None:
        data = read_file_bytes(path, limits)
    sha256 = hashlib.sha256(data).hexdigest()
    archive = open_container(data, limits)
    with archive:
        sheet_paths, defined = _workbook_structure(archive, limits)
        has_macros = "xl/vbaProject.bin" in archive.NameToInfo
        is_list = RECORD_LIST_NAME in defined
        names = (TEMPLATE_VERSION_NAME, RECORD_LIST_NAME) if is_list else (TEMPLATE_VERSION_NAME, *FIELD_IDS)
        refs = {name: _parse_ref(defined[name]) for name in names if name in defined}
        missing = [name for name in names if refs.get(name) is None]
        if missing:
            raise Unreadable("unreadable_not_template", _shorten(missing))
        sheets_needed = {ref.sheet for ref in refs.values()}
        unknown = sheets_needed - sheet_paths.keys()
        if unknown:
            raise Unreadable("unreadable_not_template", "、".join(sorted(unknown)))
        formula_cells = {sheet: _formulas_without_value(archive, sheet_paths[sheet], limits) for sheet in sheets_needed}
    grids = _read_grids(data, sheets_needed)
    version_ref = refs.pop(TEMPLATE_VERSION_NAME)
    version = _value_at(grids[version_ref.sheet], version_ref)
    if is_list:
        list_ref = refs[RECORD_LIST_NAME]
        records = _list_records(grids[list_ref.sheet], list_ref, formula_cells[list_ref.sheet])
    else:
        values = {name: value for name, ref in refs.items() if (value := _value_at(grids[ref.sheet], ref)) is not None}
        formulas = frozenset(name for name, ref in refs.items() if (ref.row, ref.col) in formula_cells[ref.sheet])
        records = [RawRecord(None, values, {name: ref.a1 for name, ref in refs.items()}, formulas)]
    return RawWorkbook(Path(path), sha256, records, version, has_macros, is_list)


def _shorten(names: list[str]) -> str:
    return "、".join(names[:3]) + (f" ほか{len(names) - 3}個" if len(names) > 3 else "")


def _list_records(grid: list[list[object]], id_row: CellRef, formulas: set[tuple[int, int]]) -> list[RawRecord]:
    """One record per non-empty row below the label row; columns found by the field-id row."""
    ids = grid[id_row.row - 1] if id_row.row - 1 < len(grid) else []
    columns: dict[str, int] = {}  # field id -> 0-based column
    for index, value in enumerate(ids):
        field_id = str(value).strip() if value is not None else ""
        if field_id in FIELD_BY_ID and field_id not in columns:
            columns[field_id] = index
    missing = [f for f in FIELD_IDS if f not in columns]
    if missing:
        raise Unreadable("unreadable_list_columns", _shorten(missing))
    prefixes = {f: f"{id_row.sheet}!{column_letter(columns[f] + 1)}" for f in FIELD_IDS}
    order = [(f, columns[f]) for f in FIELD_IDS]
    formula_rows = {r for r, _ in formulas}
    records = []
    for index in range(id_row.row + 1, len(grid)):  # the row after the ids holds the labels
        cells = grid[index]
        row = index + 1
        if cells.count("") + cells.count(None) == len(cells) and row not in formula_rows:
            continue
        if len(cells) < len(ids):
            cells = cells + [""] * (len(ids) - len(cells))
        values = {f: value for f, col in order if (value := cells[col]) != "" and value is not None}
        with_formula = frozenset(f for f, col in order if (row, col + 1) in formulas) if row in formula_rows else frozenset()
        records.append(RawRecord(row, values, RowCells(prefixes, row), with_formula))
    return records


def read_file_bytes(path: Path, limits: Limits) -> bytes:
    try:
        size = os.stat(path).st_size
        if size > limits.max_file_bytes:
            raise Unreadable("unreadable_too_large", f"{size:,}バイト")
        with open(path, "rb") as f:
            return f.read()
    except Unreadable:
        raise
    except OSError as e:
        raise Unreadable("unreadable_io", e.strerror or type(e).__name__) from None


def open_container(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """Check the first bytes and the zip directory before anything is decompressed."""
    if data.startswith(CFB_MAGIC):
        if ENCRYPTION_MARKER in data:
            raise Unreadable("unreadable_encrypted")
        raise Unreadable("unreadable_legacy_xls")
    if not data:
        raise Unreadable("unreadable_corrupt", "0バイトのファイル")
    if not data.startswith(ZIP_MAGIC):
        raise Unreadable("unreadable_not_xlsx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unreadable("unreadable_corrupt", "ファイルの末尾が欠けています") from None
    infos = archive.infolist()
    if len(infos) > limits.max_zip_entries:
        raise Unreadable("unreadable_zip_bomb", f"{len(infos):,}個の部品")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise Unreadable("unreadable_zip_bomb", f"展開後{total:,}バイト")
    for info in infos:
        if info.file_size > 1_000_000 and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise Unreadable("unreadable_zip_bomb", f"圧縮率{info.file_size // max(info.compress_size, 1):,}倍")
    if "xl/workbook.xml" not in archive.namelist():
        raise Unreadable("unreadable_not_xlsx")
    return archive


def _read_part(archive: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    try:
        with archive.open(name) as f:
            data = f.read(limits.max_uncompressed_bytes + 1)
    except KeyError:
        raise Unreadable("unreadable_not_xlsx", name) from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as e:
        raise Unreadable("unreadable_corrupt", f"{name}: {e}") from None
    if len(data) > limits.max_uncompressed_bytes:
        raise Unreadable("unreadable_zip_bomb", name)
    return data


_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _parse_xml(data: bytes, name: str) -> ElementTree.Element:
    """Parse a small XML part with the C parser, refusing any DTD first.

    Without a DTD no entity can be declared, so entity bombs and external entities are
    impossible (the guarantee defusedxml gives, at C speed; xlsx parts never carry a DTD).
    UTF-16 parts are refused too, since the DTD check reads bytes.
    """
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unreadable("unreadable_xml", f"{name}: DTD")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:200]:
        raise Unreadable("unreadable_xml", f"{name}: UTF-16")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as e:
        raise Unreadable("unreadable_xml", f"{name}: {e}") from None


def _workbook_structure(archive: zipfile.ZipFile, limits: Limits) -> tuple[dict[str, str], dict[str, str]]:
    """Sheet name → part path, and the workbook-scoped defined names (sheet-scoped ones skipped)."""
    rels_name = "xl/_rels/workbook.xml.rels"
    targets = {}
    if rels_name in archive.NameToInfo:
        for rel in _parse_xml(_read_part(archive, rels_name, limits), rels_name).iter(f"{_NS_PKG_REL}Relationship"):
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id")] = _normalise_part(part)
    workbook = _parse_xml(_read_part(archive, "xl/workbook.xml", limits), "xl/workbook.xml")
    sheets = {}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        part = targets.get(sheet.get(f"{_NS_REL}id"))
        if part:
            sheets[sheet.get("name")] = part
    defined = {}
    for name in workbook.iter(f"{_NS_MAIN}definedName"):
        if name.get("localSheetId") is None and name.text:
            defined[name.get("name")] = name.text
    return sheets, defined


def _normalise_part(part: str) -> str:
    stack: list[str] = []
    for piece in part.split("/"):
        if piece == "..":
            if stack:
                stack.pop()
        elif piece and piece != ".":
            stack.append(piece)
    return "/".join(stack)


_REF = re.compile(r"^=?(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^!'\s]+))!\$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>\d+)(?::.*)?$")


@functools.lru_cache(maxsize=4096)
def _parse_ref(text: str) -> CellRef | None:
    """``'対応記録簿'!$C$4`` (any quoting or $ style) → CellRef; None for other destinations."""
    m = _REF.match(text.strip())
    if not m:
        return None
    sheet = m["quoted"].replace("''", "'") if m["quoted"] is not None else m["plain"]
    col = 0
    for ch in m["col"].upper():
        col = col * 26 + ord(ch) - 64
    return CellRef(sheet, int(m["row"]), col)


_CELL_WITH_FORMULA = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>", re.S)
_CELL_ADDRESS = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_HAS_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]")
_ANY_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")  # a cell formula, not the <formula1> of a validation


def _formulas_without_value(archive: zipfile.ZipFile, part: str, limits: Limits) -> set[tuple[int, int]]:
    """Cells holding a formula but no cached value (a workbook saved without recalculation)."""
    xml = _read_part(archive, part, limits)
    start = xml.find(b"sheetData>")  # cell formulas live in sheetData; validations and highlights follow it
    end = xml.find(b"sheetData>", start + 10) if start >= 0 else -1
    if not _ANY_FORMULA.search(xml, 0, end if end > 0 else len(xml)):
        return set()
    missing = set()
    for m in _CELL_WITH_FORMULA.finditer(xml):
        body = m.group(2)
        if (b"<f" in body or b":f" in body) and not _HAS_VALUE.search(body):
            address = _CELL_ADDRESS.search(m.group(1))
            if address:
                col = 0
                for ch in address.group(1).decode():
                    col = col * 26 + ord(ch) - 64
                missing.add((int(address.group(2)), col))
    return missing


def _read_grids(data: bytes, sheets: set[str]) -> dict[str, list[list[object]]]:
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in sheets}
        finally:
            book.close()
    except PasswordError:
        raise Unreadable("unreadable_encrypted") from None
    except (CalamineError, ValueError, OSError) as e:
        raise Unreadable("unreadable_corrupt", type(e).__name__) from None


def _value_at(grid: list[list[object]], ref: CellRef) -> object:
    if ref.row - 1 < len(grid):
        row = grid[ref.row - 1]
        if ref.col - 1 < len(row):
            value = row[ref.col - 1]
            return None if value == "" else value
    return None
