"""The fast paths of the list checks give what the slower exact ones give."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger_tools.check import reading
from ledger_tools.check.validation import values_digest


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (b'<row r="1"><c r="A1"><v>1</v></c><c r="B1" t="s"><v>2</v></c></row>', 2),
        # a colon in a text (14:30) without any prefixed tag
        (b'<row r="1"><c r="A1" t="inlineStr"><is><t>14:30</t></is></c></row>', 1),
        # rich text: <color> begins "<c" but is no cell
        (
            b'<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><color rgb="FF0000"/></rPr><t>x</t></r></is></c></row>',
            1,
        ),
        (b'<row r="1"><c\tr="A1"><v>1</v></c></row>', -1),  # a tab after <c: the exact scan decides
        (b'<row r="1"><c s="1" r="A1"><v>1</v></c></row>', -1),  # r= not first
        (b'<row r="1"><c><v>1</v></c></row>', -1),  # no r=
        (b'<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>', -1),  # prefixed tags
    ],
)
def test_plain_cells_counts_only_cells_that_all_open_with_r(xml, expected):
    assert reading._plain_cells(xml, 0, len(xml)) == expected


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
