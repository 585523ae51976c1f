"""Writers for every output file: atomic, reproducible and safe against formula injection."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

# A fixed timestamp for everything inside generated workbooks, so that the same input
# gives byte-identical files (a diff of two runs shows only what really changed).
FIXED_TIMESTAMP = dt.datetime(2025, 3, 1, 0, 0, 0)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")

# The process's umask, read once (the only way is to set it and put it back): files written
# through a temporary get the permissions any new file would get, not mkstemp's 0600.
_UMASK = os.umask(0o022)
os.umask(_UMASK)

# A cell starting with one of these is run as a formula by Excel or LibreOffice.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


@contextlib.contextmanager
def atomic_output(path: Path, mode: str = "wb", *, durable: bool = True, **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path``; replace ``path`` with it only on success.

    ``durable`` flushes the file to disk before the rename; without it the caller makes many
    files durable at once later (``os.sync``), which is much cheaper than one flush per file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp_name, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are shared like any new file
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


LOCK_FILE = ".lock"  # DIR/.lock: aggregate, forget and publish write DIR one at a time


@contextlib.contextmanager
def directory_lock(
    directory: Path, wait: float, locked: type[Exception], unwritable: type[Exception]
) -> Iterator[None]:
    """Hold DIR's lock while writing it. After ``wait`` seconds (negative: as long as it takes)
    raise ``locked``; a DIR that cannot hold the lock file raises ``unwritable``."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(Path(directory) / LOCK_FILE))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise locked(
            f"別の集計又は公表が同じフォルダ（{directory}）で実行中です。終わってから実行し直してください"
            f"（{wait:g}秒待ちました。--wait で変更できます）。"
        ) from None
    except OSError as e:
        raise unwritable(f"フォルダ（{directory}）に書き込めません: {e.strerror or e}") from None
    try:
        yield
    finally:
        if os.name == "posix":
            # Removed while still held, so no lock file is left behind. Safe because filelock (4.3+)
            # retries when the file it locked was unlinked meanwhile; Windows' filelock removes it itself.
            with contextlib.suppress(OSError):
                os.unlink(lock.lock_file)
        lock.release()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_output(path) as f:
        f.write(data)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def reproducible_zip(data: bytes) -> bytes:
    """Re-pack an xlsx so that its bytes depend only on its content (fixed entry times)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = _MODIFIED.sub(
                    b"\\g<1>" + FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + b"\\g<2>", content
                )
            dst.writestr(fixed, content)
    return out.getvalue()


def workbook_bytes(wb) -> bytes:
    """Serialise an openpyxl workbook reproducibly (fixed document times, fixed zip times)."""
    wb.properties.creator = "ledger-tools"
    wb.properties.lastModifiedBy = "ledger-tools"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    buffer = io.BytesIO()
    wb.save(buffer)
    return reproducible_zip(buffer.getvalue())


def save_workbook_atomic(wb, path: Path) -> None:
    write_bytes_atomic(Path(path), workbook_bytes(wb))


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to user text that a spreadsheet would otherwise run as a formula (CSV)."""
    if text and text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV for Excel and open data: UTF-8 with BOM, CRLF, RFC 4180 quoting, ISO 8601 dates."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise_formula(value)
    return str(value)


_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def set_text(cell, value: object) -> None:
    """Store a value in an openpyxl cell; text is always a string cell, never a formula.

    Characters a workbook cannot hold (control characters, the undecodable bytes of a file
    name) become "?" rather than a broken file.
    """
    if isinstance(value, str):
        value = _NOT_IN_XML.sub("?", value)
    cell.value = value
    if isinstance(value, str) and value:
        cell.data_type = "s"
