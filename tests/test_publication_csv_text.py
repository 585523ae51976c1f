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


@settings(max_examples=300, deadline=None)
@given(_ROWS.filter(lambda rows: all(len(row) > 1 for row in rows)), st.integers(min_value=1, max_value=40))
def test_a_years_rows_in_the_combined_csv_are_what_reading_its_csv_gives(tmp_path_factory, rows, piece):
    """records_all.csv copies a year's rows with the 年度 after the code (whole rows, a piece of the
    file at a time) only where that gives what csv.writer writes of the rows read back."""
    from ledger_tools.publish.index import _read_rows, _rows_with_year
    from ledger_tools.publish.open_data import CODE_HEADER

    path = tmp_path_factory.mktemp("year") / "records_2025.csv"
    safe = [["990001", *(neutralise_formula(cell) for cell in row)] for row in rows]
    path.write_bytes(b"\xef\xbb\xbf" + "".join(_written([[CODE_HEADER, "x"], *safe])).encode("utf-8"))
    copied = _rows_with_year(path, "2025", piece=piece)
    expected = "".join(_written([[r[0], "2025", *r[1:]] for r in _read_rows(path)])).encode("utf-8")
    if copied is not None:
        assert b"".join(copied) == expected
    if not any('"' in line for line in _written(safe)):
        assert copied is not None  # a file without a quoted cell is copied
