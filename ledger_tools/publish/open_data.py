"""The open-data files of a year (UTF-8 with BOM, header row, ISO 8601 dates): the list of published
records and the tidy counts, both written from the year's ``Publication``, each row led by the
prefecture's 全国地方公共団体コード so that many prefectures' files stack; and ``summary.json``, the
year's numbers that the index of every year is built from (never recomputed from a later ledger)."""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
from collections.abc import Sequence
from typing import Any

from ledger_tools.dates import FiscalYear
from ledger_tools.outputs import csv_bytes, neutralise_formula
from ledger_tools.publish.csv_text import BOM, csv_line, plain_lines
from ledger_tools.publish.figures import (
    COUNT_LABELS,
    DATE_HEADERS,
    NUMBER_HEADER,
    PUBLIC_COLUMNS,
    TEXT_COLUMNS,
    Publication,
    PublishedRecord,
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


LEVEL_HEADER = "集計区分"
# 集計区分 of a row of the counts: in every table the 内訳 rows add up to its 合計 row, and in 機関・部局
# an organ's 内訳 rows (one per 部局) add up to its 小計 row; 再掲 repeats a part of the 内訳 (掲載).
TOTAL, SUBTOTAL, DETAIL, RESTATED = "合計", "小計", "内訳", "再掲"
LEVELS = (TOTAL, SUBTOTAL, DETAIL, RESTATED)
COUNTS_HEADER = (CODE_HEADER, "年度", "表", LEVEL_HEADER, "項目", "内訳", "件数")
BREAKDOWN_TITLES = {
    "organ": "機関・部局",
    "business_type": "事務の区分",
    "requester_category": "相手方の区分",
    "method": "方法",
    "month": "月",
}
COUNT_LEVELS = {
    "recorded": TOTAL,
    "applicable": DETAIL,
    "not_applicable": DETAIL,
    "undecided": DETAIL,
    "published": RESTATED,
}


RUN = 2000  # records whose lines are made, checked and encoded together


def records_csv(publication: Publication) -> bytes:
    """The open-data list: 通番 and the public columns, one record per row."""
    return b"".join(records_csv_parts(publication))


def records_csv_parts(publication: Publication) -> list[bytes]:
    """``records_csv`` in pieces (written one after the other, never joined in memory): the same
    text as ``csv.writer`` of each record's ``PublishedRecord.csv_row`` (``csv_text.plain_lines``),
    made and encoded ``RUN`` records at a time."""
    records = publication.records
    code = neutralise_formula(publication.prefecture_code)
    texts = operator.itemgetter(*TEXT_COLUMNS)
    parts = [BOM, csv_line(records_header(publication.date_precision)).encode("utf-8")]
    for start in range(0, len(records), RUN):
        run = records[start : start + RUN]
        rows = [(code, str(r.number), r.date_iso, *texts(r.values)) for r in run]
        parts.append("".join(plain_lines(rows, functools.partial(_safe_row, code, run))).encode("utf-8"))
    return parts


def _safe_row(code: str, records: Sequence[PublishedRecord], i: int) -> list[str | int]:
    return [code, *records[i].csv_row()]


CountRow = tuple[str, str, str, str, str, int]


def counts_rows(publication: Publication) -> list[CountRow]:
    """The numbers of the page, one per row (年度, 表, 集計区分, 項目, 内訳, 件数): each table's 内訳
    rows and its 合計 row, so that summing the 内訳 rows of a table gives its 合計."""
    year = str(publication.fiscal_year)
    counts = publication.counts
    rows: list[CountRow] = [
        (year, "件数", COUNT_LEVELS[name], COUNT_LABELS[name], "", getattr(counts, name))
        for name in COUNT_LABELS
    ]
    organ = BREAKDOWN_TITLES["organ"]
    for group in publication.organs:
        rows.append((year, organ, SUBTOTAL, group.name, "", group.count))
        rows.extend((year, organ, DETAIL, group.name, d.label, d.count) for d in group.departments)
    rows.append((year, organ, TOTAL, TOTAL, "", counts.applicable))
    for key, tallies in (
        ("business_type", publication.by_business_type),
        ("requester_category", publication.by_requester_category),
        ("method", publication.by_method),
        ("month", publication.by_month),
    ):
        title = BREAKDOWN_TITLES[key]
        rows.extend((year, title, DETAIL, t.iso or t.label, "", t.count) for t in tallies)
        rows.append((year, title, TOTAL, TOTAL, "", counts.applicable))
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
        "site": dataclasses.asdict(publication.site),
        "last_posted": (publication.updated or publication.posted).isoformat(),
    }
    return (json.dumps(summary, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
