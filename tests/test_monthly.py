"""The monthly state: counts by month × 機関/部局 × stage, and every step past its deadline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from ledger_tools.check.findings import Status, make_finding
from ledger_tools.form.fields import APPLICABLE, NOT_APPLICABLE, UNDECIDED, stage_of
from ledger_tools.ledger.entries import Ledger, LedgerEntry
from ledger_tools.ledger.monthly import (
    COUNT_COLUMNS,
    DONE_LATE,
    OVERDUE_COLUMNS,
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
        ["令和7年12月", "知事部局", "県土整備部", 1, 0, 0, 0, 1, 0, 0, 0],  # last year's, still open
        ["令和8年8月", "知事部局", "健康福祉部", 0, 0, 1, 0, 1, 0, 0, 0],
        ["令和8年8月", "知事部局", "県土整備部", 0, 0, 1, 0, 1, 0, 0, 1],
        ["令和8年10月", "知事部局", "県土整備部", 1, 1, 0, 0, 2, 0, 0, 0],
        ["令和8年11月", "知事部局", "県土整備部", 2, 0, 0, 0, 2, 1, 1, 0],
    ]
    assert state.totals.cells() == ["合計", "", "", 4, 1, 2, 0, 7, 1, 1, 1]
    assert state.fiscal_year.start == D(2026, 4, 1)
    earlier = monthly_state(ledger, config, "2026-09")  # the fiscal year up to the chosen month
    assert [r.month for r in earlier.rows] == ["2025-12", "2026-08", "2026-08"]


def test_a_record_of_an_earlier_year_leaves_the_counts_once_it_is_done(config):
    done = entry(
        "Z",
        received_date=D(2025, 12, 1),
        reported_date=D(2025, 12, 2),
        supervisor_judgement=APPLICABLE,
        judgement_date=D(2025, 12, 3),
        measures_needed="不要",
        shared_with_general_affairs_date=D(2025, 12, 20),
    )
    assert monthly_state(Ledger(AS_OF, [done]), config, "2026-11").rows == ()


def test_the_stage_reads_as_a_place_in_the_procedure_not_a_count(ledger, config):
    state = monthly_state(ledger, config, "2026-11")
    assert "記録済み（所属長の判断待ち）" in COUNT_COLUMNS and "記録" not in COUNT_COLUMNS
    assert {i.stage_label for i in state.overdue} >= {
        "記録済み（所属長の判断待ち）",
        "措置中（総務課への共有待ち）",
    }


def test_overdue_steps_say_what_is_late_since_when_and_by_how_many_days(ledger, config):
    state = monthly_state(ledger, config, "2026-11")
    found = [(i.record_id, i.step, i.state, i.due, i.days) for i in state.overdue]
    assert found == [  # by 主管課 (健康福祉部 before 県土整備部 in the configuration), then most overdue
        ("D", "所属長への結果通知", PENDING, D(2026, 10, 1), 55),
        ("H", "所属長の判断", PENDING, D(2026, 1, 3), 326),
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
    h = state.overdue[1]
    assert (h.lead_division, h.section, h.received) == ("県土整備部監理課", "", D(2025, 12, 1))


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
    overdue_part, late_part = page.split('<h2 id="late-heading">')
    assert ">A</th>" not in overdue_part and "5件（" in overdue_part
    assert ">A</th>" in late_part and "令和8年11月12日" in late_part and "2026-11-12" not in page


def test_deadlines_come_from_the_configuration(ledger, config):
    relaxed = dataclasses.replace(config, deadlines=dataclasses.replace(config.deadlines, judgement_days=400))
    state = monthly_state(ledger, relaxed, "2026-11")
    assert "所属長の判断" not in state.overdue_by_step


def test_the_internal_page_is_accessible_japanese_and_names_nobody(ledger, config):
    page = monthly_html(monthly_state(ledger, config, "2026-11"))
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ja">' in page
    assert page.count("<caption>") == 6 and 'id="overdue-c9">超過日数</th>' in page
    assert "令和8年11月" in page and "326日" in page and "令和8年1月3日" in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)  # no ISO date on the page
    for private in ("県庁 一郎", "山田 太郎"):
        assert private not in page


def test_a_month_without_records_says_so(config):
    page = monthly_html(monthly_state(Ledger(AS_OF, []), config, "2026-11"))
    assert "この期間に受け付けた記録はありません" in page and "期限を過ぎている手続はありません" in page
    assert "<table" not in page


def test_the_monthly_workbook_has_counts_and_overdue_with_real_dates(ledger, config):
    wb = load_workbook(io.BytesIO(monthly_workbook_bytes(monthly_state(ledger, config, "2026-11"))))
    assert wb.sheetnames == ["主管課別", "件数", "遅延", "要修正・読取不可", "公表の準備中", "期限後の実施"]
    overdue = wb["遅延"]
    assert [c.value for c in overdue[1]] == list(OVERDUE_COLUMNS)
    assert (
        overdue["I3"].value == dt.datetime(2026, 1, 3) and overdue["I3"].number_format == "yyyy/m/d"
    )  # the form's
    assert [[c.value for c in row][:10] for row in wb["期限後の実施"].iter_rows(min_row=2)] == [
        [
            "県土整備部監理課",
            "知事部局",
            "県土整備部",
            None,
            "A",
            "記録済み（所属長の判断待ち）",
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


def two_division_ledger() -> Ledger:
    """県土整備部 and 健康福祉部 (two 主管課), each with an overdue step, a file to fix and a record
    held back from publication; and an unreadable file in a 部局's folder."""
    applicable = {
        "received_date": D(2026, 8, 1),
        "reported_date": D(2026, 8, 2),
        "supervisor_judgement": APPLICABLE,
        "judgement_date": D(2026, 8, 20),
        "sent_to_lead_date": D(2026, 9, 1),
        "shared_with_responsible_date": D(2026, 9, 1),
    }
    entries = []
    for department, letter in (("県土整備部", "K"), ("健康福祉部", "W")):
        entries.append(entry(f"{letter}1", department=department, section="一課", **applicable))
        bad = entry(f"{letter}2", Status.INVALID, department=department, received_date=D(2026, 11, 2))
        bad.findings = [
            make_finding("required_missing", field="reported_date", cell="C20"),
        ]
        entries.append(bad)
    entries.append(
        LedgerEntry(
            path="知事部局/健康福祉部/壊れた.xlsx",
            sha256="1" * 64,
            status=Status.UNREADABLE,
            findings=[make_finding("unreadable_corrupt")],
        )
    )
    return Ledger(AS_OF, entries)


def test_each_item_names_its_lead_division_and_the_state_is_grouped_by_it(config):
    state = monthly_state(two_division_ledger(), config, "2026-11")
    assert state.divisions == ("健康福祉部福祉政策課", "県土整備部監理課")  # configuration order
    assert [(i.lead_division, i.record_id) for i in state.overdue] == [
        ("健康福祉部福祉政策課", "W1"),
        ("健康福祉部福祉政策課", "W2"),
        ("県土整備部監理課", "K1"),
        ("県土整備部監理課", "K2"),
    ]
    assert [(i.lead_division, i.record_id, i.status) for i in state.fixes] == [
        ("健康福祉部福祉政策課", "W2", "要修正"),
        ("健康福祉部福祉政策課", "", "読み取り不可"),  # its folder names the 部局
        ("県土整備部監理課", "K2", "要修正"),
    ]
    assert state.fixes[0].cell == "C20" and "所属長への報告日" in state.fixes[0].first_fix
    held = {i.record_id: i.reasons for i in state.held}
    assert set(held) == {"K1", "W1"}
    assert held["K1"] == ("総務課への共有日が未記入", "公表用の概要が未記入")
    assert [s.cells() for s in state.summaries] == [
        ["健康福祉部福祉政策課", 2, 2, 1],
        ["県土整備部監理課", 2, 1, 1],
    ]
    page = monthly_html(state)
    assert "健康福祉部福祉政策課" in page and "総務課への共有日が未記入" in page and "3件" in page


def test_two_level_tables_name_their_headers_by_id(ledger, config):
    """H43: every data cell's headers attribute names existing header ids; row headers have scope."""
    page = monthly_html(monthly_state(two_division_ledger(), config, "2026-11"))
    ids = set(re.findall(r'<th[^>]* id="([^"]+)"', page))
    cells = re.findall(r'<td headers="([^"]+)"', page)
    assert cells and all(set(h.split()) <= ids for h in cells)
    counts = page[
        page.index('<table id="counts">') : page.index("</table>", page.index('<table id="counts">'))
    ]
    assert counts.count('scope="row"') >= 3  # 受付月, 機関 and 部局 are row headers
    assert 'scope="rowgroup"' in page or "rowspan" not in page
    assert "tabindex" not in page  # nothing to scroll: no focusable wrapper
