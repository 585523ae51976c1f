"""The publication's CSVs are written a line at a time from joined cells where that gives exactly what
csv.writer gives (and neutralise_formula leaves alone): the open data must not change by a byte."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tools.outputs import FORMULA_TRIGGERS, neutralise_formula
from ledger_tools.publish.csv_text import csv_line, plain_lines

# Texts made of what matters to the quoting and the formula guard, and ordinary text around it.
_PIECES = st.sampled_from(
    [
        ",",
        '"',
        "\r",
        "\n",
        "\r\n",
        " ",
        "\t",
        "'",
        "a",
        "1",
        "不当",
        "、",
        "\u3000",
        "\x00",
        "\\",
        *FORMULA_TRIGGERS,
    ]
)
_TEXT = st.lists(_PIECES, max_size=6).map("".join) | st.text(max_size=8)
_ROWS = st.integers(min_value=1, max_value=5).flatmap(
    lambda width: st.lists(st.lists(_TEXT, min_size=width, max_size=width), max_size=6)
)


def _written(rows: list[list[str]]) -> list[str]:
    lines = []
    for row in rows:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow(row)
        lines.append(buffer.getvalue())
    return lines


@settings(max_examples=400, deadline=None)
@given(_ROWS)
def test_plain_lines_are_what_csv_writer_writes_of_the_safe_cells(rows: list[list[str]]) -> None:
    safe = [[neutralise_formula(cell) for cell in row] for row in rows]
    assert plain_lines(rows, lambda i: safe[i]) == _written(safe)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=5))
def test_csv_line_is_what_csv_writer_writes(cells: list[str]) -> None:
    assert [csv_line(cells)] == _written([cells])


def test_a_cell_that_starts_a_formula_or_needs_quotes_is_written_by_csv_writer() -> None:
    rows = [("1", "=SUM(A1)"), ("2", 'say "hi", then'), ("3", "plain"), ("-4", "x")]
    safe = [[neutralise_formula(c) for c in row] for row in rows]
    assert plain_lines(rows, lambda i: safe[i]) == [
        "1,'=SUM(A1)\r\n",
        '2,"say ""hi"", then"\r\n',
        "3,plain\r\n",
        "'-4,x\r\n",
    ]


def test_rows_that_need_no_care_are_joined_without_csv_writer() -> None:
    """The fast path is taken for ordinary rows, empty cells included (the reconciliation's last two)."""

    def never(i: int) -> list[str | int]:
        raise AssertionError(f"row {i} written by csv.writer")

    rows = [("R7-000001", "inbox/1.xlsx", "公表", "1", "", ""), ("", "a-b", "c@d", "2025-04-01", "x", "")]
    assert plain_lines(rows, never) == ["R7-000001,inbox/1.xlsx,公表,1,,\r\n", ",a-b,c@d,2025-04-01,x,\r\n"]
