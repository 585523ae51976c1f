"""Writers for every output file: atomic (one file, or a set of them together), reproducible and
safe against formula injection."""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import datetime as dt
import errno
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

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
        raise unwritable(f"フォルダ（{directory}）に書き込めません: {describe_os_error(e)}") from None
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


def csv_line(row: Sequence[object]) -> str:
    """One row as ``csv_bytes`` writes it (CRLF included): rows can be rendered one by one and joined."""
    return written_csv_line([_csv_cell(v) for v in row])


def written_csv_line(cells: Sequence[str | int]) -> str:
    """One row of cells as they stand, as ``csv.writer`` writes it (QUOTE_MINIMAL, CRLF)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow(cells)
    return buffer.getvalue()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise_formula(value)
    return str(value)


_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """``text`` with the characters a workbook cannot hold (control characters, the undecodable
    bytes of a file name) as "?" rather than a broken file."""
    return _NOT_IN_XML.sub("?", text)


def set_text(cell, value: object) -> None:
    """Store a value in an openpyxl cell; text is always a string cell, never a formula.

    Characters a workbook cannot hold (control characters, the undecodable bytes of a file
    name) become "?" rather than a broken file.
    """
    if isinstance(value, str):
        value = clean_text(value)
    cell.value = value
    if isinstance(value, str) and value:
        cell.data_type = "s"


# ---------------------------------------------------------------------------- output sets

STAGING_DIR = ".staging"  # DIR/.staging: the new versions of a set of outputs, and its journal
JOURNAL_FILE = "journal.json"


class OutputError(Exception):
    """An output could not be written or replaced; nothing of its set was replaced.

    ``path`` is the file or folder, ``reason`` the Japanese cause (``describe_os_error``),
    ``replacing`` whether the new versions were written and only the swap failed.
    """

    def __init__(self, path: Path, reason: str, replacing: bool, in_use: bool = False):
        self.path, self.reason, self.replacing, self.in_use = Path(path), reason, replacing, in_use
        verb = "置き換えられません" if replacing else "書き込めません"
        super().__init__(f"{path} を{verb}: {reason}")


def describe_os_error(error: OSError) -> str:
    """The cause of a failed write in Japanese, for the user."""
    if error.errno == errno.ENOSPC:
        return "ディスクの空き容量が不足しています"
    if isinstance(error, PermissionError) or error.errno in (errno.EACCES, errno.EPERM):
        return "Excel などで開いているか、書き込みの権限がありません"
    return error.strerror or str(error)


class OutputSet:
    """New versions of several outputs under ``directory`` (files, or whole folders), made visible
    together: after ``commit`` every one is new, after a failure or a crash at any moment every
    one is as before (or, once the journal is written, every one is new after ``recover_outputs``).

        with OutputSet(out_dir) as outputs:
            outputs.file("台帳.csv", data)
            outputs.folder("2025")  # a new empty folder, to fill; replaces out_dir/2025 as a whole
        # committed on leaving the block without an exception, discarded otherwise

    How: each new version is written into ``directory/.staging`` and flushed to disk; on commit
    an existing file is linked (or copied) into the staging folder as its old version, an
    existing folder will be renamed there; a journal listing every rename is written atomically;
    the renames are done; the journal is deleted, then the staging folder. A rename that fails
    undoes the ones done (old versions renamed back). ``recover_outputs``, run by every command
    under DIR's lock before anything else, finishes the renames of a journal left by a crash and
    deletes a staging folder without a journal (nothing had been renamed yet). The caller holds
    DIR's lock.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        recover_outputs(self.directory)
        self.staging = self.directory / STAGING_DIR
        self.entries: list[dict[str, Any]] = []
        self._flushes = BackgroundFlushes()  # staged files reach the disk while the next is made
        try:
            self.staging.mkdir(parents=True)
        except OSError as e:
            raise OutputError(self.staging, describe_os_error(e), replacing=False) from None

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, *_exc: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

    def _add(self, name: str, kind: str) -> Path:
        index = len(self.entries)
        self.entries.append({"target": name, "kind": kind, "new": f"{index}.new", "old": None})
        return self.staging / f"{index}.new"

    def file(self, name: str, data: bytes | list[bytes]) -> None:
        """Stage the new version of ``directory/name`` (a path relative to the directory); ``data``
        may be the file's pieces in order (a large file, never joined in memory)."""
        staged = self._add(name, "file")
        try:
            f = open(staged, "wb")  # noqa: SIM115 (closed by the flush, in the background)
            try:
                if isinstance(data, bytes):
                    f.write(data)
                else:
                    f.writelines(data)
                f.flush()
            except BaseException:
                f.close()
                raise
            self._flushes.fsync_and_close(f, self.directory / name)
            os.chmod(staged, 0o666 & ~_UMASK)
        except OSError as e:
            self.discard()
            raise OutputError(self.directory / name, describe_os_error(e), replacing=False) from None

    def folder(self, name: str) -> Path:
        """A new empty folder that will replace ``directory/name`` as a whole: write its files
        (flushed, e.g. ``write_bytes_atomic``) before the commit."""
        staged = self._add(name, "folder")
        staged.mkdir()
        return staged

    def commit(self) -> None:
        """Make every staged version visible, or (raising ``OutputError``) none."""
        try:
            self._flushes.wait()
        except OSError as e:
            self.discard()
            raise OutputError(Path(e.filename), describe_os_error(e), replacing=False) from None
        try:
            self._check_replaceable()
            for entry in self.entries:
                self._keep_old(entry)
            _write_journal(self.staging, self.entries)
        except OutputError:
            self.discard()
            raise
        except OSError as e:
            self.discard()
            raise OutputError(self.directory, describe_os_error(e), replacing=False) from None
        done: list[dict[str, Any]] = []
        for entry in self.entries:
            try:
                _swap_in(self.directory, self.staging, entry)
            except OSError as e:
                self._undo(done, entry)
                raise OutputError(
                    self.directory / entry["target"],
                    describe_os_error(e),
                    replacing=True,
                    in_use=isinstance(e, PermissionError),
                ) from None
            done.append(entry)
        _finish(self.staging)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._flushes.wait()
        shutil.rmtree(self.staging, ignore_errors=True)

    def _check_replaceable(self) -> None:
        """On Windows a file open in Excel can be neither replaced nor renamed: find out first."""
        if os.name != "nt":
            return
        for entry in self.entries:
            target = self.directory / entry["target"]
            files = [target] if target.is_file() else list(target.rglob("*")) if target.is_dir() else []
            for path in files:
                if path.is_file():
                    try:
                        open(path, "r+b").close()
                    except OSError as e:
                        raise OutputError(path, describe_os_error(e), replacing=True, in_use=True) from None

    def _keep_old(self, entry: dict[str, Any]) -> None:
        target = self.directory / entry["target"]
        if entry["kind"] == "folder":
            if target.exists():
                entry["old"] = entry["new"].replace(".new", ".old")  # renamed there by _swap_in
            return
        if target.exists():
            old = self.staging / entry["new"].replace(".new", ".old")
            _link_or_copy(target, old)
            entry["old"] = old.name

    def _undo(self, done: list[dict[str, Any]], failed: dict[str, Any]) -> None:
        """Put the old versions back. Each new version is staged again first, so that a crash
        meanwhile still leaves a journal that completes the new set; the journal goes before the
        rest. A failure here leaves the journal: the next command completes the new set."""
        try:
            target, old = self.directory / failed["target"], failed["old"]
            if failed["kind"] == "folder" and old is not None and not target.exists():
                os.replace(self.staging / old, target)  # renamed aside, the new one not in: back
            for entry in reversed(done):
                target, new = self.directory / entry["target"], self.staging / entry["new"]
                if entry["kind"] == "folder":
                    os.replace(target, new)
                else:
                    _link_or_copy(target, new)
                if entry["old"] is not None:
                    os.replace(self.staging / entry["old"], target)
                elif entry["kind"] == "file":
                    target.unlink()
            (self.staging / JOURNAL_FILE).unlink()
        except OSError:
            return
        self.discard()


class BackgroundFlushes:
    """Flushes to disk run one after another in a thread while the caller goes on (they wait on
    the disk, not on Python); ``wait`` before anything that must follow them, e.g. a journal."""

    def __init__(self) -> None:
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: list[tuple[concurrent.futures.Future[None], Path]] = []

    def _submit(self, func: Callable[[], None], path: Path) -> None:
        if self._thread is None:
            self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="flush")
        self._pending.append((self._thread.submit(func), path))

    def fsync_and_close(self, file: IO[bytes], path: Path) -> None:
        """Flush ``file`` (written and flushed to the OS) to disk and close it."""

        def flush() -> None:
            with file:
                os.fsync(file.fileno())

        self._submit(flush, path)

    def sync_all(self, path: Path) -> None:
        """Flush everything written so far without a flush of its own (``os.sync``, where there is one)."""
        if hasattr(os, "sync"):
            self._submit(os.sync, path)

    def wait(self) -> None:
        """Wait for every flush; the first that failed raises ``OSError`` (its file's name attached)."""
        pending, self._pending = self._pending, []
        failed: OSError | None = None
        for future, path in pending:
            try:
                future.result()
            except OSError as e:
                if failed is None:
                    failed = e if e.filename else OSError(e.errno, e.strerror, str(path))
        if self._thread is not None:
            self._thread.shutdown()
            self._thread = None
        if failed is not None:
            raise failed


def replace_outputs(directory: Path, files: Mapping[str, bytes]) -> None:
    """Replace the files ``directory/name`` together (see ``OutputSet``); raises ``OutputError``."""
    with OutputSet(directory) as outputs:
        for name, data in files.items():
            outputs.file(name, data)


def recover_outputs(directory: Path) -> None:
    """Finish or discard an output set a crash left in ``directory`` (call under DIR's lock).

    With a journal the renames it lists are completed (the new set); without one nothing had
    been renamed and the staging folder is deleted (the old set). Raises ``OutputError`` when a
    rename still fails (the next command tries again).
    """
    staging = Path(directory) / STAGING_DIR
    if not staging.exists():
        return
    try:
        entries = json.loads((staging / JOURNAL_FILE).read_text(encoding="utf-8"))["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        shutil.rmtree(staging, ignore_errors=True)
        return
    for entry in entries:
        try:
            _swap_in(Path(directory), staging, entry)
        except OSError as e:
            raise OutputError(
                Path(directory) / entry["target"],
                describe_os_error(e),
                replacing=True,
                in_use=isinstance(e, PermissionError),
            ) from None
    _finish(staging)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # no hard links here (FAT, some shares): a copy does
        shutil.copy2(source, target)


def _write_journal(staging: Path, entries: list[dict[str, Any]]) -> None:
    with atomic_output(staging / JOURNAL_FILE) as f:
        f.write(json.dumps({"entries": entries}, ensure_ascii=False).encode("utf-8"))
    _sync_directory(staging)


def _swap_in(directory: Path, staging: Path, entry: dict[str, Any]) -> None:
    """Rename one staged version into place; done already (nothing staged any more): nothing to do."""
    new, target = staging / entry["new"], directory / entry["target"]
    if not new.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if entry["kind"] == "folder" and target.exists():
        if entry["old"] is not None and not (staging / entry["old"]).exists():
            os.replace(target, staging / entry["old"])
        else:
            shutil.rmtree(target)
    os.replace(new, target)


def _finish(staging: Path) -> None:
    """The set is in place: the journal goes first (without it the staging folder is garbage)."""
    with contextlib.suppress(FileNotFoundError):
        (staging / JOURNAL_FILE).unlink()
    _sync_directory(staging)
    _sync_directory(staging.parent)
    shutil.rmtree(staging, ignore_errors=True)


def _sync_directory(path: Path) -> None:
    """Make renames in a folder durable (POSIX; Windows has no such call and needs none)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
