"""The command line as 主管課 and 総務課 use it: output formats, exit codes, consoles."""

import json
import os
import subprocess
import sys

import pytest
from conftest import AS_OF

from ledger_tools.cli import build_parser, main
from ledger_tools.form.samples import complete_values, recorded_values


def run_cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "ledger_tools", *args], capture_output=True, env=env, timeout=120
    )


@pytest.fixture
def inbox(tmp_path, write_workbook):
    folder = tmp_path / "提出"
    write_workbook(complete_values(), name="R7-0001.xlsx", folder=folder / "県土整備部")
    write_workbook(recorded_values(record_id="R7-0002", place=None), name="R7-0002.xlsx", folder=folder)
    (folder / "~$R7-0002.xlsx").write_bytes(b"")
    return folder


def test_json_output_has_the_documented_shape(inbox, capsys):
    code = main(["validate", str(inbox), "--format", "json", "--as-of", AS_OF.isoformat()])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["summary"] == {
        "skipped": 1,
        "unreadable": 0,
        "invalid": 1,
        "excluded": 0,
        "not_applicable": 0,
        "ok": 1,
    }
    by_status = {f["status"]: f for f in out["files"]}
    assert set(by_status["invalid"]) >= {"path", "status", "record_id", "stage", "exclusions", "findings"}
    assert by_status["invalid"]["record_id"] == "R7-0002"
    finding = by_status["invalid"]["findings"][0]
    assert set(finding) >= {"severity", "code", "field", "cell", "message"}
    assert (finding["severity"], finding["code"], finding["field"]) == ("error", "required_missing", "place")
    assert finding["cell"].startswith("対応記録簿!")
    assert by_status["skipped"]["findings"][0]["code"] == "skipped_lock_file"


def test_text_output_is_grouped_by_file_in_japanese(inbox, capsys):
    main(["validate", str(inbox), "--as-of", AS_OF.isoformat()])
    out = capsys.readouterr().out
    assert "[要修正]" in out and "R7-0002.xlsx" in out and "「場所」が未記入です" in out
    assert "3件のファイル: 対象外ファイル 1、要修正 1、正常 1" in out


def test_exit_code_is_zero_when_nothing_is_invalid(tmp_path, write_workbook, capsys):
    write_workbook(complete_values(), name="ok.xlsx")
    assert main(["validate", str(tmp_path), "--as-of", AS_OF.isoformat()]) == 0


@pytest.mark.parametrize(
    "args", [["validate"], ["validate", "存在しない"], ["validate", ".", "--as-of", "昨日"], ["nope"]]
)
def test_usage_errors_exit_with_2(args, capsys):
    assert main(args) == 2
    assert capsys.readouterr().err


def test_a_bad_configuration_is_a_usage_error(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("organs = 1", encoding="utf-8")
    assert main(["validate", str(tmp_path), "--config", str(bad)]) == 2
    assert "設定ファイル" in capsys.readouterr().err


def test_the_excel_report_keeps_user_text_as_text(tmp_path, write_workbook, monkeypatch, capsys):
    from openpyxl import load_workbook

    write_workbook(recorded_values(method="+HYPERLINK(1)"), name="=HYPERLINK(1).xlsx")
    monkeypatch.chdir(tmp_path)
    assert (
        main(["validate", "=HYPERLINK(1).xlsx", "--report", "指摘事項.xlsx", "--as-of", AS_OF.isoformat()])
        == 1
    )
    sheet = load_workbook(tmp_path / "指摘事項.xlsx")["指摘事項"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("ファイル", "状態", "整理番号")
    assert sheet.auto_filter.ref.startswith("A1:")
    assert rows[1][0] == "=HYPERLINK(1).xlsx" and sheet["A2"].data_type == "s"
    assert rows[1][6] == "method" and "+HYPERLINK(1)" in rows[1][8]


def test_a_cp932_console_never_crashes(tmp_path, write_workbook):
    """Paths and text outside cp932 (𠮷, emoji) are replaced on such a console, not fatal."""
    write_workbook(recorded_values(place="会議室🙂"), name="𠮷野_🙂.xlsx")
    result = run_cli(
        "validate", str(tmp_path), "--as-of", AS_OF.isoformat(), env_extra={"PYTHONIOENCODING": "cp932"}
    )
    assert result.returncode == 0, result.stderr.decode("cp932", "replace")
    assert "正常".encode("cp932") in result.stdout


def test_every_command_has_help(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        assert sub.description, name
        with pytest.raises(SystemExit) as exited:
            parser.parse_args([name, "--help"])
        assert exited.value.code == 0
        assert "終了コード" in capsys.readouterr().out


def test_template_command_writes_the_form(tmp_path):
    out = tmp_path / "対応記録簿.xlsx"
    result = run_cli("template", "--out", str(out))
    assert result.returncode == 0, result.stderr
    from ledger_tools.config import load_config
    from ledger_tools.form.template import template_bytes

    assert out.read_bytes() == template_bytes(load_config())


def test_json_is_utf8_even_on_a_cp932_console(tmp_path, write_workbook):
    write_workbook(recorded_values(), name="髙橋①.xlsx")
    result = run_cli(
        "validate",
        str(tmp_path),
        "--format",
        "json",
        "--as-of",
        AS_OF.isoformat(),
        env_extra={"PYTHONIOENCODING": "cp932"},
    )
    assert result.returncode == 0
    assert json.loads(result.stdout.decode("utf-8"))["files"][0]["path"].endswith("髙橋①.xlsx")


def test_a_report_saved_into_the_checked_folder_is_not_checked_next_time(tmp_path, write_workbook, capsys):
    write_workbook(recorded_values(), name="a.xlsx")
    report = tmp_path / "指摘事項.xlsx"
    for _ in range(2):
        assert main(["validate", str(tmp_path), "--report", str(report), "--as-of", AS_OF.isoformat()]) == 0
    assert "1件のファイル" in capsys.readouterr().out


def test_a_report_that_cannot_be_written_is_a_clear_error(tmp_path, write_workbook, capsys):
    write_workbook(recorded_values(), name="a.xlsx")
    (tmp_path / "out.xlsx").mkdir()  # a folder in the way, like a file locked by Excel
    assert (
        main(
            [
                "validate",
                str(tmp_path / "a.xlsx"),
                "--report",
                str(tmp_path / "out.xlsx"),
                "--as-of",
                AS_OF.isoformat(),
            ]
        )
        == 2
    )
    assert "書き出せません" in capsys.readouterr().err


def test_a_configuration_saved_with_a_bom_works_and_one_in_cp932_is_a_clear_error(
    tmp_path, write_workbook, capsys
):
    from ledger_tools.config import default_config_text

    write_workbook(recorded_values(), name="a.xlsx")
    with_bom = tmp_path / "bom.toml"
    with_bom.write_bytes(default_config_text().encode("utf-8-sig"))
    assert (
        main(["validate", str(tmp_path / "a.xlsx"), "--config", str(with_bom), "--as-of", AS_OF.isoformat()])
        == 0
    )
    in_cp932 = tmp_path / "cp932.toml"
    in_cp932.write_bytes(default_config_text().encode("cp932", "replace"))
    assert main(["validate", str(tmp_path / "a.xlsx"), "--config", str(in_cp932)]) == 2
    assert "UTF-8" in capsys.readouterr().err


def test_list_rows_are_shown_with_their_row(tmp_path, config, capsys):
    from ledger_tools.form.list_template import list_template_bytes

    (tmp_path / "一覧.xlsx").write_bytes(
        list_template_bytes(
            config, [recorded_values(record_id="A"), recorded_values(record_id="B", place=None)]
        )
    )
    main(["validate", str(tmp_path), "--as-of", AS_OF.isoformat()])
    out = capsys.readouterr().out
    assert "一覧.xlsx 5行目（整理番号 B" in out and "1件のファイル（2件の記録）" in out


def test_a_report_name_that_is_not_xlsx_is_refused_before_anything_runs(tmp_path, write_workbook, capsys):
    write_workbook(recorded_values(), name="a.xlsx")
    assert main(["validate", str(tmp_path), "--report", str(tmp_path / "指摘事項.csv")]) == 2
    captured = capsys.readouterr()
    assert ".xlsx" in captured.err and captured.out == ""
