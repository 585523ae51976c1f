"""Which records a fiscal year counts, and which of its 該当 records are published, held back
(with their reasons) or out of scope. Nothing here reads a value beyond what that choice needs."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger_tools.check.findings import Severity, Status
from ledger_tools.config import Config
from ledger_tools.dates import FiscalYear
from ledger_tools.form.fields import APPLICABLE, NOT_APPLICABLE
from ledger_tools.ledger.entries import Ledger, LedgerEntry
from ledger_tools.ledger.readiness import hold_reasons


class HeldKind:
    """Why a held-back record is, or is not, counted as 該当 on the page (the page and the CLI say the same)."""

    APPLICABLE = "applicable"  # judged 該当, counted on the page, not yet publishable
    UNCONFIRMED = "unconfirmed"  # being corrected: whether it is 該当, or its date, cannot be read yet
    UNREADABLE = "unreadable"  # a file that cannot be read at all: its year is unknown


@dataclass
class Selection:
    """The records of one fiscal year sorted by what the publication does with them."""

    fiscal_year: FiscalYear
    period_start: dt.date  # the year's start, or operation_start in the first year
    judged: Counter[str] = field(default_factory=Counter)  # APPLICABLE, NOT_APPLICABLE, "undecided"
    applicable: list[LedgerEntry] = field(default_factory=list)  # counted as 該当: published or held back
    publishable: list[LedgerEntry] = field(default_factory=list)  # in the order of their 通番
    held: list[tuple[LedgerEntry, tuple[str, ...], str]] = field(default_factory=list)  # reasons, HeldKind
    out_of_scope: list[LedgerEntry] = field(default_factory=list)  # 該当 with an exclusion: never published
    before_operation: list[LedgerEntry] = field(
        default_factory=list
    )  # first year only: received before start


def departments_for_year(config: Config, fiscal_year: FiscalYear) -> dict[str, tuple[str, ...]]:
    """Every 機関 listed in the year's publication and its 部局, in order: each one in force at any
    time in the year, under the name it had then (a later reorganisation changes nothing here)."""
    listed: dict[str, dict[str, None]] = {}
    for organ, department in config.departments_in_force_during(fiscal_year.start, fiscal_year.end):
        listed.setdefault(organ, {})[department] = None
    return {organ: tuple(departments) for organ, departments in listed.items()}


# The values the choice reads: here (selection, the page's order) and in readiness.hold_reasons.
SELECTION_VALUE_IDS = frozenset({"received_date", "supervisor_judgement", "organ", "department"})
READINESS_VALUE_IDS = frozenset(
    {"shared_with_general_affairs_date", "public_summary", "measures_needed", "public_measures"}
)


def may_be_selected(fiscal_year: FiscalYear, period_start: dt.date) -> Callable[[Mapping[str, Any]], bool]:
    """Whether an entry of ``ledger.json`` (as JSON, before decoding) may take a place in the year's
    selection: ``_select`` leaves every other one out (skipped, or received after the year, or before
    it except in the first year). In doubt (a shape ``from_json`` refuses) it is kept, to be refused."""
    first_year = period_start > fiscal_year.start
    last_day = fiscal_year.end

    def keep(data: Mapping[str, Any]) -> bool:
        status = data.get("status")
        if status == Status.SKIPPED:
            return False
        values = data.get("values")
        received = values.get("received_date") if isinstance(values, dict) else None
        if status == Status.UNREADABLE or not isinstance(received, str):
            return True
        try:
            day = dt.date.fromisoformat(received)
        except ValueError:
            return True
        return day <= last_day and (first_year or day >= period_start)

    return keep


def select_records(ledger: Ledger, config: Config, fiscal_year: FiscalYear) -> Selection:
    """Every entry of the ledger in its place; the publishable ones numbered in the page's order."""
    selection = Selection(fiscal_year, max(fiscal_year.start, config.rules.operation_start))
    place = _Place(selection)
    for entry in ledger.entries:
        place(entry)
    organisation = departments_for_year(config, fiscal_year)
    order = _Order(organisation)
    selection.publishable.sort(key=order.key)
    selection.held.sort(key=lambda item: (item[0].path, item[0].record_id or ""))
    selection.out_of_scope.sort(key=lambda e: (e.path, e.record_id or ""))
    selection.before_operation.sort(key=lambda e: (e.path, e.record_id or ""))
    return selection


class _Place:
    """Puts an entry in its place in the selection (the year's dates computed once, not per entry)."""

    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self.period_start = selection.period_start
        self.first_year = selection.period_start > selection.fiscal_year.start  # lists what came before
        self.start, self.end = selection.fiscal_year.start, selection.fiscal_year.end

    def __call__(self, entry: LedgerEntry) -> None:
        selection, status = self.selection, entry.status
        if status is Status.SKIPPED:
            return
        if status is Status.UNREADABLE:  # it may be any record of any year: never left out silently
            selection.held.append((entry, ("unreadable",), HeldKind.UNREADABLE))
            return
        values = entry.values
        received = values.get("received_date")
        if isinstance(received, dt.date):
            if received < self.period_start:  # an earlier year's
                if self.first_year:
                    selection.before_operation.append(entry)
                return
            in_year = self.start <= received <= self.end
        else:
            in_year = False
        judgement = values.get("supervisor_judgement")
        counted = in_year and _in_scope(entry)
        if counted:
            selection.judged[judgement if judgement in (APPLICABLE, NOT_APPLICABLE) else "undecided"] += 1
        if counted and judgement == APPLICABLE:
            _select_applicable(selection, entry)
        elif status is Status.EXCLUDED and judgement == APPLICABLE and (in_year or received is None):
            selection.out_of_scope.append(entry)  # an exclusion applies: never published, but listed
        elif status is Status.INVALID and _may_be_applicable(entry) and (in_year or received is None):
            selection.held.append((entry, hold_reasons(entry), HeldKind.UNCONFIRMED))


def _select_applicable(selection: Selection, entry: LedgerEntry) -> None:
    """A 該当 record counted in the year: publishable, or held back with its reasons."""
    selection.applicable.append(entry)
    reasons = hold_reasons(entry)
    if entry.status is not Status.OK and "error" not in reasons and "conflict" not in reasons:
        reasons = ("error", *reasons)  # never published unless valid
    if reasons:
        selection.held.append((entry, reasons, HeldKind.APPLICABLE))
    else:
        selection.publishable.append(entry)


def _in_scope(entry: LedgerEntry) -> bool:
    """Counted on the page: valid records in scope, and records being corrected that state no exclusion."""
    return entry.status in (Status.OK, Status.NOT_APPLICABLE) or (
        entry.status is Status.INVALID and not entry.exclusions
    )


def _may_be_applicable(entry: LedgerEntry) -> bool:
    """Judged 該当, or a judgement that is there but cannot be read: it might be 該当."""
    if entry.values.get("supervisor_judgement") == APPLICABLE:
        return True
    return any(f.field == "supervisor_judgement" and f.severity is Severity.ERROR for f in entry.findings)


class _Order:
    """The page's order of the publishable records: the organs and departments of the year in the
    configuration's order (unknown names after them), then the date."""

    def __init__(self, organisation: Mapping[str, tuple[str, ...]]) -> None:
        self.organs = {name: i for i, name in enumerate(organisation)}
        self.departments = {
            name: {d: i for i, d in enumerate(departments)} for name, departments in organisation.items()
        }

    def key(self, entry: LedgerEntry) -> tuple:
        values = entry.values
        organ = values.get("organ")
        organ = "" if organ is None else str(organ)
        departments = self.departments.get(organ, {})
        department = values.get("department")
        department = "" if department is None else str(department)
        return (
            self.organs.get(organ, len(self.organs)),
            organ,
            values["received_date"],
            departments.get(department, len(departments)),
            department,
            entry.record_id or "",
            entry.path,
        )


def _text(value: object) -> str:
    return "" if value is None else str(value)
