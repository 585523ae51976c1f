"""CSV of text cells, for the large files of a publication."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence

from ledger_tools.outputs import FORMULA_TRIGGERS

BOM = "\ufeff".encode()  # utf-8-sig: the BOM first
LINE_END = "\r\n"


def text_csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str | int]]) -> bytes:
    """``outputs.csv_bytes`` for rows whose cells are text already safe for a spreadsheet
    (``outputs.neutralise_formula``) or numbers: the same bytes, without converting each of a large
    year's cells one by one, encoded as written (never the whole text and its bytes at once)."""
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")  # utf-8-sig: the BOM first
    writer = csv.writer(text, lineterminator=LINE_END, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    text.flush()
    text.detach()  # leaves raw open
    return raw.getvalue()


def csv_line(cells: Sequence[str]) -> str:
    """One row of text cells exactly as ``text_csv_bytes``'s writer writes it, line end included.

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
    return written_line(cells)


def written_line(cells: Sequence[str | int]) -> str:
    """One row as ``csv.writer`` writes it (QUOTE_MINIMAL, CRLF)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=LINE_END, quoting=csv.QUOTE_MINIMAL).writerow(cells)
    return buffer.getvalue()


def lines_csv_bytes(lines: Iterable[str]) -> bytes:
    """A CSV file (UTF-8 with BOM) of lines made by ``csv_line``, the header's first."""
    return BOM + "".join(lines).encode("utf-8")


# A cell that neutralise_formula changes (it starts as a formula may), after the comma before it:
# a pattern led by a literal, which re searches for fast (an alternation would try every position).
_FORMULA_AFTER_COMMA = re.compile(",[" + re.escape("".join(FORMULA_TRIGGERS)) + "]")


def _plain(text: str, commas: int) -> bool:
    """Whether ``text``, cells joined by commas, holds ``commas`` commas and no cell that csv.writer
    quotes (a quote, CR or LF in it) or that neutralise_formula changes."""
    return (
        text.count(",") == commas
        and '"' not in text
        and "\r" not in text
        and "\n" not in text
        and not text.startswith(FORMULA_TRIGGERS)
        and not _FORMULA_AFTER_COMMA.search(text)
    )


def plain_lines(rows: Sequence[Sequence[str]], exact: Callable[[int], Sequence[str | int]]) -> list[str]:
    """The CSV lines (CRLF ended) of ``rows``, text cells of one width as they stand in the data:
    a row is its cells joined by commas when no cell needs quotes and none starts as a formula may
    (checked for every row at once, in C); any other row ``i`` is ``exact(i)`` (its cells made safe)
    written by ``csv.writer``. The same text as ``csv.writer`` of ``exact(i)`` for every row."""
    lines = [",".join(row) for row in rows]
    if not lines:
        return []
    width = len(rows[0])
    if width > 1 and _plain(",".join(lines), len(lines) * width - 1):
        return [line + LINE_END for line in lines]
    return [
        line + LINE_END if len(row) == width > 1 and _plain(line, width - 1) else written_line(exact(i))
        for i, (row, line) in enumerate(zip(rows, lines, strict=True))
    ]
