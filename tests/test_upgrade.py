"""`upgrade OLD.xlsx --out NEW.xlsx`: a v1 form (or list) becomes v2 holding every value; OLD unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from conftest import AS_OF, codes, require_program

from ledger_tools.check.findings import Status
from ledger_tools.check.reading import read_workbook
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_file, validate_paths
from ledger_tools.cli import main
from ledger_tools.form.list_template import list_template_bytes
from ledger_tools.form.samples import complete_values, filled_workbook_bytes, recorded_values

NEW = "coordinated_with_responsible"


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def v1_form(tmp_path):
    values = complete_values(
        received_date="R7.6.10",  # as typed: kept as typed
        requester_name="山田　太郎",
        public_summary="建設工事の入札に関し、予定価格を教えるよう求められた。",
        received_time=dt.time(9, 5),
    )
    path = tmp_path / "R7-0001_v1.xlsx"
    path.write_bytes(filled_workbook_bytes(values, version=1))
    return path


def test_upgrade_keeps_every_value_and_never_touches_the_input(tmp_path, v1_form, config, capsys):
    before = digest(v1_form)
    new = tmp_path / "R7-0001_v2.xlsx"
    assert main(["upgrade", str(v1_form), "--out", str(new)]) == 0
    assert "様式 v2 に変換しました" in capsys.readouterr().out
    assert digest(v1_form) == before
    old_raw, new_raw = read_workbook(v1_form, config.limits), read_workbook(new, config.limits)
    assert (old_raw.form_version, new_raw.form_version) == (1, 2)
    assert new_raw.records[0].values == old_raw.records[0].values
    context = RuleContext(config, AS_OF)
    old, upgraded = validate_file(v1_form, context), validate_file(new, context)
    assert upgraded.values == old.values
    # v2 asks for the new field: the one thing the upgraded form still needs
    assert codes(old) == [] and codes(upgraded) == [("required_missing", NEW)]


def test_upgrade_of_a_v2_file_has_nothing_to_do(tmp_path, config, capsys):
    v2 = tmp_path / "v2.xlsx"
    v2.write_bytes(filled_workbook_bytes(complete_values()))
    out = tmp_path / "out.xlsx"
    assert main(["upgrade", str(v2), "--out", str(out)]) == 0
    assert "変換の必要はありません" in capsys.readouterr().out
    assert not out.exists()


def test_upgrade_refuses_to_overwrite_its_input(v1_form, capsys):
    before = digest(v1_form)
    assert main(["upgrade", str(v1_form), "--out", str(v1_form)]) == 2
    assert "元のファイルと同じ場所" in capsys.readouterr().err
    assert digest(v1_form) == before


def test_upgrade_says_why_it_cannot_read_a_file(tmp_path, capsys):
    junk = tmp_path / "メモ.xlsx"
    junk.write_bytes(b"not a workbook")
    assert main(["upgrade", str(junk), "--out", str(tmp_path / "new.xlsx")]) == 1
    err = capsys.readouterr().err
    assert "変換できません" in err and "Traceback" not in err
    assert main(["upgrade", str(tmp_path / "ない.xlsx"), "--out", str(tmp_path / "new.xlsx")]) == 2


def test_upgrade_of_a_list_keeps_every_row(tmp_path, config):
    rows = [recorded_values(record_id="A"), complete_values(record_id="B", requester_name="別の 人")]
    old = tmp_path / "一覧_v1.xlsx"
    old.write_bytes(list_template_bytes(config, rows, version=1))
    new = tmp_path / "一覧_v2.xlsx"
    assert main(["upgrade", str(old), "--out", str(new)]) == 0
    old_raw, new_raw = read_workbook(old, config.limits), read_workbook(new, config.limits)
    assert (new_raw.form_version, new_raw.is_list) == (2, True)
    assert [r.values for r in new_raw.records] == [r.values for r in old_raw.records]
    reports = validate_paths([new], config, AS_OF).files
    assert [(r.record_id, r.form_version) for r in reports] == [("A", 2), ("B", 2)]


@pytest.mark.real_client
def test_libreoffice_resaving_the_upgraded_form_changes_no_value(tmp_path, v1_form, config):
    from test_real_client import soffice_convert

    require_program("soffice")
    new = tmp_path / "upgraded.xlsx"
    assert main(["upgrade", str(v1_form), "--out", str(new)]) == 0
    out_dir = tmp_path / "resaved"
    soffice_convert(new, "xlsx:Calc MS Excel 2007 XML", out_dir, tmp_path / "profile")
    context = RuleContext(config, AS_OF)
    before, after = validate_file(new, context), validate_file(out_dir / new.name, context)
    assert after.status is before.status is Status.INVALID  # only the new v2 field is missing
    assert after.values == before.values
    assert after.form_version == 2
