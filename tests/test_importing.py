"""Migrating a legacy 再就職者 register through a mapping file into a list-format workbook."""

import datetime as dt
from pathlib import Path

import pytest
from conftest import AS_OF

from ledger_tools.check.findings import Status
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_records
from ledger_tools.migrate.importing import MigrationError, import_register, load_mapping

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_MAPPING = REPO / "ledger_tools" / "data" / "mappings" / "再就職者記録簿.toml"
EXAMPLE_REGISTER = REPO / "samples" / "legacy" / "再就職者記録簿_例.csv"


def test_the_example_cp932_register_converts_and_validates(tmp_path, config):
    assert EXAMPLE_REGISTER.read_bytes().decode("cp932")  # really CP932, not UTF-8
    out = tmp_path / "対応記録簿_一覧.xlsx"
    result = import_register(EXAMPLE_REGISTER, EXAMPLE_MAPPING, out, config)
    assert len(result.records) == 3
    assert result.records[0]["received_date"] == dt.date(2025, 3, 10)
    assert result.records[1]["method"] == "電話" and result.records[1]["requester_withdrew"] == "撤回した"
    assert [(v.row, v.column, v.value, v.list_row) for v in result.unmapped_values] == [(4, "方法", "FAX", 6)]
    assert result.unmapped_columns == [] and result.missing_columns == []
    assert "記録簿の4行目「方法」の値「FAX」" in result.summary_text(
        out
    ) and "一覧の6行目" in result.summary_text(out)

    reports = validate_records(out, RuleContext(config, AS_OF))
    assert [(r.record_id, r.status) for r in reports] == [
        ("OB-R6-01", Status.OK),
        ("OB-R7-01", Status.OK),
        ("OB-R7-02", Status.INVALID),
    ]
    assert {f.code for f in reports[2].errors} == {
        "invalid_choice",
        "required_missing",
    }  # FAX, and no reason for 未


def test_an_excel_register_with_other_columns_is_reported(tmp_path, config):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["備考", "番号", "受付年月日"])
    ws.append(["メモ", "X-1", dt.date(2025, 6, 1)])
    ws.append([None, None, None])
    source = tmp_path / "register.xlsx"
    wb.save(source)
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\n"番号" = "record_id"\n"受付年月日" = "received_date"\n"所属名" = "section"\n',
        encoding="utf-8",
    )
    result = import_register(source, mapping, tmp_path / "out.xlsx", config)
    assert result.records == [{"record_id": "X-1", "received_date": dt.date(2025, 6, 1)}]
    assert (result.unmapped_columns, result.missing_columns) == (["備考"], ["所属名"])


def test_a_utf8_csv_with_bom_is_read_too(tmp_path, config):
    source = tmp_path / "r.csv"
    source.write_bytes("\ufeff番号,方法\r\nA-1,来庁\r\n".encode("utf-8"))
    result = import_register(source, EXAMPLE_MAPPING, tmp_path / "o.xlsx", config)
    assert result.records[0]["method"] == "面談"


def test_a_mapping_to_an_unknown_field_is_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\n"番号" = "number"\n', encoding="utf-8")
    with pytest.raises(MigrationError, match="number"):
        load_mapping(bad)


def test_a_register_without_any_mapped_column_is_refused(tmp_path, config):
    source = tmp_path / "r.csv"
    source.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(MigrationError, match="1つも見つかりません"):
        import_register(source, EXAMPLE_MAPPING, tmp_path / "o.xlsx", config)
    assert not (tmp_path / "o.xlsx").exists()


def test_the_import_command_reports_and_exits_1_when_a_value_is_unmapped(tmp_path, capsys):
    from ledger_tools.cli import main

    out = tmp_path / "一覧.xlsx"
    assert main(["import", str(EXAMPLE_REGISTER), "--mapping", str(EXAMPLE_MAPPING), "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "3件を一覧形式に変換しました" in printed and "「FAX」" in printed
    assert out.exists()
    assert main(["import", str(tmp_path / "ない.csv"), "--mapping", str(EXAMPLE_MAPPING)]) == 2
