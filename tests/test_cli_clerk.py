"""The command line as a clerk meets it: help that reads as Japanese, errors that say what is wrong,
files that are never lost, pipes that close."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from ledger_tools.argparse_ja import wrap
from ledger_tools.cli import _COMMANDS, EXIT_CODES, main

COMMANDS = [c[0] for c in _COMMANDS]


def help_text(capsys, monkeypatch, *argv: str) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*argv, "--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_lists_its_own_exit_codes(capsys, monkeypatch, command):
    out = help_text(capsys, monkeypatch, command)
    footer = out[out.rindex("終了コード:") :].splitlines()[1:]
    assert [line.strip() for line in footer] == list(EXIT_CODES[command])
    assert out.count("終了コード:") == 1
    if command not in {"publish", "run"}:
        assert "公表を中止" not in out


def test_help_never_breaks_inside_a_word_or_a_file_name(capsys, monkeypatch):
    outs = {c: help_text(capsys, monkeypatch, c) for c in COMMANDS}
    flat = {c: re.sub(r"\n *", "", out) for c, out in outs.items()}
    assert "（既定: 今日）" in outs["template"] and "既定: 今日）" in outs["validate"]
    assert "対応記録簿_一覧_v2.xlsx" in outs["template"]
    assert "公表を中止" in outs["publish"] and "公表を中止" in outs["run"]
    assert "変換します。OLD は" in flat["upgrade"] and "。 " not in flat["upgrade"]
    for line in "".join(outs.values()).splitlines():
        assert not line.strip().startswith(("、", "。", "）", "」")), line


def test_wrap_breaks_only_at_spaces_and_after_punctuation():
    text = "提出されたファイルを検査します。すべての指摘（セル、項目）を表示します 対応記録簿_一覧_v2.xlsx"
    lines = wrap(text, 20)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert line.endswith(("。", "、", "）", "す", "xlsx")) or line == lines[-1], lines


def test_an_unknown_option_is_reported_before_a_missing_path(capsys):
    assert main(["validate", "--foo"]) == 2
    err = capsys.readouterr().err
    assert "次の指定は使えません: --foo" in err and "PATH" not in err.splitlines()[-2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-13-01", "存在しない日付です: 2026-13-01（月は01～12）"),
        ("2026-02-30", "存在しない日付です: 2026-02-30（2月は28日まで）"),
        ("2026/1/1", "YYYY-MM-DD の形で指定してください: 2026/1/1"),
    ],
)
def test_an_impossible_date_is_called_impossible(capsys, tmp_path, value, expected):
    assert main(["validate", str(tmp_path), "--as-of", value]) == 2
    assert expected in capsys.readouterr().err


def test_template_never_overwrites_a_file_without_force(capsys, tmp_path):
    filled = tmp_path / "対応記録簿_v2.xlsx"
    filled.write_bytes(b"filled by a clerk")
    for target in (filled, tmp_path):  # the file itself, or its folder (the default name)
        assert main(["template", "--out", str(target)]) == 2
        err = capsys.readouterr().err
        assert "既にファイルがあるため書き出しません" in err and "--force" in err
        assert filled.read_bytes() == b"filled by a clerk"
    assert main(["template", "--out", str(tmp_path), "--force"]) == 0
    assert filled.read_bytes().startswith(b"PK")


def test_a_closed_pipe_ends_quietly():
    """`ledger-tools validate … | head`: the reader has gone; no message, no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        writer = subprocess.run(
            [sys.executable, "-m", "ledger_tools", "validate", "samples/inbox", "--as-of", "2026-03-31"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert writer.stderr == b""
    assert writer.returncode == 1  # Python's exit code after EPIPE
