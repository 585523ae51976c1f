"""The internal reconciliation report (公表照合表): every 該当 record of the year, published, held back
with its reasons, or out of scope. It may name files and record ids, so it is written beside the
ledger, never under ``publication/``."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ledger_tools.check.findings import STATUS_LABELS_JA, Status
from ledger_tools.dates import FiscalYear
from ledger_tools.ledger.entries import LedgerEntry
from ledger_tools.ledger.readiness import HOLD_REASONS
from ledger_tools.outputs import neutralise_formula
from ledger_tools.publish.csv_text import csv_line, lines_csv_bytes, plain_lines
from ledger_tools.publish.selection import HeldKind, Selection


def reconciliation_name(fiscal_year: FiscalYear) -> str:
    """Internal: DIR/公表照合表_<FY>.csv, beside the ledger (never under publication/)."""
    return f"公表照合表_{fiscal_year}.csv"


# --- why a record is held back ----------------------------------------------------------------

# Reasons a 該当 record is listed but never published, and never holds the publication back.
BEFORE_OPERATION = "before_operation"  # received before operation_start: in no publication nor count
OUT_OF_SCOPE_REASONS: dict[str, str] = {
    "excluded": "除外事由に該当（公表の対象外）",
    BEFORE_OPERATION: "運用開始前（制度の運用開始日より前に受けた記録。公表・件数の対象外）",
}
REASON_TEXTS = {**HOLD_REASONS, **OUT_OF_SCOPE_REASONS}


@dataclass(frozen=True)
class ReconciliationRow:
    """Internal: one record that is, or may be, 該当 in the year: published (number), held back
    (reasons, which block publishing) or out of scope (notes: listed, never published, never blocking)."""

    record_id: str
    path: str
    status: Status
    organ: str
    department: str
    received_date: dt.date | None
    number: int | None  # 通番 when published
    reasons: tuple[str, ...]  # codes of HOLD_REASONS when held back
    notes: tuple[str, ...] = ()  # codes of OUT_OF_SCOPE_REASONS when out of scope
    held_kind: str = ""  # a HeldKind when held back

    @property
    def outcome(self) -> str:
        if self.reasons:
            return "保留"
        if BEFORE_OPERATION in self.notes:
            return "運用開始前"
        return "対象外" if self.notes else "公表"


@dataclass(frozen=True)
class Reconciliation:
    """Internal (never under publication/): may name files and record ids."""

    fiscal_year: FiscalYear
    rows: tuple[ReconciliationRow, ...]

    @property
    def held_back(self) -> tuple[ReconciliationRow, ...]:
        return tuple(r for r in self.rows if r.reasons)


def count_reasons(rows: Iterable[ReconciliationRow]) -> tuple[tuple[str, int], ...]:
    """(reason code, number of records) in the order of HOLD_REASONS; a record may have several."""
    counter = Counter(reason for row in rows for reason in row.reasons)
    return tuple((code, counter[code]) for code in HOLD_REASONS if counter[code])


@dataclass(frozen=True)
class HeldBack:
    """The records held back, in the groups that the page's notice and the CLI both state."""

    applicable: int = 0  # HeldKind.APPLICABLE: counted as 該当 on the page
    unconfirmed: int = 0  # HeldKind.UNCONFIRMED: not counted as 該当
    unreadable: int = 0  # HeldKind.UNREADABLE: files, not counted at all
    by_reason: tuple[tuple[str, int], ...] = ()

    @property
    def total(self) -> int:
        return self.applicable + self.unconfirmed + self.unreadable

    def __bool__(self) -> bool:
        return self.total > 0

    def groups_text(self) -> str:
        """該当と判断された記録 4件、… — the same numbers as the page's notice."""
        groups = (
            (self.applicable, "該当と判断された記録（一覧に未掲載）"),
            (self.unconfirmed, "該当かどうか又は日付を確認中の記録"),
            (self.unreadable, "読み取れないファイル（年度不明）"),
        )
        return "、".join(f"{label} {n}件" for n, label in groups if n)

    def reasons_text(self) -> str:
        return "、".join(f"{HOLD_REASONS[code]} {n}件" for code, n in self.by_reason if code != "unreadable")

    def text(self) -> str:
        reasons = self.reasons_text()
        return self.groups_text() + (f"。理由: {reasons}" if reasons else "")


def reconcile(selection: Selection) -> Reconciliation:
    """The rows in the report's order: published (by 通番), held back, out of scope."""
    rows = (
        tuple(_reconciliation_row(e, number) for number, e in enumerate(selection.publishable, start=1))
        + tuple(
            _reconciliation_row(e, reasons=reasons, held_kind=kind) for e, reasons, kind in selection.held
        )
        + tuple(_reconciliation_row(e, notes=("excluded",)) for e in selection.out_of_scope)
        + tuple(_reconciliation_row(e, notes=(BEFORE_OPERATION,)) for e in selection.before_operation)
    )
    return Reconciliation(selection.fiscal_year, rows)


def held_back_of(reconciliation: Reconciliation) -> HeldBack:
    """The held-back records in the groups the page and the CLI state."""
    kinds = Counter(row.held_kind for row in reconciliation.held_back)
    return HeldBack(
        kinds[HeldKind.APPLICABLE],
        kinds[HeldKind.UNCONFIRMED],
        kinds[HeldKind.UNREADABLE],
        count_reasons(reconciliation.held_back),
    )


def _reconciliation_row(
    entry: LedgerEntry,
    number: int | None = None,
    *,
    reasons: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    held_kind: str = "",
) -> ReconciliationRow:
    values = entry.values
    received = values.get("received_date")
    organ, department = values.get("organ"), values.get("department")
    # One row per record of the year: made without the frozen dataclass's __init__, which sets each
    # of the ten fields through object.__setattr__ (≈ 3× the cost); the row is the same.
    row = object.__new__(ReconciliationRow)
    row.__dict__.update(
        record_id=entry.record_id or "",
        path=entry.path,
        status=entry.status,
        organ="" if organ is None else str(organ),
        department="" if department is None else str(department),
        received_date=received if isinstance(received, dt.date) else None,
        number=number,
        reasons=reasons,
        notes=notes,
        held_kind=held_kind,
    )
    return row


RECONCILIATION_HEADER = (
    "整理番号",
    "ファイル",
    "状態",
    "機関",
    "部局",
    "働きかけを受けた日",
    "公表",
    "通番",
    "公表しない理由",
    "理由コード",
)


def reconciliation_csv(reconciliation: Reconciliation) -> bytes:
    """Internal: every 該当 record of the year: published (with its 通番), held back (保留, with the
    reasons) or out of scope (対象外: an exclusion applies), and every record that may be 該当."""
    rows = reconciliation.rows
    lines = plain_lines([_cells(r) for r in rows], lambda i: _safe_cells(rows[i]))
    return lines_csv_bytes([csv_line(RECONCILIATION_HEADER), *lines])


def _cells(r: ReconciliationRow) -> tuple[str, ...]:
    """A row of the report as text, before ``neutralise_formula`` (``_safe_cells``)."""
    codes = (*r.reasons, *r.notes)
    return (
        r.record_id,
        r.path,
        STATUS_LABELS_JA[r.status],
        r.organ,
        r.department,
        r.received_date.isoformat() if r.received_date else "",
        r.outcome,
        "" if r.number is None else str(r.number),
        "、".join(REASON_TEXTS[code] for code in codes) if codes else "",
        " ".join(codes),
    )


def _safe_cells(r: ReconciliationRow) -> list[str | int]:
    """A row of the report, each cell a user may have written safe for a spreadsheet."""
    safe = neutralise_formula
    return [
        safe(r.record_id),
        safe(r.path),
        STATUS_LABELS_JA[r.status],
        safe(r.organ),
        safe(r.department),
        r.received_date.isoformat() if r.received_date else "",
        r.outcome,
        "" if r.number is None else r.number,
        "、".join(REASON_TEXTS[code] for code in (*r.reasons, *r.notes)),
        " ".join((*r.reasons, *r.notes)),
    ]
