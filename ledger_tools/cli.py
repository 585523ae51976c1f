"""The command line: parses options, calls the library, turns its errors into one-line messages.

Exit codes: 0 success (nothing invalid or unreadable), 1 some file is invalid or unreadable
(or publishing was refused), 2 usage error (bad option, missing path, bad configuration).
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import datetime as dt
import errno
import os
import re
import sys
from pathlib import Path
from typing import Any

from ledger_tools.argparse_ja import JapaneseArgumentParser

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

EPILOG = (
    "終了コード:\n  0 = 問題なし\n  1 = 要修正・読み取り不可のファイルあり（又は公表を中止）\n  2 = 指定の誤り"
    "\n（コマンドごとの意味は、各コマンドの --help に）"
)

# What each command's exit codes mean, in its own --help (one line each).
_USAGE_CODE = "2 = 指定の誤り（オプション、パス、設定ファイル）"
EXIT_CODES = {
    "template": (
        "0 = 様式を書き出した",
        "2 = 指定の誤り、書き出せない、又は既にファイルがある（--force なし）",
    ),
    "upgrade": (
        "0 = 変換した（又は既に最新の版で変換の必要がない）",
        "1 = 読み取れないため変換できない",
        "2 = 指定の誤り（--out が元のファイルと同じ等）、又は書き出せない",
    ),
    "validate": (
        "0 = 要修正・読み取り不可のファイルなし",
        "1 = 要修正・読み取り不可のファイルあり",
        "2 = 指定の誤り、又は検査するファイルがない",
    ),
    "aggregate": (
        "0 = 問題なし",
        "1 = 要修正・読み取り不可のファイルあり",
        "2 = 指定の誤り、又は別の集計が DIR を使用中",
    ),
    "forget": ("0 = 取り消した", "2 = 取り消せない、又は指定の誤り"),
    "publish": (
        "0 = 公表用のページを書き出した",
        "1 = 公表を中止（保留中の該当の記録又は読み取れないファイルあり）",
        "2 = 指定の誤り、又は集計・別の公表が DIR を使用中",
    ),
    "run": (
        "0 = 問題なし",
        "1 = 要修正・読み取り不可のファイルあり、又は公表を中止",
        "2 = 指定の誤り、又は別の集計・公表が DIR を使用中",
    ),
    "import": ("0 = 変換した", "1 = 対応付けられない値あり", _USAGE_CODE),
}


def command_epilog(name: str) -> str:
    """The exit-code lines of one command's --help."""
    return "終了コード:\n" + "\n".join("  " + line for line in EXIT_CODES[name])


# What each command's --help says (the docstrings below are for the code's readers).
DESCRIPTIONS = {
    "template": """記入用の様式（.xlsx）を書き出します。1件1ファイルの様式、又は --list で一覧形式（1行に1件）。
--out にフォルダを指定すると、その中に既定の名前で書き出します。既にあるファイルは、--force を付けない限り
上書きしません（記入済みの記録簿を失わないため）。

例: ledger-tools template --out 対応記録簿_v2.xlsx
    ledger-tools template --list --out 対応記録簿_一覧_v2.xlsx
    ledger-tools template --as-of 2026-04-01 （その日の組織の様式）""",
    "validate": """提出されたファイルを検査します（フォルダはサブフォルダまで）。ファイルごとの状態と、すべての指摘
（セル、項目、直し方）を表示します。ファイルは読むだけで変更しません。検査するファイルが1つもないときは
そう表示し、終了コード 2 で終わります。

例: ledger-tools validate 提出フォルダ --report 指摘事項.xlsx""",
    "aggregate": """提出フォルダ（INBOX）を集計し、集計フォルダ（DIR）に台帳と月次状況を書き出します。

DIR/台帳.xlsx・台帳.csv・ledger.json・月次状況_YYYY-MM.xlsx / .html を書き出し、受け付けたファイルの写しを
DIR/archive/ に、処理履歴を DIR/manifest.sqlite に残します。上書き保存されたファイルは前の内容をすべて
置き換えます（別の整理番号、一覧の行の削除も）。提出フォルダから消えたファイルの記録は、戻されるか、同じ記録の
新しい版が置かれるか、forget で取り消すまで「原本なし」として台帳に残ります。別の集計が DIR を使用中のときは
--wait 秒待ち、終わらなければ終了コード 2 で止まります。

例: ledger-tools aggregate 提出フォルダ --out 集計 --month 2026-11""",
    "forget": """提出フォルダから消えたファイルの記録（原本なし）を、理由を付けて取り消します。

前回の aggregate が保管庫の写しで残した版（原本なし）だけを取り消します。ファイルが提出フォルダにある記録は
取り消せません（終了コード 2）。次の aggregate で台帳から除かれ、処理履歴に「取消」と理由が残ります（保管庫の
写しは残ります。ファイルを提出フォルダに戻せば新しいファイルとして読みます）。記録が複数の場所にあったときは
--path（提出フォルダからの相対パス。台帳の「ソースファイル」欄）で1つに絞ります。

例: ledger-tools forget 集計 R7-0012 --reason "誤って提出された試験用のファイル" --path 県土整備部/R7-0012.xlsx""",
    "publish": """aggregate が DIR に残した台帳から、年度の公表用ページと CSV を書き出します。

DIR/publication/<年度>/ に公表ページ・スタイルシート・CSV 2つ（ウェブサイトに掲載するもの。フォルダごと
作り直します）を、DIR/公表照合表_<年度>.csv に内部用の照合表を書き出します。その年度の該当の記録又は読み取れない
ファイルを保留しているときは、--allow-pending を付けない限り公表を中止します（終了コード 1）。集計又は別の公表が
DIR を使用中のときは --wait 秒待ち、終わらなければ終了コード 2 で止まります。

例: ledger-tools publish 集計 --fiscal-year R7""",
    "run": """提出フォルダを DIR に集計し、続けて年度を公表します（aggregate + publish）。

ファイルに要修正・読み取り不可があるとき（その年度の該当の記録を保留していなければページは書き出します）、
又は公表を中止したときは終了コード 1、指定の誤りや、別の集計が DIR を --wait 秒を超えて使用中のときは 2 です。

例: ledger-tools run samples/inbox --fiscal-year R7 --out output""",
    "import": """既存の記録簿（CSV: UTF-8 又は CP932、又は Excel）を一覧形式の様式に変換します。

対応表（TOML）で、列 → 項目、値 → 選択肢、固定の値を指定します。再就職者の記録簿の例が
ledger_tools/data/mappings/再就職者記録簿.toml にあります。対応付けられなかった列と値をすべて表示します
（対応付けられない値があれば終了コード 1）。提出する前に validate で検査してください。

例: ledger-tools import 再就職者記録簿.csv --mapping 対応表.toml --out 対応記録簿_一覧.xlsx""",
    "upgrade": """古い版（v1）の様式に記入したファイル（1件の様式又は一覧形式）を最新の版の様式に変換します。
OLD は変更しません。すべての値を同じ項目に移し、古い版になかった項目は空欄のままです。
すでに最新の版のファイルなら、変換の必要はないと表示して終了コード 0 で終わります。

例: ledger-tools upgrade R7-0001_v1.xlsx --out R7-0001_v2.xlsx""",
}


class UsageError(Exception):
    """A problem with what the user asked for (exit code 2)."""


def _date_option(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        year, month, _ = map(int, match.groups())
        if not 1 <= month <= 12:
            why = "月は01～12"
        else:
            why = f"{month}月は{calendar.monthrange(year, month)[1]}日まで"
        raise argparse.ArgumentTypeError(f"存在しない日付です: {text}（{why}）")
    raise argparse.ArgumentTypeError(f"日付は YYYY-MM-DD の形で指定してください: {text}")


def _load_config(path: Path | None):
    from ledger_tools.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as e:
        raise UsageError(str(e)) from None


def cmd_template(args: argparse.Namespace) -> int:
    """Write the blank 対応記録簿 workbook: the form (one record) or, with --list, the list format.

    The dropdowns, the 主管課 list and the 記入要領 follow the organisation in force on --as-of.
    Example: ledger-tools template --out 対応記録簿_v2.xlsx
             ledger-tools template --list --out 対応記録簿_一覧_v2.xlsx
             ledger-tools template --as-of 2026-04-01 --out 対応記録簿_v2.xlsx
    """
    from ledger_tools.form.list_template import list_template_filename, write_list_template
    from ledger_tools.form.template import template_filename, write_template

    config = _load_config(args.config)
    version = args.form_version
    filename = list_template_filename(version) if args.list else template_filename(version)
    out = args.out or Path(filename)
    if out.is_dir():  # a folder: the template goes into it under its usual name
        out = out / filename
    if out.exists() and not args.force:  # it may be a filled 記録簿
        raise UsageError(
            f"既にファイルがあるため書き出しません: {out}。"
            "記入済みの記録簿かもしれません。上書きするときは --force を付けてください。"
        )
    try:
        if args.list:
            write_list_template(out, config, (), args.as_of, version)
        else:
            write_template(out, config, args.as_of, version)
    except OSError as e:
        raise UsageError(
            f"様式を書き出せません（{out}）: {e.strerror or e}。Excelで開いていれば閉じてください。"
        ) from None
    print(f"様式を書き出しました: {out}")
    return EXIT_OK


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Write a filled form (or list) of an older version as the current version; OLD is not changed.

    Every value of OLD is kept in the same item; items the old version did not have stay empty.
    On a file that is already the current version there is nothing to do (exit code 0).
    Example: ledger-tools upgrade R7-0001_v1.xlsx --out R7-0001_v2.xlsx
    """
    from ledger_tools.migrate.upgrade import UpgradeError, UpgradeUsageError, upgrade

    if not args.old.is_file():
        raise UsageError(f"ファイルが見つかりません: {args.old}")
    try:
        result = upgrade(args.old, args.out, _load_config(args.config))
    except UpgradeUsageError as e:
        raise UsageError(str(e)) from None
    except UpgradeError as e:
        print(f"ledger-tools: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    except OSError as e:
        raise UsageError(f"書き出せません（{args.out}）: {e.strerror or e}") from None
    print(result.summary_text(), end="")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Check submitted workbooks (files and folders, recursively).

    Example: ledger-tools validate 提出フォルダ --report 指摘事項.xlsx
    """
    from ledger_tools.check.reading import display_path
    from ledger_tools.check.report import render_json, render_text
    from ledger_tools.check.validation import validate_paths

    missing = [display_path(p) for p in args.paths if not p.exists()]
    if missing:
        raise UsageError("見つからないパスがあります: " + "、".join(missing))
    if args.report and args.report.suffix.lower() != ".xlsx":
        raise UsageError(f"--report には .xlsx のファイル名を指定してください: {args.report}")
    exclude = [args.report] if args.report else []  # a report saved in the folder is not a submission
    report = validate_paths(args.paths, _load_config(args.config), args.as_of, exclude=exclude)
    if not report.files:
        raise UsageError(
            "検査するファイルがありません（"
            + "、".join(map(str, args.paths))
            + "）。フォルダの指定を確かめてください。"
        )
    if args.format == "json":
        _print_utf8(render_json(report))  # JSON is for programs: UTF-8 whatever the console's encoding
    else:
        print(render_text(report), end="")
    if args.report:
        from ledger_tools.check.report import write_excel_report

        try:
            write_excel_report(report, args.report)
        except OSError as e:
            raise UsageError(
                f"指摘事項の一覧を書き出せません（{args.report}）: {e.strerror or e}。Excelで開いていれば閉じてください。"
            ) from None
        if args.format == "text":
            print(f"指摘事項の一覧を書き出しました: {args.report}")
    return EXIT_PROBLEMS if report.has_failures else EXIT_OK


def _print_utf8(text: str) -> None:
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:  # replaced by a text-only stream (tests)
        print(text, end="")
        return
    sys.stdout.flush()
    stream.write(text.encode("utf-8"))
    stream.flush()


def _lock_wait(args: argparse.Namespace) -> dict[str, Any]:
    """--wait as the library's lock_wait, when given (the library's default otherwise)."""
    return {"lock_wait": args.wait} if args.wait is not None else {}


def _aggregate_options(args: argparse.Namespace) -> dict[str, Any]:
    """--wait and --allow-missing for the aggregator, when given."""
    return _lock_wait(args) | ({"allow_missing": True} if args.allow_missing else {})


def cmd_aggregate(args: argparse.Namespace) -> int:
    """Aggregate the inbox into DIR: the master ledger, the monthly state, the archive.

    Writes DIR/台帳.xlsx, DIR/台帳.csv, DIR/ledger.json and DIR/月次状況_YYYY-MM.xlsx / .html, keeps
    every accepted file version in DIR/archive/ and the history in DIR/manifest.sqlite. A file
    saved again replaces what it held before (also another record id, or rows removed from a
    list). Files that left the inbox stay in the ledger (原本なし) until they come back, a new
    version of the same record replaces them, or `forget` retires them. A run on a DIR that
    another run is writing waits --wait seconds, then stops with exit code 2.
    Example: ledger-tools aggregate 提出フォルダ --out 集計 --month 2026-11
    """
    from ledger_tools.ledger.aggregation import AggregationError, aggregate
    from ledger_tools.ledger.monthly import InvalidMonth

    if not args.inbox.is_dir():
        raise UsageError(f"提出フォルダが見つかりません: {args.inbox}")
    config = _load_config(args.config)
    options = _aggregate_options(args)
    try:
        result = aggregate(
            args.inbox,
            args.out,
            config,
            args.as_of or dt.date.today(),
            args.month,
            workers=args.workers,
            **options,
        )
    except (AggregationError, InvalidMonth) as e:
        raise UsageError(str(e)) from None
    print(result.summary_text(), end="")
    return EXIT_PROBLEMS if result.has_failures else EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    """Retire a record whose file has left the inbox (原本なし), with a reason for the history.

    Only the versions that the last aggregate kept from the archive (原本なし) are retired; a
    record whose file is still in the inbox is refused (exit code 2). The next aggregate drops
    them from the ledger and logs 取消 with the reason; they are not brought back from the archive
    again (the archived copies stay; a file put back into the inbox is read like any new file).
    --path (relative to the inbox, as in the ledger's ソースファイル column) picks one file when the
    record was at several places.
    Exit codes: 0 retired, 2 refused or usage error.
    Example: ledger-tools forget 集計 R7-0012 --reason "誤って提出された試験用のファイル" --path 県土整備部/R7-0012.xlsx
    """
    from ledger_tools.ledger.aggregation import AggregationError, forget

    options = _lock_wait(args)
    try:
        retired = forget(args.dir, args.record_id, args.reason, args.path, **options)
    except AggregationError as e:
        raise UsageError(str(e)) from None
    print(
        f"整理番号「{args.record_id}」の原本なしの記録を{len(retired)}件取り消しました（理由: {' '.join(args.reason.split())}）:"
    )
    for location in retired:
        print(f"  {location}")
    print("次に aggregate を実行すると台帳から除かれ、処理履歴に「取消」として記録されます。")
    return EXIT_OK


def _fiscal_year_and_config(args: argparse.Namespace):
    """The --fiscal-year (2025, R7, 令和7) and --config of publish and run."""
    from ledger_tools.dates import FiscalYear

    try:
        fiscal_year = FiscalYear.parse(args.fiscal_year)
    except ValueError as e:
        raise UsageError(str(e)) from None
    return fiscal_year, _load_config(args.config)


def _publish_year(directory: Path, fiscal_year, config, args: argparse.Namespace) -> int:
    """The publish step of publish and run: print the summary (0), or why publishing was refused (1)."""
    from ledger_tools.ledger.entries import LedgerError
    from ledger_tools.publish.publication import PublicationError, PublicationRefused, publish

    options = _lock_wait(args)
    try:
        result = publish(directory, config, fiscal_year, allow_pending=args.allow_pending, **options)
    except PublicationRefused as e:
        print(f"ledger-tools: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    except (PublicationError, LedgerError) as e:
        raise UsageError(str(e)) from None
    print(result.summary_text(), end="")
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish a fiscal year from the ledger that aggregate left in DIR.

    Writes the page, its stylesheet and the two CSV files to DIR/publication/<FY>/ (what goes on
    the website; the folder is replaced as a whole) and the internal reconciliation report
    DIR/公表照合表_<FY>.csv. Refuses (exit 1) while a 該当 record of the year, or an unreadable
    file, is held back, unless --allow-pending is given. While an aggregation or another
    publication uses DIR, waits --wait seconds, then stops with exit code 2.
    Example: ledger-tools publish 集計 --fiscal-year R7
    """
    fiscal_year, config = _fiscal_year_and_config(args)
    return _publish_year(args.dir, fiscal_year, config, args)


def cmd_run(args: argparse.Namespace) -> int:
    """Aggregate the inbox into DIR, then publish the fiscal year: the yearly job in one go.

    Exit code 1 when a file is invalid or unreadable (the page is still written when no 該当
    record of the year is held back) or when publishing was refused; 2 for a usage error or
    when another run uses DIR for more than --wait seconds.
    Example: ledger-tools run samples/inbox --fiscal-year R7 --out output
    """
    from ledger_tools.ledger.aggregation import AggregationError, aggregate
    from ledger_tools.ledger.monthly import InvalidMonth
    from ledger_tools.publish.publication import PublicationError, check_fiscal_year

    fiscal_year, config = _fiscal_year_and_config(args)
    as_of = args.as_of or dt.date.today()
    options = _aggregate_options(args)
    try:
        check_fiscal_year(fiscal_year, config, as_of)
        aggregated = aggregate(args.inbox, args.out, config, as_of, args.month, **options)
    except (PublicationError, AggregationError, InvalidMonth) as e:
        raise UsageError(str(e)) from None
    print(aggregated.summary_text().rstrip("\n"))
    print()
    published = _publish_year(args.out, fiscal_year, config, args)
    return EXIT_PROBLEMS if published != EXIT_OK or aggregated.has_failures else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Turn an existing register (CSV in UTF-8 or CP932, or Excel) into a list-format workbook.

    A mapping file (TOML) gives column → field id, value → choice and fixed values; an example
    for a 再就職者 register is ledger_tools/data/mappings/再就職者記録簿.toml. Every column and
    value that could not be mapped is listed (exit code 1 when a value could not be mapped).
    Check the result with validate before submitting it.
    Example: ledger-tools import 再就職者記録簿.csv --mapping 対応表.toml --out 対応記録簿_一覧.xlsx
    """
    from ledger_tools.migrate.importing import MigrationError, import_register

    config = _load_config(args.config)
    try:
        result = import_register(args.source, args.mapping, args.out, config)
    except MigrationError as e:
        raise UsageError(str(e)) from None
    print(result.summary_text(args.out), end="")
    return EXIT_PROBLEMS if result.unmapped_values else EXIT_OK


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line: one subcommand per entry of ``_COMMANDS``, each with ``--config``; with
    ``only``, that subcommand alone (what parsing its own arguments needs: building every
    subcommand's options costs more than a third of a bare interpreter's start-up)."""
    parser = JapaneseArgumentParser(
        prog="ledger-tools",
        description="働きかけ記録制度の対応記録簿: 様式の作成、検査、台帳の集計、年次の公表",
        epilog=EPILOG + "\n\n各コマンドの説明: ledger-tools コマンド --help",
    )
    parser.add_argument("--version", action=_VersionAction, help="バージョンを表示して終了する")
    commands = parser.add_subparsers(dest="command", required=True, metavar="コマンド")
    for name, func, help_text, add_arguments in _COMMANDS:
        if only is not None and name != only:
            continue
        sub = commands.add_parser(
            name, help=help_text, description=DESCRIPTIONS.get(name, help_text), epilog=command_epilog(name)
        )
        sub.set_defaults(func=func)
        sub.add_argument(
            "--config",
            type=Path,
            metavar="FILE.toml",
            help="設定ファイル（TOML）。省略時は同梱のサンプル県の設定",
        )
        add_arguments(sub)
    return parser


_AS_OF_HELP = "基準日（未来の日付・遅延の判定。既定: 今日）"
_MISSING_HELP = (
    "提出フォルダが空でも、前回あったファイルの半数超（10件以上）が一度に消えていても集計する"
    "（既定: 共有フォルダの未接続を疑い中止。消えたファイルの記録は原本なしとして残る）"
)
_FISCAL_YEAR_HELP = "公表する年度: 2025、R7、令和7 のいずれの形でも（令和7年度 = 2025-04-01～2026-03-31）"
_PENDING_HELP = "公表できない該当の記録（総務課への共有前、公表用の概要なし、エラー等）を保留したまま公表する"


def _add_as_of(sub: argparse.ArgumentParser, help_text: str = _AS_OF_HELP) -> None:
    sub.add_argument("--as-of", type=_date_option, metavar="YYYY-MM-DD", help=help_text)


def _add_wait(sub: argparse.ArgumentParser, who: str) -> None:
    sub.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help=f"{who}が DIR を使用中のとき待つ秒数（既定: 10、負の値: 終わるまで待つ）",
    )


def _template_arguments(sub: argparse.ArgumentParser) -> None:
    from ledger_tools.form.fields import FORM_VERSIONS, TEMPLATE_VERSION

    sub.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help=f"書き出すファイル又はフォルダ（既定: 対応記録簿_v{TEMPLATE_VERSION}.xlsx、--list のとき 対応記録簿_一覧_v{TEMPLATE_VERSION}.xlsx）",
    )
    sub.add_argument("--list", action="store_true", help="一覧形式（1行に1件）の様式を書き出す")
    sub.add_argument("--force", action="store_true", help="既にあるファイルを上書きする")
    _add_as_of(sub, "この日に施行されている組織（機関・部局・主管課）の様式を書き出す（既定: 今日）")
    sub.add_argument(
        "--form-version",
        type=int,
        choices=FORM_VERSIONS,
        default=TEMPLATE_VERSION,
        help=f"様式の版（既定: {TEMPLATE_VERSION}。古い版は配布済みの様式の再作成用）",
    )


def _upgrade_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("old", type=Path, metavar="OLD.xlsx", help="古い版の様式（変更しません）")
    sub.add_argument("--out", type=Path, required=True, metavar="NEW.xlsx", help="書き出す最新の版のファイル")


def _validate_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "paths", type=Path, nargs="+", metavar="PATH", help="ファイル又はフォルダ（サブフォルダも検査）"
    )
    sub.add_argument("--format", choices=("text", "json"), default="text", help="出力の形式（既定: text）")
    sub.add_argument("--report", type=Path, metavar="FILE.xlsx", help="指摘事項をExcelで書き出す")
    _add_as_of(sub)


def _aggregate_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "inbox",
        type=Path,
        metavar="INBOX",
        help="提出ファイルの受付フォルダ（サブフォルダも読む。ファイルは変更しない）",
    )
    sub.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="台帳・月次状況・保管庫を書き出すフォルダ（INBOX の外）",
    )
    _add_as_of(sub)
    sub.add_argument("--month", metavar="YYYY-MM", help="月次状況の月（既定: 基準日の月）")
    sub.add_argument("--workers", type=int, metavar="N", help="並列に読むプロセス数（既定: CPUの数）")
    sub.add_argument("--allow-missing", action="store_true", help=_MISSING_HELP)
    _add_wait(sub, "別の集計")


def _forget_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("dir", type=Path, metavar="DIR", help="aggregate の --out に指定した集計フォルダ")
    sub.add_argument("record_id", metavar="RECORD_ID", help="取り消す記録の整理番号")
    sub.add_argument("--reason", required=True, metavar="TEXT", help="取り消す理由（処理履歴に残ります）")
    sub.add_argument(
        "--path",
        metavar="P",
        help="記録があった場所（提出フォルダからの相対パス。台帳の「ソースファイル」）。複数の場所にあったとき1つに絞る",
    )
    _add_wait(sub, "集計・公表")


def _publish_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "dir", type=Path, metavar="DIR", help="aggregate が台帳（ledger.json）を書き出したフォルダ"
    )
    sub.add_argument("--fiscal-year", required=True, metavar="FY", help=_FISCAL_YEAR_HELP)
    sub.add_argument("--allow-pending", action="store_true", help=_PENDING_HELP)
    _add_wait(sub, "集計又は別の公表")


def _run_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "inbox", type=Path, metavar="INBOX", help="提出ファイルの受付フォルダ（サブフォルダも読む）"
    )
    sub.add_argument("--fiscal-year", required=True, metavar="FY", help=_FISCAL_YEAR_HELP)
    sub.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="台帳・集計・公表を書き出すフォルダ"
    )
    _add_as_of(sub)
    sub.add_argument("--month", metavar="YYYY-MM", help="月次状況の月（既定: 基準日の月）")
    sub.add_argument("--allow-pending", action="store_true", help=_PENDING_HELP)
    sub.add_argument("--allow-missing", action="store_true", help=_MISSING_HELP)
    _add_wait(sub, "別の集計・公表")


def _import_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "source",
        type=Path,
        metavar="LEGACY",
        help="既存の記録簿（.csv: UTF-8 又は CP932、又は .xlsx / .xls）",
    )
    sub.add_argument(
        "--mapping", type=Path, required=True, metavar="MAPPING.toml", help="列・値の対応表（TOML）"
    )
    sub.add_argument(
        "--out",
        type=Path,
        default=Path("対応記録簿_一覧.xlsx"),
        metavar="FILE.xlsx",
        help="書き出す一覧形式のファイル（既定: 対応記録簿_一覧.xlsx）",
    )


# name, function, one-line help, its arguments: in the order `ledger-tools --help` lists them.
_COMMANDS: tuple[tuple[str, Any, str, Any], ...] = (
    ("template", cmd_template, "記入用の様式（.xlsx）を書き出す", _template_arguments),
    ("upgrade", cmd_upgrade, "古い版の様式に記入したファイルを最新の版に変換する", _upgrade_arguments),
    ("validate", cmd_validate, "提出されたファイルを検査する", _validate_arguments),
    ("aggregate", cmd_aggregate, "提出フォルダを集計し、台帳と月次状況を書き出す", _aggregate_arguments),
    (
        "forget",
        cmd_forget,
        "原本なしの記録を理由を付けて取り消す（次の aggregate で台帳から除く）",
        _forget_arguments,
    ),
    ("publish", cmd_publish, "台帳から年度の公表用ページとCSVを書き出す", _publish_arguments),
    ("run", cmd_run, "集計と公表をまとめて行う（aggregate + publish）", _run_arguments),
    ("import", cmd_import, "既存の記録簿（CSV・Excel）を一覧形式の様式に変換する", _import_arguments),
)


def _make_console_safe() -> None:
    """A cp932 console cannot show every character: replace those instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked for (importlib.metadata is slow to import)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser._print_message(f"{parser.prog} {_version()}\n", sys.stdout)
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ledger-tools")
    except PackageNotFoundError:  # run from a source folder that was never installed
        return "（インストールされていない版）"


def main(argv: list[str] | None = None) -> int:
    """Run one command. Bare ``ledger-tools`` prints the help and exits 0."""
    _make_console_safe()
    argv = sys.argv[1:] if argv is None else argv
    # A known command first: only its subparser is built (anything else gets the whole parser,
    # whose help and errors list every command).
    parser = build_parser(argv[0] if argv and argv[0] in {c[0] for c in _COMMANDS} else None)
    if not argv:
        parser.print_help()
        return EXIT_OK
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help, --version (0) or a usage error (2)
        return int(e.code or 0)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except UsageError as e:
        print(f"ledger-tools: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:  # a read or write that no step reported more precisely: a message, never a traceback
        from ledger_tools.outputs import describe_os_error

        if e.errno == errno.EPIPE:
            return _stdout_closed()

        where = f"（{e.filename}）" if e.filename else ""
        print(
            f"ledger-tools: ファイル又はフォルダ{where}を読み書きできません: {describe_os_error(e)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("中断しました。", file=sys.stderr)
        return 130
    except Exception as e:
        if os.environ.get("LEDGER_TOOLS_DEBUG"):
            raise
        print(
            f"ledger-tools: 予期しないエラーで中止しました（{type(e).__name__}: {e}）。"
            "環境変数 LEDGER_TOOLS_DEBUG=1 を付けて実行し直した出力を、担当者に伝えてください。",
            file=sys.stderr,
        )
        return EXIT_USAGE


def _stdout_closed() -> int:
    """The reader of stdout went away (``… | head``): stop quietly, as Python does on EPIPE.

    Python's documentation: point stdout at devnull so that the flush at exit does not fail again.
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_PROBLEMS  # Python's exit code after EPIPE
