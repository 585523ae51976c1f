"""Folders of submissions, and the checks across files (spec §4, §6)."""

import datetime as dt

from conftest import AS_OF

from ledger_tools.check.findings import Status
from ledger_tools.check.validation import validate_paths
from ledger_tools.form.samples import complete_values, recorded_values


def by_name(report):
    return {path.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]: f for f in report.files for path in [f.path]}


def test_a_folder_is_read_recursively_and_every_file_is_listed(tmp_path, write_workbook, config):
    write_workbook(recorded_values(record_id="A-1"), name="部/課/a.xlsx")
    write_workbook(recorded_values(record_id="A-2", excl_public_venue="該当する"), name="部/b.xlsx")
    (tmp_path / "部" / "~$a.xlsx").write_bytes(b"lock")
    (tmp_path / "メモ.txt").write_text("memo", encoding="utf-8")
    (tmp_path / "壊れた.xlsx").write_bytes(b"PK\x03\x04broken")
    report = validate_paths([tmp_path], config, AS_OF)
    statuses = {name: f.status for name, f in by_name(report).items()}
    assert statuses == {
        "a.xlsx": Status.OK,
        "b.xlsx": Status.EXCLUDED,
        "~$a.xlsx": Status.SKIPPED,
        "メモ.txt": Status.SKIPPED,
        "壊れた.xlsx": Status.UNREADABLE,
    }
    assert report.summary() == {
        "skipped": 2,
        "unreadable": 1,
        "invalid": 0,
        "excluded": 1,
        "not_applicable": 0,
        "ok": 1,
    }
    assert report.has_failures


def test_a_later_stage_of_the_same_record_supersedes_the_earlier(tmp_path, write_workbook, config):
    write_workbook(recorded_values(), name="1_記録.xlsx")
    write_workbook(complete_values(), name="2_共有済.xlsx")
    files = by_name(validate_paths([tmp_path], config, AS_OF))
    assert [f.code for f in files["1_記録.xlsx"].findings] == ["superseded"]
    assert [f.code for f in files["2_共有済.xlsx"].findings] == ["supersedes"]
    assert files["1_記録.xlsx"].status is Status.OK  # info never changes a status
    assert "2_共有済.xlsx" in files["1_記録.xlsx"].findings[0].message


def test_same_record_id_with_other_facts_is_a_conflict_on_both_files(tmp_path, write_workbook, config):
    write_workbook(recorded_values(), name="a.xlsx")
    write_workbook(recorded_values(received_date=dt.date(2025, 6, 9)), name="b.xlsx")
    files = by_name(validate_paths([tmp_path], config, AS_OF))
    for name in ("a.xlsx", "b.xlsx"):
        assert files[name].status is Status.INVALID
        assert [(f.code, f.field) for f in files[name].findings] == [("record_id_conflict", "record_id")]
    assert "b.xlsx" in files["a.xlsx"].findings[0].message


def test_two_versions_at_the_same_stage_that_differ_are_a_conflict(tmp_path, write_workbook, config):
    write_workbook(recorded_values(), name="a.xlsx")
    write_workbook(recorded_values(place="会議室B"), name="b.xlsx")
    files = by_name(validate_paths([tmp_path], config, AS_OF))
    assert files["a.xlsx"].status is files["b.xlsx"].status is Status.INVALID


def test_a_copied_file_is_one_record_with_a_note(tmp_path, write_workbook, config):
    write_workbook(recorded_values(), name="a.xlsx")
    write_workbook(recorded_values(), name="a - コピー.xlsx")
    files = by_name(validate_paths([tmp_path], config, AS_OF))
    assert {f.status for f in files.values()} == {Status.OK}
    assert sum(len(f.findings) for f in files.values()) == 1
    assert [f.code for f in files["a.xlsx"].findings] == ["duplicate_file"]


def test_the_flattened_report_lists_every_finding(tmp_path, write_workbook, config):
    write_workbook(recorded_values(place=None), name="a.xlsx")
    report = validate_paths([tmp_path], config, AS_OF)
    assert [row[1:] for row in report.flatten()] == [
        ["required_missing", "place", report.files[0].cells["place"]]
    ]


def test_the_findings_as_a_table_can_be_queried(tmp_path, write_workbook, config):
    write_workbook(recorded_values(place=None, business_type="その他"), name="a.xlsx")
    write_workbook(recorded_values(record_id="B-1"), name="b.xlsx")
    frame = validate_paths([tmp_path], config, AS_OF).to_frame()
    assert frame.groupby("severity").size().to_dict() == {"error": 1, "warning": 1}
    assert frame.loc[frame.code == "required_missing", "field"].tolist() == ["place"]


def test_a_report_made_without_a_reference_date_gets_the_future_rule_later(write_workbook, config):
    import datetime as dt

    from ledger_tools.check.rules import RuleContext
    from ledger_tools.check.validation import apply_reference_date, validate_file

    path = write_workbook(
        recorded_values(received_date=dt.date(2026, 11, 20), reported_date=dt.date(2026, 11, 21))
    )
    undated = validate_file(path, RuleContext(config, None))
    assert (undated.status, undated.findings) == (Status.OK, [])
    apply_reference_date(undated, dt.date(2026, 11, 20))
    dated = validate_file(path, RuleContext(config, dt.date(2026, 11, 20)))
    assert (
        (undated.status, undated.findings)
        == (dated.status, dated.findings)
        == (Status.INVALID, dated.findings)
    )
    assert [f.code for f in dated.findings] == ["date_in_future"]
