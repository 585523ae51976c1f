"""Damaged or hand-edited state in the 集計フォルダ: a clear Japanese message, exit 2, how to rebuild."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import AS_OF

from ledger_tools.cli import main
from ledger_tools.form.samples import complete_values, filled_workbook_bytes, recorded_values
from ledger_tools.ledger.aggregation import load_verified_ledger
from ledger_tools.ledger.entries import LedgerError


@pytest.fixture(scope="module")
def books() -> list[bytes]:
    return [
        filled_workbook_bytes(complete_values(record_id="R-1")),
        filled_workbook_bytes(recorded_values(record_id="R-2", place=None)),
    ]


@pytest.fixture
def aggregated(tmp_path, capsys, books) -> Path:
    inbox, out = tmp_path / "提出", tmp_path / "集計"
    inbox.mkdir()
    (inbox / "R-1.xlsx").write_bytes(books[0])
    (inbox / "R-2.xlsx").write_bytes(books[1])
    args = ["aggregate", str(inbox), "--out", str(out), "--as-of", AS_OF.isoformat(), "--workers", "1"]
    assert main(args) == 1  # R-2 is invalid
    capsys.readouterr()
    return out


def edit_ledger(out: Path, change) -> None:
    path = out / "ledger.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def publish(out: Path) -> int:
    return main(["publish", str(out), "--fiscal-year", "R7", "--allow-pending"])


def refused(capsys, *expected: str) -> None:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("ledger-tools: ")
    for text in expected:
        assert text in err, err


def test_the_aggregations_own_ledger_publishes(aggregated):
    assert len(load_verified_ledger(aggregated).entries) == 2
    assert publish(aggregated) in (0, 1)


def flip_invalid_to_ok(data):
    for entry in data["entries"]:
        if entry["status"] == "invalid":
            entry["status"], entry["findings"] = "ok", []


def phone_number_in_a_summary(data):
    data["entries"][0]["values"]["public_summary"] = "連絡先 090-1234-5678"


@pytest.mark.parametrize("change", [flip_invalid_to_ok, phone_number_in_a_summary])
def test_a_hand_edited_ledger_is_not_published(aggregated, capsys, change):
    edit_ledger(aggregated, change)
    assert publish(aggregated) == 2
    refused(capsys, "集計の後に変更されています", "aggregate を実行し直してください")
    assert not (aggregated / "publication").exists()
    with pytest.raises(LedgerError):
        load_verified_ledger(aggregated)


def no_entries_key(data):
    del data["entries"]


def entries_not_a_list(data):
    data["entries"] = {"a": 1}


def a_missing_key(data):
    del data["entries"][0]["values"]


def a_wrong_type(data):
    data["entries"][0]["path"] = 12


def a_date_that_does_not_parse(data):
    data["as_of"] = "昨日"


@pytest.mark.parametrize(
    "change", [no_entries_key, entries_not_a_list, a_missing_key, a_wrong_type, a_date_that_does_not_parse]
)
def test_a_damaged_ledger_says_how_to_rebuild_it(aggregated, capsys, change):
    edit_ledger(aggregated, change)
    assert publish(aggregated) == 2
    refused(capsys, "台帳", "壊れています", "ledger.json を削除して aggregate を実行し直す")


def test_a_ledger_that_is_not_an_object(aggregated, capsys):
    (aggregated / "ledger.json").write_text("[1, 2]", encoding="utf-8")
    assert publish(aggregated) == 2
    refused(capsys, "壊れています")


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [("record_state", "status", "壊れた値"), ("history", "as_of", "not a date"), ("runs", "outcome", "{")],
)
def test_manifest_values_that_do_not_parse_stop_aggregate_with_a_message(
    aggregated, capsys, books, table, column, value
):
    with sqlite3.connect(aggregated / "manifest.sqlite") as db:
        db.execute(f"UPDATE {table} SET {column} = ?", (value,))
    db.close()
    inbox = aggregated.parent / "提出"
    (inbox / "R-1 copy.xlsx").write_bytes(books[0])
    args = ["aggregate", str(inbox), "--out", str(aggregated), "--as-of", AS_OF.isoformat(), "--workers", "1"]
    assert main(args) == 2
    refused(capsys, "manifest.sqlite", "読み書きできません", "別の名前に変えて実行し直す")
