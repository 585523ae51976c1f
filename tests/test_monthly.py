"""The monthly state: counts by month × 機関/部局 × stage, and every step past its deadline."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from ledger_tools.check.findings import Status
from ledger_tools.form.fields import APPLICABLE, NOT_APPLICABLE, UNDECIDED, stage_of
from ledger_tools.ledger.entries import Ledger, LedgerEntry
from ledger_tools.ledger.monthly import (
    DONE_LATE,
    PENDING,
    InvalidMonth,
    monthly_html,
    monthly_state,
    monthly_workbook_bytes,
    parse_month,
)

AS_OF = dt.date(2026, 11, 25)
D = dt.date


def entry(
    record_id: str, status: Status = Status.OK, department: str = "県土整備部", **values
) -> LedgerEntry:
    values = {
        "record_id": record_id,
        "organ": "知事部局",
        "department": department,
        "staff_name": "県庁 一郎",
        "requester_name": "山田 太郎",
        **values,
    }
    exclusions = ["public_venue"] if status is Status.EXCLUDED else []
    return LedgerEntry(
        path=f"{department}/{record_id}.xlsx",
        sha256="0" * 64,
        status=status,
        record_id=record_id,
        stage=stage_of(values),
        exclusions=exclusions,
        values=values,
    )


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(
        AS_OF,
        [
            entry(
                "A", received_date=D(2026, 11, 1), reported_date=D(2026, 11, 12)
            ),  # reported 4 days late, this month
            entry(
                "B",
                received_date=D(2026, 10, 1),
                reported_date=D(2026, 10, 2),
                supervisor_judgement=UNDECIDED,
            ),
            entry(
                "C",
                received_date=D(2026, 10, 20),
                reported_date=D(2026, 10, 21),
                supervisor_judgement=APPLICABLE,
                judgement_date=D(2026, 11, 1),
            ),
            entry(
                "D",
                department="健康福祉部",
                received_date=D(2026, 8, 1),
                reported_date=D(2026, 8, 2),
                supervisor_judgement=APPLICABLE,
                judgement_date=D(2026, 8, 20),
                sent_to_lead_date=D(2026, 9, 1),
                shared_with_responsible_date=D(2026, 9, 1),
                measures_needed="要",
            ),
            entry(
                "E",
                received_date=D(2026, 8, 1),
                reported_date=D(2026, 8, 2),
                supervisor_judgement=APPLICABLE,
                judgement_date=D(2026, 8, 20),
                sent_to_lead_date=D(2026, 9, 1),
                shared_with_responsible_date=D(2026, 9, 1),
                measures_needed="不要",
            ),
            entry("F", Status.EXCLUDED, received_date=D(2026, 8, 5), reported_date=D(2026, 8, 30)),
            entry(
                "G",
                Status.NOT_APPLICABLE,
                received_date=D(2026, 11, 2),
                reported_date=D(2026, 11, 3),
                supervisor_judgement=NOT_APPLICABLE,
                judgement_date=D(2026, 11, 4),
            ),
            entry(
                "H",
                received_date=D(2025, 12, 1),
                reported_date=D(2025, 12, 20),
                supervisor_judgement=UNDECIDED,
            ),  # last year
            entry("I", Status.INVALID, received_date=D(2026, 11, 20)),
            LedgerEntry(path="壊れた.xlsx", sha256="1" * 64, status=Status.UNREADABLE),
        ],
    )


def test_counts_are_by_month_organ_department_and_stage(ledger, config):
    state = monthly_state(ledger, config, "2026-11")
    rows = [row.cells() for row in state.rows]
    assert rows == [
        # 受付月, 機関, 部局, 記録, 判断, 措置, 共有済, 計, うち要修正, 非該当, 除外
        ["2026-08", "知事部局", "健康福祉部", 0, 0, 1, 0, 1, 0, 0, 0],
        ["2026-08", "知事部局", "県土整備部", 0, 0, 1, 0, 1, 0, 0, 1],
        ["2026-10", "知事部局", "県土整備部", 1, 1, 0, 0, 2, 0, 0, 0],
        ["2026-11", "知事部局", "県土整備部", 2, 0, 0, 0, 2, 1, 1, 0],
    ]
    assert state.totals.cells() == ["合計", "", "", 3, 1, 2, 0, 6, 1, 1, 1]
    assert state.fiscal_year.start == D(2026, 4, 1)
    earlier = monthly_state(ledger, config, "2026-09")  # the fiscal year up to the chosen month
    assert [r.month for r in earlier.rows] == ["2026-08", "2026-08"]


def test_overdue_steps_say_what_is_late_since_when_and_by_how_many_days(ledger, config):
    state = monthly_state(ledger, config, "2026-11")
    found = [(i.record_id, i.step, i.state, i.due, i.days) for i in state.overdue]
    assert found == [
        ("H", "所属長の判断", PENDING, D(2026, 1, 3), 326),
        ("D", "所属長への結果通知", PENDING, D(2026, 10, 1), 55),
        ("E", "総務課への共有", PENDING, D(2026, 10, 1), 55),
        ("B", "所属長の判断", PENDING, D(2026, 10, 16), 40),
        (
            "C",
            "主管課長への送付",
            PENDING,
            D(2026, 11, 8),
            17,
        ),  # the first step still to do (主務課長への共有 waits with it)
    ]
    assert state.overdue_by_step["所属長の判断"] == 2
    assert [i.stage for i in state.overdue if i.record_id == "D"] == ["措置"]


def test_a_record_not_yet_reported_is_late_once_for_its_report_not_again_for_its_judgement(config):
    waiting = entry("J", received_date=D(2026, 10, 1))  # no report, no judgement: one delay, not two
    state = monthly_state(Ledger(AS_OF, [waiting]), config, "2026-11")
    assert [(i.record_id, i.step, i.due, i.days) for i in state.overdue] == [
        ("J", "所属長への報告", D(2026, 10, 8), 48)
    ]


def test_an_applicable_record_without_measures_is_late_for_its_measures_not_for_the_share(config):
    judged = entry(
        "K",
        received_date=D(2026, 8, 1),
        reported_date=D(2026, 8, 2),
        supervisor_judgement=APPLICABLE,
        judgement_date=D(2026, 8, 20),
        sent_to_lead_date=D(2026, 9, 1),
        shared_with_responsible_date=D(2026, 9, 1),
    )
    state = monthly_state(Ledger(AS_OF, [judged]), config, "2026-11")
    assert [(i.step, i.due, i.days) for i in state.overdue] == [
        ("主管課の措置（措置の要否）", D(2026, 10, 1), 55)
    ]


def test_steps_done_late_this_month_are_listed_apart_and_not_counted_as_overdue(ledger, config):
    state = monthly_state(ledger, config, "2026-11")
    assert "A" not in {i.record_id for i in state.overdue} and len(state.overdue) == 5
    assert [(i.record_id, i.step, i.state, i.due, i.done, i.days) for i in state.late] == [
        ("A", "所属長への報告", DONE_LATE, D(2026, 11, 8), D(2026, 11, 12), 4),
    ]
    assert monthly_state(ledger, config, "2026-12").late == ()  # done late in another month: not this month's
    page = monthly_html(state)
    overdue_part, late_part = page.split('<h2 id="late">')
    assert '<th scope="row">A</th>' not in overdue_part and "5件（" in overdue_part
    assert '<th scope="row">A</th>' in late_part and "2026-11-12" in late_part


def test_deadlines_come_from_the_configuration(ledger, config):
    relaxed = config.model_copy(
        update={"deadlines": config.deadlines.model_copy(update={"judgement_days": 400})}
    )
    state = monthly_state(ledger, relaxed, "2026-11")
    assert "所属長の判断" not in state.overdue_by_step


def test_the_internal_page_is_accessible_japanese_and_names_nobody(ledger, config):
    page = monthly_html(monthly_state(ledger, config, "2026-11"))
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ja">' in page
    assert (
        page.count("<caption>") == 3
        and '<th scope="col">超過日数</th>' in page
        and '<th scope="row">H</th>' in page
    )
    assert "2026年11月" in page and "326日" in page
    for private in ("県庁 一郎", "山田 太郎", ".xlsx"):
        assert private not in page


def test_a_month_without_records_says_so(config):
    page = monthly_html(monthly_state(Ledger(AS_OF, []), config, "2026-11"))
    assert "この期間に受け付けた記録はありません" in page and "期限を過ぎている手続はありません" in page


def test_the_monthly_workbook_has_counts_and_overdue_with_real_dates(ledger, config):
    wb = load_workbook(io.BytesIO(monthly_workbook_bytes(monthly_state(ledger, config, "2026-11"))))
    assert wb.sheetnames == ["件数", "遅延", "期限後の実施"]
    overdue = wb["遅延"]
    assert [c.value for c in overdue[1]][-3:] == ["期限", "超過日数", "ソースファイル"]
    assert overdue["F2"].value == dt.datetime(2026, 1, 3) and overdue["F2"].number_format == "yyyy-mm-dd"
    assert [[c.value for c in row][:8] for row in wb["期限後の実施"].iter_rows(min_row=2)] == [
        [
            "A",
            "知事部局",
            "県土整備部",
            "記録",
            "所属長への報告",
            dt.datetime(2026, 11, 8),
            dt.datetime(2026, 11, 12),
            4,
        ],
    ]
    assert overdue.freeze_panes == "A2" and overdue.auto_filter.ref.startswith("A1:")
    assert [c.value for c in wb["件数"][wb["件数"].max_row]][:3] == ["合計", None, None]


@pytest.mark.parametrize("text", ["2026-13", "2026/11", "11", "2026-1"])
def test_a_malformed_month_is_refused(text):
    with pytest.raises(InvalidMonth, match="YYYY-MM"):
        parse_month(text)
