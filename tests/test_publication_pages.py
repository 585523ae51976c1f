"""The year's list of records in pages: one set per 機関, at most RECORDS_PER_PAGE records a page, none
over 1 MB even with the longest texts, a page navigation, links back to the summary, no page of an
earlier run left behind, and the CSV still complete."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape
from test_publication import FY, LEDGER_DATE, entry, page_structure, read_open_data

from ledger_tools.config import load_config
from ledger_tools.form.fields import FIELD_BY_ID
from ledger_tools.ledger.entries import Ledger
from ledger_tools.publish.page import html_text
from ledger_tools.publish.publication import PAGE_FILE, RECORDS_PER_PAGE, publish_ledger
from ledger_tools.publish.selection import departments_for_year

PAGE_LIMIT = 1_000_000  # bytes: what a browser still loads at once, on a slow line too


def worst_case_ledger(count: int, organ: str, department: str) -> Ledger:
    """``count`` records of one organ whose long texts are at their length limit and escape to 5 bytes a character."""
    summary = "&" * FIELD_BY_ID["public_summary"].length_limit
    measures = '"' * FIELD_BY_ID["public_measures"].length_limit
    return Ledger(
        LEDGER_DATE,
        [
            entry(
                record_id=f"W-{i:05d}",
                organ=organ,
                department=department,
                public_summary=summary,
                public_measures=measures,
            )
            for i in range(count)
        ],
    )


def html_files(directory) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.html"))}


def test_a_large_organ_is_split_into_pages_none_over_1_mb(tmp_path):
    config = load_config()
    organ, departments = next(iter(departments_for_year(config, FY).items()))
    count = 2 * RECORDS_PER_PAGE + 50
    result = publish_ledger(worst_case_ledger(count, organ, departments[0]), tmp_path, config, FY)
    pages = html_files(result.directory)
    assert sorted(pages) == ["index.html", "records-01-02.html", "records-01-03.html", "records-01.html"]
    assert f"一覧のページ: 3ページ（機関ごと、1ページ{RECORDS_PER_PAGE}件まで）" in result.summary_text()
    sizes = {p.name: p.stat().st_size for p in result.directory.glob("*.html")}
    assert max(sizes.values()) <= PAGE_LIMIT, sizes
    assert sizes["records-01.html"] > 0.4 * PAGE_LIMIT  # the worst case really is near the limit

    numbers = []
    for name in ("records-01.html", "records-01-02.html", "records-01-03.html"):
        structure = page_structure(pages[name].encode())
        (table,) = structure.tables
        numbers += [int(row[0]) for row in table["rows"][1:]]
    assert numbers == list(range(1, count + 1))  # every record once, in order
    csv_rows = read_open_data((result.directory / "records_2025.csv").read_bytes())[1:]
    assert [int(r[0]) for r in csv_rows] == numbers  # the CSV stays complete

    second = pages["records-01-02.html"]
    assert (
        f"<title>令和7年度（2025年度）不当な働きかけの一覧（{organ}　全3ページ中2ページ目）｜サンプル県</title>"
        in second
    )
    navs = re.findall(r'<nav class="pager" aria-label="([^"]+)">(.*?)</nav>', second, re.S)
    assert len(navs) == 2 and len({label for label, _ in navs}) == 2  # above and below, told apart
    for _label, nav in navs:
        assert 'href="records-01.html" rel="prev">前へ' in nav
        assert 'href="records-01-03.html" rel="next">次へ' in nav
        assert re.findall(r'href="([^"]+)" aria-current="page"', nav) == ["records-01-02.html"]
    assert (
        '<dt>掲載日</dt><dd><time datetime="2026-05-01">令和8年5月1日</time>' in second
    )  # the ledger's date
    assert "前へ" not in pages["records-01.html"] and "次へ" not in pages["records-01-03.html"]
    for name in ("records-01.html", "records-01-02.html", "records-01-03.html"):
        assert f'href="{PAGE_FILE}"' in pages[name]  # back to the summary
        assert f'href="{name}"' in pages[PAGE_FILE]  # and the summary links every page


def test_pages_are_numbered_by_the_organs_order_and_stale_pages_go(tmp_path):
    config = load_config()
    organs = list(departments_for_year(config, FY).items())
    organ, departments = organs[2]
    big = worst_case_ledger(RECORDS_PER_PAGE + 1, organ, departments[0])
    first = publish_ledger(big, tmp_path, config, FY)
    assert sorted(html_files(first.directory)) == ["index.html", "records-03-02.html", "records-03.html"]

    small = Ledger(LEDGER_DATE, big.entries[:3])
    second = publish_ledger(small, tmp_path, config, FY)
    assert sorted(html_files(second.directory)) == ["index.html", "records-03.html"]  # 03-02 is gone
    assert "ページ送り" not in html_files(second.directory)["records-03.html"]  # one page: no navigation


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_the_list_rows_escape_as_the_templates_do(text):
    assert html_text(text) == str(escape(text))


def test_the_list_pages_carry_the_configured_dates(tmp_path):
    config = load_config()
    site = dataclasses.replace(
        config.publication, posted_on={2025: dt.date(2026, 4, 1)}, updated_on={2025: dt.date(2026, 4, 20)}
    )
    cfg = dataclasses.replace(config, publication=site)
    result = publish_ledger(Ledger(LEDGER_DATE, [entry(record_id="A")]), tmp_path, cfg, FY)
    page = html_files(result.directory)["records-01.html"]
    assert '掲載日</dt><dd><time datetime="2026-04-01">令和8年4月1日' in page
    assert '更新日</dt><dd><time datetime="2026-04-20">令和8年4月20日' in page


def test_a_page_of_one_record_names_its_number_once(tmp_path):
    """「通番1（1件）」, not 「通番1から1まで、1件」; a range reads 「通番1から2まで、2件」."""
    one = publish_ledger(Ledger(LEDGER_DATE, [entry(record_id="A")]), tmp_path / "one", load_config(), FY)
    page = html_files(one.directory)["records-01.html"]
    assert "通番1（1件）" in page and "から1まで" not in page
    two = publish_ledger(
        Ledger(LEDGER_DATE, [entry(record_id="A"), entry(record_id="B")]), tmp_path / "two", load_config(), FY
    )
    assert "通番1から2まで、2件" in html_files(two.directory)["records-01.html"]
