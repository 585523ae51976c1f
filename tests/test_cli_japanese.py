"""Everything the command line shows is Japanese: help, usage, argparse's errors, configuration
errors, and no traceback anywhere a user can reach."""

from __future__ import annotations

import re

import pytest
from conftest import AS_OF

from ledger_tools.cli import build_parser, main
from ledger_tools.form.samples import complete_values

COMMANDS = sorted(
    next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices).choices  # type: ignore[arg-type]
)
# argparse's English as users would meet it.
ENGLISH = re.compile(
    r"usage:|positional arguments|options:|optional arguments|show this help|error:|"
    r"the following arguments|invalid choice|unrecognized arguments|expected one argument|"
    r"invalid \w+ value|Traceback|Example:|Write the|Check submitted",
    re.IGNORECASE,
)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_japanese(text: str) -> None:
    assert text.strip()
    assert not ENGLISH.search(text), text


def test_bare_command_prints_the_help_and_exits_0(capsys):
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    assert out.startswith("使い方: ledger-tools")
    assert "この説明を表示して終了する" in out and "オプション:" in out and "引数:" in out
    assert_japanese(out)


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_is_japanese(capsys, command):
    code, out, _ = run(capsys, *([command] if command else []), "--help")
    assert code == 0
    assert_japanese(out)
    assert "使い方: ledger-tools" in out
    assert "例: ledger-tools" in out or not command


def test_version_comes_from_the_package(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("ledger-tools ")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["validate"], "次の指定がありません: PATH"),
        (["frobnicate"], "「frobnicate」は選べません"),
        (["validate", ".", "--format", "xml"], "「xml」は選べません"),
        (["validate", ".", "--bogus"], "次の指定は使えません: --bogus"),
        (["template", "--out"], "--out: 値を1つ指定してください"),
        (["aggregate", ".", "--out", "x", "--wait", "soon"], "「soon」は数値として読み取れません"),
        (["aggregate", ".", "--out", "x", "--workers", "2.5"], "「2.5」は整数として読み取れません"),
        (["aggregate", "."], "次の指定がありません: --out"),
        (["validate", ".", "--as-of", "2026/11/25"], "YYYY-MM-DD"),
    ],
)
def test_usage_errors_are_japanese_with_exit_code_2(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert expected in err
    assert err.startswith("使い方: ledger-tools")
    assert "指定に誤りがあります" in err and "--help」で表示します" in err
    assert_japanese(err)


def test_a_folder_with_nothing_to_check_says_so(capsys, tmp_path):
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 2
    assert "検査するファイルがありません" in err
    assert_japanese(err)


def test_template_into_an_existing_folder(capsys, tmp_path):
    assert run(capsys, "template", "--out", str(tmp_path))[0] == 0
    assert run(capsys, "template", "--list", "--out", str(tmp_path))[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["対応記録簿_v2.xlsx", "対応記録簿_一覧_v2.xlsx"]


def test_configuration_errors_name_the_file_the_key_and_what_is_expected(capsys, tmp_path):
    bad = tmp_path / "設定.toml"
    bad.write_text(
        "[rules]\n"
        "operation_start = 2025-03-01T10:00:00\n"
        "report_due_days = -1\n"
        "typo = 1\n"
        "[deadlines]\n"
        'judgement_days = "x"\n'
        "[publication]\n"
        'date_precision = "year"\n'
        "[[organs]]\n"
        "name = 3\n"
        "[[organs.departments]]\n"
        'lead_division = "a"\n',
        encoding="utf-8",
    )
    code, _, err = run(capsys, "template", "--config", str(bad), "--out", str(tmp_path / "x.xlsx"))
    assert code == 2
    assert str(bad) in err
    for expected in (
        "「rules.operation_start」は時刻を付けずに日付だけ（YYYY-MM-DD）で",
        "「rules.report_due_days」は 0 以上にしてください（今の値: -1）",
        "「rules.typo」という項目はありません",
        '「deadlines.judgement_days」は整数で指定してください（今の値: "x"）',
        '「publication.date_precision」は次のどれかにしてください: "day"、"month"',
        "「organs（1番目）.name」は文字列",
        "「organs（1番目）.departments（1番目）.name」がありません",
    ):
        assert expected in err
    assert not re.search(r"Input should|Field required|Extra inputs|validation error", err)
    assert not (tmp_path / "x.xlsx").exists()


def test_no_organ_is_explained(capsys, tmp_path):
    bad = tmp_path / "設定.toml"
    bad.write_text("organs = []\n", encoding="utf-8")
    code, _, err = run(capsys, "template", "--config", str(bad))
    assert code == 2 and "機関（[[organs]]）を1つ以上" in err


def test_an_unexpected_error_is_one_japanese_line(capsys, tmp_path, monkeypatch):
    import ledger_tools.form.template as template

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(template, "write_template", broken)
    code, _, err = run(capsys, "template", "--out", str(tmp_path / "x.xlsx"))
    assert code == 2 and "予期しないエラーで中止しました" in err and "Traceback" not in err


def test_text_output_reads_naturally_in_form_order(capsys, write_workbook, tmp_path):
    values = complete_values(received_date="2025/4/31", place=None, method="電報")
    write_workbook(values, name="R7-0001.xlsx", folder=tmp_path / "提出")
    code, out, _ = run(capsys, "validate", str(tmp_path / "提出"), "--as-of", AS_OF.isoformat())
    assert code == 1
    findings = [line for line in out.splitlines() if line.startswith("  エラー")]
    # One format for every finding: the cell, then the message; the label once, no field id.
    assert findings[0].endswith(
        "!C12: 「働きかけを受けた日」: 「2025/4/31」は存在しない日付です（4月は30日まで）。日付を確認してください。"
    )
    assert "「場所」が未記入です" in findings[1] and "場所（place）" not in findings[1]
    assert "「方法」の「電報」" in findings[2]
    for line in findings:
        assert re.match(r"  エラー: \S+![A-Z]+[0-9]+: 「", line), line
        assert not re.search(r"（[a-z_]+）", line), line
    labels = re.findall(r"「([^」]+)」", findings[0])
    assert labels.count("働きかけを受けた日") == 1


def test_a_finished_or_refused_run_leaves_no_lock_file(capsys, tmp_path, write_workbook):
    inbox = tmp_path / "提出"
    write_workbook(complete_values(), name="R7-0001.xlsx", folder=inbox)
    out = tmp_path / "集計"
    run(capsys, "aggregate", str(inbox), "--out", str(out), "--as-of", AS_OF.isoformat())
    assert not (out / ".lock").exists()
    refused = tmp_path / "空"
    refused.mkdir()
    assert run(capsys, "publish", str(refused), "--fiscal-year", "R7")[0] == 2
    assert list(refused.iterdir()) == []


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_fits_an_80_column_console(capsys, monkeypatch, command):
    from ledger_tools.argparse_ja import display_width

    monkeypatch.setenv("COLUMNS", "80")
    code = main([*([command] if command else []), "--help"])
    out = capsys.readouterr().out
    assert code == 0
    too_wide = [
        line
        for line in out.splitlines()
        if display_width(line) > 80 and not line.lstrip().startswith(("例:", "ledger-tools"))
    ]
    assert too_wide == []
