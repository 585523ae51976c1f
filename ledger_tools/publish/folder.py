"""DIR/publication/<FY>/: the folder of one year, replaced as a whole so that a reader never sees the
files of two runs mixed."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path

from ledger_tools.dates import FiscalYear
from ledger_tools.outputs import write_bytes_atomic
from ledger_tools.publish.errors import PublicationError

PUBLICATION_DIR = "publication"  # DIR/publication/<FY>/ holds what goes on the website, and nothing else


def publication_directory(out_dir: Path, fiscal_year: FiscalYear) -> Path:
    return Path(out_dir) / PUBLICATION_DIR / str(fiscal_year)


_STAGING, _ASIDE = ".new-", ".old-"  # DIR/publication/.<FY>.new-XXXX, .<FY>.old-XXXX while swapping


def remove_stale_folders(parent: Path) -> None:
    """Folders left by a publication that was killed while swapping (under the lock: none is in use)."""
    if parent.is_dir():
        for folder in [*parent.glob(f".*{_STAGING}*"), *parent.glob(f".*{_ASIDE}*")]:
            shutil.rmtree(folder, ignore_errors=True)


def write_folder(directory: Path, files: Mapping[str, bytes]) -> None:
    """Replace ``directory`` by a folder holding exactly ``files``: they are written into a new folder
    beside it, which is then renamed into place (the old one is renamed aside first, since no system
    replaces a non-empty folder, and removed last). A failure leaves the old folder as it was."""
    parent = directory.parent
    token = secrets.token_hex(4)
    staging, aside = (
        parent / f".{directory.name}{_STAGING}{token}",
        parent / f".{directory.name}{_ASIDE}{token}",
    )
    try:
        staging.mkdir(parents=True)
        for name, content in files.items():
            write_bytes_atomic(staging / name, content)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublicationError(f"公表フォルダ（{parent}）に書き込めません: {e.strerror or e}") from None
    try:
        moved_aside = False
        if directory.exists():
            os.replace(directory, aside)
            moved_aside = True
        try:
            os.replace(staging, directory)
        except OSError:
            if moved_aside:
                os.replace(aside, directory)
            raise
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublicationError(
            f"公表フォルダ（{directory}）を置き換えられません: {e.strerror or e}。"
            "中のファイルをExcel等で開いていれば閉じてから実行し直してください。"
        ) from None
    if moved_aside:
        shutil.rmtree(aside, ignore_errors=True)


def write_files(parent: Path, files: Mapping[str, bytes]) -> None:
    """Write the files of DIR/publication/ itself (the index and the combined data), each atomically."""
    try:
        for name, content in files.items():
            write_bytes_atomic(parent / name, content)
    except OSError as e:
        raise PublicationError(f"公表フォルダ（{parent}）に書き込めません: {e.strerror or e}") from None
