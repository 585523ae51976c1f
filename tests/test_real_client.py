"""A real client (LibreOffice) re-saves the filled template; the validator still reads every field,
and the blank form prints on two A4 portrait pages. Skips without LibreOffice locally, never under CI=true."""

import re
import subprocess

import pytest
from conftest import AS_OF, require_program

from ledger_tools.check.findings import Status
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_file
from ledger_tools.form.samples import complete_values
from ledger_tools.form.template import GUIDE_SHEET, build_template
from ledger_tools.outputs import workbook_bytes

pytestmark = pytest.mark.real_client


def soffice_convert(source, target_format: str, out_dir, profile) -> None:
    program = require_program("soffice")
    result = subprocess.run(
        [
            program,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target_format,
            "--outdir",
            str(out_dir),
            str(source),
        ],
        capture_output=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")


def test_a_form_resaved_by_libreoffice_reads_the_same(tmp_path, write_workbook, config):
    values = complete_values(
        received_date="R7.6.10", reported_date="令和7年6月11日", requester_name="山田　太郎"
    )
    original = write_workbook(values, name="filled.xlsx")
    out_dir = tmp_path / "resaved"
    soffice_convert(original, "xlsx:Calc MS Excel 2007 XML", out_dir, tmp_path / "profile")
    context = RuleContext(config, AS_OF)
    before, after = validate_file(original, context), validate_file(out_dir / "filled.xlsx", context)
    assert after.status is Status.OK, after.findings
    assert after.values == before.values
    assert after.cells == before.cells


def test_the_blank_form_prints_on_one_a4_portrait_page(tmp_path, config):
    wb = build_template(config)
    del wb[GUIDE_SHEET]  # the guide prints on its own pages
    form = tmp_path / "form.xlsx"
    form.write_bytes(workbook_bytes(wb))
    soffice_convert(form, "pdf", tmp_path, tmp_path / "profile")
    pdf = (tmp_path / "form.pdf").read_bytes()
    pages = re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)
    boxes = {
        tuple(round(float(x)) for x in m)
        for m in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    }
    assert len(pages) == 1  # sections A–H on one page
    assert boxes == {(595, 842)}  # A4 portrait, in points
