"""The year's figures as data (spec §7): counts, breakdowns and the public rows, computed once into a
``Publication`` that the page and the CSVs both render. Only the columns of ``PUBLIC_COLUMNS`` — each
a public field of the catalogue — are ever copied out of a record, so names, affiliations, sections,
record ids and the other free text cannot reach ``publication/``. The counts and breakdowns cover
every 該当 record of the year, published or held back."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger_tools.config import Config
from ledger_tools.dates import FiscalYear, to_wareki, to_wareki_month
from ledger_tools.form.fields import APPLICABLE, FIELD_BY_ID, NOT_APPLICABLE, PUBLIC_FIELD_IDS
from ledger_tools.ledger.entries import Ledger, LedgerEntry, Projection
from ledger_tools.outputs import FORMULA_TRIGGERS, neutralise_formula
from ledger_tools.publish.errors import PublicationError
from ledger_tools.publish.reconciliation import HeldBack, Reconciliation, held_back_of, reconcile
from ledger_tools.publish.selection import (
    READINESS_VALUE_IDS,
    SELECTION_VALUE_IDS,
    Selection,
    departments_for_year,
    may_be_selected,
    select_records,
)

UNKNOWN = "不明"  # a breakdown value of a record held back that cannot be read
COUNT_LABELS = {
    "recorded": "記録された働きかけ（除外事由に当たるものを除く）",
    "applicable": "不当な働きかけに該当すると判断したもの",
    "not_applicable": "該当しないと判断したもの",
    "undecided": "判断中のもの",
    "published": "この公表に掲載した不当な働きかけ",
}


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


@dataclass(frozen=True)
class PublishedRecord:
    """A 該当 record as published: its number and the public columns only."""

    number: int
    date_iso: str  # 2025-06-10, or 2025-06 with month precision
    date_label: str  # 令和7年6月10日, or 令和7年6月
    values: Mapping[str, str]  # the other public columns as text ("" when empty)

    def csv_row(self) -> list[str | int]:
        """The row of the open data, each text cell safe for a spreadsheet (never run as a formula)."""
        values = self.values
        # neutralise_formula only where a cell starts as a formula may: 30,000 rows of 11 cells
        row: list[str | int] = [self.number, self.date_iso]
        row.extend(
            neutralise_formula(v) if v[:1] in _FORMULA_STARTS else v
            for v in (values[f] for f in TEXT_COLUMNS)
        )
        return row


def _public_record(number: int, values: Mapping[str, Any], date_precision: str) -> PublishedRecord:
    """Copy the public columns out of a record's values; nothing else is read."""
    date_iso, date_label = _date_texts(values["received_date"], date_precision)
    try:
        texts = _public_texts(values)
        "".join(texts)  # TypeError unless every one is text (one call, not one per value)
    except (KeyError, TypeError):  # a value missing, or not text
        texts = tuple(_text(values.get(f)) for f in TEXT_COLUMNS)
    # One per published record: made without the frozen dataclass's per-field object.__setattr__.
    record = object.__new__(PublishedRecord)
    record.__dict__.update(
        number=number,
        date_iso=date_iso,
        date_label=date_label,
        values=dict(zip(TEXT_COLUMNS, texts, strict=True)),
    )
    return record


@functools.lru_cache(maxsize=4096)  # a year has 366 days: its records share their dates
def _date_texts(received: dt.date, date_precision: str) -> tuple[str, str]:
    """(ISO, 和暦) of a published date: 2025-06-10 and 令和7年6月10日, or 2025-06 and 令和7年6月."""
    if date_precision == "month":
        return _month_iso(received), to_wareki_month(received)
    return received.isoformat(), to_wareki(received)


@functools.lru_cache(maxsize=4096)
def _month_iso(day: dt.date) -> str:
    return f"{day:%Y-%m}"


TEXT_COLUMNS = tuple(c.field_id for c in PUBLIC_COLUMNS if c.field_id != "received_date")
if PUBLIC_COLUMNS[0].field_id != "received_date":  # csv_row writes the date first
    raise RuntimeError("PUBLIC_COLUMNS must start with received_date")
_public_texts = operator.itemgetter(*TEXT_COLUMNS)
_FORMULA_STARTS = frozenset(t[:1] for t in FORMULA_TRIGGERS)
if any(len(t) != 1 for t in FORMULA_TRIGGERS):  # csv_row looks at the first character only
    raise RuntimeError("FORMULA_TRIGGERS must be single characters")


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
class Site:
    """Who publishes: the prefecture's name and its お問い合わせ先 (from the configuration)."""

    prefecture_name: str = "サンプル県"
    division: str = "総務部総務課"
    phone: str = ""
    email: str = ""
    url: str = ""

    @classmethod
    def of(cls, config: Config) -> Site:
        pub, contact = config.publication, config.publication.contact
        return cls(pub.prefecture_name, contact.division, contact.phone, contact.email, contact.url)


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
    prefecture_code: str = ""  # 全国地方公共団体コード, a column of the open data
    held_back: HeldBack = field(default_factory=HeldBack)  # details in the internal reconciliation only
    out_of_scope: int = 0  # 該当 records with an exclusion: never published, listed in the reconciliation
    site: Site = field(default_factory=Site)
    posted_on: dt.date | None = None  # 掲載日; None: the ledger's as_of
    updated_on: dt.date | None = None  # 更新日, when configured

    @property
    def posted(self) -> dt.date:
        return self.posted_on or self.as_of

    @property
    def updated(self) -> dt.date | None:
        """更新日, shown only when it is later than the 掲載日: configured, else the as_of after a
        configured 掲載日 (a re-publication with a later ledger)."""
        day = self.updated_on or (self.as_of if self.posted_on else None)
        return day if day and day > self.posted else None

    @property
    def in_progress(self) -> bool:
        """The year had not ended on the ledger's reference date."""
        return self.as_of < self.period_end


# --- building the figures ---------------------------------------------------------------------


def ledger_projection(config: Config, fiscal_year: FiscalYear) -> Projection:
    """What publishing the year reads of ``ledger.json``: the entries that may take a place in its
    selection, and of them only the values the selection, the reconciliation and the figures read."""
    period_start = max(fiscal_year.start, config.rules.operation_start)
    return Projection(
        keep=may_be_selected(fiscal_year, period_start),
        value_ids=PUBLICATION_VALUE_IDS,
        cells=False,
    )


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
    selection = select_records(ledger, config, fiscal_year)
    reconciliation = reconcile(selection)
    return year_figures(selection, held_back_of(reconciliation), config, ledger.as_of), reconciliation


def year_figures(selection: Selection, held_back: HeldBack, config: Config, as_of: dt.date) -> Publication:
    """The numbers and public rows of the year, from the records the selection chose."""
    fiscal_year, precision = selection.fiscal_year, config.publication.date_precision
    records = tuple(_public_record(n, e.values, precision) for n, e in enumerate(selection.publishable, 1))
    counts = _counts(selection.judged, len(records), held_back)
    record_of = {id(e): r for e, r in zip(selection.publishable, records, strict=True)}
    organisation = departments_for_year(config, fiscal_year)
    # What each 該当 record adds to the breakdowns, and how many records add just that.
    keys = Counter(_breakdown_key(e, organisation, record_of.get(id(e))) for e in selection.applicable)
    period_start = selection.period_start
    return Publication(
        fiscal_year=fiscal_year,
        as_of=as_of,
        period_start=period_start,
        period_end=fiscal_year.end,
        date_precision=precision,
        counts=counts,
        organs=_organ_groups(keys, records, organisation),
        by_business_type=_tally(keys, "business_type"),
        by_requester_category=_tally(keys, "requester_category"),
        by_method=_tally(keys, "method"),
        by_month=_months(keys, fiscal_year, period_start),
        records=records,
        prefecture_code=config.publication.prefecture_code,
        held_back=held_back,
        out_of_scope=len(selection.out_of_scope),
        site=Site.of(config),
        posted_on=config.publication.posted_on.get(fiscal_year.start_year),
        updated_on=config.publication.updated_on.get(fiscal_year.start_year),
    )


def _counts(judged: Counter[str], published: int, held_back: HeldBack) -> Counts:
    counts = Counts(
        sum(judged.values()), judged[APPLICABLE], judged[NOT_APPLICABLE], judged["undecided"], published
    )
    if counts.applicable != counts.published + held_back.applicable:  # a guard that survives python -O
        raise RuntimeError(
            f"該当 {counts.applicable}件 ≠ 公表 {counts.published}件 + 保留 {held_back.applicable}件"
        )
    return counts


BREAKDOWN_FIELDS = ("organ", "department", "business_type", "requester_category", "method")
PUBLICATION_VALUE_IDS = (
    SELECTION_VALUE_IDS
    | READINESS_VALUE_IDS
    | {c.field_id for c in PUBLIC_COLUMNS}
    | frozenset(BREAKDOWN_FIELDS)
)
# A record's place in the breakdowns: (month, *BREAKDOWN_FIELDS), e.g. ("2025-06", "知事部局", …).
BreakdownKey = tuple[str, ...]
_KEY_INDEX = {name: i for i, name in enumerate(("month", *BREAKDOWN_FIELDS))}
_published_breakdown = operator.itemgetter(*BREAKDOWN_FIELDS)
if not set(BREAKDOWN_FIELDS) <= set(TEXT_COLUMNS):  # a published record's breakdown is its public texts
    raise RuntimeError("BREAKDOWN_FIELDS must be public columns")


def _breakdown_key(
    entry: LedgerEntry, organisation: Mapping[str, tuple[str, ...]], record: PublishedRecord | None
) -> BreakdownKey:
    """What a 該当 record adds to the breakdowns. A published record (``record``) adds its published
    values; a record held back adds only values of the catalogue or configuration, 不明 for anything
    else (a value being corrected may be free text, which must never reach the page)."""
    values = entry.values
    month = _month_iso(values["received_date"])
    if record is not None:
        return (month, *_published_breakdown(record.values))
    organ = _text(values.get("organ"))
    organ = organ if organ in organisation else UNKNOWN
    department = values.get("department")
    key = [month, organ, department if department in organisation.get(organ, ()) else UNKNOWN]
    for f in ("business_type", "requester_category", "method"):
        value = values.get(f)
        key.append(value if isinstance(value, str) and value in FIELD_BY_ID[f].choices else UNKNOWN)
    return tuple(key)


def _count_by(keys: Counter[BreakdownKey], *fields: str) -> Counter[Any]:
    """The records counted by one field of their key (a label), or by several (a tuple of labels)."""
    at = operator.itemgetter(*(_KEY_INDEX[f] for f in fields))
    counter: Counter[Any] = Counter()
    for key, n in keys.items():
        counter[at(key)] += n
    return counter


def _ordered(counter: Counter[str], known: Iterable[str]) -> list[str]:
    """The known labels in their order (zero included), then unexpected ones, then 不明 when counted."""
    known = list(known)
    unexpected = sorted(set(counter) - set(known) - {UNKNOWN})
    return known + unexpected + ([UNKNOWN] if counter[UNKNOWN] and UNKNOWN not in known else [])


def _organ_groups(
    keys: Counter[BreakdownKey],
    records: tuple[PublishedRecord, ...],
    organisation: Mapping[str, tuple[str, ...]],
) -> tuple[OrganGroup, ...]:
    """Every organ and department of the year (departments_for_year), zero included; unknown names after them."""
    by_organ = _count_by(keys, "organ")
    by_department: dict[str, Counter[str]] = {}
    for (organ, department), n in _count_by(keys, "organ", "department").items():
        by_department.setdefault(organ, Counter())[department] += n
    records_of: dict[str, list[PublishedRecord]] = {}
    for r in records:
        records_of.setdefault(r.values["organ"], []).append(r)
    groups = []
    for name in _ordered(by_organ, organisation):
        counter = by_department.get(name, Counter())
        departments = _ordered(counter, organisation.get(name, ()))
        mine = tuple(records_of.get(name, ()))
        groups.append(
            OrganGroup(name, by_organ[name], tuple(Tally(d, counter[d]) for d in departments), mine)
        )
    return tuple(groups)


def _tally(keys: Counter[BreakdownKey], field_id: str) -> tuple[Tally, ...]:
    """Every choice of the catalogue in its order, zero included; unexpected values and 不明 after them."""
    counter = _count_by(keys, field_id)
    return tuple(Tally(label, counter[label]) for label in _ordered(counter, FIELD_BY_ID[field_id].choices))


def _months(keys: Counter[BreakdownKey], fiscal_year: FiscalYear, period_start: dt.date) -> tuple[Tally, ...]:
    """April → March; a first year that starts late (令和6年度: only 3月) shows its months only (no record
    before operation_start is counted, so none is lost)."""
    counter = _count_by(keys, "month")
    first = f"{period_start:%Y-%m}"
    months = []
    day = fiscal_year.start
    while day <= fiscal_year.end:
        iso = f"{day:%Y-%m}"
        if iso >= first:
            months.append(Tally(to_wareki_month(day), counter[iso], iso))
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return tuple(months)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)
