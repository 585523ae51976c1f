"""The printed form: every long text is printed whole on the two A4 portrait pages (A–E, then F–H),
for typical texts and for the longest that the form promises to print whole (LibreOffice converts
the filled form to PDF, pdftotext reads it back, pdfinfo counts the pages). Skips without
soffice/pdftotext locally, fails under CI=true."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_program
from test_real_client import soffice_convert

from ledger_tools.form.fields import FIELD_BY_ID
from ledger_tools.form.samples import complete_values, filled_workbook
from ledger_tools.form.template import GUIDE_SHEET, PAGE_BREAK_BEFORE, print_whole_chars
from ledger_tools.outputs import workbook_bytes

pytestmark = pytest.mark.real_client

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
