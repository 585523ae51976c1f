"""Text that would not survive the outputs: hidden characters and text longer than an Excel cell."""

from __future__ import annotations

import io
import zipfile

import pytest
from conftest import AS_OF, codes

from ledger_tools.check.findings import Severity, Status
from ledger_tools.check.hidden_characters import HIDDEN, describe, find_hidden, remove_hidden
from ledger_tools.check.reading import RawRecord
from ledger_tools.check.rules import RuleContext, evaluate
from ledger_tools.check.validation import validate_file
from ledger_tools.form.fields import EXCEL_CELL_LIMIT, FIELDS, FieldType
from ledger_tools.form.samples import complete_values, filled_workbook_bytes
from ledger_tools.form.template import field_cells

CELLS = {field_id: f"対応記録簿!{cell}" for field_id, cell in field_cells().items()}
HIDDEN_SAMPLES = [
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9f",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200d",
    "\u200f",
    "\ufeff",
]


def _evaluate(config, **overrides):
    return evaluate(
        "record.xlsx", RawRecord(None, complete_values(**overrides), CELLS), RuleContext(config, AS_OF)
    )


def _no_hidden_in(report) -> bool:
    texts = [v for v in report.values.values() if isinstance(v, str)] + [f.message for f in report.findings]
    return not any(HIDDEN.search(t) for t in texts)


@pytest.mark.parametrize("char", HIDDEN_SAMPLES, ids=[f"U+{ord(c):04X}" for c in HIDDEN_SAMPLES])
def test_a_hidden_character_in_a_public_field_is_an_error_naming_its_code_point_and_never_reaches_the_values(
    config, char
):
    report = _evaluate(config, public_summary=f"建設工事の入札に{char}関し、予定価格を問われた。")
    assert codes(report) == [("control_characters_in_public", "public_summary")]
    assert report.status is Status.INVALID
    assert (
        f"U+{ord(char):04X}" in report.findings[0].message
        and "「公表用の概要」" in report.findings[0].message
    )
    assert report.values["public_summary"] == "建設工事の入札に関し、予定価格を問われた。"
    assert _no_hidden_in(report)


@pytest.mark.parametrize(
    "field_id", ["request_content", "place", "requester_name", "responsible_division", "record_id"]
)
def test_a_hidden_character_elsewhere_is_removed_with_a_warning(config, field_id):
    value = complete_values()[field_id]
    report = _evaluate(config, **{field_id: f"\u202e{value}\u200b"})
    assert codes(report) == [("control_characters", field_id)]
    assert report.findings[0].severity is Severity.WARNING and report.status is Status.OK
    assert report.values[field_id] == value
    assert "U+202E（書字方向の制御文字）、U+200B（ゼロ幅文字）" in report.findings[0].message


def test_a_hidden_character_in_a_choice_is_removed_and_the_choice_still_read(config):
    report = _evaluate(config, method="面\u200b談", staff_title="主任\x01")
    assert codes(report) == [
        ("control_characters", "staff_title"),
        ("control_characters_in_public", "method"),
    ]
    assert (report.values["method"], report.values["staff_title"]) == ("面談", "主任")


def test_a_zero_width_space_cannot_hide_a_name(config):
    report = _evaluate(config, public_summary="山田\u200b太郎氏から依頼された。")
    assert ("personal_data_in_public", "public_summary") in codes(report)


def test_tabs_and_line_breaks_are_no_hidden_characters(config):
    report = _evaluate(
        config, request_content="一行目\r\n二行目\n三行目\t終わり", public_summary="一行目\r二行目"
    )
    assert codes(report) == []
    assert report.values["public_summary"] == "一行目\n二行目"


def test_bidi_overrides_in_a_real_workbook(validate_values):
    report = validate_values(
        complete_values(public_measures="\u202e周知した\u202c", place="会議室\u2066A\u2069")
    )
    assert codes(report) == [
        ("control_characters", "place"),
        ("control_characters_in_public", "public_measures"),
    ]
    assert report.values["public_measures"] == "周知した"
    assert _no_hidden_in(report)


def test_describing_many_characters_stays_short():
    chars = find_hidden("".join(HIDDEN_SAMPLES) * 2)
    assert chars == HIDDEN_SAMPLES
    assert describe(chars).endswith(f"ほか{len(HIDDEN_SAMPLES) - 5}種類")
    assert describe(["\x1b"]) == "U+001B（制御文字）"
    assert remove_hidden("a\u202eb\r\nc") == "ab\nc"


# --- the 32,767-character limit of an Excel cell -------------------------------------------


def test_every_text_field_has_an_effective_limit_of_at_most_an_excel_cell():
    assert all(f.length_limit <= EXCEL_CELL_LIMIT for f in FIELDS)
    assert {
        f.length_limit for f in FIELDS if f.type in (FieldType.TEXT, FieldType.LONG_TEXT) and not f.max_length
    } == {EXCEL_CELL_LIMIT}


@pytest.mark.parametrize(
    "field_id",
    ["request_content", "response_detail", "measures_taken", "place", "business_name", "requester_name"],
)
def test_text_longer_than_an_excel_cell_is_too_long_never_cut(config, field_id):
    report = _evaluate(config, **{field_id: "あ" * (EXCEL_CELL_LIMIT + 1)})
    assert codes(report) == [("too_long", field_id)]
    assert "32767文字以内" in report.findings[0].message and report.status is Status.INVALID
    assert field_id not in report.values
    assert (
        _evaluate(config, **{field_id: "あ" * EXCEL_CELL_LIMIT}).values[field_id] == "あ" * EXCEL_CELL_LIMIT
    )


@pytest.mark.parametrize("field_id", ["method", "received_date"])
def test_a_huge_value_in_a_choice_or_date_field_is_too_long_rather_than_repeated_in_a_message(
    config, field_id
):
    report = _evaluate(config, **{field_id: "1" * (EXCEL_CELL_LIMIT + 5)})
    assert codes(report) == [("too_long", field_id)]
    assert len(report.findings[0].message) < 200


def test_text_that_grows_past_the_limit_when_normalised_is_too_long(config):
    report = _evaluate(config, request_content="㌀" * (EXCEL_CELL_LIMIT // 4 + 1))  # NFKC: ㌀ → アパート
    assert codes(report) == [("too_long", "request_content")]


def test_public_text_keeps_its_200_character_limit(config):
    assert codes(_evaluate(config, public_summary="あ" * 201)) == [("too_long", "public_summary")]
    assert "200文字以内" in _evaluate(config, public_summary="あ" * 201).findings[0].message


def test_too_long_text_in_a_real_workbook(tmp_path, config):
    """openpyxl (and Excel) cut text at 32,767 characters, other writers do not, and the reader
    reads it all: the text is put into the sheet's XML after the workbook was written."""
    placeholder = "LONGTEXTPLACEHOLDER"
    data = filled_workbook_bytes(complete_values(request_content=placeholder))
    path = tmp_path / "record.xlsx"
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            target.writestr(
                info,
                source.read(info.filename).replace(
                    placeholder.encode(), ("い" * (EXCEL_CELL_LIMIT + 1)).encode()
                ),
            )
    report = validate_file(path, RuleContext(config, AS_OF))
    assert codes(report) == [("too_long", "request_content")]
