"""publication/datapackage.json: a Frictionless Data Package describing every published CSV (the two
combined files and each year's), with a Table Schema per file: types, formats, the catalogue's
choices as enum constraints, and the primary key."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ledger_tools.form.fields import FIELD_BY_ID
from ledger_tools.publish.figures import DATE_HEADERS, NUMBER_HEADER, PUBLIC_COLUMNS
from ledger_tools.publish.index import (
    COUNTS_ALL,
    MIXED_DATE_HEADER,
    RECORDS_ALL,
    YEAR_HEADER,
    PublishedYear,
    records_all_date_header,
)
from ledger_tools.publish.open_data import (
    BREAKDOWN_TITLES,
    CODE_HEADER,
    COUNTS_HEADER,
    LEVEL_HEADER,
    LEVELS,
)

Field = dict[str, Any]
DATE_FIELD_TYPES = {DATE_HEADERS["day"]: "date", DATE_HEADERS["month"]: "yearmonth"}
COUNT_TABLES = ["件数", *BREAKDOWN_TITLES.values()]


def datapackage_json(years: Sequence[PublishedYear]) -> bytes:
    code = years[0].prefecture_code if years else ""
    resources = [
        _resource("records-all", RECORDS_ALL, "不当な働きかけの一覧（全年度）", _records_schema(years, True)),
        _resource("counts-all", COUNTS_ALL, "件数と内訳（全年度）", _counts_schema()),
    ]
    for year in years:
        resources += [
            _resource(
                f"records-{year.folder}",
                f"{year.folder}/{year.records_file}",
                f"不当な働きかけの一覧（{year.label}）",
                _records_schema([year], False),
            ),
            _resource(
                f"counts-{year.folder}",
                f"{year.folder}/{year.counts_file}",
                f"件数と内訳（{year.label}）",
                _counts_schema(),
            ),
        ]
    package = {
        "profile": "tabular-data-package",
        "name": f"hatarakikake-kiroku-{code}",
        "title": f"不当な働きかけの記録の状況（全国地方公共団体コード {code}）",
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "resources": resources,
    }
    return (json.dumps(package, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _resource(name: str, path: str, title: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "path": path,
        "title": title,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8-sig",
        "schema": schema,
    }


def _code_field() -> Field:
    return {
        "name": CODE_HEADER,
        "type": "string",
        "description": "都道府県の全国地方公共団体コード（6桁、検査数字付き）",
        "constraints": {"required": True, "pattern": "[0-9]{6}"},
    }


def _year_field() -> Field:
    return {
        "name": YEAR_HEADER,
        "type": "integer",
        "description": "年度（開始の年。2025 = 令和7年度）",
        "constraints": {"required": True},
    }


def _records_schema(years: Sequence[PublishedYear], combined: bool) -> dict[str, Any]:
    fields = [_code_field(), *([_year_field()] if combined else [])]
    fields.append({"name": NUMBER_HEADER, "type": "integer", "constraints": {"required": True, "minimum": 1}})
    fields.append(_date_field(records_all_date_header(years)))
    fields += [_public_field(c.field_id, c.header) for c in PUBLIC_COLUMNS if c.field_id != "received_date"]
    key = [CODE_HEADER, *([YEAR_HEADER] if combined else []), NUMBER_HEADER]
    return {"fields": fields, "primaryKey": key}


def _date_field(header: str) -> Field:
    if header == MIXED_DATE_HEADER:
        return {
            "name": header,
            "type": "string",
            "description": "ISO 8601 の年月日（2025-06-10）又は年月（2025-06）",
            "constraints": {"required": True, "pattern": "[0-9]{4}-[0-9]{2}(-[0-9]{2})?"},
        }
    return {"name": header, "type": DATE_FIELD_TYPES[header], "constraints": {"required": True}}


def _public_field(field_id: str, header: str) -> Field:
    catalogue = FIELD_BY_ID[field_id]
    described: Field = {"name": header, "type": "string", "description": catalogue.label}
    if catalogue.choices:
        described["constraints"] = {"enum": list(catalogue.choices)}
    return described


def _counts_schema() -> dict[str, Any]:
    fields = [
        _code_field(),
        _year_field(),
        {"name": "表", "type": "string", "constraints": {"required": True, "enum": COUNT_TABLES}},
        {
            "name": LEVEL_HEADER,
            "type": "string",
            "description": (
                "行の集計の区分。表ごとに「内訳」の行の件数を足すと「合計」の行の件数になる。"
                "機関・部局の表では、機関ごとに「内訳」（部局）の行を足すと、その機関の「小計」の行になる"
                "（小計と合計は内訳と足し合わせないこと）。件数の表の「再掲」（掲載）は該当の内数"
            ),
            "constraints": {"required": True, "enum": list(LEVELS)},
        },
        {
            "name": "項目",
            "type": "string",
            "description": "件数の区分、機関、選択肢の値又は年月（YYYY-MM）。合計の行は「合計」",
        },
        {
            "name": "内訳",
            "type": "string",
            "description": "機関・部局の表の部局（内訳の行のみ。小計・合計の行と他の表では空欄）",
        },
        {"name": "件数", "type": "integer", "constraints": {"required": True, "minimum": 0}},
    ]
    # An empty 内訳 (an organ's 小計, a 合計) is a value of the key, not a missing one.
    return {"fields": fields, "missingValues": [], "primaryKey": list(COUNTS_HEADER[:6])}
