"""Gaps in trust closed: a ledger without its manifest, archived copies read in isolation,
formulas in positional cells, Japanese TOML and mapping errors, report findings in form order."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import AS_OF

from ledger_tools.check.findings import ValidationReport
from ledger_tools.check.reading import scan_sheet
from ledger_tools.check.report import _form_order, render_json, report_rows
from ledger_tools.cli import main
from ledger_tools.form.samples import complete_values, filled_workbook_bytes
from ledger_tools.ledger import intake
from ledger_tools.ledger.aggregation import load_verified_ledger, record_ledger
from ledger_tools.ledger.entries import Ledger, LedgerError, load_ledger
from ledger_tools.migrate.importing import MigrationError, load_mapping


@pytest.fixture
def aggregated(tmp_path, capsys) -> Path:
    inbox, out = tmp_path / "提出", tmp_path / "集計"
    inbox.mkdir()
    (inbox / "R-1.xlsx").write_bytes(filled_workbook_bytes(complete_values(record_id="R-1")))
    args = ["aggregate", str(inbox), "--out", str(out), "--as-of", AS_OF.isoformat(), "--workers", "1"]
    assert main(args) == 0
    capsys.readouterr()
    return out


def test_a_ledger_without_its_manifest_is_not_published(aggregated, capsys):
    (aggregated / "manifest.sqlite").unlink()
    assert main(["publish", str(aggregated), "--fiscal-year", "R7"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "処理記録" in err and "aggregate を実行し直す" in err
    assert not (aggregated / "publication").exists()


def test_a_ledger_written_by_something_else_is_not_published(tmp_path, capsys):
    Ledger(AS_OF, []).save(tmp_path)  # a ledger.json no aggregation recorded
    assert main(["publish", str(tmp_path), "--fiscal-year", "R7"]) == 2
    assert "aggregate" in capsys.readouterr().err
    with pytest.raises(LedgerError):
        load_verified_ledger(tmp_path)


def test_a_ledger_recorded_like_an_aggregation_is_accepted(aggregated, capsys):
    ledger = load_ledger(aggregated)
    (aggregated / "manifest.sqlite").unlink()
    record_ledger(aggregated, ledger)
    assert load_verified_ledger(aggregated).entries == ledger.entries


def test_an_archived_copy_is_read_again_from_its_bytes_in_a_worker(aggregated, tmp_path, capsys):
    """The file left the inbox and the report cache is gone: the copy is read again, in isolation."""
    (tmp_path / "提出" / "R-1.xlsx").unlink()
    with sqlite3.connect(aggregated / "manifest.sqlite") as db:
        db.execute("DELETE FROM reports")
    args = ["aggregate", str(tmp_path / "提出"), "--out", str(aggregated), "--as-of", AS_OF.isoformat()]
    assert main([*args, "--allow-missing", "--workers", "1"]) in (0, 1)
    capsys.readouterr()
    [entry] = load_ledger(aggregated).entries
    assert entry.record_id == "R-1" and entry.source_missing


def crash(*_args, **_kwargs):
    os._exit(134)  # as a parser dying in native code would


def test_an_archived_copy_that_crashes_its_reader_does_not_stop_the_run(
    aggregated, tmp_path, capsys, monkeypatch
):
    (tmp_path / "提出" / "R-1.xlsx").unlink()
    (tmp_path / "提出" / "R-2.xlsx").write_bytes(filled_workbook_bytes(complete_values(record_id="R-2")))
    with sqlite3.connect(aggregated / "manifest.sqlite") as db:
        db.execute("DELETE FROM reports")
    monkeypatch.setattr(intake, "validate_records", crash)  # every file read now kills its worker
    args = ["aggregate", str(tmp_path / "提出"), "--out", str(aggregated), "--as-of", AS_OF.isoformat()]
    code = main([*args, "--allow-missing", "--workers", "1"])
    captured = capsys.readouterr()
    assert code <= 2 and "Traceback" not in captured.out + captured.err
    assert (aggregated / "ledger.json").is_file()


def test_formulas_and_error_values_are_found_in_cells_without_an_address(config):
    xml = (
        b"<worksheet><sheetData>"
        b'<row r="3"><c><v>1</v></c><c><f>A1*2</f></c><c t="e"><v>#DIV/0!</v></c></row>'
        b'<row><c r="D4"><f>1</f></c><c/><c><f>B4</f><v></v></c></row>'
        b"</sheetData></worksheet>"
    )
    scan = scan_sheet(xml, config.limits)
    assert scan.formulas == {(3, 2), (4, 4)}
    assert scan.errors == {(3, 3): "#DIV/0!"}


def test_json_and_excel_reports_list_findings_in_form_order(validate_values):
    report = validate_values(
        complete_values(record_id=None, place=None, reported_date=None, requester_name=None)
    )
    report.findings.reverse()  # whatever order the rules found them in
    expected = [f.field for f in sorted(report.findings, key=_form_order)]
    validation = ValidationReport([report])
    assert [f["field"] for f in json.loads(render_json(validation))["files"][0]["findings"]] == expected
    assert [row[6] or None for row in report_rows(validation)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[source]\nsheet = "一覧\n', "2行目 12文字目: 文字列の中に使えない文字"),
        (
            "[columns]\n番号 = record_id\n",
            "2行目 1文字目: この行を読めません（キー = 値 の形で書きます。日本語などのキーは",
        ),
        ('[columns]\n"番号" = "record_id"\n"番号" = "record_id"\n', "同じキーが2回書かれています"),
    ],
)
def test_toml_syntax_errors_in_japanese_with_line_and_column(tmp_path, text, expected):
    path = tmp_path / "対応表.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MigrationError) as raised:
        load_mapping(path)
    assert expected in str(raised.value) and str(path) in str(raised.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[columns]\n"番号" = "no_such_field"\n', "項目IDがありません: no_such_field"),
        (
            '[columns]\n"番号" = "record_id"\n[values.record_id]\n"a" = "b"\n',
            "選択肢のある項目ではありません",
        ),
        (
            '[columns]\n"番号" = "record_id"\n[values.method]\n"会" = "会食"\n',
            "項目の選択肢にない値です: 会食",
        ),
        ('[columns]\n"番号" = "record_id"\n[fixed]\nnope = "x"\n', "fixed: 項目IDがありません: nope"),
    ],
)
def test_mapping_file_mistakes_in_japanese(tmp_path, text, expected):
    path = tmp_path / "対応表.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MigrationError) as raised:
        load_mapping(path)
    message = str(raised.value)
    assert expected in message and not any(
        w in message for w in ("unknown field", "not a choice", "not choices")
    )
