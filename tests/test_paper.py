"""The printed form: every long text is printed whole on the two A4 portrait pages (A–E, then F–H),
for typical texts and for the longest that the form promises to print whole (LibreOffice converts
the filled form to PDF, pdftotext reads it back, pdfinfo counts the pages). Skips without
soffice/pdftotext locally, fails under CI=true."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import AS_OF, require_program
from test_real_client import soffice_convert

from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_records
from ledger_tools.form.fields import FIELD_BY_ID
from ledger_tools.form.list_template import build_list_template
from ledger_tools.form.samples import complete_values, filled_workbook
from ledger_tools.form.template import GUIDE_SHEET, PAGE_BREAK_BEFORE, print_whole_chars
from ledger_tools.outputs import workbook_bytes

pytestmark = pytest.mark.real_client

EXPECTED_LIST_PAGES = 1  # 30 rows fit one landscape page at the fit-to-width zoom (about 18 %)

LONG_FIELDS = (
    "request_content",
    "response_detail",
    "measures_taken",
    "not_told_reason",
    "public_summary",
    "public_measures",
)


def text_of(length: int, mark: str) -> str:
    """A Japanese sentence of ``length`` characters, different per field (so each is found apart)."""
    base = f"{mark}事業者から入札の予定価格を事前に教えるよう求められたため応じられない旨を伝えた。"
    return (base * (length // len(base) + 1))[: length - 1] + "。"


def pdf_pages(pdf) -> list[str]:
    """The text of each page of ``pdf`` (pdfinfo for the count, pdftotext page by page)."""
    require_program("pdfinfo")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, count + 1)
    ]


def page_sizes(pdf) -> set[tuple[int, int]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True
    ).stdout
    return {
        (round(float(w)), round(float(h))) for w, h in re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", info)
    }


def printed(tmp_path, values, name: str) -> tuple[list[str], set[tuple[int, int]]]:
    require_program("pdftotext")
    wb = filled_workbook(values)
    del wb[GUIDE_SHEET]
    source = tmp_path / f"{name}.xlsx"
    source.write_bytes(workbook_bytes(wb))
    soffice_convert(source, "pdf", tmp_path, tmp_path / "profile")
    pdf = tmp_path / f"{name}.pdf"
    return pdf_pages(pdf), page_sizes(pdf)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def lengths(name: str) -> dict[str, int]:
    if name == "typical":
        return {f: 45 if f == "not_told_reason" else 90 for f in LONG_FIELDS}
    return {f: print_whole_chars(FIELD_BY_ID[f]) for f in LONG_FIELDS}  # 400, 100, 400, 400, 200, 200


@pytest.mark.parametrize("name", ["typical", "longest"])
def test_every_long_text_is_printed_whole_on_two_pages(tmp_path, name):
    texts = {f: text_of(n, f"【{i}】") for i, (f, n) in enumerate(lengths(name).items())}
    values = complete_values(told_cannot_comply="伝えていない", **texts)
    pages, sizes = printed(tmp_path, values, name)
    assert len(pages) == 2
    assert sizes == {(595, 842)}  # A4 portrait, in points
    for field_id, text in texts.items():
        page = 0 if FIELD_BY_ID[field_id].section < PAGE_BREAK_BEFORE else 1
        assert text in flat(pages[page]), f"{field_id}: not printed whole on page {page + 1}"
    for page in pages:  # the title row is repeated, sections A–E then F–H
        assert "対応記録簿（不当な働きかけの記録）" in page
    assert "E 職員の対応" in pages[0] and "F 所属長の判断" not in pages[0]
    assert "F 所属長の判断" in pages[1] and "H 公表用" in pages[1]


def test_a_list_of_30_records_prints_landscape_with_the_header_on_every_page(tmp_path, config):
    """30 records with 200-character texts: A4 landscape, one page wide, several pages tall, the
    section and label rows on each; and LibreOffice's re-save of the protected list reads the same."""
    records = [
        complete_values(record_id=f"L-{n:02d}", request_content=text_of(200, f"【{n}】"))
        for n in range(1, 31)
    ]
    wb = build_list_template(config, records)
    del wb[GUIDE_SHEET]
    source = tmp_path / "list.xlsx"
    source.write_bytes(workbook_bytes(wb))
    soffice_convert(source, "pdf", tmp_path, tmp_path / "profile")
    pages = pdf_pages(tmp_path / "list.pdf")
    assert page_sizes(tmp_path / "list.pdf") == {(842, 595)}  # A4 landscape
    assert len(pages) == EXPECTED_LIST_PAGES
    for page in pages:
        assert "A 識別" in page and "H 公表用" in page and "整理番号" in page
    printed_ids = re.findall(r"L-\d\d", "".join(pages))
    assert sorted(set(printed_ids)) == [f"L-{n:02d}" for n in range(1, 31)]

    resaved = tmp_path / "resaved"
    soffice_convert(source, "xlsx:Calc MS Excel 2007 XML", resaved, tmp_path / "profile")
    context = RuleContext(config, AS_OF)
    before = validate_records(source, context)
    after = validate_records(resaved / "list.xlsx", context)
    assert [(r.row, r.record_id, r.status) for r in after] == [(r.row, r.record_id, r.status) for r in before]
    assert [r.row for r in after] == list(range(4, 34))
