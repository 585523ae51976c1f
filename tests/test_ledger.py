import datetime as dt

import pytest
from conftest import AS_OF

from ledger_tools.form.samples import complete_values
from ledger_tools.ledger.entries import Ledger, LedgerEntry, LedgerError, load_ledger


def test_the_ledger_round_trips_with_real_dates(tmp_path, validate_values):
    report = validate_values(complete_values(public_summary="03-1234-5678"))
    ledger = Ledger(AS_OF, [LedgerEntry.from_report(report, path="課/R7-0001.xlsx", source_missing=True)])
    ledger.save(tmp_path)
    loaded = load_ledger(tmp_path)
    assert loaded.as_of == AS_OF
    entry = loaded.entries[0]
    assert entry.values == report.values and isinstance(entry.values["received_date"], dt.date)
    assert (entry.path, entry.status, entry.findings, entry.source_missing) == (
        "課/R7-0001.xlsx",
        report.status,
        report.findings,
        True,
    )
    assert (tmp_path / "ledger.json").read_text(encoding="utf-8") == ledger.to_json_text()


def test_a_missing_ledger_says_to_aggregate_first(tmp_path):
    with pytest.raises(LedgerError, match="aggregate"):
        load_ledger(tmp_path)


def test_a_list_row_keeps_its_row_and_location(tmp_path, config):
    from ledger_tools.check.rules import RuleContext
    from ledger_tools.check.validation import validate_records
    from ledger_tools.form.list_template import list_template_bytes
    from ledger_tools.form.samples import recorded_values

    path = tmp_path / "一覧.xlsx"
    path.write_bytes(
        list_template_bytes(config, [recorded_values(record_id="A"), recorded_values(record_id="B")])
    )
    reports = validate_records(path, RuleContext(config, AS_OF))
    Ledger(AS_OF, [LedgerEntry.from_report(r, path="一覧.xlsx") for r in reports]).save(tmp_path)
    entries = load_ledger(tmp_path).entries
    assert [(e.record_id, e.row, e.location) for e in entries] == [
        ("A", 4, "一覧.xlsx 4行目"),
        ("B", 5, "一覧.xlsx 5行目"),
    ]
    assert entries[1].cells["place"].endswith("5")
