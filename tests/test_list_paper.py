"""The printed list form (LibreOffice converts it to PDF; pdfinfo, pdftotext read it back): A4
landscape at the fixed zoom, one group of sections per page width, the 整理番号 column and the
section and label rows on every page, the hidden id row never, long texts whole. Skips without
soffice/pdftotext locally, fails under CI=true."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from conftest import AS_OF, require_program
from test_paper import page_sizes, pdf_pages, printed_words, text_of
from test_real_client import soffice_convert

from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_records
from ledger_tools.config import load_config
from ledger_tools.form.fields import FIELDS, SECTIONS, FieldType
from ledger_tools.form.list_template import (
    COLUMN_WIDTHS,
    PRINT_GROUPS,
    PRINT_WHOLE_LONG_TEXT,
    build_list_template,
    print_zoom,
)
from ledger_tools.form.samples import complete_values
from ledger_tools.form.template import GUIDE_SHEET
from ledger_tools.outputs import workbook_bytes

pytestmark = pytest.mark.real_client

ROW_PAGES_TYPICAL = 4  # 30 typical rows (90-character long texts, 5 lines): 9 rows a page
TITLES = {s.letter: f"{s.letter} {s.title}" for s in SECTIONS}
LONG_FIELDS = ("request_content", "measures_taken", "public_summary")


def mark(n: int, field_id: str) -> str:
    return f"【{n}{'甲乙丙'[LONG_FIELDS.index(field_id)]}】"  # no Latin letters: pdftotext splits words at a font change


def typical_records(count: int = 30, length: int = 90) -> list[dict[str, object]]:
    return [
        complete_values(record_id=f"L-{n:02d}", **{f: text_of(length, mark(n, f)) for f in LONG_FIELDS})
        for n in range(1, count + 1)
    ]


def print_list(tmp_path, records, name="list"):
    require_program("pdftotext")
    wb = build_list_template(load_config(), records)
    del wb[GUIDE_SHEET]
    source = tmp_path / f"{name}.xlsx"
    source.write_bytes(workbook_bytes(wb))
    soffice_convert(source, "pdf", tmp_path, tmp_path / "profile")
    return source, tmp_path / f"{name}.pdf"


def words_of(pdf, page: int) -> dict[str, tuple[float, float]]:
    """The first position (x, y in points) of each word of ``page``."""
    words: dict[str, tuple[float, float]] = {}
    for _, y, x, word in printed_words(pdf, page):
        words.setdefault(word, (x, y))
    return words


def columns_of(pdf, page: int) -> list[str]:
    """The text of ``page`` column by column: words that start at the same x, in reading order
    (a wrapped cell's lines start at its column's left edge)."""
    columns: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for _, y, x, word in printed_words(pdf, page):
        columns[round(x)].append((y, word))
    return ["".join(w for _, w in sorted(words)) for words in columns.values()]


@pytest.fixture(scope="module")
def printed_30(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("list30")
    source, pdf = print_list(tmp_path, typical_records())
    return source, pdf, pdf_pages(pdf)


def test_30_typical_rows_print_as_section_groups_times_row_pages_on_a4_landscape(printed_30):
    _, pdf, pages = printed_30
    assert page_sizes(pdf) == {(842, 595)}  # A4 landscape, in points
    assert len(pages) == len(PRINT_GROUPS) * ROW_PAGES_TYPICAL
    groups = len(PRINT_GROUPS)
    batches = [
        [sorted(re.findall(r"L-\d\d", page)) for page in pages[k : k + groups]]
        for k in range(0, len(pages), groups)
    ]
    for batch in batches:  # over then down: the pages of one batch of rows come together
        assert all(ids == batch[0] for ids in batch), batch
    assert [i for batch in batches for i in batch[0]] == [f"L-{n:02d}" for n in range(1, 31)]
    assert 55 <= print_zoom() == 70
    words = words_of(pdf, 1)  # the printed width of the 整理番号 column gives the zoom
    identity_px = COLUMN_WIDTHS[FieldType.TEXT] * 7 + 5
    printed_pt = words["知事部局"][0] - words["L-01"][0]
    assert printed_pt / (identity_px * 0.75) == pytest.approx(print_zoom() / 100, rel=0.03)


def test_every_page_shows_the_identity_column_and_its_sections_labels(printed_30):
    _, _, pages = printed_30
    for number, page in enumerate(pages):
        group = PRINT_GROUPS[number % len(PRINT_GROUPS)]  # over then down: A–B, C, D–E, F, G–H, …
        assert "整理番号" in page, number + 1
        for letter in group:
            assert TITLES[letter] in page, (number + 1, letter)
            label = min((f.label for f in FIELDS if f.section == letter), key=len)
            start = re.sub(r"\s+", "", label)[:5]  # a label cell wraps; its first line is whole
            assert start in re.sub(r"\s+", "", page), (number + 1, label)
        for letter in set(TITLES) - set(group) - {"A"}:
            assert TITLES[letter] not in page, (number + 1, letter)
        assert re.search(r"L-\d\d", page), number + 1
    ids = re.findall(r"L-\d\d", "".join(pages))
    assert sorted(set(ids)) == [f"L-{n:02d}" for n in range(1, 31)]
    assert all(ids.count(f"L-{n:02d}") == len(PRINT_GROUPS) for n in range(1, 31))


def test_the_hidden_id_row_never_prints(printed_30):
    _, _, pages = printed_30
    text = "".join(pages)
    assert not [f.id for f in FIELDS if re.search(rf"\b{f.id}\b", text)]


def test_long_texts_print_whole_in_their_rows(printed_30):
    _, pdf, pages = printed_30
    columns = [c for page in range(1, len(pages) + 1) for c in columns_of(pdf, page)]
    text = "\n".join(columns)
    for n in range(1, 31):
        for f in LONG_FIELDS:
            assert text_of(90, mark(n, f)) in text, (n, f)


def test_a_long_text_up_to_the_promised_length_prints_whole(tmp_path):
    records = [complete_values(record_id="L-01", request_content=text_of(PRINT_WHOLE_LONG_TEXT, "【長】"))]
    _, pdf = print_list(tmp_path, records, "long")
    pages = pdf_pages(pdf)
    text = "\n".join(c for page in range(1, len(pages) + 1) for c in columns_of(pdf, page))
    assert text_of(PRINT_WHOLE_LONG_TEXT, "【長】") in text
    assert len(pages) == len(PRINT_GROUPS)


def test_libreoffice_resaving_the_protected_list_reads_the_same(printed_30, tmp_path, config):
    source, _, _ = printed_30
    resaved = tmp_path / "resaved"
    soffice_convert(source, "xlsx:Calc MS Excel 2007 XML", resaved, tmp_path / "profile")
    context = RuleContext(config, AS_OF)
    before = validate_records(source, context)
    after = validate_records(resaved / source.name, context)
    assert [(r.row, r.record_id, r.status) for r in after] == [(r.row, r.record_id, r.status) for r in before]
    assert [r.row for r in after] == list(range(4, 34))
