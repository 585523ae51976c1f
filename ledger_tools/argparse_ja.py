"""argparse in Japanese: its headings, help, usage and error messages.

argparse looks each of its messages up through the module-level names ``_`` and ``ngettext``
(``from gettext import gettext as _, ngettext``, the same in Python 3.11 to 3.14) when it builds
a parser, formats help or reports an error. ``JapaneseArgumentParser`` points those two names at
the table below for the duration of each of its own calls and puts them back afterwards, so no
other parser in the process is affected and no locale or .mo file is needed. A message missing
from the table stays English; tests/test_cli_japanese.py catches that for what users meet.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import unicodedata
from collections.abc import Iterator
from typing import Any, NoReturn

MESSAGES = {
    # Help and usage
    "usage: ": "使い方: ",
    "positional arguments": "引数",
    "options": "オプション",
    "optional arguments": "オプション",  # before 3.10; kept for any vendored argparse
    "subcommands": "コマンド",
    "%(heading)s:": "%(heading)s:",
    "show this help message and exit": "この説明を表示して終了する",
    "show program's version number and exit": "バージョンを表示して終了する",
    "(default: %(default)s)": "（既定: %(default)s）",
    # Errors (argparse formats them with its own values; the Japanese order is ours)
    "%(prog)s: error: %(message)s\n": "%(prog)s: 指定に誤りがあります: %(message)s\n",
    "%(prog)s: warning: %(message)s\n": "%(prog)s: 注意: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s: %(message)s",
    "the following arguments are required: %s": "次の指定がありません: %s",
    "one of the arguments %s is required": "%s のどれかを指定してください",
    "unrecognized arguments: %s": "次の指定は使えません: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "「%(value)s」は選べません（%(choices)s から選んでください）",
    "invalid choice: %(value)r, maybe you meant %(closest)r? (choose from %(choices)s)": "「%(value)s」は選べません。%(closest)s のことですか（%(choices)s から選んでください）",
    "invalid %(type)s value: %(value)r": "「%(value)s」は%(type)sとして読み取れません",
    "expected one argument": "値を1つ指定してください",
    "expected at most one argument": "値は1つまでです",
    "expected at least one argument": "値を1つ以上指定してください",
    "not allowed with argument %s": "%s と同時には指定できません",
    "ignored explicit argument %r": "値を付けられない指定です: %r",
    "ambiguous option: %(option)s could match %(matches)s": "%(option)s は %(matches)s のどれか分かりません。略さずに指定してください",
    "unexpected option string: %s": "ここには指定できません: %s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "コマンド「%(parser_name)s」はありません（%(choices)s）",
    "can't open '%(filename)s': %(error)s": "「%(filename)s」を開けません: %(error)s",
    "argument '%(argument_name)s' is deprecated": "「%(argument_name)s」は廃止予定です",
    "option '%(option)s' is deprecated": "「%(option)s」は廃止予定です",
    "command '%(parser_name)s' is deprecated": "コマンド「%(parser_name)s」は廃止予定です",
}
PLURAL_MESSAGES = {
    "expected %s argument": "値を%s個指定してください",
    "expected %s arguments": "値を%s個指定してください",
}


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    chosen = singular if n == 1 else plural
    return PLURAL_MESSAGES.get(chosen, chosen)


@contextlib.contextmanager
def japanese_messages() -> Iterator[None]:
    """argparse's messages in Japanese while the block runs (nested blocks are fine)."""
    saved = getattr(argparse, "_"), getattr(argparse, "ngettext")  # noqa: B009 - not in the stubs
    setattr(argparse, "_", gettext)  # noqa: B010
    setattr(argparse, "ngettext", ngettext)  # noqa: B010
    try:
        yield
    finally:
        setattr(argparse, "_", saved[0])  # noqa: B010
        setattr(argparse, "ngettext", saved[1])  # noqa: B010


def integer(text: str) -> int:
    return int(text)


def number(text: str) -> float:
    return float(text)


# argparse names the expected type by the function's __name__ in "invalid ... value".
integer.__name__ = "整数"
number.__name__ = "数値"
_JAPANESE_TYPES: dict[Any, Any] = {int: integer, float: number}


def display_width(text: str) -> int:
    """Columns a console gives ``text``: full-width (Japanese) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class JapaneseHelpFormatter(argparse.HelpFormatter):
    """Help wrapped by display width, so that a Japanese line fits the console instead of being
    cut by it at twice the intended length. Descriptions keep their paragraphs; a paragraph
    starting with 例: (the examples) or 終了コード: is kept line by line."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(" ".join(text.split()), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = re.split(r"\n\s*\n", text.strip("\n"))
        out = []
        for paragraph in paragraphs:
            if paragraph.lstrip().startswith(_KEPT_AS_WRITTEN):
                out.append("\n".join(indent + line.rstrip() for line in paragraph.splitlines()))
            else:
                out.append("\n".join(indent + line for line in wrap(_join_lines(paragraph), width)))
        return "\n\n".join(out)


_KEPT_AS_WRITTEN = ("例:", "終了コード:")


def _join_lines(paragraph: str) -> str:
    """Lines of one paragraph as one text: a space only where an ASCII word meets a word, never
    next to Japanese punctuation (「変換します。OLD は」, not 「変換します。 OLD は」)."""
    text = ""
    for line in (part.strip() for part in paragraph.splitlines()):
        if (
            text
            and line
            and (text[-1].isascii() or line[0].isascii())
            and text[-1] not in _NO_SPACE_AFTER
            and line[0] not in _NO_SPACE_BEFORE
        ):
            text += " "
        text += line
    return text


_NO_SPACE_AFTER = set("、。，．（「『【〔：")
_NO_SPACE_BEFORE = set("、。，．）」』】〕：")

# Japanese has no spaces between words: a line breaks only at a space, after 「、」「。」「）」「」」
# or before 「（」「「」, never inside a word or a file name (a longer run stays whole).
_UNITS = re.compile(r"\s+|[（「『]*[^\s、。（）「」『』]*[、。）」』]*")


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns where it can break (see ``_UNITS``)."""
    lines: list[str] = []
    line, used = "", 0
    for unit in filter(None, _UNITS.findall(text)):
        if unit.isspace():
            unit = " "
        size = display_width(unit)
        if used + size > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0
            if unit == " ":
                continue
        line += unit
        used += size
    if line.strip():
        lines.append(line.rstrip())
    return lines


class JapaneseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose every text is Japanese; its subparsers are of the same class.

    On an error it prints the usage, the message and where to find the full help, and exits 2.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", JapaneseHelpFormatter)
        with japanese_messages():
            super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        if kwargs.get("type") in _JAPANESE_TYPES:
            kwargs["type"] = _JAPANESE_TYPES[kwargs["type"]]
        with japanese_messages():
            return super().add_argument(*args, **kwargs)

    def add_subparsers(self, *args: Any, **kwargs: Any) -> Any:
        with japanese_messages():
            return super().add_subparsers(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        with japanese_messages():
            if not self._subparsers:  # a command's own options: an unknown one is the first thing to say
                unknown = self._unknown_options(sys.argv[1:] if args is None else list(args))
                if unknown:
                    self.error("次の指定は使えません: " + "、".join(unknown))
            return super().parse_known_args(args, namespace)

    def _unknown_options(self, args: list[str]) -> list[str]:
        """The arguments that look like options (as argparse decides it) but are none of ours."""
        known = self._option_string_actions
        unknown = []
        for arg in args:
            if arg == "--":
                break
            if arg[:1] not in self.prefix_chars or arg in known or " " in arg or len(arg) < 2:
                continue
            if self._negative_number_matcher.match(arg) and not self._has_negative_number_optionals:
                continue
            name = arg.split("=", 1)[0]
            if name in known or (not arg.startswith("--") and arg[:2] in known):
                continue
            if arg.startswith("--") and self.allow_abbrev and any(o.startswith(name) for o in known):
                continue
            unknown.append(name)
        return unknown

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:
        with japanese_messages():
            return super().parse_args(*args, **kwargs)

    def format_usage(self) -> str:
        with japanese_messages():
            return super().format_usage()

    def format_help(self) -> str:
        with japanese_messages():
            return super().format_help()

    def error(self, message: str) -> NoReturn:
        with japanese_messages():
            self.print_usage(sys.stderr)
            self.exit(
                2,
                gettext("%(prog)s: error: %(message)s\n") % {"prog": self.prog, "message": message}
                + f"説明は「{self.prog} --help」で表示します。\n",
            )
