"""The open-data files of a year (UTF-8 with BOM, header row, ISO 8601 dates): the list of published
records and the tidy counts, both written from the year's ``Publication``, each row led by the
prefecture's 全国地方公共団体コード so that many prefectures' files stack; and ``summary.json``, the
year's numbers that the index of every year is built from (never recomputed from a later ledger)."""

from __future__ import annotations

import json
from typing import Any

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


CODE_HEADER = "全国地方公共団体コード"
SUMMARY_FILE = "summary.json"
SUMMARY_FORMAT = 1  # the version of summary.json's layout


def records_header(date_precision: str) -> list[str]:
    """The records CSV's header: the prefecture's code, 通番 and the public columns, nothing else."""
    return [CODE_HEADER, NUMBER_HEADER] + [
        DATE_HEADERS[date_precision] if c.field_id == "received_date" else c.header for c in PUBLIC_COLUMNS
    ]


COUNTS_HEADER = (CODE_HEADER, "年度", "表", "項目", "内訳", "件数")
BREAKDOWN_TITLES = {
    "organ": "機関・部局",
    "business_type": "事務の区分",
    "requester_category": "相手方の区分",
    "method": "方法",
    "month": "月",
}


def records_csv(publication: Publication) -> bytes:
    """The open-data list: 通番 and the public columns, one record per row."""
    code = publication.prefecture_code
    rows = ([code, *r.csv_row()] for r in publication.records)
    return csv_bytes(records_header(publication.date_precision), rows)


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
    code = publication.prefecture_code
    return csv_bytes(COUNTS_HEADER, ((code, *row) for row in counts_rows(publication)))


def summary_json(publication: Publication) -> bytes:
    """The year's numbers for the index, in stable keys (the page's labels may change, these do not)."""
    fy = publication.fiscal_year
    summary: dict[str, Any] = {
        "format": SUMMARY_FORMAT,
        "fiscal_year": fy.start_year,
        "label": fy.label,
        "as_of": publication.as_of.isoformat(),
        "prefecture_code": publication.prefecture_code,
        "date_precision": publication.date_precision,
        "counts": {name: getattr(publication.counts, name) for name in COUNT_LABELS},
        "applicable_by_organ": {group.name: group.count for group in publication.organs},
        "files": {"records": records_csv_name(fy), "counts": counts_csv_name(fy)},
    }
    return (json.dumps(summary, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
