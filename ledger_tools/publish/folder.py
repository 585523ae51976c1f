"""DIR/publication/: the folder of one year and the files beside it (the index and the combined
open data), replaced together as one set so that a reader never sees the files of two runs mixed."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ledger_tools.dates import FiscalYear
from ledger_tools.outputs import OutputError, OutputSet, atomic_output, describe_os_error
from ledger_tools.publish.errors import PublicationError

PUBLICATION_DIR = "publication"  # DIR/publication/<FY>/ holds what goes on the website, and nothing else


def publication_directory(out_dir: Path, fiscal_year: FiscalYear) -> Path:
    return Path(out_dir) / PUBLICATION_DIR / str(fiscal_year)


_STAGING, _ASIDE = ".new-", ".old-"  # folders of earlier versions, which swapped the year folder by hand


def remove_stale_folders(parent: Path) -> None:
    """Folders left by a publication of an earlier version killed while swapping (under the lock: none
    is in use). A set of this version's left half-done is finished by ``OutputSet`` itself."""
    if parent.is_dir():
        for folder in [*parent.glob(f".*{_STAGING}*"), *parent.glob(f".*{_ASIDE}*")]:
            shutil.rmtree(folder, ignore_errors=True)


# A year holds a page per 200 records: where the system can, its files are flushed to disk all at
# once before the set is committed, not one by one.
_EACH_FLUSHED = not hasattr(os, "sync")


# A file's bytes, or its pieces in order (a large CSV, written without joining them in memory).
Content = bytes | list[bytes]


def content_bytes(content: Content) -> bytes:
    return content if isinstance(content, bytes) else b"".join(content)


def content_size(content: Content) -> int:
    return len(content) if isinstance(content, bytes) else sum(map(len, content))


def write_staged(path: Path, content: Content) -> None:
    """One file of the new year folder."""
    with atomic_output(path, durable=_EACH_FLUSHED) as f:
        if isinstance(content, bytes):
            f.write(content)
        else:
            f.writelines(content)


def write_publication(
    directory: Path,
    files: Mapping[str, Content] | Iterable[tuple[str, Content]],
    beside: Callable[[Path], Mapping[str, Content]],
) -> None:
    """Replace the year folder ``directory`` by one holding exactly ``files``, and the files of its
    parent by ``beside(staged_folder)`` (computed once the new year folder is written), all as one set
    (``outputs.OutputSet``: staged, swapped in with a journal). A failure leaves the old set as it was.
    ``files`` may be (name, content) pairs made as they are written."""
    parent = directory.parent
    try:
        with OutputSet(parent) as outputs:
            staged = outputs.folder(directory.name)
            for name, content in files.items() if isinstance(files, Mapping) else files:
                write_staged(staged / name, content)
            if not _EACH_FLUSHED:
                os.sync()
            for name, content in beside(staged).items():
                outputs.file(name, content)
    except OSError as e:
        raise PublicationError(f"公表フォルダ（{parent}）に書き込めません: {describe_os_error(e)}") from None
    except OutputError as e:
        raise PublicationError(
            f"公表フォルダ（{e.path or directory}）を{'置き換えられません' if e.replacing else '書き込めません'}: "
            f"{e.reason}。中のファイルをExcel等で開いていれば閉じてから実行し直してください。"
        ) from None
