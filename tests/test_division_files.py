"""主管課別/<主管課>.xlsx: what 総務課 sends each lead division, with that division's items only."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

import pytest
from conftest import AS_OF
from openpyxl import load_workbook
from test_monthly import two_division_ledger

from ledger_tools.form.samples import complete_values, recorded_values
from ledger_tools.ledger.aggregation import aggregate
from ledger_tools.ledger.division_files import (
    DIVISION_FOLDER,
    FIX_COLUMNS,
    SHEET_FIX,
    SHEET_HELD,
    SHEET_OVERDUE,
    division_workbook_bytes,
    safe_file_name,
)
from ledger_tools.ledger.monthly import monthly_state

CHECK = Path("/work/shared/ooxml/check.sh")


def sheet_rows(data: bytes, sheet: str) -> list[list[object]]:
    ws = load_workbook(io.BytesIO(data))[sheet]
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_a_division_file_holds_that_division_only(config):
    state = monthly_state(two_division_ledger(), config, "2026-11")
    for mine, other in (
        ("県土整備部監理課", "健康福祉部福祉政策課"),
        ("健康福祉部福祉政策課", "県土整備部監理課"),
    ):
        data = division_workbook_bytes(state, mine)
        wb = load_workbook(io.BytesIO(data))
        assert wb.sheetnames == [SHEET_OVERDUE, SHEET_FIX, SHEET_HELD]
        text = "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value)
        assert mine in text and other not in text
        letter = "K" if mine.startswith("県土") else "W"
        assert {r[4] for r in sheet_rows(data, SHEET_OVERDUE)[1:]} == {f"{letter}1", f"{letter}2"}
        assert {r[4] for r in sheet_rows(data, SHEET_HELD)[1:]} == {f"{letter}1"}
    fixes = sheet_rows(division_workbook_bytes(state, "健康福祉部福祉政策課"), SHEET_FIX)
    assert fixes[0] == list(FIX_COLUMNS)
    by_file = {r[0]: r for r in fixes[1:]}
    assert by_file["健康福祉部/W2.xlsx"][4:6] == ["C20", "所属長への報告日"]
    assert (
        by_file["健康福祉部/W2.xlsx"][6] == "必須項目が未記入" and "記入" in by_file["健康福祉部/W2.xlsx"][7]
    )
    assert "知事部局/健康福祉部/壊れた.xlsx" in by_file


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("県土整備部監理課", "県土整備部監理課"),
        ('総務/課:*?"<>|', "総務_課_______"),
        ("CON", "_CON"),
        ("課. ", "課"),
        ("", "主管課不明"),
    ],
)
def test_file_names_are_safe_on_windows(name, safe):
    assert safe_file_name(name) == safe


def test_aggregate_writes_one_file_per_division_with_something_to_chase(inbox, out, config, write_workbook):
    late = recorded_values(record_id="R8-K1", received_date=dt.date(2026, 10, 1), reported_date=None)
    write_workbook(late, "K1.xlsx", inbox / "県土整備部")
    formula = recorded_values(
        record_id="R8-W1",
        department="健康福祉部",
        section="+HYPERLINK(1)",
        received_date=dt.date(2026, 10, 2),
        reported_date=None,
    )
    write_workbook(formula, "W1.xlsx", inbox / "健康福祉部")
    write_workbook(complete_values(record_id="R7-DONE"), "done.xlsx", inbox / "農林水産部")
    aggregate(inbox, out, config, AS_OF)
    files = sorted(p.name for p in (out / DIVISION_FOLDER).iterdir())
    assert files == ["健康福祉部福祉政策課.xlsx", "県土整備部監理課.xlsx"]
    ws = load_workbook(out / DIVISION_FOLDER / "健康福祉部福祉政策課.xlsx")[SHEET_OVERDUE]
    cell = ws["D2"]
    assert cell.value == "+HYPERLINK(1)" and cell.data_type == "s"  # text, never a formula
    if CHECK.exists():
        for path in (out / DIVISION_FOLDER).iterdir():
            result = subprocess.run(["bash", str(CHECK), str(path)], capture_output=True, text=True)
            assert result.returncode == 0 and "all parts valid" in result.stdout, result.stdout
    # once a division has nothing left to chase, its file goes (no stale file is sent)
    done = {
        **formula,
        "reported_date": dt.date(2026, 10, 3),
        "supervisor_judgement": "該当しない",
        "judgement_date": dt.date(2026, 10, 5),
        "personnel_info_provided": "行っていない",
        "art38_2_suspected": "なし",
    }
    write_workbook(done, "W1.xlsx", inbox / "健康福祉部")
    aggregate(inbox, out, config, AS_OF)
    assert [p.name for p in (out / DIVISION_FOLDER).iterdir()] == ["県土整備部監理課.xlsx"]


def test_an_empty_section_says_so(config):
    state = monthly_state(two_division_ledger(), config, "2026-11")
    data = division_workbook_bytes(state, "県土整備部監理課")
    fixes = sheet_rows(data, SHEET_FIX)
    if len(fixes) == 2 and fixes[1][1] is None:
        assert fixes[1][0] == "要修正・読み取り不可のファイルはありません。"
    empty = division_workbook_bytes(state, "どこにもない課")
    for sheet in (SHEET_OVERDUE, SHEET_FIX, SHEET_HELD):
        rows = sheet_rows(empty, sheet)
        assert len(rows) == 2 and str(rows[1][0]).endswith("はありません。"), rows
