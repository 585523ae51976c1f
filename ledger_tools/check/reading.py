"""Reading submitted workbooks safely and fast.

Only regular files are read, never more than the size limit (a FIFO, a device or a link out of
the inbox is refused with a reason). Before any parser sees a file, its first bytes and its zip
container are checked (encrypted, legacy .xls, other spreadsheet formats, truncated, zip bomb),
and the extent of each sheet as python-calamine will see it. Fields are then found by the workbook-scoped defined
names of the template, resolved to their sheet and cell, and their values read with
python-calamine (shared/inline strings without furigana, Japanese date formats as dates).
Nothing here knows about rules: it returns raw values with the cell they came from.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from ledger_tools.config import Limits
from ledger_tools.form.fields import (
    COMMON_FIELD_IDS,
    FIELD_BY_ID,
    FIELD_IDS,
    RECORD_LIST_NAME,
    TEMPLATE_VERSION_NAME,
    field_ids_for,
    form_version,
)

XLSX_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
# Spreadsheets in other formats: read as unreadable (with how to re-save them), never skipped.
OTHER_SPREADSHEET_FORMATS = {
    ".xlsb": "Excel バイナリ ブック .xlsb",
    ".ods": "OpenDocument スプレッドシート .ods",
    ".fods": "OpenDocument スプレッドシート（XML）.fods",
    ".ots": "OpenDocument テンプレート .ots",
    ".numbers": "Apple Numbers .numbers",
    ".csv": "CSV テキスト .csv",
    ".tsv": "タブ区切りテキスト .tsv",
    ".xlt": "Excel 97-2003 テンプレート .xlt",
    ".xlam": "Excel アドイン .xlam",
    ".xla": "Excel アドイン .xla",
    ".et": "WPS 表計算 .et",
    ".ett": "WPS 表計算テンプレート .ett",
    ".sxc": "OpenOffice.org 1 表計算 .sxc",
    ".gsheet": "Google スプレッドシートへのリンク .gsheet",
    ".wk1": "Lotus 1-2-3 .wk1",
    ".wks": "Lotus 1-2-3 / Works .wks",
    ".123": "Lotus 1-2-3 .123",
    ".slk": "SYLK .slk",
    ".dif": "DIF .dif",
    ".qpw": "Quattro Pro .qpw",
}
SPREADSHEET_SUFFIXES = XLSX_SUFFIXES | {".xls"} | OTHER_SPREADSHEET_FORMATS.keys()
ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: legacy .xls or an encrypted xlsx
ENCRYPTION_MARKER = "EncryptionInfo".encode("utf-16-le")


class Unreadable(Exception):
    """The file is not a readable form or list of a known version; ``code`` is a finding code."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class RawRecord:
    """One record as stored: the whole form, or one row of a list-format workbook."""

    row: int | None  # the sheet row of a list record; None for the form
    values: dict[str, object]  # field id -> stored value, for the cells that are not blank
    cells: Mapping[str, str]  # field id -> "sheet!A1", for every field
    formulas: frozenset[str] = frozenset()  # fields holding a formula without a cached value
    errors: dict[str, str] = field(default_factory=dict)  # fields whose cell holds an error value (#DIV/0!)


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

    @property
    def columns(self) -> dict[str, str]:
        return self._columns

    @property
    def row(self) -> int:
        return self._row


@dataclass
class RawWorkbook:
    path: Path
    sha256: str
    records: list[RawRecord]
    template_version: object
    has_macros: bool = False
    is_list: bool = False
    copied_sheets: list[str] = field(default_factory=list)  # sheets holding another copy of the form
    form_version: int = 1  # the known form version ``template_version`` names


@dataclass(frozen=True)
class CellRef:
    sheet: str
    row: int  # 1-based
    col: int  # 1-based

    @functools.cached_property
    def a1(self) -> str:
        return f"{self.sheet}!{column_letter(self.col)}{self.row}"


def column_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as text for people, JSON, workbooks and sqlite: never a lone surrogate.

    A name that is not valid UTF-8 (a Shift_JIS name on a Linux/Samba share reaches Python as
    surrogate escapes) is shown decoded as CP932 where that works, else with its bytes escaped
    (\\x82), one path component at a time. Every place where a path becomes text uses this."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    parts = re.split(r"([/\\])", text)
    shown = []
    for part in parts:
        try:
            raw = part.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (a Windows name)
            shown.append(part.encode("utf-8", "backslashreplace").decode("ascii"))
            continue
        try:
            shown.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                decoded = raw.decode("cp932")
            except UnicodeDecodeError:
                decoded = ""
            if decoded and all(ch.isprintable() and not "\ue000" <= ch <= "\uf8ff" for ch in decoded):
                shown.append(decoded)
            else:  # not CP932 either (Python maps some bytes to private-use characters)
                shown.append(raw.decode("utf-8", "backslashreplace"))
    return "".join(shown)


_ERRNO_JA = {
    errno.ENOENT: "ファイルが見つかりません",
    errno.EACCES: "アクセスが拒否されました",
    errno.EPERM: "操作が許可されていません",
    errno.ELOOP: "リンクが循環しています",
    errno.EISDIR: "フォルダです",
    errno.ENOTDIR: "パスの途中がフォルダではありません",
    errno.EBUSY: "ほかのプログラムが使用中です",
    errno.ENAMETOOLONG: "パスが長すぎます",
    errno.EIO: "入出力エラー",
    errno.EINVAL: "無効な引数",
    errno.ENXIO: "デバイスがありません",
    errno.EAGAIN: "一時的に読めません",
}


def os_error_reason(error: OSError) -> str:
    """A Japanese reason for an OSError (the system's own text is English on most servers)."""
    reason = _ERRNO_JA.get(error.errno or -1) or error.strerror or type(error).__name__
    return reason if error.errno is None else f"{reason}（errno {error.errno}）"


def link_problem(path: Path, roots: Iterable[Path]) -> tuple[str, str] | None:
    """(code, detail) for a symbolic link that is not read: one to a folder (its files are not
    walked), or one whose target lies outside every folder being read; None otherwise."""
    if not os.path.islink(path):
        return None
    target = os.path.realpath(path)
    if os.path.isdir(target):
        return "unreadable_linked_folder", display_path(target)
    inside = False
    for root in roots:
        base = os.path.realpath(root)
        if target == base or (os.path.isdir(base) and target.startswith(base.rstrip(os.sep) + os.sep)):
            inside = True
    return None if inside else ("unreadable_link_outside", display_path(target))


def skip_reason(path: Path) -> str | None:
    """The finding code of a file that is not a submission, or None for a candidate."""
    name = path.name
    if name.startswith("~$"):
        return "skipped_lock_file"
    if (
        name.startswith(".")
        or name.lower().endswith((".tmp", ".temp", ".crdownload", ".part", "~"))
        or _is_hidden(path)
    ):
        return "skipped_hidden_file"
    if path.suffix.lower() not in SPREADSHEET_SUFFIXES and not path.is_dir():
        return "skipped_not_spreadsheet"
    return None


def _is_hidden(path: Path) -> bool:
    """Windows' hidden attribute; on other systems the dot prefix (checked above) is all."""
    if os.name != "nt":  # no st_file_attributes: spare a stat of every inbox file
        return False
    try:
        attributes = getattr(os.stat(path), "st_file_attributes", 0)
    except OSError:
        return False
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _note_unlistable(unlistable: list[str], error: OSError) -> None:
    unlistable.append(os.fspath(error.filename))


def iter_candidate_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every file under ``paths`` (folders recursively), in a stable order; hidden folders skipped.

    A folder that cannot be listed is yielded itself, so that reading it reports the problem
    instead of its files silently missing."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            unlistable: list[str] = []
            for root, dirs, files in os.walk(path, onerror=functools.partial(_note_unlistable, unlistable)):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                links = [d for d in dirs if os.path.islink(os.path.join(root, d))]
                dirs[:] = [d for d in dirs if d not in links]  # never walked; reported by link_problem
                folder = Path(root)  # once per folder, not per file (30,000 files: a third of the listing)
                for name in sorted(files + links):
                    yield folder / name
            yield from (Path(folder) for folder in sorted(unlistable))
        else:
            yield path


def read_workbook(path: Path, limits: Limits, data: bytes | None = None) -> RawWorkbook:
    """Read one submission; raise ``Unreadable`` with a reason code for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix in OTHER_SPREADSHEET_FORMATS:
        raise Unreadable("unreadable_other_format", OTHER_SPREADSHEET_FORMATS[suffix])
    if data is None:
        data = read_file_bytes(path, limits)
    sha256 = hashlib.sha256(data).hexdigest()
    if other := _other_format(data, suffix):
        raise Unreadable("unreadable_other_format", other)
    archive = open_container(data, limits)
    with archive:
        sheet_paths, defined, local_names = _workbook_structure(archive, limits)
        has_macros = "xl/vbaProject.bin" in archive.NameToInfo
        is_list = RECORD_LIST_NAME in defined
        # Every field of any version is looked up; which must be there is known once the version is read.
        names = (TEMPLATE_VERSION_NAME, RECORD_LIST_NAME) if is_list else (TEMPLATE_VERSION_NAME, *FIELD_IDS)
        needed = (
            (TEMPLATE_VERSION_NAME, RECORD_LIST_NAME)
            if is_list
            else (TEMPLATE_VERSION_NAME, *COMMON_FIELD_IDS)
        )
        parsed = {name: _parse_ref(defined[name]) for name in names if name in defined}
        refs = {name: ref for name, ref in parsed.items() if ref is not None}
        missing = [name for name in needed if name not in refs]
        if missing:
            raise Unreadable("unreadable_not_template", _shorten(missing))
        sheets_needed = {ref.sheet for ref in refs.values()}
        unknown = sheets_needed - sheet_paths.keys()
        if unknown:
            raise Unreadable("unreadable_not_template", "シート " + "、".join(sorted(unknown)))
        scans = {
            sheet: scan_sheet(_read_buffer(archive, sheet_paths[sheet], limits), limits)
            for sheet in sheets_needed
        }
    grids = _read_grids(data, sheets_needed)
    version_ref = refs.pop(TEMPLATE_VERSION_NAME)
    version = _value_at(grids[version_ref.sheet], version_ref)
    known = form_version(version)
    if known is None:
        raise Unreadable("unreadable_template_version", str(version))
    version_fields = field_ids_for(known)
    if missing := [name for name in version_fields if name not in refs and not is_list]:
        raise Unreadable("unreadable_not_template", _shorten(missing))
    refs = {name: ref for name, ref in refs.items() if name in version_fields or name == RECORD_LIST_NAME}
    copied = sorted({sheet for name, sheet in local_names if name in FIELD_BY_ID})
    if is_list:
        list_ref = refs[RECORD_LIST_NAME]
        records = _list_records(grids[list_ref.sheet], list_ref, scans[list_ref.sheet], version_fields)
    else:
        values = {
            name: value for name, ref in refs.items() if not _blank(value := _value_at(grids[ref.sheet], ref))
        }
        formulas = frozenset(
            name for name, ref in refs.items() if (ref.row, ref.col) in scans[ref.sheet].formulas
        )
        errors = {
            name: scans[ref.sheet].errors[(ref.row, ref.col)]
            for name, ref in refs.items()
            if (ref.row, ref.col) in scans[ref.sheet].errors
        }
        records = [RawRecord(None, values, {name: ref.a1 for name, ref in refs.items()}, formulas, errors)]
    return RawWorkbook(Path(path), sha256, records, version, has_macros, is_list, copied, known)


def _shorten(names: list[str]) -> str:
    return "、".join(names[:3]) + (f" ほか{len(names) - 3}個" if len(names) > 3 else "")


def _list_records(
    grid: list[list[object]], id_row: CellRef, scan: SheetScan, field_ids: tuple[str, ...] = FIELD_IDS
) -> list[RawRecord]:
    """One record per row below the id row whose field cells are not all empty.

    Columns are found by the field-id row; a label row right below it is skipped. Cells outside
    the field columns (a memo, a helper formula) never make a row a record.
    """
    ids = grid[id_row.row - 1] if id_row.row - 1 < len(grid) else []
    columns: dict[str, int] = {}  # field id -> 0-based column
    duplicated = []
    for index, value in enumerate(ids):
        field_id = str(value).strip() if value is not None else ""
        if field_id in field_ids:
            if field_id in columns:
                duplicated.append(field_id)
            columns[field_id] = columns.get(field_id, index)
    missing = [f for f in field_ids if f not in columns]
    if missing:
        raise Unreadable("unreadable_list_columns", _shorten(missing))
    if duplicated:
        raise Unreadable("unreadable_list_duplicate_columns", _shorten(duplicated))
    prefixes = {f: f"{id_row.sheet}!{column_letter(columns[f] + 1)}" for f in field_ids}
    order = [(f, columns[f]) for f in field_ids]
    width = max(columns.values()) + 1
    problem_rows = {r for r, _ in scan.formulas} | {r for r, _ in scan.errors}
    first = id_row.row  # 0-based index of the row after the ids
    if first < len(grid) and _is_label(grid[first], columns["record_id"]):
        first += 1
    records = []
    new_record = object.__new__
    for index in range(first, len(grid)):
        cells = grid[index]
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        row = index + 1
        values = {  # _blank inlined: this runs for every cell of the list
            f: value
            for f, col in order
            if (value := cells[col]) is not None
            and value != ""
            and not (type(value) is str and value.isspace())
        }
        if row in problem_rows:
            formulas = frozenset(f for f, col in order if (row, col + 1) in scan.formulas)
            errors = {f: scan.errors[(row, col + 1)] for f, col in order if (row, col + 1) in scan.errors}
        else:
            formulas, errors = frozenset(), {}
        if values or formulas or errors:
            # RawRecord(row, values, cells, formulas, errors) without the frozen dataclass's
            # __init__, which sets each field through object.__setattr__ (≈ 1 µs a row)
            record = new_record(RawRecord)
            record.__dict__.update(
                row=row, values=values, cells=RowCells(prefixes, row), formulas=formulas, errors=errors
            )
            records.append(record)
    return records


def _blank(value: object) -> bool:
    """Empty, or only white space (a full-width space left in a cell counts as empty)."""
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def _is_label(cells: list[object], record_id_col: int) -> bool:
    value = cells[record_id_col] if record_id_col < len(cells) else None
    return isinstance(value, str) and value.replace("※", "").strip() == FIELD_BY_ID["record_id"].label


def read_file_bytes(path: Path, limits: Limits) -> bytes:
    """The bytes of a regular file of at most ``max_file_bytes``; ``Unreadable`` for anything else."""
    return read_regular_file(path, limits.max_file_bytes)[0]


_FILE_KINDS = (
    (stat.S_ISFIFO, "名前付きパイプ（FIFO）"),
    (stat.S_ISCHR, "デバイス"),
    (stat.S_ISBLK, "デバイス"),
    (stat.S_ISSOCK, "ソケット"),
    (stat.S_ISDIR, "フォルダ"),
)


def _not_regular(mode: int, path: Path | str | None = None) -> Unreadable:
    if stat.S_ISDIR(mode) and path is not None:  # a folder that could not be listed: say why
        try:
            with os.scandir(path):
                pass
        except OSError as e:
            return Unreadable("unreadable_io", os_error_reason(e))
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "特殊なファイル")
    return Unreadable("unreadable_not_regular_file", kind)


def _open_fd(path: Path | str, flags: int) -> int:
    """os.open (a seam for tests: a file that changes while it is read)."""
    return os.open(path, flags)


def read_regular_file(path: Path | str, max_bytes: int) -> tuple[bytes, os.stat_result, os.stat_result]:
    """(bytes, stat before, stat after) of a regular file, read at most ``max_bytes`` + 1 bytes.

    A FIFO, device or socket is never opened for reading in a way that can block (checked by
    stat first, opened with O_NONBLOCK where the system has it, and checked again on the open
    descriptor); a file larger than ``max_bytes`` is refused, also when it grows while read."""
    try:
        before = os.stat(path)
        if not stat.S_ISREG(before.st_mode):
            raise _not_regular(before.st_mode, path)
        if before.st_size > max_bytes:
            raise Unreadable("unreadable_too_large", f"{before.st_size:,}バイト")
        flags = (
            os.O_RDONLY
            | getattr(os, "O_BINARY", 0)
            | getattr(os, "O_NONBLOCK", 0)
            | getattr(os, "O_NOCTTY", 0)
        )
        fd = _open_fd(path, flags)
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                raise _not_regular(opened.st_mode)
            chunks, total = [], 0
            while total <= max_bytes:
                chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        finally:
            os.close(fd)
        after = os.stat(path)
    except Unreadable:
        raise
    except OSError as e:
        raise Unreadable("unreadable_io", os_error_reason(e)) from None
    if total > max_bytes:
        raise Unreadable("unreadable_too_large", f"{total:,}バイト以上")
    return b"".join(chunks), before, after


def _other_format(data: bytes, suffix: str) -> str | None:
    """The name of a spreadsheet format that is not xlsx, told by the first bytes (not a zip)."""
    if data.startswith((ZIP_MAGIC, CFB_MAGIC)) or not data:
        return None
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "Excel 2003 XML スプレッドシート"
    if head.startswith((b"<!doctype html", b"<html")) or b"<table" in head:
        return "HTML 形式（Web ページとして保存された表）"
    if b"urn:oasis:names:tc:opendocument" in head:
        return OTHER_SPREADSHEET_FORMATS[".fods"]
    if suffix == ".xls":
        return "Excel 97-2003 ブック .xls（中身は別の形式）"
    return None


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
        if info.file_size > 1_000_000 and info.file_size > limits.max_compression_ratio * max(
            info.compress_size, 1
        ):
            raise Unreadable(
                "unreadable_zip_bomb", f"圧縮率{info.file_size // max(info.compress_size, 1):,}倍"
            )
    names = archive.NameToInfo
    if "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            raise Unreadable("unreadable_other_format", OTHER_SPREADSHEET_FORMATS[".xlsb"])
        if "mimetype" in names and names["mimetype"].file_size < 200:
            mimetype = archive.read("mimetype")
            if b"opendocument.spreadsheet" in mimetype:
                raise Unreadable("unreadable_other_format", OTHER_SPREADSHEET_FORMATS[".ods"])
        if any(name.startswith("Index/") and name.endswith(".iwa") for name in names):
            raise Unreadable("unreadable_other_format", OTHER_SPREADSHEET_FORMATS[".numbers"])
        raise Unreadable("unreadable_not_xlsx")
    return archive


def _read_part(archive: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    return bytes(_read_buffer(archive, name, limits))


_READ_CHUNK = 4 << 20


def _read_buffer(archive: zipfile.ZipFile, name: str, limits: Limits) -> bytearray:
    """A part's bytes, decompressed a chunk at a time into one buffer: a single large read would
    hold the decompressor's pieces and their joined copy at once (twice a 135 MB sheet)."""
    data = bytearray()
    try:
        with archive.open(name) as f:
            while len(data) <= limits.max_uncompressed_bytes and (
                chunk := f.read(min(_READ_CHUNK, limits.max_uncompressed_bytes + 1 - len(data)))
            ):
                data += chunk
    except KeyError:
        raise Unreadable("unreadable_not_xlsx", name) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as e:
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


def _workbook_structure(
    archive: zipfile.ZipFile, limits: Limits
) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    """Sheet name → part path, the workbook-scoped defined names, and the sheet-scoped names as
    (name, sheet) — Excel makes those when a user copies the form sheet inside the workbook."""
    rels_name = "xl/_rels/workbook.xml.rels"
    rels = _read_part(archive, rels_name, limits) if rels_name in archive.NameToInfo else b""
    return _parse_structure(rels, _read_part(archive, "xl/workbook.xml", limits))


# Strict Open XML (ISO/IEC 29500 strict) spells the namespaces differently; python-calamine reads
# such files, so their structure is read too, as the transitional namespaces.
_STRICT_NAMESPACES = (
    (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    ),
    (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    ),
)


def _transitional(data: bytes) -> bytes:
    for strict, transitional in _STRICT_NAMESPACES:
        data = data.replace(strict, transitional)
    return data


@functools.lru_cache(maxsize=64)
def _parse_structure(
    rels: bytes, workbook_xml: bytes
) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    """The parse of the two parts, remembered by their bytes: files made from one template share
    them, so a batch parses them once. The result is never modified by callers."""
    rels, workbook_xml = _transitional(rels), _transitional(workbook_xml)
    targets: dict[str, str] = {}
    if rels:
        for rel in _parse_xml(rels, "xl/_rels/workbook.xml.rels").iter(f"{_NS_PKG_REL}Relationship"):
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id", "")] = _normalise_part(part)
    workbook = _parse_xml(workbook_xml, "xl/workbook.xml")
    sheets: dict[str, str] = {}
    order: list[str] = []
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        sheet_name = sheet.get("name", "")
        order.append(sheet_name)
        part = targets.get(sheet.get(f"{_NS_REL}id", ""), "")
        if part:
            sheets[sheet_name] = part
    defined: dict[str, str] = {}
    local: list[tuple[str, str]] = []
    for name in workbook.iter(f"{_NS_MAIN}definedName"):
        scope = name.get("localSheetId")
        if scope is None:
            if name.text:
                defined[name.get("name", "")] = name.text
        elif scope.isdigit() and int(scope) < len(order):
            local.append((name.get("name", ""), order[int(scope)]))
    return sheets, defined, local


def _normalise_part(part: str) -> str:
    stack: list[str] = []
    for piece in part.split("/"):
        if piece == "..":
            if stack:
                stack.pop()
        elif piece and piece != ".":
            stack.append(piece)
    return "/".join(stack)


@functools.cache
def _ref_pattern() -> re.Pattern[str]:
    return re.compile(
        r"^=?(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^!'\s]+))!\$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>\d+)(?::.*)?$"
    )


@functools.lru_cache(maxsize=4096)
def _parse_ref(text: str) -> CellRef | None:
    """``'対応記録簿'!$C$4`` (any quoting or $ style) → CellRef; None for other destinations."""
    m = _ref_pattern().match(text.strip())
    if not m:
        return None
    sheet = m["quoted"].replace("''", "'") if m["quoted"] is not None else m["plain"]
    col = 0
    for ch in m["col"].upper():
        col = col * 26 + ord(ch) - 64
    row = int(m["row"])
    return CellRef(sheet, row, col) if row >= 1 and col <= MAX_COLUMNS else None


MAX_COLUMNS = 16_384  # XFD


@functools.cache
def _cell_pattern() -> re.Pattern[bytes]:
    return re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|(?<!/)>(.*?)</(?:\w+:)?c>)", re.S)


@functools.cache
def _cell_address_pattern() -> re.Pattern[bytes]:
    return re.compile(rb'\br="([A-Z]{1,3})(\d+)"')


@functools.cache
def _row_or_cell_pattern() -> re.Pattern[bytes]:
    return re.compile(rb"<(?:\w+:)?row\b([^>]*)>|" + _cell_pattern().pattern, re.S)


@functools.cache
def _row_number_pattern() -> re.Pattern[bytes]:
    return re.compile(rb'(?:^|\s)r="(\d+)"')


@functools.cache
def _error_type_pattern() -> re.Pattern[bytes]:
    return re.compile(rb'\bt="e"')


@functools.cache
def _value_pattern() -> re.Pattern[bytes]:
    return re.compile(rb"<(?:\w+:)?v\b[^>]*?(?:/>|>([^<]*)<)")


@functools.cache
def _any_formula_pattern() -> re.Pattern[bytes]:
    return re.compile(rb"<(?:\w+:)?f[\s/>]")  # a cell formula, not the <formula1> of a validation


# Inside sheetData, what a formula or an error value (t="e", as the exact scan reads it) starts
# with; a prefix such as x:f in rare writers.
_SCAN_MARKERS = (b"<f", b":f>", b":f ", b't="e"')
_SCAN_MARKERS_UNPREFIXED = tuple(m for m in _SCAN_MARKERS if b":" not in m)


@dataclass(frozen=True)
class SheetScan:
    """What python-calamine does not tell: formulas saved without a value, error values."""

    formulas: frozenset[tuple[int, int]]  # (row, col) of formulas without a cached value
    errors: dict[tuple[int, int], str]  # (row, col) -> the error value, e.g. "#DIV/0!"


def _column_number(letters: bytes) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return col


def _holds(xml: bytes | bytearray, marker: bytes, start: int, end: int) -> bool:
    """``xml.find(marker, start, end) >= 0``; for "<f", its rare "f" looked for first (a one-byte
    search, much faster than a two-byte one whose "<" is everywhere), the first few found checked
    for a "<" before them, the rest of the part searched for "<f" only past them."""
    if marker != b"<f":
        return xml.find(marker, start, end) >= 0
    at = start + 1
    for _ in range(_RARE_CANDIDATES):
        at = xml.find(b"f", at, end)
        if at < 0:
            return False
        if xml[at - 1] == 0x3C:  # "<"
            return True
        at += 1
    return xml.find(b"<f", at - 1, end) >= 0


_RARE_CANDIDATES = 64  # "f" of a cell text or an attribute, checked one by one before one plain search


def scan_sheet(xml: bytes | bytearray, limits: Limits) -> SheetScan:
    """Check a sheet's extent (python-calamine makes a dense grid of it) and find the cells
    whose value it cannot give: formulas without a cached value and error values."""
    start = xml.find(b"sheetData>")
    # The closing tag, searched from the end: one pass fewer, and a cell text "sheetData>" cannot end it early.
    end = xml.rfind(b"sheetData>", start + 10) if start >= 0 else -1
    end = end if end > 0 else len(xml)
    # A colon is rare in sheetData: without one (a one-byte search) no tag has a prefix such as x:c.
    colon = xml.find(b":", max(start, 0), end) >= 0
    _check_extent(xml, max(start, 0), end, limits, colon)
    # Plain searches (fast); the prefixed markers only when there is a colon.
    markers = _SCAN_MARKERS if colon else _SCAN_MARKERS_UNPREFIXED
    if not any(_holds(xml, marker, max(start, 0), end) for marker in markers):
        return SheetScan(frozenset(), {})
    formulas, errors = set(), {}
    row = col = 0  # the position of a cell without r=, placed as sheet_extent places it
    row_number, cell_address = _row_number_pattern().search, _cell_address_pattern().search
    cell_value, error_type, any_formula = (
        _value_pattern().search,
        _error_type_pattern().search,
        _any_formula_pattern().search,
    )
    for m in _row_or_cell_pattern().finditer(xml, max(start, 0), end):
        if m.group(1) is not None:  # a <row>
            number = row_number(m.group(1))
            row, col = (int(number.group(1)) if number else row + 1), 0
            continue
        attributes, body = m.group(2), m.group(3) or b""
        address = cell_address(attributes)
        if address is None:
            col += 1
            key = (row, col)
        else:
            col = _column_number(address.group(1))
            key = (int(address.group(2)), col)
        value = cell_value(body)
        if error_type(attributes) and value is not None:
            errors[key] = (value.group(1) or b"").decode("utf-8", "replace")
        elif value is None and any_formula(body):
            formulas.add(key)  # <v></v> is a cached empty result, not a missing one
    return SheetScan(frozenset(formulas), errors)


# Every <row> and <c> tag of sheetData, in document order, with its r= (if any) and whether it
# closes itself: enough to place each cell as python-calamine does, with or without r=.
@functools.cache
def _position_tag_pattern() -> re.Pattern[bytes]:
    return re.compile(rb'<(?:\w+:)?(row|c)\b(?:[^>]*?\sr="([^"]*)")?[^>]*?(/?)>')


@functools.cache
def _cell_position_pattern() -> re.Pattern[bytes]:
    return re.compile(rb"([A-Z]{1,4})(\d{1,10})")


def sheet_extent(xml: bytes | bytearray, start: int = 0, end: int | None = None) -> tuple[int, int]:
    """(rows, columns) of the grid python-calamine builds for this sheet, whatever <dimension> says.

    Every row and cell counts by its place as the reader sees it: ``r=`` where given, otherwise
    the row after the previous row and the column after the previous cell. A cell reaches the
    extent unless it closes itself (``<c r="XFD9" s="1"/>`` only moves the position), as in calamine.
    """
    rows = cols = row = col = 0
    position = _cell_position_pattern().fullmatch
    for tag, r, closed in _position_tag_pattern().findall(xml, start, len(xml) if end is None else end):
        if tag == b"row":
            row = int(r) if r.isdigit() else row + 1
            col = 0
        else:
            cell_row = row
            if r and (m := position(r)):
                col, cell_row = _column_number(m.group(1)), int(m.group(2))
            else:
                col += 1
            if not closed:
                if cell_row > rows:
                    rows = cell_row
                if col > cols:
                    cols = col
    return rows, cols


# The r= of every cell tag, as column letters and row digits; b"" for a cell whose r= is missing
# or not its first attribute (then the exact scan above decides).
@functools.cache
def _cell_columns_pattern() -> re.Pattern[bytes]:
    return re.compile(rb'<(?:\w+:)?c[\s>/](?:r="([A-Z]{1,4})(?=\d))?')


@functools.cache
def _cell_rows_pattern() -> re.Pattern[bytes]:
    return re.compile(rb'<(?:\w+:)?c[\s>/](?:r="[A-Z]{1,4}(\d{1,10})")?')


def _prefixed_tags(xml: bytes | bytearray, start: int, end: int, colon: bool) -> bool:
    """Whether sheetData may hold a prefixed row or cell tag (x:c); ``colon``: it holds a colon."""
    return colon and any(xml.find(tag, start, end) >= 0 for tag in (b":c ", b":c>", b":c/", b":row"))


def _at_most(text: str, alphabet: str) -> str:
    """A pattern for the strings over ``alphabet`` (in its order) that are no greater than
    ``text`` as numbers: any shorter string, or one as long that is not after it in that order.
    Decimal digits (no leading zero in ``text``) and bijective column letters both compare so.

    The strings as long come first and the shorter ones match possessively: what follows (a
    digit after letters, a quote after digits) cannot follow fewer of them, so the pattern
    matches the same and a cell far inside the bound costs no backtracking."""
    same = [re.escape(text)]
    for i, ch in enumerate(text):
        below = alphabet[: alphabet.index(ch)]
        if below:
            rest = f"[{alphabet[0]}-{alphabet[-1]}]{{{len(text) - i - 1}}}" if i < len(text) - 1 else ""
            same.append(f"{re.escape(text[:i])}[{below[0]}-{below[-1]}]{rest}")
    shorter = f"|[{alphabet[0]}-{alphabet[-1]}]{{1,{len(text) - 1}}}+" if len(text) > 1 else ""
    return "|".join(same) + shorter


@functools.lru_cache(maxsize=64)
def _outside_pattern(rows: int, cols: int) -> re.Pattern[bytes]:
    """The first unprefixed cell tag that does not open with an r= within A1 to (cols, rows):
    one whose r= is missing, not first, malformed, or beyond either bound."""
    letters = _at_most(column_letter(cols), "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    digits = _at_most(str(rows), "0123456789")
    return re.compile(rb'<c(?:\s(?!r="(?:%s)(?:%s)")|[>/])' % (letters.encode(), digits.encode()))


def _within_bound(xml: bytes | bytearray, start: int, end: int, max_cells: int) -> bool:
    """True when every cell tag (none prefixed) opens with an r= inside a range of at most
    ``max_cells``: the row of the last cell (the largest in a sheet written in order) by as many
    columns as the limit leaves. One search, no list of addresses; False leaves it to the exact scan."""
    last = xml.rfind(b'<c r="', start, end)
    if last < 0:
        return xml.find(b"<c", start, end) < 0  # no cell with r=: only a sheet without cells passes
    m = _cell_position_pattern().match(xml, last + 6)
    if m is None:
        return False
    rows = int(m.group(2))
    if not 1 <= rows <= max_cells:
        return False
    cols = min(max_cells // rows, MAX_COLUMNS)
    return _outside_pattern(rows, cols).search(xml, start, end) is None


def _check_extent(
    xml: bytes | bytearray, start: int, end: int, limits: Limits, colon: bool | None = None
) -> None:
    """Refuse a sheet whose grid would be too large to read (a stray cell far away, e.g. XFD2000,
    cells placed without r=, a <dimension> that understates the extent).

    First a cheap bound (C-speed, the common case: every cell opens with r=): every cell within
    the row of the last cell and the columns the limit leaves for it; only when some cell is not,
    the exact scan. ``colon``: whether sheetData holds a colon, if already known."""
    if colon is None:
        colon = xml.find(b":", start, end) >= 0
    if not _prefixed_tags(xml, start, end, colon):
        if _within_bound(xml, start, end, limits.max_sheet_cells):
            return
    else:
        columns = set(_cell_columns_pattern().findall(xml, start, end))
        if b"" not in columns:
            rows = set(_cell_rows_pattern().findall(xml, start, end))
            if b"" not in rows:
                bound = max(map(int, rows), default=0) * max(max(map(_column_number, columns), default=0), 1)
                if bound <= limits.max_sheet_cells:
                    return
    rows_needed, cols = sheet_extent(xml, start, end)
    if rows_needed * max(cols, 1) > limits.max_sheet_cells:
        raise Unreadable("unreadable_too_large", f"シートの使用範囲 A1:{column_letter(cols)}{rows_needed}")


def _read_grids(data: bytes, sheets: set[str]) -> dict[str, list[list[object]]]:
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            return {
                name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)  # type: ignore[misc]
                for name in sheets
            }
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
