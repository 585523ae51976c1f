"""A stage reads the same, unambiguously, in every output: validate's text, 台帳.xlsx, the monthly state."""

from __future__ import annotations

from conftest import AS_OF
from python_calamine import CalamineWorkbook

from ledger_tools.check.report import render_text
from ledger_tools.check.validation import validate_paths
from ledger_tools.form.fields import STAGE_LABELS_JA, STAGES
from ledger_tools.form.samples import complete_values, filled_workbook_bytes, recorded_values
from ledger_tools.ledger.aggregation import aggregate
from ledger_tools.ledger.entries import LedgerEntry
from ledger_tools.ledger.monthly import COUNT_COLUMNS
from ledger_tools.ledger.workbook import record_row


def test_validate_names_the_stage_as_the_monthly_state_does(tmp_path, write_workbook, config):
    write_workbook(recorded_values(record_id="A-1"), name="a.xlsx")
    write_workbook(complete_values(record_id="A-2"), name="b.xlsx")
    report = validate_paths([tmp_path], config, AS_OF)
    text = render_text(report)
    assert "段階 記録済み（所属長の判断待ち）" in text and "段階 総務課へ共有済み" in text
    assert "段階 記録）" not in text
    assert all(STAGE_LABELS_JA[s] in COUNT_COLUMNS for s in STAGES)
    by_id = {f.record_id: f for f in report.files}
    assert record_row(LedgerEntry.from_report(by_id["A-2"]))[1] == "総務課へ共有済み"


def test_the_history_sheet_names_the_stage_as_the_monthly_state_does(tmp_path, config):
    """台帳.xlsx's 処理履歴 says 「台帳に登録（正常、段階: 記録済み（所属長の判断待ち））」, not 「正常・記録」."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "a.xlsx").write_bytes(filled_workbook_bytes(recorded_values(record_id="A-1"), config))
    aggregate(inbox, out, config, as_of=AS_OF)
    rows = CalamineWorkbook.from_path(out / "台帳.xlsx").get_sheet_by_name("処理履歴").to_python()
    assert rows[1][-1] == "台帳に登録（正常、段階: 記録済み（所属長の判断待ち））"
