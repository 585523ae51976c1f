"""The workbooks the aggregation writes print readably: LibreOffice converts a 主管課 file and the
monthly state to PDF; each sheet takes one A4 landscape page at these sizes (not 13 or 22 pages of
split rows). Skips without soffice/pdfinfo locally, fails under CI=true."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_program
from openpyxl import load_workbook
from test_monthly import two_division_ledger
from test_real_client import soffice_convert

from ledger_tools.ledger.division_files import division_workbook_bytes
from ledger_tools.ledger.monthly import monthly_state, monthly_workbook_bytes

pytestmark = pytest.mark.real_client


def page_sizes(pdf) -> list[tuple[float, float]]:
    """(width, height) in points of every page of ``pdf``."""
    require_program("pdfinfo")
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return [
        (float(w), float(h)) for w, h in re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info, re.M)
    ]


@pytest.mark.parametrize("which", ["division", "monthly"])
def test_each_sheet_prints_on_one_a4_landscape_page(tmp_path, config, which):
    state = monthly_state(two_division_ledger(), config, "2026-11")
    data = (
        division_workbook_bytes(state, "県土整備部監理課")
        if which == "division"
        else monthly_workbook_bytes(state)
    )
    source = tmp_path / f"{which}.xlsx"
    source.write_bytes(data)
    soffice_convert(source, "pdf", tmp_path, tmp_path / "profile")
    sizes = page_sizes(tmp_path / f"{which}.pdf")
    sheets = len(load_workbook(source, read_only=True).sheetnames)
    assert len(sizes) == sheets, sizes
    for width, height in sizes:
        assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
