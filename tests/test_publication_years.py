"""Every year's publication and the index (spec form-v2 §3): past years stay as published, the index
and the combined open data agree with each year's page, a Data Package that frictionless accepts, and
files of several prefectures that stack."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from test_publication import LEDGER_DATE, entry, mixed_ledger, page_structure, read_csv

from ledger_tools.cli import main
from ledger_tools.config import ConfigError, default_config_text, load_config
from ledger_tools.dates import FiscalYear
from ledger_tools.form.fields import FIELD_BY_ID
from ledger_tools.ledger.aggregation import record_ledger
from ledger_tools.ledger.entries import Ledger
from ledger_tools.publish.publication import PAGE_FILE, publish_ledger

COUNT_COLUMNS = ["記録", "該当", "非該当", "判断中", "掲載"]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def two_years(out: Path, config=None) -> None:
    config = config or load_config()
    publish_ledger(mixed_ledger(), out, config, FiscalYear(2024))
    publish_ledger(mixed_ledger(), out, config, FiscalYear(2025))


def index_tables(out: Path) -> dict[str, list[list[str]]]:
    page = (out / "publication" / PAGE_FILE).read_bytes()
    return {t["caption"]: t["rows"] for t in page_structure(page).tables}


def year_page_counts(out: Path, year: int) -> list[int]:
    page = (out / "publication" / str(year) / PAGE_FILE).read_bytes()
    table = next(
        t for t in page_structure(page).tables if t["caption"].endswith("の件数") and "別" not in t["caption"]
    )
    return [int(row[-1].removesuffix("件")) for row in table["rows"][1:]]


def test_publishing_a_year_leaves_every_other_year_as_it_was_published(tmp_path, config):
    publish_ledger(mixed_ledger(), tmp_path, config, FiscalYear(2024))
    before = tree(tmp_path / "publication" / "2024")
    changed = Ledger(dt.date(2026, 6, 1), [entry(record_id="X", received_date=dt.date(2025, 3, 20))])
    publish_ledger(changed, tmp_path, config, FiscalYear(2025))  # today's ledger says 2024 differently
    assert tree(tmp_path / "publication" / "2024") == before
    rows = index_tables(tmp_path)["各年度の件数"][1:]
    assert [r[0] for r in rows] == ["令和7年度（2025年度）", "令和6年度（2024年度）"]  # newest first
    assert rows[1][2:] == ["1件", "1件", "0件", "0件", "1件"]  # 2024 as it was published, not recomputed


def test_the_index_shows_each_years_numbers_as_its_page_does(tmp_path):
    two_years(tmp_path)
    tables = index_tables(tmp_path)
    years = tables["各年度の件数"]
    assert years[0] == ["年度", "集計の時点", *COUNT_COLUMNS]
    for row, year in zip(years[1:], (2025, 2024), strict=True):
        assert [int(c.removesuffix("件")) for c in row[2:]] == year_page_counts(tmp_path, year)
    by_organ = tables["機関別・年度別の件数（不当な働きかけに該当すると判断したもの）"]
    assert by_organ[0] == ["機関", "令和7年度", "令和6年度"]
    for column, year in ((1, 2025), (2, 2024)):
        page = (tmp_path / "publication" / str(year) / PAGE_FILE).read_bytes()
        organ_table = next(t for t in page_structure(page).tables if t["caption"].startswith("機関・部局別"))
        totals = {r[0]: r[-1] for r in organ_table["rows"][1:] if r[1] == "計"}
        assert {r[0]: r[column] for r in by_organ[1:-1]} == totals
    index = (tmp_path / "publication" / PAGE_FILE).read_text(encoding="utf-8")
    assert 'href="2025/index.html"' in index and 'href="2024/index.html"' in index
    assert "令和7年度: 知事部局 2件、教育委員会 1件" in index  # the chart's description, same numbers


def test_the_combined_open_data_holds_every_published_year(tmp_path):
    two_years(tmp_path)
    folder = tmp_path / "publication"
    records = read_csv((folder / "records_all.csv").read_bytes())
    assert records[0][:4] == ["全国地方公共団体コード", "年度", "通番", "働きかけを受けた日"]
    assert [(r[1], r[2]) for r in records[1:]] == [("2024", "1"), ("2025", "1"), ("2025", "2"), ("2025", "3")]
    counts = read_csv((folder / "counts_all.csv").read_bytes())
    yearly = [read_csv((folder / str(y) / f"counts_{y}.csv").read_bytes()) for y in (2024, 2025)]
    assert counts == [yearly[0][0], *yearly[0][1:], *yearly[1][1:]]


@pytest.mark.parametrize(
    "summary", ["普通の概要", 'カンマ,と"引用"', "改行\r\nと\rだけ", "=式のよう", "-負の数のよう"]
)
def test_the_combined_open_data_holds_each_years_rows_as_its_own_csv(tmp_path, config, summary):
    """Whichever year was published last, records_all.csv repeats each year's CSV cell for cell:
    a cell quoted in the year's file, or guarded against a spreadsheet, stays as it is."""
    ledger = Ledger(
        LEDGER_DATE,
        [
            entry(record_id="A", received_date=dt.date(2025, 3, 20), public_summary=summary),
            entry(record_id="B", public_summary=summary, public_measures=summary),
            entry(record_id="C", public_summary="普通の概要"),
        ],
    )
    publish_ledger(ledger, tmp_path, config, FiscalYear(2025))
    publish_ledger(ledger, tmp_path, config, FiscalYear(2024))  # 2025 is read back from its CSV
    folder = tmp_path / "publication"
    combined = read_csv((folder / "records_all.csv").read_bytes())
    for year in ("2024", "2025"):
        own = read_csv((folder / year / f"records_{year}.csv").read_bytes())[1:]
        assert [[r[0], *r[2:]] for r in combined[1:] if r[1] == year] == own
    assert [r[1] for r in combined[1:]] == ["2024", "2025", "2025"]
    assert all(any(summary in cell for cell in r) for r in combined[1:3])  # CR and LF kept as written


def test_republishing_gives_byte_identical_files(tmp_path):
    two_years(tmp_path)
    before = tree(tmp_path / "publication")
    two_years(tmp_path)
    assert tree(tmp_path / "publication") == before


def test_frictionless_accepts_the_data_package(tmp_path):
    frictionless = pytest.importorskip("frictionless")
    config = load_config()
    monthly = dataclasses.replace(
        config, publication=dataclasses.replace(config.publication, date_precision="month")
    )
    publish_ledger(mixed_ledger(), tmp_path, monthly, FiscalYear(2024))
    publish_ledger(mixed_ledger(), tmp_path, config, FiscalYear(2025))  # two precisions in one package
    report = frictionless.validate(str(tmp_path / "publication" / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    package = frictionless.Package(str(tmp_path / "publication" / "datapackage.json"))
    assert package.resource_names == [
        "records-all",
        "counts-all",
        "records-2025",
        "counts-2025",
        "records-2024",
        "counts-2024",
    ]
    method = package.get_resource("records-all").schema.get_field("方法")
    assert method.constraints["enum"] == list(FIELD_BY_ID["method"].choices)
    assert package.get_resource("records-all").schema.primary_key == [
        "全国地方公共団体コード",
        "年度",
        "通番",
    ]


def test_a_wrong_value_makes_the_data_package_invalid(tmp_path):
    frictionless = pytest.importorskip("frictionless")
    two_years(tmp_path)
    records = tmp_path / "publication" / "records_all.csv"
    records.write_bytes(records.read_bytes().replace(",面談,".encode(), ",会食,".encode(), 1))
    report = frictionless.validate(str(tmp_path / "publication" / "datapackage.json"))
    assert not report.valid
    assert [e[1:] for e in report.flatten(["resourceName", "fieldName", "type"])] == [
        ["方法", "constraint-error"]
    ]


def prefecture_config(tmp_path: Path, code: str, *, month: bool = False) -> Path:
    text = default_config_text().replace('prefecture_code = "990001"', f'prefecture_code = "{code}"')
    if month:
        text = text.replace('date_precision = "day"', 'date_precision = "month"')
    path = tmp_path / f"config_{code}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_files_of_several_prefectures_stack_in_duckdb(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    prefectures = {"130001": {}, "270008": {"month": True}, "470007": {}}
    expected = {}
    files = []
    for n, (code, options) in enumerate(prefectures.items()):
        out = tmp_path / code
        config = load_config(prefecture_config(tmp_path, code, **options))
        ledger = mixed_ledger()
        ledger = Ledger(ledger.as_of, ledger.entries[: len(ledger.entries) - n])  # a different ledger each
        publish_ledger(ledger, out, config, FiscalYear(2024))
        publish_ledger(ledger, out, config, FiscalYear(2025))
        for year in (2024, 2025):
            expected[(code, year)] = year_page_counts(out, year)[4]  # 掲載, as the page says
        files.append(str(out / "publication" / "records_all.csv"))
    rows = duckdb.sql(
        "SELECT 全国地方公共団体コード AS code, 年度 AS year, count(*) AS n FROM read_csv($files, union_by_name = true, "
        "types = {'全国地方公共団体コード': 'VARCHAR'}) GROUP BY ALL ORDER BY ALL",
        params={"files": files},
    ).fetchall()
    assert {(code, int(year)): n for code, year, n in rows} == {k: v for k, v in expected.items() if v}
    assert {code for code, _, _ in rows} == set(prefectures)


@pytest.mark.parametrize(
    ("code", "message"),
    [("130002", "検査数字"), ("13000", "6桁"), ("131016", "6桁"), ("１３０００１", "6桁")],
)
def test_a_wrong_prefecture_code_is_refused_with_a_japanese_message(tmp_path, code, message):
    with pytest.raises(ConfigError, match=message):
        load_config(prefecture_config(tmp_path, code))


def test_publish_cli_writes_the_index(tmp_path, capsys):
    record_ledger(tmp_path, Ledger(LEDGER_DATE, [entry()]))
    assert main(["publish", str(tmp_path), "--fiscal-year", "R7"]) == 0
    names = sorted(p.name for p in (tmp_path / "publication").iterdir())
    assert names == [
        "2025",
        "counts_all.csv",
        "datapackage.json",
        "index.html",
        "records_all.csv",
        "style.css",
    ]


def test_records_before_operation_start_are_in_no_publication_and_listed_in_the_report(tmp_path, config):
    from test_publication import recorded_values

    from ledger_tools.check.findings import Status
    from ledger_tools.form.fields import NOT_APPLICABLE

    ledger = Ledger(
        LEDGER_DATE,
        [
            entry(record_id="early", received_date=dt.date(2025, 2, 10)),
            entry(
                Status.NOT_APPLICABLE,
                values=recorded_values(
                    record_id="older", received_date=dt.date(2024, 12, 1), supervisor_judgement=NOT_APPLICABLE
                ),
            ),
            entry(record_id="first", received_date=dt.date(2025, 3, 10)),
            entry(record_id="later", received_date=dt.date(2025, 6, 10)),
        ],
    )
    result = publish_ledger(ledger, tmp_path, config, FiscalYear(2024))
    pub = result.publication
    assert (pub.counts.recorded, pub.counts.applicable, pub.counts.published) == (1, 1, 1)
    assert [t.iso for t in pub.by_month] == ["2025-03"] and sum(t.count for t in pub.by_month) == 1
    assert pub.period_start == dt.date(2025, 3, 1)
    folder = tmp_path / "publication" / "2024"
    assert [r[2] for r in read_csv((folder / "records_2024.csv").read_bytes())[1:]] == ["2025-03-10"]
    page = (folder / PAGE_FILE).read_text(encoding="utf-8")
    assert "令和7年3月1日</time>から" in page and "令和7年2月" not in page and "令和6年12月" not in page
    report = read_csv((tmp_path / "公表照合表_2024.csv").read_bytes())
    outcomes = {r[0]: (r[6], r[8]) for r in report[1:]}
    assert outcomes["first"][0] == "公表"
    assert (
        outcomes["early"][0] == outcomes["older"][0] == "運用開始前" and "運用開始前" in outcomes["early"][1]
    )
    assert "later" not in outcomes
    publish_ledger(ledger, tmp_path, config, FiscalYear(2025))
    later = {r[0] for r in read_csv((tmp_path / "公表照合表_2025.csv").read_bytes())[1:]}
    assert later == {"later"}  # listed once, in the first year's report
    assert index_tables(tmp_path)["各年度の件数"][2][2:] == ["1件", "1件", "0件", "0件", "1件"]
    assert "運用開始前に受けた記録: 2件" in result.summary_text()


def test_the_index_page_structure_is_accessible(tmp_path):
    two_years(tmp_path)
    page = page_structure((tmp_path / "publication" / PAGE_FILE).read_bytes())
    assert (
        page.lang == "ja"
        and page.h1 == 1
        and page.title == "不当な働きかけの記録の状況（各年度の公表）｜サンプル県"
    )
    assert "script" not in page.tags and len(page.tables) == 2
    for table in page.tables:
        assert table["caption"] and table["first_child"] == "caption", table
        assert table["scopes"] and all(s in ("col", "row") for s in table["scopes"]), table
    svg = page.svg_attrs[0]
    assert svg["role"] == "img" and all(i in page.ids for i in svg["aria-labelledby"].split())
    assert len(page.ids) == len(set(page.ids))
