"""Form versions: one catalogue, every known version read by its own rules, the ledger carries all."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import AS_OF, codes

from ledger_tools.check.findings import Status
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_file, validate_paths
from ledger_tools.cli import main
from ledger_tools.form.fields import FIELD_BY_ID, FORM_VERSIONS, TEMPLATE_VERSION, field_ids_for, fields_for
from ledger_tools.form.list_template import list_template_bytes, list_template_filename
from ledger_tools.form.samples import complete_values, filled_workbook_bytes
from ledger_tools.form.template import template_bytes, template_filename
from ledger_tools.ledger.aggregation import aggregate

REPO = Path(__file__).resolve().parents[1]
NEW = "coordinated_with_responsible"


def test_the_catalogue_knows_which_version_has_which_field():
    assert FORM_VERSIONS == (1, 2) and TEMPLATE_VERSION == 2
    assert NEW not in field_ids_for(1)
    ids = field_ids_for(2)
    assert ids[ids.index("measures_taken") + 1] == NEW
    assert set(field_ids_for(1)) | {NEW} == set(ids)
    new = FIELD_BY_ID[NEW]
    assert (new.label, new.choices, new.public, new.since) == (
        "主務課長との連携",
        ("連携した", "連携していない"),
        False,
        2,
    )
    assert all(f.in_version(1) and f.in_version(2) for f in fields_for(1))


def write(tmp_path, values, version, name="record.xlsx"):
    path = tmp_path / name
    path.write_bytes(filled_workbook_bytes(values, version=version))
    return path


def test_a_v1_form_is_validated_by_the_v1_rules(tmp_path, config):
    report = validate_file(write(tmp_path, complete_values(), 1), RuleContext(config, AS_OF))
    assert (report.status, codes(report), report.form_version) == (Status.OK, [], 1)
    assert NEW not in report.values


def test_a_v2_form_needs_the_new_field_when_measures_are_needed(tmp_path, config):
    context = RuleContext(config, AS_OF)
    report = validate_file(write(tmp_path, complete_values(**{NEW: None}), 2), context)
    assert codes(report) == [("required_missing", NEW)]
    assert report.form_version == 2
    filled = validate_file(write(tmp_path, complete_values(), 2, "ok.xlsx"), context)
    assert (filled.status, filled.values[NEW]) == (Status.OK, "連携した")
    no_measures = complete_values(**{NEW: None}, measures_needed="不要", measures_taken=None)
    no_measures.pop("result_notified_date")
    no_measures.pop("public_measures")
    assert codes(validate_file(write(tmp_path, no_measures, 2, "none.xlsx"), context)) == []


def test_a_v1_list_and_a_v2_list_are_read_each_by_their_version(tmp_path, config):
    for version in FORM_VERSIONS:
        path = tmp_path / f"list_v{version}.xlsx"
        values = complete_values(record_id=f"L-{version}")
        path.write_bytes(list_template_bytes(config, [values], version=version))
        (report,) = validate_paths([path], config, AS_OF).files
        assert (report.status, report.form_version) == (Status.OK, version), report.findings


def test_a_v2_list_without_the_new_column_is_unreadable(tmp_path, config):
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(list_template_bytes(config, [complete_values()])))
    ws = wb.worksheets[0]
    column = next(c.column for c in ws[2] if c.value == NEW)  # the id row
    ws.delete_cols(column)
    path = tmp_path / "list.xlsx"
    wb.save(path)
    (report,) = validate_paths([path], config, AS_OF).files
    assert codes(report) == [("unreadable_list_columns", None)]
    assert NEW in report.findings[0].message


@pytest.mark.parametrize("version", FORM_VERSIONS)
def test_the_committed_templates_of_every_version_match_the_generator(config, version):
    form = REPO / "workbook_templates" / template_filename(version)
    listed = REPO / "workbook_templates" / list_template_filename(version)
    assert form.read_bytes() == template_bytes(config, version=version), (
        f"run: ledger-tools template --form-version {version} --out workbook_templates/{form.name}"
    )
    assert listed.read_bytes() == list_template_bytes(config, version=version), (
        f"run: ledger-tools template --list --form-version {version} --out workbook_templates/{listed.name}"
    )


def test_the_template_command_writes_v2_by_default(tmp_path, config, capsys):
    out = tmp_path / "様式.xlsx"
    assert main(["template", "--out", str(out), "--as-of", "2026-04-01"]) == 0
    assert out.read_bytes() == template_bytes(config, version=2)
    assert main(["template", "--as-of", "2026/4/1", "--out", str(out)]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_v1_and_v2_files_in_one_inbox_go_through_validate_and_aggregate(inbox, out, config):
    write(inbox, complete_values(record_id="R7-0001"), 1, "v1.xlsx")
    write(inbox, complete_values(record_id="R7-0002", requester_name="別の 人"), 2, "v2.xlsx")
    report = validate_paths([inbox], config, AS_OF)
    assert [(Path(r.path).name, r.status, r.form_version) for r in report.files] == [
        ("v1.xlsx", Status.OK, 1),
        ("v2.xlsx", Status.OK, 2),
    ]
    result = aggregate(inbox, out, config, AS_OF, progress=False, workers=1)
    assert not result.has_failures
    text = (out / "台帳.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["整理番号"], r["様式の版"], r["主務課長との連携"]) for r in rows] == [
        ("R7-0001", "1", ""),
        ("R7-0002", "2", "連携した"),
    ]
    import json

    ledger = json.loads((out / "ledger.json").read_text(encoding="utf-8"))
    assert sorted(e["form_version"] for e in ledger["entries"]) == [1, 2]
