"""The command line: parses options, calls the library, turns its errors into one-line messages.

Exit codes: 0 success (nothing invalid or unreadable), 1 some file is invalid or unreadable
(or publishing was refused), 2 usage error (bad option, missing path, bad configuration).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

EPILOG = "終了コード: 0 = 問題なし、1 = 要修正・読み取り不可のファイルあり（又は公表を中止）、2 = 指定の誤り"


class UsageError(Exception):
    """A problem with what the user asked for (exit code 2)."""


def _date_option(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日付は YYYY-MM-DD の形で指定してください: {text}") from None


def _load_config(path: Path | None):
    from ledger_tools.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as e:
        raise UsageError(str(e)) from None


def cmd_template(args: argparse.Namespace) -> int:
    """Write the blank 対応記録簿 workbook: the form (one record) or, with --list, the list format.

    Example: ledger-tools template --out 対応記録簿.xlsx
             ledger-tools template --list --out 対応記録簿_一覧.xlsx
    """
    if args.list:
        from ledger_tools.list_template import write_list_template as write
    else:
        from ledger_tools.template import write_template as write

    out = args.out or Path("対応記録簿_一覧.xlsx" if args.list else "対応記録簿.xlsx")
    write(out, _load_config(args.config))
    print(f"様式を書き出しました: {out}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Check submitted workbooks (files and folders, recursively).

    Example: ledger-tools validate 提出フォルダ --report 指摘事項.xlsx
    """
    from ledger_tools.reporting import render_json, render_text
    from ledger_tools.validation import validate_paths

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise UsageError("見つからないパスがあります: " + "、".join(missing))
    report = validate_paths(args.paths, _load_config(args.config), args.as_of)
    print(render_json(report) if args.format == "json" else render_text(report), end="")
    if args.report:
        from ledger_tools.reporting import write_excel_report

        write_excel_report(report, args.report)
        if args.format == "text":
            print(f"指摘事項の一覧を書き出しました: {args.report}")
    return EXIT_PROBLEMS if report.has_failures else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger-tools",
        description="働きかけ記録制度の対応記録簿: 様式の作成、検査、台帳の集計、年次の公表",
        epilog=EPILOG,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=func.__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(func=func)
        sub.add_argument("--config", type=Path, help="設定ファイル（TOML）。省略時は同梱のサンプル県の設定")
        return sub

    template = command("template", cmd_template, "記入用の様式（.xlsx）を書き出す")
    template.add_argument("--out", type=Path, help="書き出すファイル（既定: 対応記録簿.xlsx、--list のとき 対応記録簿_一覧.xlsx）")
    template.add_argument("--list", action="store_true", help="一覧形式（1行に1件）の様式を書き出す")

    validate = command("validate", cmd_validate, "提出されたファイルを検査する")
    validate.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="ファイル又はフォルダ（サブフォルダも検査）")
    validate.add_argument("--format", choices=("text", "json"), default="text", help="出力の形式（既定: text）")
    validate.add_argument("--report", type=Path, metavar="FILE.xlsx", help="指摘事項をExcelで書き出す")
    validate.add_argument("--as-of", type=_date_option, metavar="YYYY-MM-DD", help="基準日（未来の日付・遅延の判定。既定: 今日）")
    return parser


def _make_console_safe() -> None:
    """A cp932 console cannot show every character: replace those instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError):
            pass


def main(argv: list[str] | None = None) -> int:
    _make_console_safe()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        return int(e.code or 0)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"ledger-tools: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("中断しました。", file=sys.stderr)
        return 130
