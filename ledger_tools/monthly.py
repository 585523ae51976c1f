"""The monthly state for 総務課: how many records stand at which stage, and what is overdue.

Counts are by month of receipt (from the start of the fiscal year up to the chosen month)
× 機関/部局 × stage. Overdue items are judged on the reference date with the configured
deadlines; each says which step is late, its due date and by how many days. Rendered as an
Excel sheet and an internal HTML page (record ids, no names).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

from ledger_tools.config import Config
from ledger_tools.dates import FiscalYear
from ledger_tools.fields import APPLICABLE, MEASURES_NEEDED, NOT_APPLICABLE, STAGES
from ledger_tools.findings import Status
from ledger_tools.ledger import Ledger, LedgerEntry
from ledger_tools.ledger_book import EXCLUDED as EXCLUDED_COLUMN
from ledger_tools.ledger_book import NOT_APPLICABLE_LABEL as NOT_APPLICABLE_COLUMN
from ledger_tools.ledger_book import add_table_sheet, category, table_workbook
from ledger_tools.outputs import workbook_bytes

UNKNOWN_MONTH = "受付日不明"
COUNT_COLUMNS = ("受付月", "機関", "部局", *STAGES, "計", "うち要修正", NOT_APPLICABLE_COLUMN, EXCLUDED_COLUMN)
OVERDUE_COLUMNS = ("整理番号", "機関", "部局", "段階", "遅れている手続", "状況", "期限", "超過日数", "ソースファイル")
PENDING, DONE_LATE = "未了", "完了（期限後）"
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
        return [self.month, self.organ, self.department, *self.by_stage, self.total, self.invalid, self.not_applicable, self.excluded]


@dataclass(frozen=True)
class OverdueItem:
    """One step of one record that is past its deadline on the reference date."""

    record_id: str
    organ: str
    department: str
    stage: str
    step: str
    state: str  # PENDING, or DONE_LATE for a report made after its deadline
    due: dt.date
    days: int
    path: str

    def cells(self, with_path: bool = True) -> list[object]:
        row = [self.record_id, self.organ, self.department, self.stage, self.step, self.state, self.due, self.days]
        return row + [self.path] if with_path else row


@dataclass(frozen=True)
class MonthlyState:
    month: str
    as_of: dt.date
    fiscal_year: FiscalYear
    rows: tuple[CountRow, ...]
    overdue: tuple[OverdueItem, ...]

    @property
    def totals(self) -> CountRow:
        def column(get) -> int:
            return sum(get(r) for r in self.rows)

        by_stage = tuple(column(lambda r, i=i: r.by_stage[i]) for i in range(len(STAGES)))
        return CountRow("合計", "", "", by_stage, column(lambda r: r.invalid), column(lambda r: r.not_applicable), column(lambda r: r.excluded))

    @property
    def overdue_by_step(self) -> dict[str, int]:
        return dict(Counter(item.step for item in self.overdue))


def monthly_state(ledger: Ledger, config: Config, month: str) -> MonthlyState:
    """Counts for the fiscal year up to ``month``, and what is overdue on the ledger's reference date."""
    year, number = parse_month(month)
    fiscal_year = FiscalYear.of(dt.date(year, number, 1))
    last_day = dt.date(year, number, calendar.monthrange(year, number)[1])
    counts: dict[tuple[str, str, str], Counter] = {}
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
        CountRow(m, o, d, tuple(c[s] for s in STAGES), c["invalid"], c[NOT_APPLICABLE_COLUMN], c[EXCLUDED_COLUMN])
        for (m, o, d), c in sorted(counts.items(), key=lambda kv: _row_order(kv[0], config))
    )
    overdue = tuple(sorted(
        (item for entry in ledger.entries for item in overdue_items(entry, config, ledger.as_of, month)),
        key=lambda i: (-i.days, i.record_id, i.step),
    ))
    return MonthlyState(month, ledger.as_of, fiscal_year, rows, overdue)


def _row_order(key: tuple[str, str, str], config: Config) -> tuple:
    month, organ, department = key
    organs = _positions(config.organ_names)
    departments = _positions(config.all_departments)
    return (month == UNKNOWN_MONTH, month, organs.get(organ, len(organs)), organ, departments.get(department, len(departments)), department)


@cache
def _positions(names: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(names)}


def overdue_items(entry: LedgerEntry, config: Config, as_of: dt.date, month: str) -> list[OverdueItem]:
    """The steps of one record that are late on ``as_of`` (nothing for excluded or unreadable files)."""
    v = entry.values
    if not v or entry.exclusions or not entry.record_id:
        return []
    days = config.deadlines
    judgement = v.get("supervisor_judgement")
    steps: list[tuple[str, dt.date | None, int, dt.date | None]] = []  # (step, base date, allowed days, done on)
    steps.append(("所属長への報告", v.get("received_date"), config.rules.report_due_days, v.get("reported_date")))
    if judgement not in (APPLICABLE, NOT_APPLICABLE):
        steps.append(("所属長の判断", v.get("reported_date") or v.get("received_date"), days.judgement_days, None))
    if judgement == APPLICABLE:
        steps.append(("主管課長への送付", v.get("judgement_date"), days.sent_to_lead_days, v.get("sent_to_lead_date")))
        steps.append(("主務課長への共有", v.get("judgement_date"), days.sent_to_lead_days, v.get("shared_with_responsible_date")))
        if v.get("measures_needed") == MEASURES_NEEDED:
            steps.append(("所属長への結果通知", v.get("sent_to_lead_date"), days.result_notified_days, v.get("result_notified_date")))
            share_base = v.get("result_notified_date")  # waiting for the result: that step is the late one
        else:
            share_base = v.get("sent_to_lead_date")
        steps.append(("総務課への共有", share_base, days.shared_with_general_affairs_days, v.get("shared_with_general_affairs_date")))
    items = []
    for step, base, allowed, done in steps:
        if not isinstance(base, dt.date):
            continue
        due = base + dt.timedelta(days=allowed)
        if done is None and as_of > due:
            items.append(_item(entry, step, PENDING, due, (as_of - due).days))
        elif step == "所属長への報告" and isinstance(done, dt.date) and done > due and month_of(done) == month:
            items.append(_item(entry, step, DONE_LATE, due, (done - due).days))
    return items


def _item(entry: LedgerEntry, step: str, state: str, due: dt.date, days: int) -> OverdueItem:
    v = entry.values
    return OverdueItem(entry.record_id or "", v.get("organ", ""), v.get("department", ""), entry.stage or "", step, state, due, days, entry.path)


# ---------------------------------------------------------------------------- renderings


def monthly_workbook_bytes(state: MonthlyState) -> bytes:
    """The monthly state as a workbook: 件数 and 遅延 sheets."""
    wb = table_workbook()
    counts = [row.cells() for row in state.rows] + [state.totals.cells()]
    add_table_sheet(wb, "件数", COUNT_COLUMNS, counts, widths=(12, 14, 18, *[9] * (len(COUNT_COLUMNS) - 3)))
    add_table_sheet(wb, "遅延", OVERDUE_COLUMNS, [item.cells() for item in state.overdue], widths=(16, 14, 18, 9, 20, 14, 12, 10, 48))
    return workbook_bytes(wb)


def monthly_html(state: MonthlyState) -> str:
    """The internal HTML page (Japanese; record ids, but no names or file names)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("ledger_tools", "templates"), autoescape=True, undefined=StrictUndefined,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
    )
    year, number = parse_month(state.month)
    return env.get_template("monthly_state.html.j2").render(
        state=state, title=f"働きかけ記録 月次状況 {year}年{number}月", stages=STAGES,
        count_columns=COUNT_COLUMNS, overdue_columns=OVERDUE_COLUMNS[:-1], totals=state.totals,
    )
