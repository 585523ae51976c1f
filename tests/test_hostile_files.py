"""Trust under real-world mess (issue 9): no file can take the batch down, hang it or vanish."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import AS_OF

from ledger_tools.check import reading, validation
from ledger_tools.check.findings import Status
from ledger_tools.check.validation import validate_paths
from ledger_tools.cli import main
from ledger_tools.form.samples import filled_workbook_bytes, recorded_values
from ledger_tools.ledger.aggregation import aggregate

POSIX = sys.platform != "win32"


@pytest.fixture(scope="module")
def good_bytes():
    return filled_workbook_bytes(recorded_values())


def rewrite(data: bytes, part: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            dst.writestr(info.filename, change(content) if info.filename == part else content)
    return out.getvalue()


def with_config(config, **limits):
    return dataclasses.replace(config, limits=dataclasses.replace(config.limits, **limits))


def statuses(report) -> dict[str, tuple[Status, str]]:
    return {Path(f.path).name: (f.status, f.findings[0].code if f.findings else "") for f in report.files}


# ---------------------------------------------------------------------------- 1. the true extent


def add_before_sheet_end(xml: bytes, rows: bytes) -> bytes:
    return xml.replace(b"</sheetData>", rows + b"</sheetData>")


@pytest.mark.parametrize(
    "rows",
    [
        # far cells without r=: each continues from the previous column (16,384 columns × 100,000 rows)
        b'<row r="100000">' + b"<c><v>1</v></c>" * 16_384 + b"</row>",
        # rows without r= continue from the previous row; a far row number then positional cells
        b'<row r="1000000"/>' + b"<row>" + b'<c t="inlineStr"><is><t>x</t></is></c>' * 20 + b"</row>",
        # a cell whose r= lies far beyond its row, the <dimension> saying A1:A1
        b'<row r="60"><c r="XFD1048576"><v>1</v></c></row>',
        # the same far cell with a tab before r=, or r= after another attribute
        b'<row r="61"><c\tr="XFD1048576"><v>1</v></c></row>',
        b'<row r="62"><c s="0" r="XFD1048576"><v>1</v></c></row>',
    ],
    ids=["positional-columns", "positional-rows", "far-r", "far-r-after-tab", "far-r-not-first"],
)
def test_a_sheet_larger_than_it_says_is_refused_before_the_reader_builds_it(
    tmp_path, config, good_bytes, rows
):
    data = rewrite(good_bytes, "xl/worksheets/sheet1.xml", lambda xml: add_before_sheet_end(xml, rows))
    (tmp_path / "big.xlsx").write_bytes(data)
    (tmp_path / "good.xlsx").write_bytes(good_bytes)
    found = statuses(validate_paths([tmp_path], config, AS_OF))
    assert found["big.xlsx"] == (Status.UNREADABLE, "unreadable_too_large")
    assert found["good.xlsx"][0] is not Status.UNREADABLE


def test_extent_follows_the_readers_placement_of_cells():
    xml = (
        b"<sheetData><row><c><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row>"
        b'<row r="7"><c r="C1"><v>5</v></c><c><v>6</v></c><c r="Z9" s="1"/></row></sheetData>'
    )
    assert reading.sheet_extent(xml) == (7, 4)  # the styled empty Z9 does not count


# ---------------------------------------------------------------------------- 1b. isolation


def _crash_on(name: str, how: str):
    real = validation.read_workbook

    def read_workbook(path, limits, data=None):
        if Path(path).name == name:
            if how == "abort":
                import faulthandler

                faulthandler.disable()  # pytest's traceback dump of the dying worker is noise here
                os.abort()
            if how == "hang":
                import time

                time.sleep(60)
            if how == "memory":
                bytearray(3 * 1024**3)  # beyond the ceiling of the test
        return real(path, limits, data)

    return read_workbook


def _vm_mb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmSize"))


@pytest.mark.skipif(not POSIX or not Path("/proc/self/status").exists(), reason="fork and /proc (Linux)")
@pytest.mark.parametrize(
    ("how", "code"),
    [("abort", "unreadable_crashed"), ("hang", "unreadable_timeout"), ("memory", "unreadable_crashed")],
)
@pytest.mark.parametrize("command", ["validate", "aggregate"])
def test_a_file_that_crashes_hangs_or_exhausts_its_reader_is_unreadable_alone(
    tmp_path, config, monkeypatch, how, code, command
):
    inbox = tmp_path / "提出"
    inbox.mkdir()
    (inbox / "a.xlsx").write_bytes(filled_workbook_bytes(recorded_values(record_id="R-1")))
    (inbox / "b.xlsx").write_bytes(filled_workbook_bytes(recorded_values(record_id="R-BAD")))
    (inbox / "c.xlsx").write_bytes(filled_workbook_bytes(recorded_values(record_id="R-3")))
    monkeypatch.setattr(validation, "read_workbook", _crash_on("b.xlsx", how))
    limited = with_config(config, max_read_seconds=3, max_read_memory_mb=_vm_mb() + 1024)
    if command == "validate":
        found = statuses(validate_paths([inbox], limited, AS_OF, workers=1))
    else:
        result = aggregate(inbox, tmp_path / "集計", limited, AS_OF, progress=False, workers=1, retry_delay=0)
        found = {e.path: (e.status, e.findings[0].code if e.findings else "") for e in result.ledger.entries}
    assert found["b.xlsx"] == (Status.UNREADABLE, code)
    assert found["a.xlsx"][0] is Status.OK and found["c.xlsx"][0] is Status.OK


def test_validate_gives_the_same_report_in_one_or_many_workers(tmp_path, config, good_bytes):
    for i in range(6):
        (tmp_path / f"{i}.xlsx").write_bytes(filled_workbook_bytes(recorded_values(record_id=f"R-{i % 4}")))
    one = validate_paths([tmp_path], config, AS_OF, workers=1)
    many = validate_paths([tmp_path], config, AS_OF, workers=3)
    assert [(f.path, f.status, f.findings) for f in one.files] == [
        (f.path, f.status, f.findings) for f in many.files
    ]


# ---------------------------------------------------------------------------- 2. not regular files


@pytest.mark.skipif(not POSIX, reason="FIFOs and /dev/zero are POSIX")
def test_fifos_devices_and_link_loops_never_hang_nor_crash(tmp_path, config, good_bytes, capsys):
    inbox = tmp_path / "提出"
    inbox.mkdir()
    (inbox / "good.xlsx").write_bytes(good_bytes)
    os.mkfifo(inbox / "pipe.xlsx")
    (inbox / "zero.xlsx").symlink_to("/dev/zero")
    (inbox / "loop.xlsx").symlink_to(inbox / "loop.xlsx")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.xlsx").write_bytes(good_bytes)
    (inbox / "secret.xlsx").symlink_to(outside / "secret.xlsx")
    (inbox / "folder").symlink_to(outside)
    found = statuses(validate_paths([inbox], with_config(config, max_read_seconds=20), AS_OF))
    assert found == {
        "folder": (Status.UNREADABLE, "unreadable_linked_folder"),
        "good.xlsx": found["good.xlsx"],
        "loop.xlsx": (Status.UNREADABLE, "unreadable_io"),
        "pipe.xlsx": (Status.UNREADABLE, "unreadable_not_regular_file"),
        "secret.xlsx": (Status.UNREADABLE, "unreadable_link_outside"),
        "zero.xlsx": (Status.UNREADABLE, "unreadable_link_outside"),
    }
    assert main(["validate", str(inbox / "pipe.xlsx"), "--format", "json"]) == 1
    [shown] = json.loads(capsys.readouterr().out)["files"]
    assert "名前付きパイプ" in shown["findings"][0]["message"]
    assert main(["validate", str(inbox / "loop.xlsx")]) == 2  # not found: a usage error, no traceback
    assert main(["validate", str(inbox)]) == 1
    assert "リンクが循環" in capsys.readouterr().out


def test_a_read_never_goes_beyond_the_size_limit(tmp_path):
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 5000)
    with pytest.raises(reading.Unreadable) as e:
        reading.read_regular_file(path, 1000)
    assert e.value.code == "unreadable_too_large"


# ---------------------------------------------------------------------------- 3. names not in UTF-8


@pytest.mark.skipif(sys.platform != "linux", reason="bytes file names are a Linux (Samba share) matter")
def test_names_that_are_not_utf8_are_shown_readably_everywhere(tmp_path, config, good_bytes, capsys):
    inbox = tmp_path / "提出"
    inbox.mkdir()
    for raw in ("記録".encode("cp932") + b".xlsx", b"\xff\xfe.xlsx"):
        fd = os.open(os.fsencode(inbox) + b"/" + raw, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, filled_workbook_bytes(recorded_values(record_id="R-" + raw[:2].hex())))
        os.close(fd)
    assert main(["validate", str(inbox), "--format", "json"]) == 0
    shown = [Path(f["path"]).name for f in json.loads(capsys.readouterr().out)["files"]]
    assert sorted(shown) == sorted(["記録.xlsx", "\\xff\\xfe.xlsx"])
    assert main(["validate", str(inbox), "--report", str(tmp_path / "指摘.xlsx")]) == 0
    out = tmp_path / "集計"
    assert main(["aggregate", str(inbox), "--out", str(out), "--as-of", AS_OF.isoformat()]) == 0
    ledger = json.loads((out / "ledger.json").read_text(encoding="utf-8"))
    assert sorted(e["path"] for e in ledger["entries"]) == sorted(["記録.xlsx", "\\xff\\xfe.xlsx"])
    assert "記録.xlsx" in (out / "台帳.csv").read_text(encoding="utf-8-sig")
    # the second run finds them in the manifest by the same names: nothing is read again
    assert main(["aggregate", str(inbox), "--out", str(out), "--as-of", AS_OF.isoformat()]) == 0


def test_display_path_decodes_cp932_and_escapes_the_rest():
    name = os.fsdecode("提出/".encode() + "記録".encode("cp932") + b"/\xff.xlsx")
    assert reading.display_path(name) == "提出/記録/\\xff.xlsx"
    assert reading.display_path("普通.xlsx") == "普通.xlsx"


# ---------------------------------------------------------------------------- 4. other formats


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in entries.items():
            z.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("提出.xlsb", _zip({"xl/workbook.bin": b"\0"})),
        ("提出.ods", _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})),
        ("提出.csv", "整理番号,氏名\n".encode("cp932")),
        ("提出.numbers", _zip({"Index/Document.iwa": b"\0"})),
        ("提出.fods", b"<?xml version='1.0'?><office:document/>"),
        ("提出.tsv", b"a\tb\n"),
        ("ods_named.xlsx", _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})),
        ("xlsb_named.xlsx", _zip({"xl/workbook.bin": b"\0"})),
    ],
)
def test_spreadsheets_in_other_formats_are_unreadable_with_how_to_resave(tmp_path, config, name, data):
    (tmp_path / name).write_bytes(data)
    [report] = validate_paths([tmp_path], config, AS_OF).files
    assert report.status is Status.UNREADABLE and report.findings[0].code == "unreadable_other_format"
    assert "『Excel ブック (*.xlsx)』で保存し直してください" in report.findings[0].message


def test_an_other_format_file_is_on_the_ledgers_problem_list(tmp_path, config, good_bytes):
    inbox = tmp_path / "提出"
    inbox.mkdir()
    (inbox / "good.xlsx").write_bytes(good_bytes)
    (inbox / "提出.xlsb").write_bytes(_zip({"xl/workbook.bin": b"\0"}))
    result = aggregate(inbox, tmp_path / "集計", config, AS_OF, progress=False, workers=1)
    [problem] = [e for e in result.ledger.entries if e.status is Status.UNREADABLE]
    assert problem.path == "提出.xlsb" and problem.findings[0].code == "unreadable_other_format"


STRICT = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": b"http://purl.oclc.org/ooxml/officeDocument/relationships",
}


def test_a_form_saved_as_strict_open_xml_is_read(tmp_path, config):
    values = recorded_values()
    data = filled_workbook_bytes(values)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename.endswith((".xml", ".rels")):
                for transitional, strict in STRICT.items():
                    content = content.replace(transitional, strict)
            dst.writestr(info.filename, content)
    (tmp_path / "strict.xlsx").write_bytes(out.getvalue())
    (tmp_path / "plain.xlsx").write_bytes(data)
    strict, plain = validate_paths([tmp_path / "strict.xlsx", tmp_path / "plain.xlsx"], config, AS_OF).files
    assert strict.status is plain.status and strict.values == plain.values


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("web.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>"),
        (
            "2003.xlsx",
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
        ),
    ],
)
def test_a_spreadsheet_told_by_its_content_is_unreadable_with_how_to_resave(tmp_path, config, name, data):
    (tmp_path / name).write_bytes(data)
    [report] = validate_paths([tmp_path], config, AS_OF).files
    assert report.findings[0].code == "unreadable_other_format"
