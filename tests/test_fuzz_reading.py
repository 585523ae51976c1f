"""Fuzzing the reader with mutations of a valid form: every case is exactly one status, no exception.

Mutations: truncation, bit flips (in compressed data too), dropped / duplicated / renamed parts,
random attributes, positional cells, huge r= values and lying sizes in the zip headers. Each file
is validated in-process (the reader itself must hold) within a time bound; the isolation of
worker processes is the second line, tested in test_hostile_files.py. Bounded to about a minute
(profile "ci"; set HYPOTHESIS_PROFILE=long for a longer run).
"""

from __future__ import annotations

import io
import os
import re
import struct
import sys
import time
import zipfile

import pytest
from conftest import AS_OF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tools.check.findings import Status
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_records
from ledger_tools.form.samples import filled_workbook_bytes, recorded_values

settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
settings.register_profile("long", max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck))
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
SECONDS_PER_FILE = 10
MEMORY_MB = 3_000  # the peak of the whole test process


def _peak_memory_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows: not measured
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


GOOD = filled_workbook_bytes(recorded_values())
SHEET = "xl/worksheets/sheet1.xml"


def _parts(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(info, z.read(info.filename)) for info in z.infolist()]


PARTS = _parts(GOOD)
NAMES = [info.filename for info, _ in PARTS]


def _zip(parts: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts:
            z.writestr(zipfile.ZipInfo(name), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _sheet_change(kind: str, draw) -> bytes:
    parts = [(info.filename, content) for info, content in PARTS]
    index = NAMES.index(SHEET)
    xml = parts[index][1]
    if kind == "positional":  # drop r= from a random share of the cells and rows
        keep = draw(st.integers(0, 3))
        counter = iter(range(10**9))
        xml = re.sub(rb'\sr="[A-Z]*\d+"', lambda m: m.group(0) if next(counter) % 4 < keep else b"", xml)
    elif kind == "huge_r":
        column = draw(st.sampled_from([b"A", b"XFD", b"ZZZZ", b""]))
        row = draw(st.sampled_from([b"1", b"1048576", b"4294967296", b"99999999999999999999", b"0", b"-1"]))
        xml = xml.replace(
            b"</sheetData>",
            b'<row r="' + row + b'"><c r="' + column + row + b'"><v>1</v></c></row></sheetData>',
        )
    elif kind == "attribute":
        name = draw(st.sampled_from([b"r", b"t", b"s", b"spans", b"ref", b"x"]))
        value = draw(st.binary(max_size=12)).replace(b'"', b"").replace(b"<", b"").replace(b">", b"")
        tag = draw(st.sampled_from([b"<c ", b"<row ", b"<dimension ", b"<sheetData"]))
        xml = xml.replace(tag, tag + b" " + name + b'="' + value + b'" ', draw(st.integers(1, 50)))
    elif kind == "positional_wide":
        count = draw(st.integers(1, 20_000))
        xml = xml.replace(b"</sheetData>", b"<row>" + b"<c><v>1</v></c>" * count + b"</row></sheetData>")
    parts[index] = (SHEET, xml)
    return _zip(parts)


@st.composite
def mutated(draw) -> bytes:
    kind = draw(
        st.sampled_from(
            [
                "truncate",
                "flip",
                "drop",
                "duplicate",
                "rename",
                "lying_size",
                "positional",
                "huge_r",
                "attribute",
                "positional_wide",
            ]
        )
    )
    data = bytearray(GOOD)
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(data) - 1))
            data[position] ^= 1 << draw(st.integers(0, 7))
        return bytes(data)
    if kind in ("drop", "duplicate", "rename"):
        parts = [(info.filename, content) for info, content in PARTS]
        index = draw(st.integers(0, len(parts) - 1))
        if kind == "drop":
            del parts[index]
        elif kind == "duplicate":
            parts.append(parts[index])
        else:
            parts[index] = (
                draw(st.sampled_from([*NAMES, "xl/other.xml", "../x", "/abs.xml"])),
                parts[index][1],
            )
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
            return _zip(parts)
    if kind == "lying_size":  # local and central headers claim other sizes
        for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            starts = [m.start() for m in re.finditer(re.escape(signature), bytes(data))]
            if starts:
                where = draw(st.sampled_from(starts)) + offset
                value = draw(st.sampled_from([0, 1, 2**31, 2**32 - 1]))
                data[where : where + 4] = struct.pack("<I", value)
        return bytes(data)
    return _sheet_change(kind, draw)


@pytest.fixture(scope="module")
def context(config):
    return RuleContext(config, AS_OF)


@settings(settings.get_profile(PROFILE))
@given(data=mutated())
def test_every_mutation_ends_in_one_status_per_file_without_an_exception(tmp_path_factory, context, data):
    path = tmp_path_factory.mktemp("fuzz") / "mutated.xlsx"
    path.write_bytes(data)
    start = time.monotonic()
    reports = validate_records(path, context)
    assert time.monotonic() - start < SECONDS_PER_FILE
    assert _peak_memory_mb() < MEMORY_MB
    assert reports
    assert all(isinstance(r.status, Status) for r in reports)
    if any(r.status is Status.UNREADABLE for r in reports):
        assert len(reports) == 1  # a file that cannot be read is one report, one status
    codes = {f.code for r in reports for f in r.findings}
    assert "unreadable_unexpected" not in codes, [f.message for r in reports for f in r.findings]
