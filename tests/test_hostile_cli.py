"""The real command line over an inbox of hostile inputs: no traceback, no exit above 2, one status
per file, nothing private published."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ledger_tools.form.samples import complete_values, filled_workbook_bytes

SECRET_NAME, SECRET_PHONE = "秘密 花子", "090-9876-5432"
SHEET = "xl/worksheets/sheet1.xml"
POSIX = sys.platform != "win32"


def rewrite_sheet(data: bytes, change) -> bytes:
    """The workbook with its first sheet's XML changed by ``change(xml) -> xml``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            target.writestr(item.filename, change(body) if item.filename == SHEET else body)
    return out.getvalue()


def in_sheet_data(extra: bytes):
    return lambda xml: xml.replace(b"</sheetData>", extra + b"</sheetData>", 1)


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr(SHEET, b"\0" * (300 * 1024 * 1024))
    return out.getvalue()


def build_inbox(inbox: Path) -> dict[str, str]:
    """Write the hostile inbox; its names → a short description."""
    good = filled_workbook_bytes(
        complete_values(
            record_id="R7-9001", requester_name=SECRET_NAME, request_content=f"電話 {SECRET_PHONE}"
        )
    )

    def book(record_id: str, **values) -> bytes:
        return filled_workbook_bytes(
            complete_values(
                record_id=record_id, requester_name=SECRET_NAME, request_content=SECRET_PHONE, **values
            )
        )

    files: dict[str, bytes] = {
        "good.xlsx": good,
        "empty.xlsx": b"",
        "random.xlsx": random.Random(9).randbytes(8192),
        "bomb.xlsx": zip_bomb(),
        "truncated.xlsx": good[: len(good) // 2],
        "encrypted.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 504
        + "EncryptedPackage".encode("utf-16-le")
        + b"\0" * 4096,
        "book.xlsb": good,
        "book.ods": b"PK\x03\x04" + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" + b"\0" * 100,
        "doctype.xlsx": rewrite_sheet(
            good,
            lambda xml: xml.replace(
                b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>', 1
            ),
        ),
        "rows.xlsx": rewrite_sheet(
            good, in_sheet_data(b"".join(b'<row r="%d"/>' % n for n in range(2000, 1_002_000)))
        ),
        "xfd.xlsx": rewrite_sheet(
            good, in_sheet_data(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
        ),
        "positional.xlsx": rewrite_sheet(
            good, in_sheet_data(b'<row r="1048000">' + b"<c><v>1</v></c>" * 16_384 + b"</row>")
        ),
        "bidi.xlsx": book("R7-9002", public_summary="\u202e概要\u2066テキスト\u2069\u200f"),
        "long.xlsx": book("R7-9003", public_summary="長" * 40_000),
    }
    for name, data in files.items():
        (inbox / name).write_bytes(data)
    (inbox / "dir.xlsx").mkdir()
    (inbox / "dangling.xlsx").symlink_to(inbox / "nowhere.xlsx")
    (inbox / "loop.xlsx").symlink_to(inbox / "loop.xlsx")
    if POSIX:
        os.mkfifo(inbox / "fifo.xlsx")
        with open(os.path.join(os.fsencode(inbox), b"bad\xff\xfe.xlsx"), "wb") as f:
            f.write(good)
    if POSIX and os.geteuid() != 0:  # root reads a file whatever its mode
        (inbox / "noperm.xlsx").write_bytes(good)
        (inbox / "noperm.xlsx").chmod(0)
    return {os.fsdecode(p.name) for p in inbox.iterdir()}


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "ledger_tools", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        env=env,
    )
    assert result.returncode <= 2, (args, result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-4000:]
    return result


@pytest.mark.skipif(not POSIX, reason="FIFOs and invalid UTF-8 names are POSIX")
def test_hostile_inbox_through_the_real_cli(tmp_path):
    inbox, out = tmp_path / "提出", tmp_path / "集計"
    inbox.mkdir()
    names = build_inbox(inbox)

    cli("validate", str(inbox))
    listed = json.loads(cli("validate", str(inbox), "--format", "json").stdout)
    statuses: dict[str, set[str]] = {}
    for file in listed["files"]:
        statuses.setdefault(Path(file["path"]).name, set()).add(file["status"])
    shown = {name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") for name in names}
    shown.discard("dir.xlsx")  # a folder, searched like any other (empty)
    assert set(statuses) == shown
    for name in shown:
        assert len(statuses.get(name, ())) == 1, (name, statuses.get(name))
    assert statuses["good.xlsx"] == {"ok"}

    as_of = ["--as-of", "2026-03-31"]
    cli("aggregate", str(inbox), "--out", str(out), *as_of)
    cli("publish", str(out), "--fiscal-year", "R7", "--allow-pending")
    cli("run", str(inbox), "--out", str(out), "--fiscal-year", "R7", "--allow-pending", *as_of)
    published = [p for p in (out / "publication").rglob("*") if p.is_file()]
    assert published
    for path in published:
        text = path.read_bytes().decode("utf-8", "replace")
        assert SECRET_NAME not in text and SECRET_PHONE not in text, path
