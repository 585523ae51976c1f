"""Files as they really arrive: every kind of bad container, and good files saved differently."""

import datetime as dt
import hashlib
import io
import os
import re
import zipfile

import pytest
from conftest import AS_OF, codes

from ledger_tools.check.findings import Status
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_file
from ledger_tools.form.samples import complete_values, filled_workbook_bytes, recorded_values
from ledger_tools.form.template import field_cells

CELLS = field_cells()


@pytest.fixture(scope="module")
def good_bytes():
    return filled_workbook_bytes(recorded_values())


@pytest.fixture
def check(tmp_path, config):
    """check(name, data) → the FileReport of a file with these bytes."""

    def run(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        return validate_file(path, RuleContext(config, AS_OF))

    return run


def rewrite(data: bytes, part: str, change) -> bytes:
    """The same xlsx with one part's bytes passed through ``change``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            dst.writestr(info.filename, change(content) if info.filename == part else content)
    return out.getvalue()


def sheet_part(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("~$record.xlsx", "skipped_lock_file"),
        (".record.xlsx", "skipped_hidden_file"),
        ("record.xlsx.tmp", "skipped_hidden_file"),
        ("memo.txt", "skipped_not_spreadsheet"),
        ("scan.pdf", "skipped_not_spreadsheet"),
    ],
)
def test_files_that_are_not_submissions_are_skipped(check, good_bytes, name, code):
    report = check(name, good_bytes)
    assert (report.status, codes(report)) == (Status.SKIPPED, [(code, None)])


CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("locked.xlsx", CFB + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 100, "unreadable_encrypted"),
        ("old.xls", CFB + "Workbook".encode("utf-16-le") + b"\x00" * 100, "unreadable_legacy_xls"),
        ("random.xlsx", os.urandom(2048), "unreadable_not_xlsx"),
        ("empty.xlsx", b"", "unreadable_corrupt"),
        ("other.xlsx", b"PK\x03\x04" + b"\x00" * 100, "unreadable_corrupt"),
    ],
)
def test_containers_that_cannot_be_read_are_unreadable_with_a_reason(check, name, data, code):
    report = check(name, data)
    assert (report.status, codes(report)) == (Status.UNREADABLE, [(code, None)])
    assert report.findings[0].message  # says what to do


def test_a_file_still_being_copied_is_unreadable_not_half_read(check, good_bytes):
    report = check("copying.xlsx", good_bytes[: len(good_bytes) // 2])
    assert codes(report) == [("unreadable_corrupt", None)]
    assert "コピー中の可能性" in report.findings[0].message


def test_a_zip_bomb_is_refused_before_decompression(check, good_bytes):
    bomb = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(good_bytes)) as src,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("xl/media/padding.bin", b"\x00" * (50 * 1024 * 1024))
    report = check("bomb.xlsx", bomb.getvalue())
    assert codes(report) == [("unreadable_zip_bomb", None)]


def test_an_xml_entity_bomb_is_refused(check, good_bytes):
    def add_dtd(xml: bytes) -> bytes:
        dtd = b'<!DOCTYPE workbook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        return re.sub(rb"(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"") + dtd, xml, count=1)

    report = check("xmlbomb.xlsx", rewrite(good_bytes, "xl/workbook.xml", add_dtd))
    assert codes(report) == [("unreadable_xml", None)]


def test_a_workbook_that_is_not_the_form_is_unreadable(check):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "整理番号"
    buffer = io.BytesIO()
    wb.save(buffer)
    report = check("mine.xlsx", buffer.getvalue())
    assert codes(report) == [("unreadable_not_template", None)]
    assert "対応記録簿_v2.xlsx" in report.findings[0].message


@pytest.mark.parametrize("version", [3, "二", 1.5])
def test_an_unknown_template_version_is_unreadable_and_the_message_names_the_known_ones(check, version):
    from ledger_tools.form.samples import filled_workbook

    wb = filled_workbook(recorded_values())
    sheet, ref = next(iter(wb.defined_names["template_version"].destinations))
    wb[sheet][ref.replace("$", "")].value = version
    from ledger_tools.outputs import workbook_bytes

    report = check("v3.xlsx", workbook_bytes(wb))
    assert codes(report) == [("unreadable_template_version", None)]
    assert "v1、v2" in report.findings[0].message


def test_fields_are_found_by_their_names_wherever_the_cells_moved(check, good_bytes):
    """A user (or LibreOffice) may move cells; the defined names follow and so does the reader."""
    row = int(re.sub(r"\D", "", CELLS["staff_name"]))
    col = re.sub(r"\d", "", CELLS["staff_name"])

    def move_staff_name(xml: bytes) -> bytes:
        return xml.replace(
            f"'対応記録簿'!${col}${row}".encode(),
            b"\xe5\xaf\xbe\xe5\xbf\x9c\xe8\xa8\x98\xe9\x8c\xb2\xe7\xb0\xbf!$Z$99",
        )  # unquoted

    def put_value(xml: bytes) -> bytes:
        return xml.replace(
            b"</sheetData>",
            b'<row r="99"><c r="Z99" t="inlineStr"><is><t>moved name</t></is></c></row></sheetData>',
        )

    data = rewrite(
        rewrite(good_bytes, "xl/workbook.xml", move_staff_name), "xl/worksheets/sheet1.xml", put_value
    )
    report = check("moved.xlsx", data)
    assert report.values["staff_name"] == "moved name"
    assert report.cells["staff_name"] == "対応記録簿!Z99"


def test_shared_strings_with_furigana_are_read_without_the_reading(check, good_bytes):
    cell = CELLS["requester_name"]

    def to_shared(xml: bytes) -> bytes:
        return re.sub(
            rf'<c r="{cell}"([^>]*?) t="inlineStr"><is><t>[^<]*</t></is></c>'.encode(),
            rf'<c r="{cell}"\1 t="s"><v>0</v></c>'.encode(),
            xml,
        )

    sst = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        '<si><t>山田太郎</t><rPh sb="0" eb="2"><t>ヤマダ</t></rPh><rPh sb="2" eb="4"><t>タロウ</t></rPh><phoneticPr fontId="1"/></si></sst>'
    ).encode()
    data = rewrite(good_bytes, "xl/worksheets/sheet1.xml", to_shared)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            if info.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
                )
            dst.writestr(info.filename, content)
        dst.writestr("xl/sharedStrings.xml", sst)
    report = check("furigana.xlsx", out.getvalue())
    assert report.values["requester_name"] == "山田太郎"


@pytest.mark.parametrize("num_fmt_id", [14, 27, 31, 57, 58])
def test_date_serials_in_japanese_built_in_date_formats_are_dates(check, good_bytes, num_fmt_id):
    cell = CELLS["received_date"]

    def serial_with_format(xml: bytes) -> bytes:
        xml = re.sub(
            rb"<cellXfs count=\"(\d+)\">", lambda m: b'<cellXfs count="%d">' % (int(m.group(1)) + 1), xml
        )
        return xml.replace(
            b"</cellXfs>",
            b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs>'
            % num_fmt_id,
        )

    with zipfile.ZipFile(io.BytesIO(good_bytes)) as z:
        count = int(re.search(rb'<cellXfs count="(\d+)"', z.read("xl/styles.xml")).group(1))

    def put_serial(xml: bytes) -> bytes:
        return re.sub(
            rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)'.encode(),
            f'<c r="{cell}" s="{count}"><v>45717</v></c>'.encode(),
            xml,
            count=1,
            flags=re.S,
        )

    data = rewrite(
        rewrite(good_bytes, "xl/styles.xml", serial_with_format), "xl/worksheets/sheet1.xml", put_serial
    )
    report = check("serial.xlsx", data)
    assert report.values["received_date"] == dt.date(2025, 3, 1)


def test_a_formula_is_read_by_its_cached_value_and_one_without_is_an_error(check, good_bytes):
    place, section = CELLS["place"], CELLS["section"]

    def formulas(xml: bytes) -> bytes:
        xml = re.sub(
            rf'<c r="{place}"[^>]*?(/>|>.*?</c>)'.encode(),
            f'<c r="{place}" t="str"><f>"会議室"&amp;"A"</f><v>会議室A</v></c>'.encode(),
            xml,
            count=1,
            flags=re.S,
        )
        return re.sub(
            rf'<c r="{section}"[^>]*?(/>|>.*?</c>)'.encode(),
            f'<c r="{section}"><f>Sheet9!A1</f></c>'.encode(),
            xml,
            count=1,
            flags=re.S,
        )

    report = check("formula.xlsx", rewrite(good_bytes, "xl/worksheets/sheet1.xml", formulas))
    assert report.values["place"] == "会議室A"
    assert codes(report) == [("formula_without_value", "section")]


def test_a_macro_enabled_file_is_read_without_running_anything(check, good_bytes):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good_bytes)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("xl/vbaProject.bin", CFB)
    report = check("macro.xlsm", out.getvalue())
    assert (report.status, codes(report)) == (Status.OK, [("macro_not_run", None)])


def test_validation_never_modifies_the_input_file(write_workbook, config):
    path = write_workbook(complete_values(public_summary="山田建設から"), name="原本.xlsx")
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns)
    validate_file(path, RuleContext(config, AS_OF))
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns) == before


def test_a_stray_cell_far_away_is_refused_before_reading(check, good_bytes):
    """calamine makes a dense grid of the used range: XFD1048576 would need hundreds of GB."""

    def stray_cell(xml: bytes) -> bytes:
        return xml.replace(
            b"</sheetData>",
            b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
        )

    report = check("stray.xlsx", rewrite(good_bytes, "xl/worksheets/sheet1.xml", stray_cell))
    assert codes(report) == [("unreadable_too_large", None)]
    assert "XFD1048576" in report.findings[0].message


def test_an_empty_formula_result_is_an_empty_value_and_an_error_value_is_named(check, good_bytes):
    title, place = CELLS["staff_title"], CELLS["place"]

    def formulas(xml: bytes) -> bytes:
        xml = re.sub(
            rf'<c r="{title}"[^>]*?(/>|>.*?</c>)'.encode(),
            f'<c r="{title}" t="str"><f>IF(1=1,"","x")</f><v></v></c>'.encode(),
            xml,
            count=1,
            flags=re.S,
        )
        return re.sub(
            rf'<c r="{place}"[^>]*?(/>|>.*?</c>)'.encode(),
            f'<c r="{place}" t="e"><f>1/0</f><v>#DIV/0!</v></c>'.encode(),
            xml,
            count=1,
            flags=re.S,
        )

    report = check("formulas.xlsx", rewrite(good_bytes, "xl/worksheets/sheet1.xml", formulas))
    assert codes(report) == [("formula_error", "place")]
    assert "#DIV/0!" in report.findings[0].message


def test_corrupt_compressed_data_is_reported_as_a_damaged_file(check, good_bytes):
    with zipfile.ZipFile(io.BytesIO(good_bytes)) as z:
        info = z.getinfo("xl/workbook.xml")
        offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(good_bytes)
    damaged[offset + 5 : offset + 25] = b"\xff" * 20
    report = check("damaged.xlsx", bytes(damaged))
    assert report.status is Status.UNREADABLE
    assert codes(report)[0][0] in ("unreadable_corrupt", "unreadable_xml")


def test_a_copied_form_sheet_is_an_error_not_a_silently_lost_record(check, good_bytes):
    def sheet_scoped_copy(xml: bytes) -> bytes:
        return xml.replace(
            b"</definedNames>",
            '<definedName name="record_id" localSheetId="1">\'記入要領\'!$C$4</definedName></definedNames>'.encode(),
        )

    report = check("copied.xlsx", rewrite(good_bytes, "xl/workbook.xml", sheet_scoped_copy))
    assert ("sheet_copied", None) in codes(report)
    assert report.status is Status.INVALID


def test_one_failing_record_costs_only_itself(tmp_path, config, monkeypatch):
    from ledger_tools.check import validation
    from ledger_tools.form.list_template import list_template_bytes

    path = tmp_path / "list.xlsx"
    path.write_bytes(
        list_template_bytes(config, [recorded_values(record_id="A"), recorded_values(record_id="B")])
    )
    real = validation.evaluate

    def fail_on_b(shown, record, context, *version):
        if record.values.get("record_id") == "B":
            raise RuntimeError("boom")
        return real(shown, record, context, *version)

    monkeypatch.setattr(validation, "evaluate", fail_on_b)
    reports = validation.validate_records(path, RuleContext(config, AS_OF))
    assert [(r.row, r.status) for r in reports] == [(4, Status.OK), (5, Status.UNREADABLE)]


def test_a_part_is_read_whole_up_to_the_limit_and_refused_past_it(monkeypatch):
    """The second line of defence, for a size the zip header understates: a part is read in
    chunks, complete when it fits the limit, refused as a zip bomb when one byte more."""
    from ledger_tools.check import reading
    from ledger_tools.config import Limits

    monkeypatch.setattr(reading, "_READ_CHUNK", 7)  # many chunks, the limit inside one of them
    content = bytes(range(256)) * 4
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", content)
    with zipfile.ZipFile(archive) as z:
        fits = Limits(max_uncompressed_bytes=len(content))
        assert reading._read_buffer(z, "xl/worksheets/sheet1.xml", fits) == content
        with pytest.raises(reading.Unreadable) as refused:
            reading._read_buffer(
                z, "xl/worksheets/sheet1.xml", Limits(max_uncompressed_bytes=len(content) - 1)
            )
        assert refused.value.code == "unreadable_zip_bomb"
