"""The printed form: every long text is printed whole, on one A4 portrait page, for typical and for
the longest texts (LibreOffice converts the filled form to PDF, pdftotext reads it back). Skips
without soffice/pdftotext locally, fails under CI=true."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_program
from test_real_client import soffice_convert

from ledger_tools.form.samples import complete_values, filled_workbook
from ledger_tools.form.template import GUIDE_SHEET
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


def printed(tmp_path, values, name: str) -> tuple[str, int]:
    require_program("pdftotext")
    wb = filled_workbook(values)
    del wb[GUIDE_SHEET]
    source = tmp_path / f"{name}.xlsx"
    source.write_bytes(workbook_bytes(wb))
    soffice_convert(source, "pdf", tmp_path, tmp_path / "profile")
    pdf = tmp_path / f"{name}.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))
    return re.sub(r"\s+", "", text), pages


@pytest.mark.parametrize(("name", "length"), [("typical", 90), ("longest", 100)])
def test_every_long_text_is_printed_whole_on_one_page(tmp_path, name, length):
    texts = {
        f: text_of(length if f != "not_told_reason" else length // 2, f"【{i}】")
        for i, f in enumerate(LONG_FIELDS)
    }
    values = complete_values(told_cannot_comply="伝えていない", **texts)
    flat, pages = printed(tmp_path, values, name)
    for field_id, text in texts.items():
        assert text in flat, f"{field_id}: not printed whole"
    assert pages == 1
