"""The yearly publication as 総務課 and the public meet it: counts, breakdowns, the list, the CSVs,
the reconciliation of every 該当 record, and that nothing private is ever published."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import AS_OF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tools.check.findings import Status, make_finding
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_file
from ledger_tools.cli import main
from ledger_tools.config import Contact, default_config_text
from ledger_tools.dates import FiscalYear, to_wareki
from ledger_tools.form.fields import (
    APPLICABLE,
    FIELD_BY_ID,
    FIELDS,
    NOT_APPLICABLE,
    PUBLIC_FIELD_IDS,
    UNDECIDED,
    stage_of,
)
from ledger_tools.form.samples import complete_values, recorded_values
from ledger_tools.ledger.aggregation import record_ledger
from ledger_tools.ledger.entries import Ledger, LedgerEntry
from ledger_tools.publish.publication import (
    PAGE_FILE,
    PUBLIC_COLUMNS,
    PublicationError,
    PublicationRefused,
    build_publication,
    publish_ledger,
    render_files,
)

FY = FiscalYear(2025)
LEDGER_DATE = dt.date(2026, 5, 1)
RECONCILIATION_HEADER = [
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
]
RECORDS_HEADER = [
    "通番",
    "働きかけを受けた日",
    "機関",
    "部局",
    "事務の区分",
    "相手方の区分",
    "方法",
    "概要",
    "応じられない旨の伝達",
    "記録される旨の伝達",
    "相手方の撤回",
    "措置の要否",
    "措置の概要",
]


def entry(
    status: Status = Status.OK,
    *,
    values: dict | None = None,
    findings=(),
    exclusions=(),
    path: str | None = None,
    **overrides,
) -> LedgerEntry:
    """A ledger entry as the aggregator leaves it, without building a workbook."""
    values = values if values is not None else complete_values(**overrides)
    record_id = values.get("record_id")
    return LedgerEntry(
        path=path or f"inbox/{record_id}.xlsx",
        sha256="",
        status=status,
        record_id=record_id,
        stage=stage_of(values),
        exclusions=list(exclusions),
        findings=list(findings),
        values=values,
    )


def mixed_ledger() -> Ledger:
    """Three 該当 (two organs), one 非該当, two undecided, one excluded, and two outside 令和7年度."""
    return Ledger(
        LEDGER_DATE,
        [
            entry(record_id="A"),
            entry(
                record_id="B",
                organ="教育委員会",
                department="教育庁",
                received_date=dt.date(2026, 1, 15),
                method="電子メール",
                business_type="許認可",
                requester_category="再就職者（県職員OB）",
                reported_date=dt.date(2026, 1, 16),
                judgement_date=dt.date(2026, 1, 19),
                sent_to_lead_date=dt.date(2026, 1, 20),
                shared_with_responsible_date=dt.date(2026, 1, 20),
                measures_needed="不要",
                measures_taken=None,
                result_notified_date=None,
                public_measures=None,
                shared_with_general_affairs_date=dt.date(2026, 2, 5),
            ),
            entry(
                record_id="C",
                department="健康福祉部",
                received_date=dt.date(2025, 6, 20),
                method="電話",
                business_type="補助金等",
                requester_category="団体",
            ),
            entry(
                Status.NOT_APPLICABLE,
                values=recorded_values(
                    record_id="D", received_date=dt.date(2025, 11, 5), supervisor_judgement=NOT_APPLICABLE
                ),
            ),
            entry(values=recorded_values(record_id="E", supervisor_judgement=UNDECIDED)),
            entry(values=recorded_values(record_id="F", received_date=dt.date(2026, 3, 31))),
            entry(
                Status.EXCLUDED,
                values=recorded_values(record_id="G", excl_public_venue="該当する"),
                exclusions=["public_venue"],
            ),
            entry(
                record_id="H", received_date=dt.date(2025, 3, 10)
            ),  # 令和6年度 (the first month of operation)
            entry(record_id="I", received_date=dt.date(2026, 4, 1)),  # 令和8年度
        ],
    )


def list_pages(files: dict[str, bytes]) -> str:
    """The record-list pages of a year (records-01.html, …) as one text, in their order."""
    return "".join(files[name].decode() for name in sorted(files) if name.startswith("records-"))


def page_text(page: bytes) -> str:
    """The page's text as a reader sees it (tags removed)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.decode("utf-8")))


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_open_data(data: bytes, code: str = "990001") -> list[list[str]]:
    """A published CSV without its first column, which must be the prefecture's code on every row."""
    rows = read_csv(data)
    assert [r[0] for r in rows] == ["全国地方公共団体コード"] + [code] * (len(rows) - 1)
    return [r[1:] for r in rows]


def counts_data(data: bytes) -> list[list[str]]:
    """counts_*.csv as 年度, 表, 項目, 内訳, 件数: its 合計 rows of the breakdowns and its 集計区分 left
    out (test_the_counts_csv_detail_rows_add_up_to_their_totals checks those)."""
    rows = read_open_data(data)
    assert rows[0][2] == "集計区分"
    return [r[:2] + r[3:] for r in rows if not (r[2] == "合計" and r[1] != "件数")]


def test_the_counts_csv_detail_rows_add_up_to_their_totals(published):
    """One level per row kind: summing a table's 内訳 rows gives its 合計 row; an organ's 内訳 rows give
    its 小計 row; 小計 and 合計 rows are never 内訳, so a spreadsheet's SUM over 内訳 is right."""
    _result, files = published(mixed_ledger())
    rows = read_open_data(files["counts_2025.csv"])
    assert rows[0] == ["年度", "表", "集計区分", "項目", "内訳", "件数"]
    tables = dict.fromkeys(r[1] for r in rows[1:])
    assert list(tables) == ["件数", "機関・部局", "事務の区分", "相手方の区分", "方法", "月"]
    for table in tables:
        mine = [r for r in rows[1:] if r[1] == table]
        (total,) = [int(r[5]) for r in mine if r[2] == "合計"]
        assert sum(int(r[5]) for r in mine if r[2] == "内訳") == total, table
    organ_rows = [r for r in rows[1:] if r[1] == "機関・部局"]
    for subtotal in (r for r in organ_rows if r[2] == "小計"):
        details = [int(r[5]) for r in organ_rows if r[2] == "内訳" and r[3] == subtotal[3]]
        assert details and sum(details) == int(subtotal[5]) and subtotal[4] == ""
    assert all(r[4] for r in organ_rows if r[2] == "内訳")  # a detail row names its 部局
    applicable = [int(r[5]) for r in rows[1:] if r[3] == "不当な働きかけに該当すると判断したもの"]
    assert applicable == [int(r[5]) for r in organ_rows if r[2] == "合計"]
    assert {r[2] for r in rows[1:]} == {"合計", "小計", "内訳", "再掲"}


@pytest.fixture
def published(tmp_path, config):
    """publish(ledger, **options) → (result, {file name: bytes}) for a ledger written to DIR."""

    def publish(ledger: Ledger, fiscal_year: FiscalYear = FY, allow_pending: bool = False, cfg=None):
        result = publish_ledger(ledger, tmp_path, cfg or config, fiscal_year, allow_pending)
        return result, {p.name: p.read_bytes() for p in result.files}

    return publish


# --- counts and breakdowns ----------------------------------------------------------------------


def test_counts_and_breakdowns_of_the_year(published):
    result, files = published(mixed_ledger())
    pub = result.publication
    assert (
        pub.counts.recorded,
        pub.counts.applicable,
        pub.counts.not_applicable,
        pub.counts.undecided,
        pub.counts.published,
    ) == (6, 3, 1, 2, 3)
    counts = {(row[1], row[2], row[3]): int(row[4]) for row in counts_data(files["counts_2025.csv"])[1:]}
    assert counts[("件数", "記録された働きかけ（除外事由に当たるものを除く）", "")] == 6
    assert counts[("件数", "不当な働きかけに該当すると判断したもの", "")] == 3
    assert counts[("件数", "該当しないと判断したもの", "")] == 1
    assert counts[("件数", "判断中のもの", "")] == 2
    assert (
        counts[("機関・部局", "知事部局", "")] == 2 and counts[("機関・部局", "知事部局", "県土整備部")] == 1
    )
    assert (
        counts[("機関・部局", "知事部局", "健康福祉部")] == 1
        and counts[("機関・部局", "知事部局", "総務部")] == 0
    )
    assert (
        counts[("機関・部局", "教育委員会", "教育庁")] == 1
        and counts[("機関・部局", "各種委員会", "監査委員")] == 0
    )
    assert {k[1]: v for k, v in counts.items() if k[0] == "事務の区分"} == {
        "入札・契約": 1,
        "許認可": 1,
        "補助金等": 1,
        "その他": 0,
    }
    assert {k[1]: v for k, v in counts.items() if k[0] == "方法"} == {
        "面談": 1,
        "電話": 1,
        "電子メール": 1,
        "文書": 0,
        "その他": 0,
    }
    assert {k[1]: v for k, v in counts.items() if k[0] == "相手方の区分"} == {
        "事業者": 1,
        "団体": 1,
        "議員": 0,
        "再就職者（県職員OB）": 1,
        "その他": 0,
    }
    months = [(k[1], v) for k, v in counts.items() if k[0] == "月"]
    assert [m for m, _ in months] == [f"2025-{m:02d}" for m in range(4, 13)] + [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    assert dict(months)["2025-06"] == 2 and dict(months)["2026-01"] == 1 and sum(v for _, v in months) == 3


def test_every_organ_of_the_configuration_is_shown_even_with_zero(published, config):
    _, files = published(mixed_ledger())
    page = files[PAGE_FILE].decode()
    organ_names = [o.name for o in config.organs]  # no reorganisation in the sample configuration
    for organ in organ_names:
        assert f"{organ}（" in page
    assert "警察本部では、不当な働きかけに該当する記録はありません。" in page
    rows = counts_data(files["counts_2025.csv"])
    assert [r[2] for r in rows if r[1] == "機関・部局" and r[3] == ""] == organ_names


def test_a_year_without_any_applicable_record_says_so(published):
    ledger = Ledger(
        LEDGER_DATE,
        [entry(Status.NOT_APPLICABLE, values=recorded_values(supervisor_judgement=NOT_APPLICABLE))],
    )
    _result, files = published(ledger)
    page = files[PAGE_FILE].decode()
    assert "令和7年度（2025年度）に不当な働きかけに該当すると判断された記録はありませんでした。" in page
    assert '<td class="num">0件</td>' in page and '<td class="num">1件</td>' in page
    assert read_open_data(files["records_2025.csv"]) == [RECORDS_HEADER]
    counts = counts_data(files["counts_2025.csv"])[1:]
    assert [int(r[4]) for r in counts if r[1] == "件数"] == [1, 0, 1, 0, 0]
    assert len([r for r in counts if r[1] != "件数"]) > 30 and all(
        r[4] == "0" for r in counts if r[1] != "件数"
    )


def test_the_first_month_of_operation_belongs_to_reiwa_6(published):
    result, files = published(mixed_ledger(), FiscalYear.parse("令和6"))
    assert [r[1] for r in read_open_data(files["records_2024.csv"])[1:]] == ["2025-03-10"]
    assert [t.iso for t in result.publication.by_month] == ["2025-03"]  # the year began with the system
    page = page_text(files[PAGE_FILE])
    assert "令和6年度（2024年度）" in page and "令和7年3月1日から令和7年3月31日まで" in page


def test_a_year_outside_the_ledger_is_refused(config):
    with pytest.raises(PublicationError, match="まだ始まっていません"):
        build_publication(Ledger(LEDGER_DATE, []), config, FiscalYear(2027))
    with pytest.raises(PublicationError, match="運用開始"):
        build_publication(Ledger(LEDGER_DATE, []), config, FiscalYear(2023))


# --- the published list -------------------------------------------------------------------------


def test_the_records_csv_has_exactly_the_public_columns(published):
    _, files = published(mixed_ledger())
    rows = read_open_data(files["records_2025.csv"])
    assert rows[0] == RECORDS_HEADER
    assert {c.field_id for c in PUBLIC_COLUMNS} <= set(PUBLIC_FIELD_IDS)
    assert rows[1:] == [
        [
            "1",
            "2025-06-10",
            "知事部局",
            "県土整備部",
            "入札・契約",
            "事業者",
            "面談",
            complete_values()["public_summary"],
            "伝えた",
            "伝えた",
            "撤回した",
            "要",
            complete_values()["public_measures"],
        ],
        [
            "2",
            "2025-06-20",
            "知事部局",
            "健康福祉部",
            "補助金等",
            "団体",
            "電話",
            complete_values()["public_summary"],
            "伝えた",
            "伝えた",
            "撤回した",
            "要",
            complete_values()["public_measures"],
        ],
        [
            "3",
            "2026-01-15",
            "教育委員会",
            "教育庁",
            "許認可",
            "再就職者（県職員OB）",
            "電子メール",
            complete_values()["public_summary"],
            "伝えた",
            "伝えた",
            "撤回した",
            "不要",
            "",
        ],
    ]


def test_month_precision_publishes_no_day(tmp_path, capsys):
    record_ledger(tmp_path, Ledger(LEDGER_DATE, [entry(record_id="A")]))
    config = tmp_path / "month.toml"
    config.write_text(
        default_config_text().replace('date_precision = "day"', 'date_precision = "month"'), encoding="utf-8"
    )
    assert main(["publish", str(tmp_path), "--fiscal-year", "R7", "--config", str(config)]) == 0
    out = tmp_path / "publication" / "2025"
    rows = read_open_data((out / "records_2025.csv").read_bytes())
    assert rows[0][1] == "働きかけを受けた月" and rows[1][1] == "2025-06"
    page = (out / PAGE_FILE).read_text(encoding="utf-8")
    assert '<time datetime="2025-06">令和7年6月</time>' in page
    assert "2025-06-10" not in page and "6月10日" not in page


def test_csv_files_are_bom_crlf_rfc4180_iso_and_formula_safe(published):
    tricky = '=HYPERLINK("http://example.invalid","詳細"), 二行目\nあり'
    ledger = Ledger(
        LEDGER_DATE,
        [
            entry(record_id="A", public_summary=tricky, public_measures="@SUM(1)"),
            entry(record_id="B", public_measures="-1+2"),
        ],
    )
    _, files = published(ledger)
    data = files["records_2025.csv"]
    assert data.startswith("\ufeff全国地方公共団体コード,通番,".encode())
    text = data.decode("utf-8-sig")
    assert (
        text.endswith("\r\n")
        and text.count("\r\n") == 3
        and "\n" not in text.replace("\r\n", "").replace("二行目\nあり", "")
    )
    assert (
        '"\'=HYPERLINK(""http://example.invalid"",""詳細""), 二行目\nあり"' in text
    )  # quoted, quotes doubled, neutralised
    rows = read_open_data(data)
    assert [r[7] for r in rows[1:]] == ["'" + tricky, complete_values()["public_summary"]]
    assert [r[12] for r in rows[1:]] == ["'@SUM(1)", "'-1+2"]
    assert rows[1][1] == "2025-06-10"
    counts = files["counts_2025.csv"].decode("utf-8-sig")
    assert counts.count("\r\n") == len(
        read_open_data(files["counts_2025.csv"])
    ) and "\n" not in counts.replace("\r\n", "")


def test_the_page_escapes_what_people_typed(published):
    ledger = Ledger(LEDGER_DATE, [entry(public_summary='<script>alert("x")</script> & <b>太字</b>')])
    _, files = published(ledger)
    page = list_pages(files)
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;太字&lt;/b&gt;" in page


def test_templates_never_mark_data_safe():
    from ledger_tools.pages import template_environment
    from ledger_tools.publish.page import PAGE_TEMPLATE, STYLESHEET_SOURCE

    assert template_environment().autoescape is True

    folder = Path(__file__).resolve().parent.parent / "ledger_tools" / "templates"
    for template in (folder / PAGE_TEMPLATE, folder / STYLESHEET_SOURCE):
        text = template.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text, template.name


# --- reconciliation -----------------------------------------------------------------------------


def held_back_ledger() -> Ledger:
    """One publishable record and one held back for every reason."""
    return Ledger(
        LEDGER_DATE,
        [
            entry(record_id="OK1"),
            entry(record_id="NS1", shared_with_general_affairs_date=None),
            entry(record_id="NP1", public_summary=None),
            entry(record_id="NM1", public_measures=None),
            entry(
                Status.INVALID,
                record_id="ER1",
                public_summary="連絡先 03-1234-5678",
                findings=[
                    make_finding(
                        "personal_data_in_public",
                        field="public_summary",
                        kind="電話番号",
                        found="03-1234-5678",
                    )
                ],
            ),
            entry(
                Status.INVALID,
                record_id="CF1",
                findings=[
                    make_finding("record_id_conflict", field="record_id", record_id="CF1", other="x.xlsx")
                ],
            ),
            LedgerEntry(
                path="inbox/壊れた.xlsx",
                sha256="",
                status=Status.UNREADABLE,
                record_id=None,
                stage=None,
                findings=[make_finding("unreadable_corrupt", detail="zip")],
            ),
            entry(
                Status.INVALID,
                values=recorded_values(record_id="UD1", supervisor_judgement=UNDECIDED),
                findings=[make_finding("required_missing", field="place")],
            ),  # not 該当: counted, never held back
        ],
    )


def test_publish_refuses_while_records_are_held_back_and_says_why(tmp_path, capsys):
    record_ledger(tmp_path, held_back_ledger())
    assert main(["publish", str(tmp_path), "--fiscal-year", "2025"]) == 1
    err = capsys.readouterr().err
    assert "公表を中止しました" in err and "公表できない記録が6件あります" in err
    assert "（該当と判断された記録（一覧に未掲載） 5件、読み取れないファイル（年度不明） 1件。理由: " in err
    for reason in (
        "整理番号の重複（内容の異なる別ファイルあり） 1件",
        "要修正のエラーあり 1件",
        "総務課への共有日が未記入 1件",
        "公表用の概要が未記入 1件",
        "措置が「要」なのに公表用の措置の概要が未記入 1件",
    ):
        assert reason in err
    assert "--allow-pending" in err and "公表照合表_2025.csv" in err
    assert not (tmp_path / "publication").exists()
    rows = read_csv((tmp_path / "公表照合表_2025.csv").read_bytes())
    assert rows[0] == RECONCILIATION_HEADER
    assert sorted((r[0], r[6], r[7], r[9]) for r in rows[1:]) == [
        ("", "保留", "", "unreadable"),
        ("CF1", "保留", "", "conflict"),
        ("ER1", "保留", "", "error"),
        ("NM1", "保留", "", "no_public_measures"),
        ("NP1", "保留", "", "no_public_summary"),
        ("NS1", "保留", "", "not_shared"),
        ("OK1", "公表", "1", ""),
    ]


def test_allow_pending_publishes_and_states_what_is_held_back(tmp_path, capsys):
    record_ledger(tmp_path, held_back_ledger())
    assert main(["publish", str(tmp_path), "--fiscal-year", "令和7", "--allow-pending"]) == 0
    out = capsys.readouterr().out
    assert "公表を保留した記録: 6件" in out and "公表 1件" in out
    assert f"ページ: {(tmp_path / 'publication' / '2025' / PAGE_FILE).resolve()}" in out
    page = (tmp_path / "publication" / "2025" / PAGE_FILE).read_text(encoding="utf-8")
    # 該当 counted: the ok ones and the two being corrected; one published, the rest stated as not yet published
    assert "判断された記録は6件です。そのうち1件を、機関ごとの一覧のページに掲載しています。" in page
    assert "うち5件は、公表の準備" in page
    assert "読み取れないファイルが1件あり、確認中です。" in page
    assert len(read_open_data((tmp_path / "publication" / "2025" / "records_2025.csv").read_bytes())) == 2


def test_publishing_twice_gives_byte_identical_files(tmp_path, config):
    ledger = mixed_ledger()
    record_ledger(tmp_path, ledger)
    first = publish_ledger(ledger, tmp_path, config, FY)
    before = {p: p.read_bytes() for p in [*first.files, first.report]}
    from ledger_tools.ledger.entries import load_ledger

    second = publish_ledger(load_ledger(tmp_path), tmp_path, config, FY)
    assert {p: p.read_bytes() for p in [*second.files, second.report]} == before
    assert sorted(p.name for p in first.files) == [
        "counts_2025.csv",
        "index.html",
        "records-01.html",
        "records-02.html",
        "records_2025.csv",
        "style.css",
        "summary.json",
    ]
    assert render_files(build_publication(ledger, config, FY)[0]) == {
        p.name: b for p, b in before.items() if p in first.files
    }


@pytest.mark.parametrize("year", ["2025", "R7", "令和7", "令和7年度", "Ｒ７"])
def test_the_fiscal_year_is_read_in_every_form(tmp_path, year, capsys):
    record_ledger(tmp_path, Ledger(LEDGER_DATE, [entry()]))
    assert main(["publish", str(tmp_path), "--fiscal-year", year]) == 0
    assert (tmp_path / "publication" / "2025" / PAGE_FILE).exists()
    assert "令和7年度（2025年度）" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["publish", "{dir}", "--fiscal-year", "来年"],
        ["publish", "{dir}"],
        ["publish", "{dir}/無い", "--fiscal-year", "R7"],
        ["publish", "{dir}", "--fiscal-year", "2030"],
    ],
)
def test_publish_usage_errors_exit_with_2(tmp_path, args, capsys):
    record_ledger(tmp_path, Ledger(LEDGER_DATE, [entry()]))
    assert main([a.format(dir=tmp_path) for a in args]) == 2
    assert capsys.readouterr().err


def test_a_ledger_built_from_real_workbooks_publishes(tmp_path, write_workbook, config):
    context = RuleContext(config, AS_OF)
    paths = [
        write_workbook(complete_values(), name="R7-0001.xlsx"),
        write_workbook(complete_values(record_id="R7-0002", public_summary=None), name="R7-0002.xlsx"),
    ]
    ledger = Ledger(AS_OF, [LedgerEntry.from_report(validate_file(p, context), path=p.name) for p in paths])
    with pytest.raises(PublicationRefused, match="公表用の概要が未記入 1件"):
        publish_ledger(ledger, tmp_path / "out", config, FY)
    result = publish_ledger(ledger, tmp_path / "out", config, FY, allow_pending=True)
    rows = read_open_data((result.directory / "records_2025.csv").read_bytes())
    assert [r[:3] for r in rows[1:]] == [["1", "2025-06-10", "知事部局"]]


def test_an_excluded_applicable_record_is_listed_but_neither_published_nor_blocking(
    tmp_path, write_workbook, config, capsys
):
    """A record judged 該当 although an exclusion applies is out of scope (never published, not counted as
    該当) but appears in the reconciliation with its reason, and publishing goes ahead without --allow-pending."""
    excluded = validate_file(
        write_workbook(complete_values(record_id="X1", excl_minuted_meeting="該当する"), name="X1.xlsx"),
        RuleContext(config, LEDGER_DATE),
    )
    assert excluded.status is Status.EXCLUDED and excluded.values["supervisor_judgement"] == APPLICABLE
    record_ledger(
        tmp_path,
        Ledger(LEDGER_DATE, [entry(record_id="A"), LedgerEntry.from_report(excluded, path="inbox/X1.xlsx")]),
    )
    assert main(["publish", str(tmp_path), "--fiscal-year", "R7"]) == 0
    out = capsys.readouterr().out
    assert "除外事由に該当するのに「該当する」と判断された記録: 1件（公表の対象外。照合表に記載）" in out
    assert "公表を保留" not in out and "公表 1件" in out and "該当 1件" in out
    rows = read_csv((tmp_path / "公表照合表_2025.csv").read_bytes())
    assert rows[0] == RECONCILIATION_HEADER
    assert [(r[0], r[1], r[6], r[7], r[8], r[9]) for r in rows[1:]] == [
        ("A", "inbox/A.xlsx", "公表", "1", "", ""),
        ("X1", "inbox/X1.xlsx", "対象外", "", "除外事由に該当（公表の対象外）", "excluded"),
    ]
    directory = tmp_path / "publication" / "2025"
    assert [r[0] for r in read_open_data((directory / "records_2025.csv").read_bytes())[1:]] == ["1"]
    counts = {
        r[2]: int(r[4])
        for r in counts_data((directory / "counts_2025.csv").read_bytes())[1:]
        if r[1] == "件数"
    }
    assert (
        counts["不当な働きかけに該当すると判断したもの"] == 1
        and counts["記録された働きかけ（除外事由に当たるものを除く）"] == 1
    )
    page = (directory / PAGE_FILE).read_bytes()
    assert "判断された記録は1件です" in page_text(page) and b'class="notice"' not in page


def test_an_unreadable_file_holds_back_every_year_and_the_page_and_cli_say_so_alike(tmp_path, capsys):
    """A file that cannot be read cannot be dated: it blocks every year; with --allow-pending the page states it
    apart from the 該当 records (never as one), with the number the CLI prints."""
    junk = LedgerEntry(
        path="inbox/junk.xlsx",
        sha256="",
        status=Status.UNREADABLE,
        record_id=None,
        stage=None,
        findings=[make_finding("unreadable_corrupt", detail="zip")],
    )
    record_ledger(tmp_path, Ledger(LEDGER_DATE, [entry(record_id="A"), junk]))
    for year in ("R6", "R7"):
        assert main(["publish", str(tmp_path), "--fiscal-year", year]) == 1
        err = capsys.readouterr().err
        assert "公表できない記録が1件あります（読み取れないファイル（年度不明） 1件）" in err, err
    rows = read_csv((tmp_path / "公表照合表_2025.csv").read_bytes())
    assert [(r[1], r[6], r[8], r[9]) for r in rows[1:]] == [
        ("inbox/A.xlsx", "公表", "", ""),
        ("inbox/junk.xlsx", "保留", "読み取れないファイル（年度不明）", "unreadable"),
    ]

    assert main(["publish", str(tmp_path), "--fiscal-year", "R7", "--allow-pending"]) == 0
    out = capsys.readouterr().out
    assert (
        "公表を保留した記録: 1件（読み取れないファイル（年度不明） 1件）。ページにも同じ件数を記載しています。"
        in out
    )
    page = (tmp_path / "publication" / "2025" / PAGE_FILE).read_bytes()
    notices = re.findall(r'<p class="notice">(.*?)</p>', page.decode())
    assert notices == [  # the file is not claimed to be a 該当 record
        "読み取れないファイルが1件あり、確認中です。どの年度の記録か、不当な働きかけに該当するかは確認の後に判断するため、不当な働きかけの件数には含めていません。"
    ]
    assert "判断された記録は1件です。そのうち1件を、機関ごとの一覧のページに掲載しています。" in page_text(
        page
    )


def held_back_groups_ledger() -> Ledger:
    """Held back: two 該当 (one being corrected), one whose judgement cannot be read, one unreadable file."""
    return Ledger(
        LEDGER_DATE,
        [
            entry(record_id="OK1"),
            entry(record_id="NS1", shared_with_general_affairs_date=None),
            entry(
                Status.INVALID,
                record_id="ER1",
                values=complete_values(record_id="ER1", place=None),
                findings=[make_finding("required_missing", field="place", label="場所", condition="必須")],
            ),
            entry(
                Status.INVALID,
                values={**complete_values(record_id="UJ1"), "supervisor_judgement": None},
                findings=[
                    make_finding(
                        "invalid_choice",
                        field="supervisor_judgement",
                        label="所属長の判断",
                        value="がいとう",
                        choices="…",
                    )
                ],
            ),
            LedgerEntry(
                path="inbox/壊れた.xlsx",
                sha256="",
                status=Status.UNREADABLE,
                record_id=None,
                stage=None,
                findings=[make_finding("unreadable_corrupt", detail="zip")],
            ),
        ],
    )


def test_the_held_back_numbers_on_the_page_and_in_the_cli_agree(tmp_path, capsys):
    record_ledger(tmp_path, held_back_groups_ledger())
    assert main(["publish", str(tmp_path), "--fiscal-year", "R7"]) == 1
    groups = "該当と判断された記録（一覧に未掲載） 2件、該当かどうか又は日付を確認中の記録 1件、読み取れないファイル（年度不明） 1件"
    assert (
        f"公表できない記録が4件あります（{groups}。理由: 要修正のエラーあり 2件、総務課への共有日が未記入 1件）"
        in capsys.readouterr().err
    )
    assert main(["publish", str(tmp_path), "--fiscal-year", "R7", "--allow-pending"]) == 0
    assert f"公表を保留した記録: 4件（{groups}）" in capsys.readouterr().out
    page = page_text((tmp_path / "publication" / "2025" / PAGE_FILE).read_bytes())
    assert "判断された記録は3件です。そのうち1件を、機関ごとの一覧のページに掲載しています。" in page
    assert "不当な働きかけに該当すると判断された記録のうち2件は、公表の準備" in page
    assert (
        "このほか、記載内容を確認中で、不当な働きかけに該当するかどうか又は働きかけを受けた日をまだ確認できない記録が1件、読み取れないファイルが1件あり、確認中です。"
        in page
    )
    rows = read_csv((tmp_path / "公表照合表_2025.csv").read_bytes())
    assert sorted((r[0], r[6]) for r in rows[1:]) == [
        ("", "保留"),
        ("ER1", "保留"),
        ("NS1", "保留"),
        ("OK1", "公表"),
        ("UJ1", "保留"),
    ]


def test_breakdowns_cover_every_applicable_record_published_or_held_back(published):
    """Spec §7: the 該当 records broken down — held-back ones included, 不明 for a value that cannot be read."""
    ledger = Ledger(
        LEDGER_DATE,
        [
            entry(record_id="A"),  # published: 知事部局/県土整備部, 入札・契約, 事業者, 面談, 2025-06
            entry(
                record_id="B",
                shared_with_general_affairs_date=None,
                organ="教育委員会",
                department="教育庁",
                method="電話",
                received_date=dt.date(2025, 9, 1),
            ),
            entry(
                Status.INVALID,
                record_id="C",
                values={
                    **complete_values(record_id="C", received_date=dt.date(2026, 2, 3)),
                    "method": None,
                    "department": None,
                    "business_type": "山田太郎に頼まれた件",
                    "organ": "山田商事",
                },
                findings=[make_finding("required_missing", field="method", label="方法", condition="必須")],
            ),
        ],
    )
    _, files = published(ledger, allow_pending=True)
    numbers = assert_page_and_counts_csv_agree(files)
    assert numbers["件数"] == [3, 3, 0, 0, 1]
    rows = counts_data(files["counts_2025.csv"])[1:]
    assert {r[2]: int(r[4]) for r in rows if r[1] == "方法"} == {
        "面談": 1,
        "電話": 1,
        "文書": 0,
        "電子メール": 0,
        "その他": 0,
        "不明": 1,
    }
    assert {r[2]: int(r[4]) for r in rows if r[1] == "事務の区分"} == {
        "入札・契約": 2,
        "許認可": 0,
        "補助金等": 0,
        "その他": 0,
        "不明": 1,
    }
    organ_totals = {r[2]: int(r[4]) for r in rows if r[1] == "機関・部局" and r[3] == ""}
    assert organ_totals["知事部局"] == 1 and organ_totals["教育委員会"] == 1 and organ_totals["不明"] == 1
    assert [(r[2], r[3], r[4]) for r in rows if r[1] == "機関・部局" and r[2] == "不明"] == [
        ("不明", "", "1"),
        ("不明", "不明", "1"),
    ]
    months = {r[2]: int(r[4]) for r in rows if r[1] == "月"}
    assert (months["2025-06"], months["2025-09"], months["2026-02"]) == (1, 1, 1)
    page = page_text(files[PAGE_FILE])
    assert "不当な働きかけに該当すると判断された記録3件（公表の準備中の2件を含みます）の内訳です。" in page
    assert (
        "不当な働きかけに該当すると判断された記録3件のうち、公表の準備ができた1件を掲載しています。" in page
    )
    assert "知事部局（1件）" in page and "教育委員会（0件、ほかに公表の準備中1件）" in page
    assert (
        "教育委員会で不当な働きかけに該当すると判断された1件は、公表の準備中のため、まだ掲載していません。"
        in page
    )
    assert "令和7年9月 1件" in page and "令和8年2月 1件" in page  # the chart's text alternative
    for private in ("山田太郎", "山田商事"):  # a value being corrected is never published
        assert all(private not in data.decode("utf-8-sig") for data in files.values())


def test_publish_waits_for_a_run_holding_dir_then_exits_2(tmp_path, capsys):
    from filelock import FileLock

    record_ledger(tmp_path, Ledger(LEDGER_DATE, [entry()]))
    with FileLock(str(tmp_path / ".lock")):  # an aggregation (or another publication) is writing DIR
        assert main(["publish", str(tmp_path), "--fiscal-year", "R7", "--wait", "0.2"]) == 2
    err = capsys.readouterr().err
    assert "別の集計又は公表が同じフォルダ" in err and "0.2秒待ちました" in err
    assert not (tmp_path / "publication").exists() and not (tmp_path / "公表照合表_2025.csv").exists()
    assert main(["publish", str(tmp_path), "--fiscal-year", "R7"]) == 0  # free again


def test_publish_holds_the_lock_while_it_reads_and_writes(tmp_path, config, monkeypatch):
    from filelock import FileLock, Timeout

    from ledger_tools.publish import publication

    seen = []
    real_write_publication = publication.write_publication

    def write_publication(directory, files, beside):
        with pytest.raises(Timeout):
            FileLock(str(tmp_path / ".lock")).acquire(timeout=0)
        seen.append(directory)
        real_write_publication(directory, files, beside)

    monkeypatch.setattr(publication, "write_publication", write_publication)
    record_ledger(tmp_path, Ledger(LEDGER_DATE, [entry()]))
    publication.publish(tmp_path, config, FY)
    assert seen == [tmp_path / "publication" / "2025"]


def publication_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_the_publication_folder_is_replaced_as_a_whole(tmp_path, config):
    directory = tmp_path / "publication" / "2025"
    directory.mkdir(parents=True)
    (directory / "古いファイル.txt").write_text("前回の残り", encoding="utf-8")
    stale = [
        tmp_path / "publication" / ".2025.new-dead",
        tmp_path / "publication" / ".2025.old-dead",
    ]  # a killed run's
    for folder in stale:
        folder.mkdir()
        (folder / PAGE_FILE).write_text("途中", encoding="utf-8")
    result = publish_ledger(mixed_ledger(), tmp_path, config, FY)
    assert sorted(publication_files(directory)) == [
        "counts_2025.csv",
        "index.html",
        "records-01.html",
        "records-02.html",
        "records_2025.csv",
        "style.css",
        "summary.json",
    ]
    assert publication_files(directory) == render_files(result.publication)
    assert [p.name for p in (tmp_path / "publication").iterdir() if p.is_dir()] == ["2025"]


def test_a_failed_write_leaves_the_previous_publication_as_it_was(tmp_path, config, monkeypatch):
    from ledger_tools.publish import folder

    publish_ledger(mixed_ledger(), tmp_path, config, FY)
    directory = tmp_path / "publication" / "2025"
    before = publication_files(directory)
    calls = []
    real_write = folder.write_staged

    def write_staged(path, data):  # the disk fills up at the third file of the publication
        calls.append(path)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(folder, "write_staged", write_staged)
    with pytest.raises(PublicationError, match="書き込めません: ディスクの空き容量が不足しています"):
        publish_ledger(Ledger(LEDGER_DATE, [entry(record_id="A")]), tmp_path, config, FY)
    assert publication_files(directory) == before
    assert [p.name for p in (tmp_path / "publication").iterdir() if p.is_dir()] == ["2025"]


@pytest.mark.parametrize("failing_call", [1, 2])  # renaming the old folder aside (1), the new one in (2)
def test_a_folder_that_cannot_be_replaced_is_kept_and_reported(tmp_path, capsys, monkeypatch, failing_call):
    """On Windows a folder cannot be renamed while a file in it is open (a CSV in Excel): exit 2, old folder kept."""

    record_ledger(tmp_path, mixed_ledger())
    assert main(["publish", str(tmp_path), "--fiscal-year", "R7"]) == 0
    directory = tmp_path / "publication" / "2025"
    before = publication_files(directory)
    record_ledger(tmp_path, Ledger(LEDGER_DATE, [entry(record_id="A")]))
    calls = []
    real_replace = os.replace

    def replace(source, target):
        if Path(source).is_dir():
            calls.append(Path(source).name)
        if Path(source).is_dir() and len(calls) == failing_call:
            raise PermissionError(13, "Permission denied")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    assert main(["publish", str(tmp_path), "--fiscal-year", "R7"]) == 2
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert "公表フォルダ" in err and "を置き換えられません" in err and "開いていれば閉じて" in err
    assert publication_files(directory) == before
    assert [p.name for p in (tmp_path / "publication").iterdir() if p.is_dir()] == ["2025"]


# --- the page's structure -----------------------------------------------------------------------


class PageStructure(HTMLParser):
    """What an accessibility review checks by hand: lang, title, headings, tables, ids."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.title = ""
        self.h1 = 0
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.tables: list[dict] = []  # caption, th scopes, rows of cell texts
        self.svg_attrs: list[dict] = []
        self._open: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_title = self._in_caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "title" and "svg" not in self._open:
            self._in_title = True
        elif tag == "h1":
            self.h1 += 1
        elif tag == "svg":
            self.svg_attrs.append(a)
        elif tag == "table":
            self.tables.append({"caption": None, "first_child": None, "scopes": [], "rows": []})
        elif tag == "caption":
            self._in_caption = True
            self.tables[-1]["caption"] = ""
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = []
            if tag == "th":
                self.tables[-1]["scopes"].append(a.get("scope"))
        if self.tables and self.tables[-1]["first_child"] is None and tag != "table":
            self.tables[-1]["first_child"] = tag
        if tag not in ("meta", "link", "line", "rect", "br"):
            self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1]["rows"].append(self._row)
            self._row = None
        elif tag == "caption":
            self._in_caption = False
        elif tag == "title":
            self._in_title = False
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._in_caption:
            self.tables[-1]["caption"] += data
        if self._cell is not None:
            self._cell.append(data)


def page_structure(page: bytes) -> PageStructure:
    parser = PageStructure()
    parser.feed(page.decode("utf-8"))
    return parser


def test_the_page_structure_is_accessible(published):
    _, files = published(mixed_ledger())
    page = page_structure(files[PAGE_FILE])
    assert page.lang == "ja"
    assert page.title == "令和7年度（2025年度）不当な働きかけの記録の状況｜サンプル県"
    assert page.h1 == 1
    assert "script" not in page.tags and "style" not in page.tags
    assert len(page.ids) == len(set(page.ids))
    assert page.tables
    for table in page.tables:
        assert table["first_child"] == "caption" and table["caption"].strip(), table
        assert table["scopes"] and all(
            s in ("col", "row", "colgroup", "rowgroup") for s in table["scopes"]
        ), table
    assert not [t for t in page.tables if "の不当な働きかけの一覧" in t["caption"]]  # on the list pages
    svg = page.svg_attrs[0]
    assert svg["role"] == "img" and all(i in page.ids for i in svg["aria-labelledby"].split())
    lists = sorted(name for name in files if name.startswith("records-"))
    assert lists == ["records-01.html", "records-02.html"]  # only organs with records
    for name in lists:
        assert f'href="{name}"' in files[PAGE_FILE].decode()
        structure = page_structure(files[name])
        assert structure.lang == "ja" and structure.h1 == 1 and len(structure.ids) == len(set(structure.ids))
        assert structure.title.endswith("）｜サンプル県") and "不当な働きかけの一覧（" in structure.title
        (table,) = structure.tables
        assert table["first_child"] == "caption" and "の不当な働きかけの一覧" in table["caption"]
        assert all(s in ("col", "row") for s in table["scopes"])
        assert f'href="{PAGE_FILE}"' in files[name].decode()  # back to the summary


def assert_page_and_counts_csv_agree(files: dict[str, bytes]) -> dict[str, list[int]]:
    """Every number of the page's tables equals the counts CSV, and each breakdown sums to 該当 (its 合計
    row included); returns the CSV's numbers by table."""
    tables = {t["caption"]: t["rows"][1:] for t in page_structure(files[PAGE_FILE]).tables}
    csv_rows = counts_data(files["counts_2025.csv"])[1:]

    def from_csv(kind):
        return [int(r[4]) for r in csv_rows if r[1] == kind]

    def from_page(caption, total=False):
        return [int(row[-1].removesuffix("件")) for row in tables[caption] if (row[0] == "合計") == total]

    assert from_page("令和7年度の件数") == from_csv("件数")
    applicable = from_csv("件数")[1]
    for kind in ("事務の区分", "相手方の区分", "方法", "月"):
        assert from_page(f"{kind}別の件数（令和7年度）") == from_csv(kind)
        assert sum(from_csv(kind)) == applicable and from_page(
            f"{kind}別の件数（令和7年度）", total=True
        ) == [applicable], kind
    organ_rows = [r for r in tables["機関・部局別の件数（令和7年度）"] if r[0] != "合計"]
    assert [int(r[-1].removesuffix("件")) for r in organ_rows] == from_csv("機関・部局")
    organ_totals = [int(r[4]) for r in csv_rows if r[1] == "機関・部局" and r[3] == ""]
    assert sum(organ_totals) == applicable and from_page("機関・部局別の件数（令和7年度）", total=True) == [
        applicable
    ]
    return {
        kind: from_csv(kind) for kind in ("件数", "事務の区分", "相手方の区分", "方法", "月", "機関・部局")
    }


def test_the_page_shows_the_same_numbers_as_the_counts_csv(published):
    _, files = published(mixed_ledger())
    assert_page_and_counts_csv_agree(files)
    tables = {t["caption"]: t["rows"][1:] for t in page_structure(files[PAGE_FILE]).tables}
    assert [r[0] for r in tables["月別の件数（令和7年度）"][:2]] == ["令和7年4月", "令和7年5月"]
    # the chart's text alternative carries the same numbers
    page = files[PAGE_FILE].decode()
    assert "令和7年6月 2件、令和7年7月 0件" in page


# --- never publish what is private --------------------------------------------------------------

PRIVATE_FIELD_IDS = [f.id for f in FIELDS if not f.public]
PLAUSIBLE = st.sampled_from(
    [
        "山田 太郎",
        "佐藤 花子",
        "鈴木一郎",
        "高橋建設株式会社",
        "社会福祉法人さくら会",
        "田中 五郎",
        "伊藤商事",
        "渡辺 美咲",
        "道路建設課",
        "技術管理課",
        "県土整備部監理課",
        "090-1234-5678",
        "yamada@example.jp",
        "〒100-0001",
    ]
)
TOKEN = st.text(
    alphabet=st.sampled_from(
        "あいうえおかきくけこアイウエオ亜唖娃阿哀愛挨姶逢葵茜穐悪握渥旭葦芦鯵梓ABCXYZqxz019<>&\"',=+-@ \n"
    ),
    min_size=8,
    max_size=16,
).filter(lambda t: t.strip() == t and len(set(t)) > 3)
PRIVATE_VALUE = st.one_of(PLAUSIBLE, TOKEN)
SAFE_SUMMARIES = ["入札に関し、予定価格を教えるよう求められた。", "補助金の審査を緩めるよう依頼された。", ""]


@st.composite
def planted_entry(draw, status: Status | None = None, judgement: str | None = None):
    private = {field_id: draw(PRIVATE_VALUE) for field_id in PRIVATE_FIELD_IDS}
    public = {
        field_id: draw(st.sampled_from(FIELD_BY_ID[field_id].choices))
        for field_id in PUBLIC_FIELD_IDS
        if FIELD_BY_ID[field_id].choices
    }
    public["organ"], public["department"] = draw(
        st.sampled_from([("知事部局", "総務部"), ("教育委員会", "教育庁"), ("各種委員会", "監査委員")])
    )
    public["received_date"] = draw(
        st.dates(FY.start, FY.end) if judgement else st.dates(dt.date(2025, 3, 1), LEDGER_DATE)
    )
    public["public_summary"] = draw(st.sampled_from(SAFE_SUMMARIES[:2]))
    public["public_measures"] = draw(st.sampled_from(SAFE_SUMMARIES[:2] if judgement else SAFE_SUMMARIES))
    if judgement is not None:
        public["supervisor_judgement"] = judgement
    values = {**private, **public}
    status = status or draw(st.sampled_from(list(Status)))
    findings = [make_finding("duplicate_file", record_id=draw(PRIVATE_VALUE), other=draw(PRIVATE_VALUE))]
    planted = [*private.values(), *(f.message for f in findings)]
    path, record_id = draw(PRIVATE_VALUE), draw(PRIVATE_VALUE)
    ledger_entry = LedgerEntry(
        path=path,
        sha256="",
        status=status,
        record_id=record_id,
        stage=None,
        findings=findings,
        values=values,
        cells={k: draw(PRIVATE_VALUE) for k in ("staff_name", "place")},
    )
    return ledger_entry, [*planted, path, record_id, *ledger_entry.cells.values()]


def forms(value: str) -> set[str]:
    """How a value would look once written into HTML or a CSV cell."""
    return {value, html.escape(value), html.escape(value, quote=False), value.replace('"', '""')}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=planted_entry(Status.OK, APPLICABLE), others=st.lists(planted_entry(), max_size=3))
def test_no_private_value_ever_reaches_a_published_file(config, first, others):
    """Random values in every private field (and the path, record id, cells, findings) of every
    record, one of them surely published: none appears in the page, the stylesheet or a CSV."""
    ledger = Ledger(LEDGER_DATE, [first[0], *(e for e, _ in others)])
    publication, _ = build_publication(ledger, config, FY)
    assert publication.counts.published >= 1
    files = render_files(publication)
    texts = {name: data.decode("utf-8-sig") for name, data in files.items()}
    for planted in [first[1], *(p for _, p in others)]:
        for value in planted:
            for form in forms(value):
                for name, text in texts.items():
                    assert form not in text, (name, value)


# --- the whole job ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_inbox(tmp_path_factory) -> Path:
    from ledger_tools.form.samples import write_sample_inbox

    inbox = tmp_path_factory.mktemp("samples") / "inbox"
    write_sample_inbox(inbox)
    return inbox


def test_run_aggregates_and_publishes_the_sample_inbox(sample_inbox, tmp_path, capsys):
    out = tmp_path / "output"
    args = ["run", str(sample_inbox), "--fiscal-year", "R7", "--out", str(out), "--as-of", "2026-04-30"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    page = out / "publication" / "2025" / PAGE_FILE
    assert "台帳" in printed and f"ページ: {page.resolve()}" in printed and "公表 3件" in printed
    assert (out / "ledger.json").exists() and (out / "公表照合表_2025.csv").exists()
    assert sorted(p.name for p in page.parent.iterdir()) == [
        "counts_2025.csv",
        "index.html",
        "records-01.html",
        "records-02.html",
        "records_2025.csv",
        "style.css",
        "summary.json",
    ]
    assert [r[0] for r in read_open_data((page.parent / "records_2025.csv").read_bytes())[1:]] == [
        "1",
        "2",
        "3",
    ]
    before = {p.name: p.read_bytes() for p in page.parent.iterdir()}
    assert main(args) == 0
    assert {p.name: p.read_bytes() for p in page.parent.iterdir()} == before


def test_run_refuses_to_publish_a_year_with_an_invalid_applicable_record(
    sample_inbox, tmp_path, write_workbook, capsys
):
    import shutil

    inbox = tmp_path / "inbox"
    shutil.copytree(sample_inbox, inbox)
    write_workbook(
        complete_values(record_id="R7-0010", place=None), name="R7-0010.xlsx", folder=inbox / "知事部局"
    )
    out = tmp_path / "output"
    args = ["run", str(inbox), "--fiscal-year", "2025", "--out", str(out), "--as-of", "2026-04-30"]
    assert main(args) == 1
    assert (
        "公表できない記録が1件あります（該当と判断された記録（一覧に未掲載） 1件。理由: 要修正のエラーあり 1件）"
        in capsys.readouterr().err
    )
    assert not (out / "publication").exists()
    assert main([*args, "--allow-pending"]) == 1  # published, but a file still needs correcting
    assert "公表を保留した記録: 1件" in capsys.readouterr().out
    assert (out / "publication" / "2025" / PAGE_FILE).exists()


@pytest.fixture
def fake_aggregate(monkeypatch):
    """Replace the aggregator: record what run passes to it and leave a one-record ledger in DIR."""
    from types import SimpleNamespace

    from ledger_tools.ledger import aggregation

    calls = []

    def aggregate(
        inbox,
        out_dir,
        config,
        as_of,
        month=None,
        progress=None,
        workers=None,
        *,
        lock_wait=10.0,
        retry_delay=2.0,
    ):
        calls.append({"month": month, "lock_wait": lock_wait, "workers": workers})
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        record_ledger(out_dir, Ledger(as_of, [entry()]))
        return SimpleNamespace(summary_text=lambda: "集計しました。\n", has_failures=False)

    monkeypatch.setattr(aggregation, "aggregate", aggregate)
    return calls


def test_run_passes_month_and_wait_to_the_aggregator(tmp_path, fake_aggregate, capsys):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    args = ["run", str(inbox), "--fiscal-year", "R7", "--out", str(out), "--as-of", "2026-05-01"]
    assert main(args) == 0
    assert main([*args, "--month", "2026-03", "--wait", "3"]) == 0
    assert fake_aggregate == [
        {"month": None, "lock_wait": 10.0, "workers": None},
        {"month": "2026-03", "lock_wait": 3.0, "workers": None},
    ]
    assert "公表 1件" in capsys.readouterr().out


def test_run_publishes_under_the_lock_and_waits_as_long_as_asked(
    tmp_path, fake_aggregate, monkeypatch, capsys
):
    """Another run takes DIR between the aggregation and the publication: run waits --wait seconds, then exits 2."""
    from filelock import FileLock

    from ledger_tools.ledger import aggregation

    other_run = FileLock(str(tmp_path / "out" / ".lock"))
    real = aggregation.aggregate

    def aggregate_then_other_run_starts(*args, **kwargs):
        result = real(*args, **kwargs)
        other_run.acquire()
        return result

    monkeypatch.setattr(aggregation, "aggregate", aggregate_then_other_run_starts)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    try:
        code = main(
            [
                "run",
                str(inbox),
                "--fiscal-year",
                "R7",
                "--out",
                str(tmp_path / "out"),
                "--as-of",
                "2026-05-01",
                "--wait",
                "0.2",
            ]
        )
    finally:
        other_run.release()
    assert code == 2
    assert "別の集計又は公表が同じフォルダ" in capsys.readouterr().err
    assert not (tmp_path / "out" / "publication").exists()


def test_run_rejects_a_malformed_month(tmp_path, capsys):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert (
        main(["run", str(inbox), "--fiscal-year", "R7", "--out", str(tmp_path / "out"), "--month", "2026-13"])
        == 2
    )
    assert "月は YYYY-MM の形で指定してください: 2026-13" in capsys.readouterr().err


def test_publishing_with_another_configuration_than_the_aggregation_is_refused(tmp_path, capsys):
    """A forgotten --config must not publish exact dates where the prefecture chose months."""
    from ledger_tools.cli import main
    from ledger_tools.config import default_config_text
    from ledger_tools.form.samples import write_sample_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write_sample_inbox(inbox)
    monthly = tmp_path / "月単位.toml"
    monthly.write_text(
        default_config_text().replace('date_precision = "day"', 'date_precision = "month"'), encoding="utf-8"
    )
    assert (
        main(["aggregate", str(inbox), "--out", str(out), "--config", str(monthly), "--as-of", "2026-11-25"])
        == 0
    )
    assert main(["publish", str(out), "--fiscal-year", "2025"]) == 2
    assert "同じ設定ファイル" in capsys.readouterr().err
    assert not (out / "publication").exists()
    assert main(["publish", str(out), "--fiscal-year", "2025", "--config", str(monthly)]) == 0
    records = (out / "publication" / "2025" / "records_2025.csv").read_text(encoding="utf-8-sig")
    assert "2025-06," in records and "2025-06-10" not in records


# --- the page as the prefecture's site -----------------------------------------------------------


def test_the_page_names_the_prefecture_its_contact_and_its_dates(published, config):
    _result, files = published(mixed_ledger())
    page = page_text(files[PAGE_FILE])
    assert "サンプル県" in page and "お問い合わせ先" in page and "総務部総務課" in page
    assert "000-000-0000" in page and "soumu@example.jp" in page
    assert (
        f"掲載日{to_wareki(LEDGER_DATE)}" in page and "更新日" not in page
    )  # the ledger's date, not the clock
    assert "2025年4月1日から2026年3月31日まで" in page and "～" not in page
    assert re.search(r"件数と内訳（CSV形式、[0-9.]+KB）", page) and "）（" not in page
    assert "―" not in page and "なし" in page

    site = dataclasses.replace(
        config.publication,
        prefecture_name="架空県",
        contact=Contact(
            division="総務課", phone="011-111-1111", email="a@example.jp", url="https://example.jp/"
        ),
        posted_on={2025: dt.date(2026, 4, 1)},
        updated_on={2025: dt.date(2026, 4, 20)},
    )
    _result, files = published(mixed_ledger(), cfg=dataclasses.replace(config, publication=site))
    raw = files[PAGE_FILE].decode()
    page = page_text(files[PAGE_FILE])
    assert "<title>令和7年度（2025年度）不当な働きかけの記録の状況｜架空県</title>" in raw
    assert "掲載日令和8年4月1日" in page and "更新日令和8年4月20日" in page
    assert 'href="https://example.jp/"' in raw and "011-111-1111" in page and "サンプル県" not in page
    index = page_text((Path(_result.page).parent.parent / PAGE_FILE).read_bytes())
    assert "架空県" in index and "更新日令和8年4月20日" in index


def test_list_headings_wrap_between_phrases_only(published):
    _result, files = published(mixed_ledger())
    raw = list_pages(files)
    assert '<th scope="col">応じられない旨の<wbr>伝達</th>' in raw
    assert '<th scope="col">働きかけを<wbr>受けた日</th>' in raw


def test_a_year_without_records_words_its_breakdowns_naturally(published):
    _result, files = published(Ledger(LEDGER_DATE, []))
    page = page_text(files[PAGE_FILE])
    assert "記録0件の内訳" not in page and "判断された記録がないため、どの区分も0件です。" in page
