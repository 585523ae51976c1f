"""The yearly publication (spec §7): the page, the open-data CSVs and the reconciliation report.

``build_publication`` turns the ledger into a ``Publication`` (the numbers and the public rows);
the renderers turn it into files. Only the columns of ``PUBLIC_COLUMNS`` — each a public field
of the catalogue — are ever copied out of a record, so names, affiliations, sections, record ids
and the other free text cannot reach ``publication/``. The reconciliation report, which may name
files and record ids, is internal and written beside the ledger, never under ``publication/``.

Every 該当 record of the year is either published, held back with its reasons, or listed as out of
scope (an exclusion applies, so it is never published); publishing with records held back needs
``allow_pending``. The counts and breakdowns cover every 該当 record of the year, published or
held back. The output depends only on the ledger, the configuration and the fiscal year (no
clock), so publishing twice gives byte-identical files.

Publishing holds the aggregator's lock on DIR and swaps a fully written folder into
DIR/publication/<FY>/, so a reader never sees the files of two runs mixed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ledger_tools.check.findings import STATUS_LABELS_JA, Severity, Status
from ledger_tools.config import Config, config_digest
from ledger_tools.dates import FiscalYear, to_wareki, to_wareki_month
from ledger_tools.form.fields import (
    APPLICABLE,
    FIELD_BY_ID,
    MEASURES_NEEDED,
    NOT_APPLICABLE,
    PUBLIC_FIELD_IDS,
    filled,
)
from ledger_tools.ledger.aggregation import load_verified_ledger
from ledger_tools.ledger.entries import Ledger, LedgerEntry, load_ledger
from ledger_tools.outputs import (
    OutputError,
    OutputSet,
    csv_bytes,
    describe_os_error,
    directory_lock,
    write_bytes_atomic,
)
from ledger_tools.pages import template_environment

PUBLICATION_DIR = "publication"  # DIR/publication/<FY>/ holds what goes on the website, and nothing else
PAGE_FILE = "index.html"
STYLESHEET_FILE = "style.css"
LOCK_WAIT_SECONDS = 10.0  # publishing while another run holds DIR waits this long, then refuses
UNKNOWN = "不明"  # a breakdown value of a record held back that cannot be read


def records_csv_name(fiscal_year: FiscalYear) -> str:
    return f"records_{fiscal_year}.csv"


def counts_csv_name(fiscal_year: FiscalYear) -> str:
    return f"counts_{fiscal_year}.csv"


def reconciliation_name(fiscal_year: FiscalYear) -> str:
    """Internal: DIR/公表照合表_<FY>.csv, beside the ledger (never under publication/)."""
    return f"公表照合表_{fiscal_year}.csv"


class PublicationError(Exception):
    """The publication cannot be made as asked (a fiscal year outside the ledger's period, DIR unwritable)."""


class PublicationLocked(PublicationError):
    """Another aggregation or publication is using the same DIR."""


class PublicationRefused(PublicationError):
    """Some 該当 records of the year are held back and publishing with them was not allowed."""

    def __init__(self, publication: Publication, reconciliation: Reconciliation, report: Path):
        self.publication = publication
        self.reconciliation = reconciliation
        self.report = report
        held = publication.held_back
        super().__init__(
            f"{publication.fiscal_year.label_with_western}の公表を中止しました: 公表できない記録が{held.total}件あります"
            f"（{held.text()}）。"
            f"照合表 {report} で記録を確認し、準備が整ってから再実行してください。"
            "保留したまま公表するときは --allow-pending を付けてください。"
        )


# --- what may be published -------------------------------------------------------------------


@dataclass(frozen=True)
class PublicColumn:
    """One column of the published list: a public field of the catalogue and its heading."""

    field_id: str
    header: str


NUMBER_HEADER = "通番"
DATE_HEADERS = {"day": "働きかけを受けた日", "month": "働きかけを受けた月"}
# The explicit list of what leaves the ledger (spec §7), in the order of the page and the CSV.
PUBLIC_COLUMNS: tuple[PublicColumn, ...] = (
    PublicColumn("received_date", DATE_HEADERS["day"]),
    PublicColumn("organ", "機関"),
    PublicColumn("department", "部局"),
    PublicColumn("business_type", "事務の区分"),
    PublicColumn("requester_category", "相手方の区分"),
    PublicColumn("method", "方法"),
    PublicColumn("public_summary", "概要"),
    PublicColumn("told_cannot_comply", "応じられない旨の伝達"),
    PublicColumn("told_will_be_recorded", "記録される旨の伝達"),
    PublicColumn("requester_withdrew", "相手方の撤回"),
    PublicColumn("measures_needed", "措置の要否"),
    PublicColumn("public_measures", "措置の概要"),
)
_not_public = [c.field_id for c in PUBLIC_COLUMNS if c.field_id not in PUBLIC_FIELD_IDS]
if _not_public:  # a guard that survives python -O, unlike assert
    raise RuntimeError(f"PUBLIC_COLUMNS names fields that the catalogue does not mark public: {_not_public}")


# The page groups the list by 機関 (in each heading and caption), so its tables leave that column out.
PAGE_LIST_COLUMNS: tuple[PublicColumn, ...] = tuple(c for c in PUBLIC_COLUMNS if c.field_id != "organ")


def records_header(date_precision: str) -> list[str]:
    """The records CSV's header: 通番 and the public columns, nothing else."""
    return [NUMBER_HEADER] + [
        DATE_HEADERS[date_precision] if c.field_id == "received_date" else c.header for c in PUBLIC_COLUMNS
    ]


@dataclass(frozen=True)
class PublishedRecord:
    """A 該当 record as published: its number and the public columns only."""

    number: int
    date_iso: str  # 2025-06-10, or 2025-06 with month precision
    date_label: str  # 令和7年6月10日, or 令和7年6月
    values: Mapping[str, str]  # the other public columns as text ("" when empty)

    def csv_row(self) -> list[str | int]:
        return [self.number] + [
            self.date_iso if c.field_id == "received_date" else self.values[c.field_id]
            for c in PUBLIC_COLUMNS
        ]


def _public_record(number: int, values: Mapping[str, Any], date_precision: str) -> PublishedRecord:
    """Copy the public columns out of a record's values; nothing else is read."""
    received: dt.date = values["received_date"]
    if date_precision == "month":
        date_iso, date_label = f"{received:%Y-%m}", to_wareki_month(received)
    else:
        date_iso, date_label = received.isoformat(), to_wareki(received)
    texts = {
        c.field_id: _text(values.get(c.field_id)) for c in PUBLIC_COLUMNS if c.field_id != "received_date"
    }
    return PublishedRecord(number, date_iso, date_label, texts)


def _text(value: object) -> str:
    return "" if value is None else str(value)


# --- why a record is held back ----------------------------------------------------------------

# Reason codes of the reconciliation report, in the order they are listed. Each holds a record back.
HOLD_REASONS: dict[str, str] = {
    "unreadable": "読み取れないファイル（年度不明）",
    "conflict": "整理番号の重複（内容の異なる別ファイルあり）",
    "error": "要修正のエラーあり",
    "not_shared": "総務課への共有日が未記入",
    "no_public_summary": "公表用の概要が未記入",
    "no_public_measures": "措置が「要」なのに公表用の措置の概要が未記入",
}
# Reasons a 該当 record is listed but never published, and never holds the publication back.
OUT_OF_SCOPE_REASONS: dict[str, str] = {
    "excluded": "除外事由に該当（公表の対象外）",
}
REASON_TEXTS = {**HOLD_REASONS, **OUT_OF_SCOPE_REASONS}


class HeldKind:
    """Why a held-back record is, or is not, counted as 該当 on the page (the page and the CLI say the same)."""

    APPLICABLE = "applicable"  # judged 該当, counted on the page, not yet publishable
    UNCONFIRMED = "unconfirmed"  # being corrected: whether it is 該当, or its date, cannot be read yet
    UNREADABLE = "unreadable"  # a file that cannot be read at all: its year is unknown


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
        return "保留" if self.reasons else "対象外" if self.notes else "公表"


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


@dataclass(frozen=True)
class Tally:
    label: str
    count: int
    iso: str = ""  # for months: 2025-04


@dataclass(frozen=True)
class OrganGroup:
    """One 機関: its 該当 records (published or held back), every department of the configuration,
    and its published records."""

    name: str
    count: int  # every 該当 record of the organ, published or held back
    departments: tuple[Tally, ...]
    records: tuple[PublishedRecord, ...]

    @property
    def not_published(self) -> int:
        return self.count - len(self.records)


@dataclass(frozen=True)
class Counts:
    """The year's numbers (spec §7), always shown, zero included."""

    recorded: int  # received in the year, in scope (not excluded); includes records being corrected
    applicable: int  # judged 不当な働きかけに該当する (published or held back)
    not_applicable: int  # judged 該当しない
    undecided: int  # 判断中, not yet judged, or a judgement that cannot be read
    published: int


@dataclass(frozen=True)
class Bar:
    """One bar of the monthly chart, in the SVG's user units."""

    x: float | int
    y: float | int
    width: float | int
    height: float | int
    label: str
    count: int
    label_x: float | int
    count_y: float | int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    month_label_y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Publication:
    """Everything the page and the CSVs show for one fiscal year, and what is held back."""

    fiscal_year: FiscalYear
    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    date_precision: str
    counts: Counts
    organs: tuple[OrganGroup, ...]
    by_business_type: tuple[Tally, ...]
    by_requester_category: tuple[Tally, ...]
    by_method: tuple[Tally, ...]
    by_month: tuple[Tally, ...]
    records: tuple[PublishedRecord, ...]
    held_back: HeldBack = field(default_factory=HeldBack)  # details in the internal reconciliation only
    out_of_scope: int = 0  # 該当 records with an exclusion: never published, listed in the reconciliation

    @property
    def in_progress(self) -> bool:
        """The year had not ended on the ledger's reference date."""
        return self.as_of < self.period_end


# --- building the publication -----------------------------------------------------------------


def check_fiscal_year(fiscal_year: FiscalYear, config: Config, as_of: dt.date) -> None:
    """Refuse a year before the system started or one that had not begun on the reference date."""
    start = config.rules.operation_start
    if fiscal_year.end < start:
        raise PublicationError(
            f"{fiscal_year.label_with_western}は制度の運用開始（{to_wareki(start)}）より前の年度です。"
        )
    if fiscal_year.start > as_of:
        raise PublicationError(
            f"{fiscal_year.label_with_western}は基準日（{as_of.isoformat()}）にはまだ始まっていません。年度を確認してください。"
        )


def build_publication(
    ledger: Ledger, config: Config, fiscal_year: FiscalYear
) -> tuple[Publication, Reconciliation]:
    """Count the year's records and choose the publishable 該当 records. The reconciliation lists every
    該当 record of the year (and every record that may be one): published, held back with its reasons,
    or out of scope; the breakdowns cover every 該当 record, published or held back."""
    check_fiscal_year(fiscal_year, config, ledger.as_of)
    precision = config.publication.date_precision
    judged: Counter[str] = Counter()
    applicable: list[LedgerEntry] = []  # counted as 該当 on the page: published or held back
    publishable: list[LedgerEntry] = []
    held: list[tuple[LedgerEntry, tuple[str, ...], str]] = []
    out_of_scope: list[LedgerEntry] = []
    for entry in ledger.entries:
        if entry.status is Status.SKIPPED:
            continue
        if entry.status is Status.UNREADABLE:  # it may be any record of any year: never left out silently
            held.append((entry, ("unreadable",), HeldKind.UNREADABLE))
            continue
        received = entry.values.get("received_date")
        in_year = isinstance(received, dt.date) and received in fiscal_year
        judgement = entry.values.get("supervisor_judgement")
        counted = in_year and _in_scope(entry)
        if counted:
            judged[judgement if judgement in (APPLICABLE, NOT_APPLICABLE) else "undecided"] += 1
        if counted and judgement == APPLICABLE:
            applicable.append(entry)
            reasons = _hold_reasons(entry)
            if entry.status is not Status.OK and not {"error", "conflict"} & set(reasons):
                reasons = ("error", *reasons)  # never published unless valid
            if reasons:
                held.append((entry, reasons, HeldKind.APPLICABLE))
            else:
                publishable.append(entry)
        elif entry.status is Status.EXCLUDED and judgement == APPLICABLE and (in_year or received is None):
            out_of_scope.append(entry)  # an exclusion applies: never published, but listed
        elif entry.status is Status.INVALID and _may_be_applicable(entry) and (in_year or received is None):
            held.append((entry, _hold_reasons(entry), HeldKind.UNCONFIRMED))

    organ_order = {name: i for i, name in enumerate(config.organ_names)}
    publishable.sort(key=lambda e: _record_sort_key(e, organ_order, config))
    records = tuple(_public_record(n, e.values, precision) for n, e in enumerate(publishable, start=1))
    held.sort(key=lambda item: (item[0].path, item[0].record_id or ""))
    out_of_scope.sort(key=lambda e: (e.path, e.record_id or ""))
    rows = (
        tuple(_reconciliation_row(e, number) for number, e in enumerate(publishable, start=1))
        + tuple(_reconciliation_row(e, reasons=reasons, held_kind=kind) for e, reasons, kind in held)
        + tuple(_reconciliation_row(e, notes=("excluded",)) for e in out_of_scope)
    )
    reconciliation = Reconciliation(fiscal_year, rows)
    kinds = Counter(kind for _, _, kind in held)
    held_back = HeldBack(
        kinds[HeldKind.APPLICABLE],
        kinds[HeldKind.UNCONFIRMED],
        kinds[HeldKind.UNREADABLE],
        count_reasons(reconciliation.held_back),
    )
    counts = Counts(
        sum(judged.values()), judged[APPLICABLE], judged[NOT_APPLICABLE], judged["undecided"], len(records)
    )
    if counts.applicable != counts.published + held_back.applicable:  # a guard that survives python -O
        raise RuntimeError(
            f"該当 {counts.applicable}件 ≠ 公表 {counts.published}件 + 保留 {held_back.applicable}件"
        )

    published_ids = {id(e) for e in publishable}
    keys = [_breakdown_key(e, config, published=id(e) in published_ids) for e in applicable]
    period_start = max(fiscal_year.start, config.rules.operation_start)
    publication = Publication(
        fiscal_year=fiscal_year,
        as_of=ledger.as_of,
        period_start=period_start,
        period_end=fiscal_year.end,
        date_precision=precision,
        counts=counts,
        organs=_organ_groups(keys, records, config),
        by_business_type=_tally(keys, "business_type"),
        by_requester_category=_tally(keys, "requester_category"),
        by_method=_tally(keys, "method"),
        by_month=_months(keys, fiscal_year, period_start),
        records=records,
        held_back=held_back,
        out_of_scope=len(out_of_scope),
    )
    return publication, reconciliation


def _in_scope(entry: LedgerEntry) -> bool:
    """Counted on the page: valid records in scope, and records being corrected that state no exclusion."""
    return entry.status in (Status.OK, Status.NOT_APPLICABLE) or (
        entry.status is Status.INVALID and not entry.exclusions
    )


BREAKDOWN_FIELDS = ("organ", "department", "business_type", "requester_category", "method")


def _breakdown_key(entry: LedgerEntry, config: Config, published: bool) -> dict[str, str]:
    """What a 該当 record adds to the breakdowns. A published record adds its published values; a record
    held back adds only values of the catalogue or configuration, 不明 for anything else (a value being
    corrected may be free text, which must never reach the page)."""
    values = entry.values
    key = {"month": f"{values['received_date']:%Y-%m}"}
    if published:
        key.update({f: _text(values.get(f)) for f in BREAKDOWN_FIELDS})
        return key
    organ = values.get("organ")
    organ = organ if organ in config.organ_names else UNKNOWN
    department = values.get("department")
    key["organ"] = organ
    key["department"] = department if department in config.departments_by_organ.get(organ, ()) else UNKNOWN
    for f in ("business_type", "requester_category", "method"):
        value = values.get(f)
        key[f] = value if isinstance(value, str) and value in FIELD_BY_ID[f].choices else UNKNOWN
    return key


def _reconciliation_row(
    entry: LedgerEntry,
    number: int | None = None,
    *,
    reasons: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    held_kind: str = "",
) -> ReconciliationRow:
    received = entry.values.get("received_date")
    return ReconciliationRow(
        record_id=entry.record_id or "",
        path=entry.path,
        status=entry.status,
        organ=_text(entry.values.get("organ")),
        department=_text(entry.values.get("department")),
        received_date=received if isinstance(received, dt.date) else None,
        number=number,
        reasons=reasons,
        notes=notes,
        held_kind=held_kind,
    )


def _hold_reasons(entry: LedgerEntry) -> tuple[str, ...]:
    values = entry.values
    reasons = []
    errors = [f for f in entry.findings if f.severity is Severity.ERROR]
    if any(f.code == "record_id_conflict" for f in errors):
        reasons.append("conflict")
    if any(f.code != "record_id_conflict" for f in errors):
        reasons.append("error")
    if not filled(values.get("shared_with_general_affairs_date")):
        reasons.append("not_shared")
    if not filled(values.get("public_summary")):
        reasons.append("no_public_summary")
    if values.get("measures_needed") == MEASURES_NEEDED and not filled(values.get("public_measures")):
        reasons.append("no_public_measures")
    return tuple(reasons)


def _may_be_applicable(entry: LedgerEntry) -> bool:
    """Judged 該当, or a judgement that is there but cannot be read: it might be 該当."""
    if entry.values.get("supervisor_judgement") == APPLICABLE:
        return True
    return any(f.field == "supervisor_judgement" and f.severity is Severity.ERROR for f in entry.findings)


def _record_sort_key(entry: LedgerEntry, organ_order: Mapping[str, int], config: Config) -> tuple:
    organ = _text(entry.values.get("organ"))
    departments = config.departments_by_organ.get(organ, ())
    department = _text(entry.values.get("department"))
    return (
        organ_order.get(organ, len(organ_order)),
        organ,
        entry.values["received_date"],
        departments.index(department) if department in departments else len(departments),
        department,
        entry.record_id or "",
        entry.path,
    )


def _ordered(counter: Counter[str], known: Iterable[str]) -> list[str]:
    """The known labels in their order (zero included), then unexpected ones, then 不明 when counted."""
    known = list(known)
    unexpected = sorted(set(counter) - set(known) - {UNKNOWN})
    return known + unexpected + ([UNKNOWN] if counter[UNKNOWN] and UNKNOWN not in known else [])


def _organ_groups(
    keys: list[dict[str, str]], records: tuple[PublishedRecord, ...], config: Config
) -> tuple[OrganGroup, ...]:
    """Every organ and department of the configuration, zero included; unknown names after them."""
    by_organ = Counter(k["organ"] for k in keys)
    groups = []
    for name in _ordered(by_organ, config.organ_names):
        counter = Counter(k["department"] for k in keys if k["organ"] == name)
        departments = _ordered(counter, config.departments_by_organ.get(name, ()))
        mine = tuple(r for r in records if r.values["organ"] == name)
        groups.append(
            OrganGroup(name, by_organ[name], tuple(Tally(d, counter[d]) for d in departments), mine)
        )
    return tuple(groups)


def _tally(keys: Iterable[Mapping[str, str]], field_id: str) -> tuple[Tally, ...]:
    """Every choice of the catalogue in its order, zero included; unexpected values and 不明 after them."""
    counter = Counter(k[field_id] for k in keys)
    return tuple(Tally(label, counter[label]) for label in _ordered(counter, FIELD_BY_ID[field_id].choices))


def _months(
    keys: Iterable[Mapping[str, str]], fiscal_year: FiscalYear, period_start: dt.date
) -> tuple[Tally, ...]:
    """April → March; a first year that starts late (令和6年度: only 3月) shows its months only."""
    counter = Counter(k["month"] for k in keys)
    first = f"{period_start:%Y-%m}"
    months = []
    day = fiscal_year.start
    while day <= fiscal_year.end:
        iso = f"{day:%Y-%m}"
        if iso >= first or counter[iso]:
            months.append(Tally(to_wareki_month(day), counter[iso], iso))
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return tuple(months)


# --- rendering --------------------------------------------------------------------------------

COUNTS_HEADER = ("年度", "表", "項目", "内訳", "件数")
COUNT_LABELS = {
    "recorded": "記録された働きかけ（除外事由に当たるものを除く）",
    "applicable": "不当な働きかけに該当すると判断したもの",
    "not_applicable": "該当しないと判断したもの",
    "undecided": "判断中のもの",
    "published": "この公表に掲載した不当な働きかけ",
}
BREAKDOWN_TITLES = {
    "organ": "機関・部局",
    "business_type": "事務の区分",
    "requester_category": "相手方の区分",
    "method": "方法",
    "month": "月",
}
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


def records_csv(publication: Publication) -> bytes:
    """The open-data list: 通番 and the public columns, one record per row."""
    return csv_bytes(records_header(publication.date_precision), (r.csv_row() for r in publication.records))


def counts_rows(publication: Publication) -> list[tuple[str, str, str, str, int]]:
    """The numbers of the page, one per row (tidy: 年度, 表, 項目, 内訳, 件数)."""
    year = str(publication.fiscal_year)
    counts = publication.counts
    rows: list[tuple[str, str, str, str, int]] = [
        (year, "件数", COUNT_LABELS[name], "", getattr(counts, name)) for name in COUNT_LABELS
    ]
    for group in publication.organs:
        rows.append((year, BREAKDOWN_TITLES["organ"], group.name, "", group.count))
        rows.extend(
            (year, BREAKDOWN_TITLES["organ"], group.name, d.label, d.count) for d in group.departments
        )
    for key, tallies in (
        ("business_type", publication.by_business_type),
        ("requester_category", publication.by_requester_category),
        ("method", publication.by_method),
    ):
        rows.extend((year, BREAKDOWN_TITLES[key], t.label, "", t.count) for t in tallies)
    rows.extend((year, BREAKDOWN_TITLES["month"], t.iso, "", t.count) for t in publication.by_month)
    return rows


def counts_csv(publication: Publication) -> bytes:
    return csv_bytes(COUNTS_HEADER, counts_rows(publication))


def reconciliation_csv(reconciliation: Reconciliation) -> bytes:
    """Internal: every 該当 record of the year: published (with its 通番), held back (保留, with the
    reasons) or out of scope (対象外: an exclusion applies), and every record that may be 該当."""
    rows = [
        [
            r.record_id,
            r.path,
            STATUS_LABELS_JA[r.status],
            r.organ,
            r.department,
            r.received_date,
            r.outcome,
            r.number,
            "、".join(REASON_TEXTS[code] for code in (*r.reasons, *r.notes)),
            " ".join((*r.reasons, *r.notes)),
        ]
        for r in reconciliation.rows
    ]
    return csv_bytes(RECONCILIATION_HEADER, rows)


def monthly_chart(months: tuple[Tally, ...]) -> Chart:
    """Bar geometry for the inline SVG; every bar also carries its number as text."""
    width, height, top, bottom, left = 640, 240, 28.0, 40.0, 8.0
    baseline = height - bottom
    slot = (width - 2 * left) / max(len(months), 1)
    peak = max((m.count for m in months), default=0) or 1
    bars = []
    for i, month in enumerate(months):
        bar_height = (baseline - top) * month.count / peak
        bars.append(
            Bar(
                x=_coord(left + i * slot + slot * 0.2),
                y=_coord(baseline - bar_height),
                width=_coord(slot * 0.6),
                height=_coord(bar_height),
                label=month.label.split("年")[-1],
                count=month.count,
                label_x=_coord(left + (i + 0.5) * slot),
                count_y=_coord(baseline - bar_height - 6),
            )
        )
    return Chart(width, height, baseline, baseline + 22, tuple(bars))


def _coord(value: float) -> float | int:
    """A coordinate written the same way on every run: 34, 86.5."""
    value = round(value, 1)
    return int(value) if value == int(value) else value


def human_size(size: int) -> str:
    return f"{size:,}バイト" if size < 1024 else f"{size / 1024:.1f}KB（{size:,}バイト）"


STYLESHEET_SOURCE = "publication.css"  # in ledger_tools/templates/, published as style.css
PAGE_TEMPLATE = "publication.html.j2"


def stylesheet() -> bytes:
    return resources.files("ledger_tools").joinpath("templates", STYLESHEET_SOURCE).read_bytes()


def render_page(publication: Publication, downloads: Mapping[str, int]) -> str:
    """The HTML page; ``downloads`` maps the CSV file names to their sizes in bytes."""
    fy = publication.fiscal_year
    return (
        template_environment()
        .get_template(PAGE_TEMPLATE)
        .render(
            pub=publication,
            title=f"{fy.label}（{fy.start_year}年度）不当な働きかけの記録の状況",
            count_labels=COUNT_LABELS,
            columns=PAGE_LIST_COLUMNS,
            number_header=NUMBER_HEADER,
            date_header=DATE_HEADERS[publication.date_precision],
            unknown=UNKNOWN,
            chart=monthly_chart(publication.by_month),
            records_csv=records_csv_name(fy),
            counts_csv=counts_csv_name(fy),
            downloads={name: human_size(size) for name, size in downloads.items()},
            stylesheet=STYLESHEET_FILE,
        )
    )


def render_files(publication: Publication) -> dict[str, bytes]:
    """Every file of DIR/publication/<FY>/ by name: the page, its stylesheet and the two CSVs."""
    fy = publication.fiscal_year
    data = {records_csv_name(fy): records_csv(publication), counts_csv_name(fy): counts_csv(publication)}
    page = render_page(publication, {name: len(content) for name, content in data.items()})
    return {PAGE_FILE: page.encode("utf-8"), STYLESHEET_FILE: stylesheet(), **data}


# --- publishing -------------------------------------------------------------------------------


@dataclass
class PublishResult:
    """What ``publish`` wrote: the publication directory, its files and the reconciliation report."""

    publication: Publication
    reconciliation: Reconciliation
    directory: Path  # DIR/publication/<FY>
    files: list[Path]
    report: Path  # DIR/公表照合表_<FY>.csv (internal)

    @property
    def page(self) -> Path:
        return self.directory / PAGE_FILE

    def summary_text(self) -> str:
        pub = self.publication
        c = pub.counts
        lines = [
            f"{pub.fiscal_year.label_with_western}の公表を書き出しました（{pub.as_of.isoformat()}現在の台帳）。",
            f"  記録 {c.recorded}件（該当 {c.applicable}件、非該当 {c.not_applicable}件、判断中 {c.undecided}件）、公表 {c.published}件",
        ]
        held = pub.held_back
        if held:
            lines.append(
                f"  公表を保留した記録: {held.total}件（{held.groups_text()}）。ページにも同じ件数を記載しています。"
            )
            if held.reasons_text():
                lines.append(f"    理由: {held.reasons_text()}。照合表で確認してください。")
        if pub.out_of_scope:
            lines.append(
                f"  除外事由に該当するのに「該当する」と判断された記録: {pub.out_of_scope}件（公表の対象外。照合表に記載）"
            )
        lines.append(f"  ページ: {self.page.resolve()}")
        lines.append(f"  ブラウザで開く: {self.page.resolve().as_uri()}")
        lines.append("  CSV: " + "、".join(str(p.resolve()) for p in self.files if p.suffix == ".csv"))
        lines.append(f"  照合表（内部用・公開しない）: {self.report.resolve()}")
        return "\n".join(lines) + "\n"


def publication_directory(out_dir: Path, fiscal_year: FiscalYear) -> Path:
    return Path(out_dir) / PUBLICATION_DIR / str(fiscal_year)


def publication_lock(out_dir: Path, wait: float = LOCK_WAIT_SECONDS):
    """DIR's lock (the aggregator's): no aggregation or other publication writes DIR meanwhile."""
    return directory_lock(out_dir, wait, PublicationLocked, PublicationError)


_STAGING, _ASIDE = ".new-", ".old-"  # DIR/publication/.<FY>.new-XXXX, .<FY>.old-XXXX while swapping


def _remove_stale_folders(parent: Path) -> None:
    """Folders left by a publication that was killed while swapping (under the lock: none is in use)."""
    if parent.is_dir():
        for folder in [*parent.glob(f".*{_STAGING}*"), *parent.glob(f".*{_ASIDE}*")]:
            shutil.rmtree(folder, ignore_errors=True)


def write_folder(directory: Path, files: Mapping[str, bytes]) -> None:
    """Replace ``directory`` by a folder holding exactly ``files``, as a whole (``outputs.OutputSet``:
    staged beside it, swapped in with a journal). A failure leaves the old folder as it was."""
    try:
        with OutputSet(directory.parent) as outputs:
            staging = outputs.folder(directory.name)
            for name, content in files.items():
                write_bytes_atomic(staging / name, content)
    except OSError as e:
        raise PublicationError(
            f"公表フォルダ（{directory.parent}）に書き込めません: {describe_os_error(e)}"
        ) from None
    except OutputError as e:
        raise PublicationError(
            f"公表フォルダ（{directory}）を{'置き換えられません' if e.replacing else '書き込めません'}: {e.reason}。"
            "中のファイルをExcel等で開いていれば閉じてから実行し直してください。"
        ) from None


def _publish_unlocked(
    ledger: Ledger, out_dir: Path, config: Config, fiscal_year: FiscalYear, allow_pending: bool
) -> PublishResult:
    if ledger.config_digest is not None and ledger.config_digest != config_digest(config):
        # Another configuration could publish what the aggregation's must not (day instead of month).
        raise PublicationError(
            "台帳を作った集計（aggregate）と異なる設定で公表しようとしています。"
            "--config に集計のときと同じ設定ファイルを指定してください（設定を変えたときは先に aggregate を実行し直してください）。"
        )
    publication, reconciliation = build_publication(ledger, config, fiscal_year)
    report = Path(out_dir) / reconciliation_name(fiscal_year)
    write_bytes_atomic(report, reconciliation_csv(reconciliation))
    if publication.held_back and not allow_pending:
        raise PublicationRefused(publication, reconciliation, report)
    directory = publication_directory(out_dir, fiscal_year)
    _remove_stale_folders(directory.parent)
    files = render_files(publication)
    write_folder(directory, files)
    return PublishResult(publication, reconciliation, directory, [directory / name for name in files], report)


def publish_ledger(
    ledger: Ledger,
    out_dir: Path,
    config: Config,
    fiscal_year: FiscalYear,
    allow_pending: bool = False,
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> PublishResult:
    """Write DIR/publication/<FY>/ and DIR/公表照合表_<FY>.csv from ``ledger``, holding DIR's lock.

    The reconciliation report is written in every case; when records are held back and
    ``allow_pending`` is false, nothing is published and ``PublicationRefused`` says how many and why.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PublicationError(f"フォルダ（{out_dir}）を作れません: {e.strerror or e}") from None
    with publication_lock(out_dir, lock_wait):
        return _publish_unlocked(ledger, out_dir, config, fiscal_year, allow_pending)


def publish(
    directory: Path,
    config: Config,
    fiscal_year: FiscalYear,
    allow_pending: bool = False,
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> PublishResult:
    """Publish the year from the ledger that ``aggregate`` left in ``directory``; the ledger is read
    and the files written under DIR's lock, so an aggregation never runs in between.

    Example: publish(Path("集計"), load_config(), FiscalYear.parse("R7"))
    """
    directory = Path(directory)
    if not directory.is_dir():
        load_ledger(directory)  # raises LedgerError: no ledger (and no folder to lock) there
    with publication_lock(directory, lock_wait):
        return _publish_unlocked(
            load_verified_ledger(directory), directory, config, fiscal_year, allow_pending
        )
