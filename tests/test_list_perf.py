"""The fast paths of the list checks give what the slower exact ones give."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tools.check import reading
from ledger_tools.check.validation import values_digest


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (b'<row r="1"><c r="A1"><v>1</v></c><c r="B1" t="s"><v>2</v></c></row>', True),
        # a colon in a text (14:30) without any prefixed tag
        (b'<row r="1"><c r="A1" t="inlineStr"><is><t>14:30</t></is></c></row>', True),
        # rich text: <color> begins "<c" but is no cell
        (
            b'<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><color rgb="FF0000"/></rPr><t>x</t></r></is></c></row>',
            True,
        ),
        (b'<row r="1"><c\tr="A1"><v>1</v></c></row>', False),  # a tab after <c: the exact scan decides
        (b'<row r="1"><c s="1" r="A1"><v>1</v></c></row>', False),  # r= not first
        (b'<row r="1"><c><v>1</v></c></row>', False),  # no r=
        (b'<row r="1"><c r="A1"><v>1</v></c><c><v>1</v></c></row>', False),  # one cell without r=
        (b'<row r="1"><c r="a1"><v>1</v></c></row>', False),  # not an address the bound reads
        (b"", True),  # no cell at all
        # a cell far below the last one (rows out of order), or far to the right
        (b'<row r="2"><c r="A900"><v>1</v></c></row><row r="3"><c r="A3"><v>1</v></c></row>', False),
        (b'<row r="2"><c r="ZZ2"><v>1</v></c></row><row r="3"><c r="A3"><v>1</v></c></row>', False),
    ],
)
def test_the_cheap_bound_holds_only_when_every_cell_opens_with_an_address_within_it(xml, expected):
    assert reading._within_bound(xml, 0, len(xml), 100) is expected


_cell = st.tuples(
    st.integers(1, 60),  # row
    st.integers(1, 60),  # column
    st.sampled_from(["r", "none", "late", "closed"]),  # how the cell is written
)


def _sheet(rows: list[list[tuple[int, int, str]]], row_numbers: list[bool]) -> bytes:
    parts = []
    for number, (cells, numbered) in enumerate(zip(rows, row_numbers, strict=False), 1):
        parts.append(b'<row r="%d">' % number if numbered else b"<row>")
        for row, col, how in cells:
            ref = f"{reading.column_letter(col)}{row}".encode()
            if how == "r":
                parts.append(b'<c r="%s"><v>1</v></c>' % ref)
            elif how == "none":
                parts.append(b"<c><v>1</v></c>")
            elif how == "late":
                parts.append(b'<c s="1" r="%s"><v>1</v></c>' % ref)
            else:
                parts.append(b'<c r="%s" s="1"/>' % ref)
        parts.append(b"</row>")
    return b"<sheetData>" + b"".join(parts) + b"</sheetData>"


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(_cell, max_size=6), max_size=8),
    row_numbers=st.lists(st.booleans(), min_size=8, max_size=8),
    max_cells=st.sampled_from([1, 50, 400, 3600]),
)
def test_the_extent_check_refuses_exactly_what_the_exact_scan_finds_too_large(rows, row_numbers, max_cells):
    """Hostile placements: cells beyond the last row, out of order, rows and cells without r=."""
    xml = _sheet(rows, row_numbers)
    limits = dataclasses.replace(_limits(), max_sheet_cells=max_cells)
    extent_rows, extent_cols = reading.sheet_extent(xml)
    too_large = extent_rows * max(extent_cols, 1) > max_cells
    try:
        reading._check_extent(xml, 0, len(xml), limits)
        refused = False
    except reading.Unreadable as e:
        assert e.code == "unreadable_too_large"
        refused = True
    assert refused is too_large


def test_a_prefixed_formula_is_found_with_or_without_a_colon_elsewhere():
    xml = b'<sheetData><row r="1"><x:c r="A1"><x:f>1+1</x:f></x:c></row></sheetData>'
    assert reading.scan_sheet(xml, _limits()).formulas == frozenset({(1, 1)})
    xml = b'<sheetData><row r="1"><c r="A1"><f>1+1</f></c></row></sheetData>'
    assert reading.scan_sheet(xml, _limits()).formulas == frozenset({(1, 1)})


def _limits():
    from ledger_tools.config import load_config

    return load_config().limits


def test_the_values_digest_tells_types_and_values_apart_and_ignores_order():
    a = {"received_date": dt.date(2025, 6, 10), "place": "会議室"}
    assert values_digest(a) == values_digest(dict(reversed(a.items())))
    assert values_digest(a) != values_digest({**a, "received_date": "2025-06-10"})
    assert values_digest({"x": 1}) != values_digest({"x": 1.0})
    assert values_digest({"x": "ab"}) != values_digest({"x": "a", "y": "b"})


def test_the_values_digest_is_the_same_for_one_string_object_used_twice_and_two_equal_ones():
    shared = "".join(["伝", "えた"])
    assert values_digest({"a": shared, "b": shared}) == values_digest(
        {"a": "".join(["伝え", "た"]), "b": "伝えた"}
    )


def test_a_cell_text_that_reads_like_the_end_of_sheet_data_does_not_end_the_scan():
    xml = (
        b'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>sheetData></t></is></c></row>'
        b'<row r="2"><c r="B2"><f>1/0</f></c><c r="C2" t="e"><v>#DIV/0!</v></c></row>'
        b'<row r="3"><c r="A1048576"><v>1</v></c></row></sheetData></worksheet>'
    )
    limits = dataclasses.replace(_limits(), max_sheet_cells=100)
    with pytest.raises(reading.Unreadable) as refused:
        reading.scan_sheet(xml, limits)
    assert refused.value.code == "unreadable_too_large"
    scan = reading.scan_sheet(xml.replace(b"A1048576", b"A3"), limits)
    assert (scan.formulas, scan.errors) == (frozenset({(2, 2)}), {(2, 3): "#DIV/0!"})


def test_a_workers_reports_reach_the_parent_unchanged(tmp_path):
    """The packed form a worker sends (cells of list rows as row numbers) unpacks to equal reports."""
    import pickle

    from ledger_tools.check.findings import FileReport, Status, make_finding
    from ledger_tools.check.reading import RowCells
    from ledger_tools.check.validation import _Reports

    columns = {"record_id": "一覧!A", "place": "一覧!I"}
    other = {"record_id": "別!A"}
    reports = [
        FileReport(
            "a.xlsx",
            Status.OK,
            "R-1",
            "記録済み",
            [],
            [],
            {"record_id": "R-1"},
            RowCells(columns, 4),
            "x",
            4,
            2,
        ),
        FileReport(
            "a.xlsx",
            Status.INVALID,
            "R-2",
            findings=[make_finding("required_missing", field="place", cell="一覧!I5")],
            cells=RowCells(columns, 5),
            row=5,
        ),
        FileReport("a.xlsx", Status.OK, cells=RowCells(other, 6), row=6),  # other columns: sent as they are
        FileReport("b.xlsx", Status.OK, "F-1", cells={"record_id": "対応記録簿!C4"}),
        FileReport("c.xlsx", Status.UNREADABLE, findings=[make_finding("unreadable_corrupt", detail="x")]),
    ]
    back = pickle.loads(pickle.dumps(_Reports(reports), 5))
    assert type(back) is list and back == reports
    assert [dict(r.cells) for r in back] == [dict(r.cells) for r in reports]
    assert [type(r.cells) for r in back] == [type(r.cells) for r in reports]
