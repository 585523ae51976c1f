"""The printed form: A4 portrait, one page wide; blank and filled to typical lengths it is one page,
the longest texts take a second page; every long text is printed whole (LibreOffice converts the
filled form to PDF, pdftotext reads it back, pdfinfo counts the pages). Skips without
soffice/pdftotext locally, fails under CI=true."""

from __future__ import annotations

import html
import re
import subprocess

import pytest
from conftest import require_program
from test_real_client import soffice_convert

from ledger_tools.form.fields import FIELD_BY_ID, TEMPLATE_VERSION
from ledger_tools.form.samples import complete_values, filled_workbook
from ledger_tools.form.template import FORM_TITLE, GUIDE_SHEET, print_whole_chars
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


def printed_form(
    tmp_path, values, name: str, version: int = TEMPLATE_VERSION
) -> tuple[list[str], set[tuple[int, int]], str]:
    """Pages, page sizes and the text printed in the input column (C) of every page, in order."""
    require_program("pdftotext")
    wb = filled_workbook(values, version=version)
    del wb[GUIDE_SHEET]
    source = tmp_path / f"{name}.xlsx"
    source.write_bytes(workbook_bytes(wb))
    soffice_convert(source, "pdf", tmp_path, tmp_path / "profile")
    pdf = tmp_path / f"{name}.pdf"
    return pdf_pages(pdf), page_sizes(pdf), input_column_text(pdf, str(values["record_id"]))


WORD = re.compile(r'<page |<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>')


def printed_words(pdf, page: int | None = None) -> list[tuple[int, float, float, str]]:
    """Every word ``pdftotext -bbox`` finds, of one ``page`` or all: (page from 1, y, x, text)."""
    only = ["-f", str(page), "-l", str(page)] if page else []
    bbox = subprocess.run(
        ["pdftotext", "-bbox", *only, str(pdf), "-"], capture_output=True, text=True, check=True
    )
    number, words = (page or 1) - 1, []
    for m in WORD.finditer(bbox.stdout):
        if m.group(0) == "<page ":
            number += 1
        else:
            words.append((number, float(m.group(2)), float(m.group(1)), html.unescape(m.group(3))))
    return words


def input_column_text(pdf, first_value: str) -> str:
    """The words printed at or right of the input column, page by page and line by line: the
    input column starts where the first field's value (整理番号) is printed."""
    words = printed_words(pdf)
    left = min(x for _, _, x, text in words if text == first_value) - 1
    return "".join(text for _, _, x, text in sorted(words) if x >= left)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


# Typical lengths, from the samples and what a clerk writes: a request of three or four sentences
# (150 characters), the response and the measures two sentences each (100), the reason one (50),
# the public summary 90 (the example) and the public measures 60.
TYPICAL = {
    "request_content": 150,
    "response_detail": 100,
    "measures_taken": 100,
    "not_told_reason": 50,
    "public_summary": 90,
    "public_measures": 60,
}


def lengths(name: str) -> dict[str, int]:
    if name == "typical":
        return dict(TYPICAL)
    return {f: print_whole_chars(FIELD_BY_ID[f]) for f in LONG_FIELDS}  # 400, 100, 400, 400, 200, 200


def filled_texts(name: str) -> dict[str, str]:
    return {f: text_of(n, f"【{i}】") for i, (f, n) in enumerate(lengths(name).items())}


@pytest.mark.parametrize("version", [1, 2])
def test_the_blank_form_prints_on_one_a4_portrait_page(tmp_path, version):
    pages, sizes, _ = printed_form(tmp_path, {"record_id": "R7-0001"}, "blank", version)
    assert len(pages) == 1
    assert sizes == {(595, 842)}  # A4 portrait, in points
    assert FORM_TITLE in pages[0] and "A 識別" in pages[0] and "H 公表用" in pages[0]


@pytest.mark.parametrize(
    "name, page_count, version", [("typical", 1, 2), ("longest", 2, 2), ("typical", 1, 1)]
)
def test_every_long_text_is_printed_whole(tmp_path, name, page_count, version):
    """Typical texts: the whole form on one page. The longest texts the form promises to print
    whole (each field's max_length, else 400 characters; 100 for the reason) may take a second
    page at the same size, rather than a smaller font. The workbook's Normal font is Arial, whose
    metrics LibreOffice has (Liberation Sans), so the columns are laid out as Excel lays them."""
    texts = filled_texts(name)
    values = complete_values(told_cannot_comply="伝えていない", **texts)
    pages, sizes, inputs = printed_form(tmp_path, values, name, version)
    assert len(pages) == page_count
    assert sizes == {(595, 842)}  # A4 portrait, in points
    printed_inputs = flat(inputs)
    for field_id, text in texts.items():
        assert text in printed_inputs, f"{field_id}: {len(text)} characters not printed whole"
    for page in pages:  # the title row is repeated on every page
        assert FORM_TITLE in page
    everything = "".join(pages)
    assert "A 識別" in pages[0] and "H 公表用" in everything
