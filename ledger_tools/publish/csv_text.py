"""CSV of text cells, for the large files of a publication."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from ledger_tools.outputs import FORMULA_TRIGGERS, written_csv_line

BOM = "\ufeff".encode()  # utf-8-sig: the BOM first
LINE_END = "\r\n"


def csv_line(cells: Sequence[str]) -> str:
    """One row of text cells exactly as ``csv.writer`` writes it (``outputs.written_csv_line``), line end included.

    A row none of whose cells holds a comma, a quote or a line break (most rows) is its cells
    joined by commas: that is checked on the joined line in C (one comma fewer than cells, no
    quote, no CR/LF), and any other row is written by ``csv.writer`` itself."""
    line = ",".join(cells)
    if (
        len(cells) > 1  # a row of one empty cell is written as ""
        and line.count(",") == len(cells) - 1
        and '"' not in line
        and "\n" not in line
        and "\r" not in line
    ):
        return line + LINE_END
    return written_csv_line(cells)


def lines_csv_bytes(lines: Iterable[str]) -> bytes:
    """A CSV file (UTF-8 with BOM) of lines made by ``csv_line`` (the header's first), or of runs of
    such lines, encoded a piece at a time (never the whole text and its bytes at once)."""
    return b"".join([BOM, *(text.encode("utf-8") for text in lines)])  # one copy, of the exact size


# A cell that neutralise_formula changes (it starts as a formula may), after the comma or the line
# end before it: patterns led by a literal, which re searches for fast (a class would try every
# position). Not CR: _plain counts the CRs, one a line end (an empty last cell is ",\r\n").
_TRIGGERS = "[" + re.escape("".join(t for t in FORMULA_TRIGGERS if t != "\r")) + "]"
_FORMULA_AFTER_COMMA = re.compile("," + _TRIGGERS)
_FORMULA_AFTER_LINE = re.compile("\n" + _TRIGGERS)


def _plain(text: str, rows: int, width: int) -> bool:
    """Whether ``text``, ``rows`` lines of ``width`` cells joined by commas, each ended by CRLF, holds
    no cell that csv.writer quotes (a comma, a quote, CR or LF in it) or that neutralise_formula changes."""
    return (
        text.count(",") == rows * (width - 1)
        and text.count("\r") == rows
        and text.count("\n") == rows
        and '"' not in text
        and not text.startswith(FORMULA_TRIGGERS)
        and not _FORMULA_AFTER_COMMA.search(text)
        and not _FORMULA_AFTER_LINE.search(text)
    )


def plain_lines(rows: Sequence[Sequence[str]], exact: Callable[[int], Sequence[str | int]]) -> list[str]:
    """The CSV lines (CRLF ended) of ``rows``, text cells of one width as they stand in the data:
    a row is its cells joined by commas when no cell needs quotes and none starts as a formula may
    (checked for every row at once, in C); any other row ``i`` is ``exact(i)`` (its cells made safe)
    written by ``csv.writer``. The same text as ``csv.writer`` of ``exact(i)`` for every row."""
    lines = [",".join(row) + LINE_END for row in rows]
    if not lines:
        return []
    width = len(rows[0])
    if width > 1 and _plain("".join(lines), len(lines), width):
        return lines
    return [
        line if len(row) == width > 1 and _plain(line, 1, width) else written_csv_line(exact(i))
        for i, (row, line) in enumerate(zip(rows, lines, strict=True))
    ]
