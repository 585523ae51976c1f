"""The open-data CSVs of a year (UTF-8 with BOM, header row, ISO 8601 dates): the list of published
records and the tidy counts, both written from the year's ``Publication``."""

from __future__ import annotations

from ledger_tools.dates import FiscalYear
from ledger_tools.outputs import csv_bytes
from ledger_tools.publish.figures import (
    COUNT_LABELS,
    DATE_HEADERS,
    NUMBER_HEADER,
    PUBLIC_COLUMNS,
    Publication,
)


def records_csv_name(fiscal_year: FiscalYear) -> str:
    return f"records_{fiscal_year}.csv"


def counts_csv_name(fiscal_year: FiscalYear) -> str:
    return f"counts_{fiscal_year}.csv"


def records_header(date_precision: str) -> list[str]:
    """The records CSV's header: 通番 and the public columns, nothing else."""
    return [NUMBER_HEADER] + [
        DATE_HEADERS[date_precision] if c.field_id == "received_date" else c.header for c in PUBLIC_COLUMNS
    ]


COUNTS_HEADER = ("年度", "表", "項目", "内訳", "件数")
BREAKDOWN_TITLES = {
    "organ": "機関・部局",
    "business_type": "事務の区分",
    "requester_category": "相手方の区分",
    "method": "方法",
    "month": "月",
}


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
