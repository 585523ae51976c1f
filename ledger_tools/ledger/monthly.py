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
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ledger_tools.check.findings import STATUS_LABELS_JA, Severity, Status
from ledger_tools.config import Config
from ledger_tools.dates import FiscalYear, to_wareki, to_wareki_month
from ledger_tools.form.fields import APPLICABLE, MEASURES_NEEDED, NOT_APPLICABLE, STAGE_LABELS_JA, STAGES
from ledger_tools.ledger.entries import Ledger, LedgerEntry
from ledger_tools.ledger.readiness import HOLD_REASONS, hold_reasons
from ledger_tools.ledger.workbook import EXCLUDED as EXCLUDED_COLUMN
from ledger_tools.ledger.workbook import NOT_APPLICABLE_LABEL as NOT_APPLICABLE_COLUMN
from ledger_tools.ledger.workbook import add_table_sheet, category, table_workbook

if TYPE_CHECKING:
    from markupsafe import Markup

UNKNOWN_MONTH = "受付日不明"
UNKNOWN_DIVISION = "（主管課不明）"
STAGE_LABELS = STAGE_LABELS_JA  # the stage names of every output (form.fields)
COUNT_COLUMNS = (
    "受付月",
    "機関",
    "部局",
    *(STAGE_LABELS[s] for s in STAGES),
    "計",
    "うち要修正",
    NOT_APPLICABLE_COLUMN,
    EXCLUDED_COLUMN,
)
OVERDUE_COLUMNS = (
    "主管課",
    "機関",
    "部局",
    "所属",
    "整理番号",
    "受けた日",
    "段階",
    "遅れている手続",
    "期限",
    "超過日数",
    "ソースファイル",
)
LATE_COLUMNS = (
    "主管課",
    "機関",
    "部局",
    "所属",
    "整理番号",
    "段階",
    "手続",
    "期限",
    "実施日",
    "超過日数",
    "ソースファイル",
)
FIX_COLUMNS = ("主管課", "機関", "部局", "所属", "整理番号", "状態", "最初に直すこと", "セル", "ファイル")
HELD_COLUMNS = (
    "主管課",
    "機関",
    "部局",
    "所属",
    "整理番号",
    "受けた日",
    "段階",
    "公表できない理由",
    "ファイル",
)
SUMMARY_COLUMNS = ("主管課", "期限を過ぎている手続", "直すファイル", "公表できない記録")
SHEET_SUMMARY, SHEET_COUNTS, SHEET_OVERDUE, SHEET_FIX, SHEET_HELD, SHEET_LATE = (
    "主管課別",
    "件数",
    "遅延",
    "要修正・読取不可",
    "公表の準備中",
    "期限後の実施",
)
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

    month: str  # YYYY-MM, or UNKNOWN_MONTH
    organ: str
    department: str
    by_stage: tuple[int, ...]  # in the order of STAGES
    invalid: int
    not_applicable: int
    excluded: int

    @property
    def total(self) -> int:
        return sum(self.by_stage)

    @property
    def month_label(self) -> str:
        """令和8年11月; 合計 and 受付日不明 as they are."""
        if _MONTH.fullmatch(self.month):
            year, number = parse_month(self.month)
            return to_wareki_month(dt.date(year, number, 1))
        return self.month

    def cells(self) -> list[object]:
        return [
            self.month_label,
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
    section: str = ""
    lead_division: str = ""
    received: dt.date | None = None

    @property
    def state(self) -> str:
        return PENDING if self.done is None else DONE_LATE

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)

    def cells(self) -> list[object]:
        """A row of the 遅延 sheet (``OVERDUE_COLUMNS``) or, for a step done late, of ``LATE_COLUMNS``."""
        who = [self.lead_division, self.organ, self.department, self.section, self.record_id]
        if self.done is None:
            return [*who, self.received, self.stage_label, self.step, self.due, self.days, self.path]
        return [*who, self.stage_label, self.step, self.due, self.done, self.days, self.path]


@dataclass(frozen=True)
class FixItem:
    """A file that is 要修正 or 読み取り不可, with the first fix to make (its first error)."""

    lead_division: str
    organ: str
    department: str
    section: str
    record_id: str
    status: str  # STATUS_LABELS_JA
    first_fix: str
    cell: str
    path: str  # with the row of a list record
    entry: LedgerEntry = field(repr=False, compare=False)

    def cells(self) -> list[object]:
        return [
            self.lead_division,
            self.organ,
            self.department,
            self.section,
            self.record_id,
            self.status,
            self.first_fix,
            self.cell,
            self.path,
        ]


@dataclass(frozen=True)
class HeldItem:
    """A 該当 record that cannot be published yet, and why."""

    lead_division: str
    organ: str
    department: str
    section: str
    record_id: str
    received: dt.date | None
    stage: str
    reasons: tuple[str, ...]  # Japanese, in the order of readiness.HOLD_REASONS
    path: str

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)

    def cells(self) -> list[object]:
        return [
            self.lead_division,
            self.organ,
            self.department,
            self.section,
            self.record_id,
            self.received,
            self.stage_label,
            "、".join(self.reasons),
            self.path,
        ]


@dataclass(frozen=True)
class DivisionSummary:
    """What one 主管課 has to chase this month."""

    name: str
    overdue: int
    fixes: int
    held: int

    def cells(self) -> list[object]:
        return [self.name, self.overdue, self.fixes, self.held]


@dataclass(frozen=True)
class MonthlyState:
    month: str
    as_of: dt.date
    fiscal_year: FiscalYear
    rows: tuple[CountRow, ...]
    overdue: tuple[OverdueItem, ...]  # steps still to do, past their deadline on the reference date
    late: tuple[OverdueItem, ...] = ()  # steps done after their deadline, within the month
    fixes: tuple[FixItem, ...] = ()  # files to correct: 要修正, 読み取り不可
    held: tuple[HeldItem, ...] = ()  # 該当 records not yet publishable
    divisions: tuple[str, ...] = ()  # every 主管課 that has something to chase, in configuration order

    @property
    def last_day(self) -> dt.date:
        year, number = parse_month(self.month)
        return dt.date(year, number, calendar.monthrange(year, number)[1])

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

    @property
    def summaries(self) -> tuple[DivisionSummary, ...]:
        overdue = Counter(i.lead_division for i in self.overdue)
        fixes = Counter(i.lead_division for i in self.fixes)
        held = Counter(i.lead_division for i in self.held)
        return tuple(DivisionSummary(d, overdue[d], fixes[d], held[d]) for d in self.divisions)

    def for_division(self, name: str) -> MonthlyState:
        """The same state with only one 主管課's items (what that division is sent)."""
        return replace(
            self,
            rows=(),
            overdue=tuple(i for i in self.overdue if i.lead_division == name),
            late=tuple(i for i in self.late if i.lead_division == name),
            fixes=tuple(i for i in self.fixes if i.lead_division == name),
            held=tuple(i for i in self.held if i.lead_division == name),
            divisions=(name,) if name in self.divisions else (),
        )


def lead_division_of(entry: LedgerEntry, config: Config, as_of: dt.date) -> str:
    """The 主管課 that answers for a record: the configuration's for its 部局 in the organisation in
    force on its received date (else on ``as_of``); else the one written in the record; for an
    unreadable file, that of a 部局 (or 機関) named by a folder of its path."""
    v = entry.values
    organ, department, received = v.get("organ", ""), v.get("department", ""), v.get("received_date")
    on = received if isinstance(received, dt.date) else as_of
    organisation = config.organisation_on(on)
    if (
        isinstance(organ, str)
        and isinstance(department, str)
        and (name := organisation.lead_division(organ, department))
    ):
        return name
    if isinstance(v.get("lead_division"), str) and v["lead_division"].strip():
        return v["lead_division"].strip()
    folders = PurePosixPath(entry.path.replace("\\", "/")).parts[:-1]
    for folder in reversed(folders):
        for o in organisation.organs:
            for d in o.departments:
                if d.lead_division and (folder == d.name or (folder == o.name and len(o.departments) == 1)):
                    return d.lead_division
    return UNKNOWN_DIVISION


def _is_open(entry: LedgerEntry) -> bool:
    """Still in the procedure: not excluded, not judged 非該当, not yet shared with 総務課."""
    return category(entry) in STAGES[:-1]


def monthly_state(ledger: Ledger, config: Config, month: str) -> MonthlyState:
    """Counts for the fiscal year up to ``month`` (and records of earlier years still open), what is
    overdue on the ledger's reference date, files to fix and 該当 records not yet publishable."""
    year, number = parse_month(month)
    fiscal_year = FiscalYear.of(dt.date(year, number, 1))
    last_day = dt.date(year, number, calendar.monthrange(year, number)[1])
    counts: dict[tuple[str, str, str], Counter] = {}
    in_force = config.departments_in_force_during(fiscal_year.start, last_day)
    for entry in ledger.entries:
        if not entry.values:
            continue  # unreadable: no record to count (listed with the files to fix)
        received = entry.values.get("received_date")
        if isinstance(received, dt.date):
            if received > last_day:
                continue
            if received < fiscal_year.start and not _is_open(entry):
                continue  # an earlier year's record stays counted until it is done
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
    order = _positions(tuple(dict.fromkeys(name for p in config.periods for name in p.lead_divisions)))

    def division_key(name: str) -> tuple:
        return (name == UNKNOWN_DIVISION, order.get(name, len(order)), name)

    items = sorted(
        (item for entry in ledger.entries for item in overdue_items(entry, config, ledger.as_of, month)),
        key=lambda i: (division_key(i.lead_division), -i.days, i.record_id, i.step, i.path),
    )
    overdue = tuple(i for i in items if i.done is None)
    late = tuple(i for i in items if i.done is not None)
    fixes = tuple(
        sorted(
            (fix for entry in ledger.entries if (fix := fix_item(entry, config, ledger.as_of)) is not None),
            key=lambda i: (division_key(i.lead_division), i.path, i.record_id),
        )
    )
    held = tuple(
        sorted(
            (h for entry in ledger.entries if (h := held_item(entry, config, ledger.as_of)) is not None),
            key=lambda i: (division_key(i.lead_division), i.received or dt.date.max, i.record_id, i.path),
        )
    )
    divisions = tuple(
        sorted({i.lead_division for group in (overdue, fixes, held) for i in group}, key=division_key)
    )
    return MonthlyState(month, ledger.as_of, fiscal_year, rows, overdue, late, fixes, held, divisions)


def fix_item(entry: LedgerEntry, config: Config, as_of: dt.date) -> FixItem | None:
    """A file to correct (要修正, 読み取り不可) with its first error; None for any other file."""
    if entry.status not in (Status.INVALID, Status.UNREADABLE):
        return None
    errors = [f for f in entry.findings if f.severity is Severity.ERROR] or entry.findings
    first = errors[0] if errors else None
    v = entry.values
    return FixItem(
        lead_division_of(entry, config, as_of),
        _text(v.get("organ")),
        _text(v.get("department")),
        _text(v.get("section")),
        entry.record_id or "",
        STATUS_LABELS_JA[entry.status],
        first.message if first else "",
        (first.cell or "") if first else "",
        entry.location,
        entry,
    )


# Why a 該当 record cannot be published yet (the publisher holds it back for the same reasons).
def held_item(entry: LedgerEntry, config: Config, as_of: dt.date) -> HeldItem | None:
    """A record judged 該当 (not excluded) that lacks what publication needs; None otherwise."""
    v = entry.values
    if not v or entry.exclusions or v.get("supervisor_judgement") != APPLICABLE:
        return None
    reasons = [HOLD_REASONS[code] for code in hold_reasons(entry)]
    if not reasons:
        return None
    received = v.get("received_date")
    return HeldItem(
        lead_division_of(entry, config, as_of),
        _text(v.get("organ")),
        _text(v.get("department")),
        _text(v.get("section")),
        entry.record_id or "",
        received if isinstance(received, dt.date) else None,
        entry.stage or "",
        tuple(reasons),
        entry.location,
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


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
                items.append(_item(entry, config, as_of, step, due, (as_of - due).days))
            break
        if due is not None and isinstance(done, dt.date) and done > due and month_of(done) == month:
            items.append(_item(entry, config, as_of, step, due, (done - due).days, done))
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


def _item(
    entry: LedgerEntry,
    config: Config,
    as_of: dt.date,
    step: str,
    due: dt.date,
    days: int,
    done: dt.date | None = None,
) -> OverdueItem:
    v = entry.values
    received = v.get("received_date")
    return OverdueItem(
        entry.record_id or "",
        v.get("organ", ""),
        v.get("department", ""),
        entry.stage or "",
        step,
        due,
        days,
        entry.location,
        done,
        _text(v.get("section")),
        lead_division_of(entry, config, as_of),
        received if isinstance(received, dt.date) else None,
    )


# ---------------------------------------------------------------------------- renderings


def monthly_workbook_bytes(state: MonthlyState) -> bytes:
    """The monthly state as a workbook: per 主管課, counts, overdue, files to fix, records held back
    from publication, steps done late this month."""
    wb = table_workbook()
    add_table_sheet(
        wb, SHEET_SUMMARY, SUMMARY_COLUMNS, [s.cells() for s in state.summaries], (28, 20, 14, 16)
    )
    counts = [row.cells() for row in state.rows] + [state.totals.cells()]
    add_table_sheet(wb, SHEET_COUNTS, COUNT_COLUMNS, counts, widths=(14, 14, 18, *[16] * 4, *[9] * 4))
    add_overdue_sheets(wb, state)
    return wb.to_bytes()


def add_overdue_sheets(wb, state: MonthlyState) -> None:
    """遅延, 要修正・読取不可, 公表の準備中 and 期限後の実施 (the monthly state and a 主管課's file)."""
    who = (24, 12, 16, 16, 16)
    add_table_sheet(
        wb,
        SHEET_OVERDUE,
        OVERDUE_COLUMNS,
        [i.cells() for i in state.overdue],
        (*who, 12, 26, 24, 12, 10, 48),
    )
    add_table_sheet(wb, SHEET_FIX, FIX_COLUMNS, [i.cells() for i in state.fixes], (*who, 12, 60, 10, 48))
    add_table_sheet(wb, SHEET_HELD, HELD_COLUMNS, [i.cells() for i in state.held], (*who, 12, 26, 48, 48))
    add_table_sheet(
        wb, SHEET_LATE, LATE_COLUMNS, [i.cells() for i in state.late], (*who, 26, 24, 12, 12, 10, 48)
    )


@dataclass(frozen=True)
class HtmlCell:
    text: str
    header: bool = False  # a row header (th scope=row)
    number: bool = False
    rowspan: int = 1
    id: str = ""
    headers: str = ""  # the ids of this cell's header cells (H43): its column's and its row's


@dataclass(frozen=True)
class HtmlTable:
    """A data table whose every data cell names its headers by id, as WCAG technique H43 asks of
    tables with more than one column (or level) of row headers."""

    id: str
    caption: str
    columns: tuple[tuple[str, str], ...]  # (id, label)
    body: tuple[tuple[HtmlCell, ...], ...]
    foot: tuple[HtmlCell, ...] = ()
    foot_span: int = 0  # columns the footer's first header spans
    empty: str = ""

    def body_html(self) -> Markup:
        """The ``<tr>`` rows of the body, as the page's ``data_table`` macro would write them cell by
        cell (a table of thousands of overdue steps is written here, at a fraction of its time)."""
        from markupsafe import Markup  # with jinja2, only when a page is written

        from ledger_tools.pages import html_text

        labels = [html_text(label) for _, label in self.columns]
        width = len(self.columns)
        parts = []
        for row in self.body:
            parts.append("<tr>")
            offset = width - len(row)  # a row under a group header starts one column later
            for i, cell in enumerate(row):
                label = labels[i + offset]
                if cell.header:
                    scope = (
                        f' rowspan="{cell.rowspan}" scope="rowgroup"' if cell.rowspan > 1 else ' scope="row"'
                    )
                    parts.append(
                        f'<th{scope} id="{html_text(cell.id)}" data-label="{label}">{html_text(cell.text)}</th>'
                    )
                else:
                    number = ' class="number"' if cell.number else ""
                    parts.append(
                        f'<td headers="{html_text(cell.headers)}" data-label="{label}"{number}>'
                        f"{html_text(cell.text)}</td>"
                    )
            parts.append("</tr>\n")
        return Markup("".join(parts)[:-1])  # the template ends the last row's line


def _html_table(
    table_id: str,
    caption: str,
    columns: tuple[str, ...],
    rows: list[list[object]],
    row_headers: int,
    *,
    group_first: bool = False,
    numbers: tuple[int, ...] = (),
    empty: str = "",
    foot: list[object] | None = None,
    foot_span: int = 0,
) -> HtmlTable:
    """Cells of ``rows`` as text; the first ``row_headers`` cells of a row are its headers. With
    ``group_first`` the first column is one header over consecutive rows with the same value."""
    col_ids = tuple(f"{table_id}-c{i}" for i in range(len(columns)))
    body: list[tuple[HtmlCell, ...]] = []
    group_id, group_value, group_start = "", None, 0
    spans: dict[int, int] = {}
    for r, row in enumerate(rows):
        texts = [_html_text(v, i in numbers) for i, v in enumerate(row)]
        cells: list[HtmlCell] = []
        ids = [f"{table_id}-r{r}-{i}" for i in range(row_headers)]
        start = 0
        if group_first:
            if r == 0 or texts[0] != group_value:
                group_id, group_value, group_start = f"{table_id}-g{r}", texts[0], r
                spans[group_start] = 0
                cells.append(HtmlCell(texts[0], header=True, id=group_id))
            spans[group_start] += 1
            ids[0] = group_id
            start = 1
        for i in range(start, len(texts)):
            if i < row_headers:
                cells.append(HtmlCell(texts[i], header=True, id=ids[i]))
            else:
                cells.append(HtmlCell(texts[i], number=i in numbers, headers=" ".join((col_ids[i], *ids))))
        body.append(tuple(cells))
    if group_first:  # the group header spans its rows
        body = [
            (replace(cells[0], rowspan=spans[r]), *cells[1:]) if r in spans else cells
            for r, cells in enumerate(body)
        ]
    foot_cells: tuple[HtmlCell, ...] = ()
    if foot is not None:
        foot_id = f"{table_id}-total"
        foot_cells = (
            HtmlCell(_html_text(foot[0], False), header=True, id=foot_id),
            *(
                HtmlCell(_html_text(v, True), number=True, headers=f"{col_ids[i]} {foot_id}")
                for i, v in enumerate(foot)
                if i >= foot_span
            ),
        )
    return HtmlTable(
        table_id,
        caption,
        tuple(zip(col_ids, columns, strict=True)),
        tuple(body),
        foot_cells,
        foot_span,
        empty,
    )


def _html_text(value: object, number: bool) -> str:
    """Dates in 和暦, counts with 件, days with 日 (the page never shows an ISO date)."""
    if isinstance(value, dt.date):
        return to_wareki(value)
    if value is None:
        return ""
    if number and isinstance(value, int):
        return f"{value}件"
    return str(value)


def monthly_html(state: MonthlyState) -> str:
    """The internal HTML page (Japanese; record ids and file names, no personal names)."""
    year, number = parse_month(state.month)
    from ledger_tools.pages import template_environment  # jinja2 only when a page is written

    count_numbers = tuple(range(3, len(COUNT_COLUMNS)))
    tables = {
        "summary": _html_table(
            "summary",
            "主管課ごとの件数（督促・修正依頼・公表準備の対象）",
            SUMMARY_COLUMNS,
            [s.cells() for s in state.summaries],
            1,
            numbers=(1, 2, 3),
            empty="確認が必要な主管課はありません。",
        ),
        "counts": _html_table(
            "counts",
            "受付月・機関・部局ごとの件数（段階は、除外・非該当を除く記録がいまどこにあるか）",
            COUNT_COLUMNS,
            [row.cells() for row in state.rows],
            3,
            numbers=count_numbers,
            empty="この期間に受け付けた記録はありません。",
            foot=state.totals.cells(),
            foot_span=3,
        ),
        "overdue": _html_table(
            "overdue",
            "期限を過ぎている手続（主管課ごと、超過日数の多い順）",
            OVERDUE_COLUMNS,
            [[*i.cells()[:-2], f"{i.days}日", i.path] for i in state.overdue],
            5,
            group_first=True,
            empty="期限を過ぎている手続はありません。",
        ),
        "fixes": _html_table(
            "fixes",
            "要修正・読み取り不可のファイル（主管課ごと。最初に直すこと）",
            FIX_COLUMNS,
            [i.cells() for i in state.fixes],
            5,
            group_first=True,
            empty="要修正・読み取り不可のファイルはありません。",
        ),
        "held": _html_table(
            "held",
            "公表できない該当の記録（主管課ごと）",
            HELD_COLUMNS,
            [i.cells() for i in state.held],
            5,
            group_first=True,
            empty="公表できない該当の記録はありません。",
        ),
        "late": _html_table(
            "late",
            "期限を過ぎてから済んだ手続（主管課ごと、超過日数の多い順）",
            LATE_COLUMNS,
            [[*i.cells()[:-2], f"{i.days}日", i.path] for i in state.late],
            5,
            group_first=True,
            empty="今月、期限を過ぎてから済んだ手続はありません。",
        ),
    }
    return (
        template_environment()
        .get_template("monthly_state.html.j2")
        .render(
            state=state,
            title=f"働きかけ記録 月次状況 {to_wareki_month(dt.date(year, number, 1))}",
            tables=tables,
            period=(
                f"基準日 {to_wareki(state.as_of)}。集計期間 {state.fiscal_year.label}の"
                f"{to_wareki(state.fiscal_year.start)}から{to_wareki(state.last_day)}まで"
                "（働きかけを受けた日による。前年度以前に受けた記録も、総務課への共有が済むまで数えます）。"
            ),
            month_label=f"{to_wareki_month(dt.date(year, number, 1))}",
        )
    )
