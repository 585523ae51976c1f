"""The monthly state for 総務課: how many records stand at which stage, and what is overdue.

Counts are by month of receipt (from the start of the fiscal year up to the chosen month)
× 機関/部局 × stage. Overdue items are judged on the reference date with the configured
deadlines: for each record, the first step of its procedure not yet done, if it is past its
deadline (a record waiting for its report is not also late for its judgement), with its due
date and by how many days. Steps that were done, but after their deadline, within the month are
listed apart (they are no longer overdue). Rendered as an Excel workbook and an internal HTML
page (record ids, no names).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

from ledger_tools.check.findings import Status
from ledger_tools.config import Config
from ledger_tools.dates import FiscalYear
from ledger_tools.form.fields import APPLICABLE, MEASURES_NEEDED, NOT_APPLICABLE, STAGES
from ledger_tools.ledger.entries import Ledger, LedgerEntry
from ledger_tools.ledger.workbook import EXCLUDED as EXCLUDED_COLUMN
from ledger_tools.ledger.workbook import NOT_APPLICABLE_LABEL as NOT_APPLICABLE_COLUMN
from ledger_tools.ledger.workbook import add_table_sheet, category, table_workbook
from ledger_tools.outputs import workbook_bytes

UNKNOWN_MONTH = "受付日不明"
COUNT_COLUMNS = (
    "受付月",
    "機関",
    "部局",
    *STAGES,
    "計",
    "うち要修正",
    NOT_APPLICABLE_COLUMN,
    EXCLUDED_COLUMN,
)
OVERDUE_COLUMNS = ("整理番号", "機関", "部局", "段階", "遅れている手続", "期限", "超過日数", "ソースファイル")
LATE_COLUMNS = ("整理番号", "機関", "部局", "段階", "手続", "期限", "実施日", "超過日数", "ソースファイル")
SHEET_COUNTS, SHEET_OVERDUE, SHEET_LATE = "件数", "遅延", "期限後の実施"
PENDING, DONE_LATE = "未了", "完了（期限後）"
# The steps of the procedure, in order (spec §1); the deadlines are in the configuration.
STEP_REPORT = "所属長への報告"
STEP_JUDGEMENT = "所属長の判断"
STEP_SENT_TO_LEAD = "主管課長への送付"
STEP_SHARED_WITH_RESPONSIBLE = "主務課長への共有"
STEP_MEASURES = "主管課の措置（措置の要否）"
STEP_RESULT = "所属長への結果通知"
STEP_SHARED_WITH_GENERAL_AFFAIRS = "総務課への共有"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class InvalidMonth(ValueError):
    """The month is not YYYY-MM."""


def parse_month(text: str) -> tuple[int, int]:
    """``2026-11`` → (2026, 11)."""
    m = _MONTH.fullmatch(text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise InvalidMonth(f"月は YYYY-MM の形で指定してください: {text}")
    return int(m[1]), int(m[2])


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class CountRow:
    """Records received in one month by one 部局: how many rest at each stage."""

    month: str
    organ: str
    department: str
    by_stage: tuple[int, ...]  # in the order of STAGES
    invalid: int
    not_applicable: int
    excluded: int

    @property
    def total(self) -> int:
        return sum(self.by_stage)

    def cells(self) -> list[object]:
        return [
            self.month,
            self.organ,
            self.department,
            *self.by_stage,
            self.total,
            self.invalid,
            self.not_applicable,
            self.excluded,
        ]


@dataclass(frozen=True)
class OverdueItem:
    """One step of one record past its deadline: still to do on the reference date, or done late."""

    record_id: str
    organ: str
    department: str
    stage: str
    step: str
    due: dt.date
    days: int  # past the deadline: until the reference date, or until it was done
    path: str
    done: dt.date | None = None  # when a step done after its deadline was done

    @property
    def state(self) -> str:
        return PENDING if self.done is None else DONE_LATE

    def cells(self) -> list[object]:
        """A row of the 遅延 sheet (``OVERDUE_COLUMNS``) or, for a step done late, of ``LATE_COLUMNS``."""
        if self.done is None:
            return [
                self.record_id,
                self.organ,
                self.department,
                self.stage,
                self.step,
                self.due,
                self.days,
                self.path,
            ]
        return [
            self.record_id,
            self.organ,
            self.department,
            self.stage,
            self.step,
            self.due,
            self.done,
            self.days,
            self.path,
        ]


@dataclass(frozen=True)
class MonthlyState:
    month: str
    as_of: dt.date
    fiscal_year: FiscalYear
    rows: tuple[CountRow, ...]
    overdue: tuple[OverdueItem, ...]  # steps still to do, past their deadline on the reference date
    late: tuple[
        OverdueItem, ...
    ] = ()  # steps done after their deadline, within the month (no longer overdue)

    @property
    def totals(self) -> CountRow:
        def column(get) -> int:
            return sum(get(r) for r in self.rows)

        by_stage = tuple(column(lambda r, i=i: r.by_stage[i]) for i in range(len(STAGES)))
        return CountRow(
            "合計",
            "",
            "",
            by_stage,
            column(lambda r: r.invalid),
            column(lambda r: r.not_applicable),
            column(lambda r: r.excluded),
        )

    @property
    def overdue_by_step(self) -> dict[str, int]:
        return dict(Counter(item.step for item in self.overdue))


def monthly_state(ledger: Ledger, config: Config, month: str) -> MonthlyState:
    """Counts for the fiscal year up to ``month``, and what is overdue on the ledger's reference date."""
    year, number = parse_month(month)
    fiscal_year = FiscalYear.of(dt.date(year, number, 1))
    last_day = dt.date(year, number, calendar.monthrange(year, number)[1])
    counts: dict[tuple[str, str, str], Counter] = {}
    in_force = config.departments_in_force_during(fiscal_year.start, last_day)
    for entry in ledger.entries:
        if not entry.values:
            continue  # unreadable: no record to count (listed with the errors)
        received = entry.values.get("received_date")
        if isinstance(received, dt.date):
            if not fiscal_year.start <= received <= last_day:
                continue
            key_month = month_of(received)
        else:
            key_month = UNKNOWN_MONTH
        key = (key_month, entry.values.get("organ", ""), entry.values.get("department", ""))
        where = category(entry)
        counts.setdefault(key, Counter())[where] += 1
        if entry.status is Status.INVALID and where in STAGES:  # うち要修正: of the records counted by stage
            counts[key]["invalid"] += 1
    rows = tuple(
        CountRow(
            m, o, d, tuple(c[s] for s in STAGES), c["invalid"], c[NOT_APPLICABLE_COLUMN], c[EXCLUDED_COLUMN]
        )
        for (m, o, d), c in sorted(counts.items(), key=lambda kv: _row_order(kv[0], in_force))
    )
    items = sorted(
        (item for entry in ledger.entries for item in overdue_items(entry, config, ledger.as_of, month)),
        key=lambda i: (-i.days, i.record_id, i.step, i.path),
    )
    overdue = tuple(i for i in items if i.done is None)
    late = tuple(i for i in items if i.done is not None)
    return MonthlyState(month, ledger.as_of, fiscal_year, rows, overdue, late)


def _row_order(key: tuple[str, str, str], in_force: tuple[tuple[str, str], ...]) -> tuple:
    """Months in order; within a month the organs and departments in force during the year in
    configuration order, then any others."""
    month, organ, department = key
    organs = _positions(tuple(dict.fromkeys(o for o, _ in in_force)))
    departments = _positions(tuple(dict.fromkeys(d for _, d in in_force)))
    return (
        month == UNKNOWN_MONTH,
        month,
        organs.get(organ, len(organs)),
        organ,
        departments.get(department, len(departments)),
        department,
    )


@cache
def _positions(names: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(names)}


def overdue_items(entry: LedgerEntry, config: Config, as_of: dt.date, month: str) -> list[OverdueItem]:
    """The late steps of one record (nothing for excluded or unreadable files).

    The steps are followed in order up to the first one not done: that one is overdue when
    ``as_of`` is past its deadline (the steps after it wait for it, so they are not listed);
    every step before it that was done after its deadline within ``month`` is a late one.
    """
    v = entry.values
    if not v or entry.exclusions or not entry.record_id:
        return []
    items = []
    for step, base, allowed, done in _steps(v, config):
        due = base + dt.timedelta(days=allowed) if isinstance(base, dt.date) else None
        if done is None:
            if due is not None and as_of > due:
                items.append(_item(entry, step, due, (as_of - due).days))
            break
        if due is not None and isinstance(done, dt.date) and done > due and month_of(done) == month:
            items.append(_item(entry, step, due, (done - due).days, done))
    return items


_DONE_UNDATED = True  # a step that is done but has no date of its own (a choice was made)


def _steps(v: dict, config: Config) -> list[tuple[str, object, int, object]]:
    """(step, the date its deadline runs from, allowed days, done: a date, ``_DONE_UNDATED`` or None)."""
    days = config.deadlines
    judgement = v.get("supervisor_judgement")
    decided = judgement in (APPLICABLE, NOT_APPLICABLE)
    steps: list[tuple[str, object, int, object]] = [
        (STEP_REPORT, v.get("received_date"), config.rules.report_due_days, v.get("reported_date")),
        (
            STEP_JUDGEMENT,
            v.get("reported_date"),
            days.judgement_days,
            (v.get("judgement_date") or _DONE_UNDATED) if decided else None,
        ),
    ]
    if judgement != APPLICABLE:
        return steps
    judged, sent = v.get("judgement_date"), v.get("sent_to_lead_date")
    steps.append((STEP_SENT_TO_LEAD, judged, days.sent_to_lead_days, sent))
    steps.append(
        (STEP_SHARED_WITH_RESPONSIBLE, judged, days.sent_to_lead_days, v.get("shared_with_responsible_date"))
    )
    measures = v.get("measures_needed")
    steps.append((STEP_MEASURES, sent, days.result_notified_days, _DONE_UNDATED if measures else None))
    if measures == MEASURES_NEEDED:
        steps.append((STEP_RESULT, sent, days.result_notified_days, v.get("result_notified_date")))
        share_base = v.get("result_notified_date")
    else:
        share_base = sent
    steps.append(
        (
            STEP_SHARED_WITH_GENERAL_AFFAIRS,
            share_base,
            days.shared_with_general_affairs_days,
            v.get("shared_with_general_affairs_date"),
        )
    )
    return steps


def _item(entry: LedgerEntry, step: str, due: dt.date, days: int, done: dt.date | None = None) -> OverdueItem:
    v = entry.values
    return OverdueItem(
        entry.record_id or "",
        v.get("organ", ""),
        v.get("department", ""),
        entry.stage or "",
        step,
        due,
        days,
        entry.path,
        done,
    )


# ---------------------------------------------------------------------------- renderings


def monthly_workbook_bytes(state: MonthlyState) -> bytes:
    """The monthly state as a workbook: 件数, 遅延 (overdue now) and 期限後の実施 (done late this month)."""
    wb = table_workbook()
    counts = [row.cells() for row in state.rows] + [state.totals.cells()]
    add_table_sheet(
        wb, SHEET_COUNTS, COUNT_COLUMNS, counts, widths=(12, 14, 18, *[9] * (len(COUNT_COLUMNS) - 3))
    )
    add_table_sheet(
        wb,
        SHEET_OVERDUE,
        OVERDUE_COLUMNS,
        [item.cells() for item in state.overdue],
        widths=(16, 14, 18, 9, 24, 12, 10, 48),
    )
    add_table_sheet(
        wb,
        SHEET_LATE,
        LATE_COLUMNS,
        [item.cells() for item in state.late],
        widths=(16, 14, 18, 9, 24, 12, 12, 10, 48),
    )
    return workbook_bytes(wb)


def monthly_html(state: MonthlyState) -> str:
    """The internal HTML page (Japanese; record ids, but no names or file names)."""
    year, number = parse_month(state.month)
    from ledger_tools.pages import template_environment  # jinja2 only when a page is written

    return (
        template_environment()
        .get_template("monthly_state.html.j2")
        .render(
            state=state,
            title=f"働きかけ記録 月次状況 {year}年{number}月",
            stages=STAGES,
            count_columns=COUNT_COLUMNS,
            overdue_columns=OVERDUE_COLUMNS[:-1],
            late_columns=LATE_COLUMNS[:-1],
            totals=state.totals,
        )
    )
