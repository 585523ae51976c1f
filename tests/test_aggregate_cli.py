"""`ledger-tools aggregate` as 総務課 runs it: the summary, the exit codes, one-line errors."""

from __future__ import annotations

import pytest
from conftest import AS_OF
from filelock import FileLock

from ledger_tools.cli import main
from ledger_tools.form.samples import SAMPLE_INBOX, complete_values, recorded_values


def test_the_sample_inbox_aggregates_with_a_japanese_summary(tmp_path, capsys):
    out = tmp_path / "集計"
    code = main(
        [
            "aggregate",
            str(SAMPLE_INBOX),
            "--out",
            str(out),
            "--as-of",
            AS_OF.isoformat(),
            "--month",
            "2026-03",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "集計しました（基準日 2026-11-25、月次 2026-03）" in printed
    assert (
        "ファイル: 6件を確認" in printed and "台帳: 6件（対象外（除外事由） 1、非該当 1、正常 4）" in printed
    )
    assert "整理番号の競合: 0件" in printed and "期限を過ぎている手続:" in printed
    for name in ("台帳.xlsx", "台帳.csv", "ledger.json", "月次状況_2026-03.xlsx", "月次状況_2026-03.html"):
        assert f"  {name}" in printed and (out / name).is_file()

    assert (
        main(
            [
                "aggregate",
                str(SAMPLE_INBOX),
                "--out",
                str(out),
                "--as-of",
                AS_OF.isoformat(),
                "--month",
                "2026-03",
            ]
        )
        == 0
    )
    assert "変更: なし" in capsys.readouterr().out


def test_exit_code_1_when_a_file_is_invalid_and_the_summary_says_what_to_do(tmp_path, write_workbook, capsys):
    inbox = tmp_path / "提出"
    write_workbook(complete_values(), name="R7-0001.xlsx", folder=inbox)
    write_workbook(recorded_values(record_id="R7-0002", place=None), name="R7-0002.xlsx", folder=inbox)
    assert main(["aggregate", str(inbox), "--out", str(tmp_path / "集計"), "--as-of", AS_OF.isoformat()]) == 1
    printed = capsys.readouterr().out
    assert "月次 2026-11" in printed and "要修正 1" in printed and "「要修正・読取不可」シート" in printed


def test_a_locked_output_folder_is_a_one_line_error(tmp_path, capsys):
    out = tmp_path / "集計"
    out.mkdir()
    with FileLock(str(out / ".lock")):
        code = main(["aggregate", str(SAMPLE_INBOX), "--out", str(out), "--wait", "0.1"])
    err = capsys.readouterr().err
    assert (
        code == 2
        and err.count("\n") == 1
        and "別の集計又は公表が同じフォルダ" in err
        and "0.1秒待ちました" in err
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["存在しない", "--out", "集計"], "提出フォルダが見つかりません"),
        ([str(SAMPLE_INBOX), "--out", str(SAMPLE_INBOX / "集計")], "提出フォルダ"),
        ([str(SAMPLE_INBOX), "--out", "集計", "--month", "2026-13"], "YYYY-MM"),
        ([str(SAMPLE_INBOX), "--out", "集計", "--as-of", "11月"], "YYYY-MM-DD"),
        ([str(SAMPLE_INBOX)], "--out"),
    ],
)
def test_usage_errors_exit_with_2_and_touch_nothing(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["aggregate", *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "集計").exists() and not (SAMPLE_INBOX / "集計").exists()


def _aggregate(inbox, out, *extra):
    return main(
        ["aggregate", str(inbox), "--out", str(out), "--as-of", AS_OF.isoformat(), "--workers", "1", *extra]
    )


def test_an_empty_or_unmounted_share_does_not_retire_the_ledger(tmp_path, capsys):
    """An inbox emptied (a share not connected) is refused with exit 2; --allow-missing proceeds."""
    from ledger_tools.form.samples import filled_workbook_bytes

    inbox, out = tmp_path / "提出", tmp_path / "集計"
    inbox.mkdir()
    (inbox / "R-1.xlsx").write_bytes(filled_workbook_bytes(recorded_values(record_id="R-1")))
    assert _aggregate(inbox, out) == 0
    before = (out / "台帳.csv").read_bytes()
    capsys.readouterr()
    (inbox / "R-1.xlsx").unlink()

    assert _aggregate(inbox, out) == 2
    err = capsys.readouterr().err
    assert "共有フォルダが接続されていない可能性" in err and "--allow-missing" in err
    assert "Traceback" not in err
    assert (out / "台帳.csv").read_bytes() == before

    assert _aggregate(inbox, out, "--allow-missing") == 0
    assert "原本なし 1件" in capsys.readouterr().out


def test_most_files_gone_at_once_is_refused_but_a_few_are_not(tmp_path, capsys):
    """9 of 20 files gone passes (fewer than 10); then 10 of the 11 left gone at once is refused."""
    from ledger_tools.form.samples import filled_workbook_bytes

    inbox, out = tmp_path / "提出", tmp_path / "集計"
    inbox.mkdir()
    data = filled_workbook_bytes(recorded_values(record_id="R-1"))
    for n in range(20):
        (inbox / f"R-{n}.xlsx").write_bytes(data)  # copies: one record, 20 files
    assert _aggregate(inbox, out) in (0, 1)
    for n in range(9):  # 9 of 20 gone: fewer than 10, and not more than half
        (inbox / f"R-{n}.xlsx").unlink()
    assert _aggregate(inbox, out) in (0, 1)
    for n in range(9, 19):  # 10 of the 11 the last run saw are gone
        (inbox / f"R-{n}.xlsx").unlink()
    capsys.readouterr()
    assert _aggregate(inbox, out) == 2
    assert "11件のうち 10件のファイルが見つかりません" in capsys.readouterr().err
    assert _aggregate(inbox, out, "--allow-missing") in (0, 1)
