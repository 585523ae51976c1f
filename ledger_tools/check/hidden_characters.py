"""Characters that do not show: control characters, bidi overrides and zero-width characters.

They come in with text pasted from e-mails, PDFs and web pages. None belongs in a record: a
bidi override (U+202E) makes published text read differently from what was checked, a
zero-width space can split a name so that it is no longer found (田, U+200B, 中), and control
characters break the CSV and HTML outputs. The rules remove them and report where they were.
Imports nothing from ledger_tools.
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # marks, embeddings, overrides, isolates
_ZERO_WIDTH = "\u200b-\u200d\u2060-\u2064\ufeff"  # zero-width space/joiners, word joiner, BOM
# C0 except tab and line feed (a carriage return is a line break, see below), DEL and C1.
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
HIDDEN = re.compile(f"[{_CONTROL}{_BIDI}{_ZERO_WIDTH}\ufff9-\ufffb]")
_CARRIAGE_RETURN = re.compile(r"\r\n?")

_CLASSES = (
    (re.compile(f"[{_BIDI}]"), "書字方向の制御文字"),
    (re.compile(f"[{_ZERO_WIDTH}]"), "ゼロ幅文字"),
)


def find_hidden(text: str) -> list[str]:
    """The distinct hidden characters of ``text``, in order of first appearance."""
    if HIDDEN.search(text) is None:  # the usual case (a carriage return is not hidden)
        return []
    return list(dict.fromkeys(HIDDEN.findall(_CARRIAGE_RETURN.sub("\n", text))))


def remove_hidden(text: str) -> str:
    """``text`` without them; Windows line breaks (CR LF, CR) become plain line feeds."""
    return HIDDEN.sub("", _CARRIAGE_RETURN.sub("\n", text))


def describe(chars: list[str], limit: int = 5) -> str:
    """「U+202E（書字方向の制御文字）、U+200B（ゼロ幅文字）」: for a message."""
    names = [f"U+{ord(c):04X}（{_class_of(c)}）" for c in chars[:limit]]
    more = f" ほか{len(chars) - limit}種類" if len(chars) > limit else ""
    return "、".join(names) + more


def _class_of(char: str) -> str:
    return next((name for pattern, name in _CLASSES if pattern.match(char)), "制御文字")
