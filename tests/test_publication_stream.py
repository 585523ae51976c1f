"""Publishing reads ledger.json one entry line at a time, only the year's entries and the values it
needs: the files it writes are byte for byte those of publishing the whole ledger, and a damaged or
edited ledger is refused with the same message as before."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from test_publication import LEDGER_DATE, entry, held_back_ledger, mixed_ledger

from ledger_tools.check.findings import Status, make_finding
from ledger_tools.dates import FiscalYear
from ledger_tools.form.fields import APPLICABLE
from ledger_tools.form.samples import complete_values, recorded_values
from ledger_tools.ledger.aggregation import load_verified_ledger, record_ledger
from ledger_tools.ledger.entries import Ledger, LedgerEntry, LedgerError, LedgerReader, load_ledger
from ledger_tools.ledger.readiness import hold_reasons
from ledger_tools.publish.figures import ledger_projection
from ledger_tools.publish.publication import PublicationRefused, publish, publish_ledger
from ledger_tools.publish.selection import READINESS_VALUE_IDS


def every_kind_ledger() -> Ledger:
    """The mixed and held-back ledgers together, with records of other years, skipped and undated ones."""
    extra = [
        entry(Status.SKIPPED, record_id="S1"),
        entry(record_id="P1", received_date=dt.date(2024, 6, 1)),  # before operation
        entry(record_id="N1", received_date=dt.date(2027, 6, 1)),  # a later year
        entry(
            Status.INVALID,
            values=recorded_values(record_id="U1", received_date=None, supervisor_judgement=APPLICABLE),
            findings=[make_finding("required_missing", field="received_date")],
        ),
        entry(
            Status.EXCLUDED,
            values=recorded_values(record_id="X1", received_date=None, supervisor_judgement=APPLICABLE),
            exclusions=["public_venue"],
        ),
    ]
    return Ledger(LEDGER_DATE, mixed_ledger().entries + held_back_ledger().entries + extra)


def written(directory: Path) -> dict[str, bytes]:
    """Every file publishing wrote in DIR (the ledger and its manifest left out)."""
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and (p.name.startswith("公表照合表") or "publication" in p.parts)
    }


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_the_streamed_publication_is_byte_identical_to_the_whole_ledgers(tmp_path, config, year):
    record_ledger(tmp_path, every_kind_ledger())
    fiscal_year = FiscalYear(year)
    streamed = publish(tmp_path, config, fiscal_year, allow_pending=True)
    first = written(tmp_path)
    whole = publish_ledger(load_ledger(tmp_path), tmp_path, config, fiscal_year, allow_pending=True)
    assert written(tmp_path) == first
    assert streamed.reconciliation == whole.reconciliation
    assert streamed.publication == whole.publication
    assert any(name.endswith(".csv") and "publication" in name for name in first)


def test_a_refusal_is_the_same_streamed_or_whole(tmp_path, config):
    record_ledger(tmp_path, every_kind_ledger())
    with pytest.raises(PublicationRefused) as streamed:
        publish(tmp_path, config, FiscalYear(2025))
    report = written(tmp_path)
    with pytest.raises(PublicationRefused) as whole:
        publish_ledger(load_ledger(tmp_path), tmp_path, config, FiscalYear(2025))
    assert written(tmp_path) == report
    assert streamed.value.reconciliation == whole.value.reconciliation


def test_publishing_keeps_only_the_years_entries_and_values(tmp_path, config):
    record_ledger(tmp_path, every_kind_ledger())
    kept = load_verified_ledger(tmp_path, ledger_projection(config, FiscalYear(2025))).entries
    ids = {e.record_id for e in kept}
    assert {"A", "B", "U1", "X1", "OK1"} <= ids
    assert not {"S1", "P1", "N1", "H", "I"} & ids  # skipped, other years
    assert all(e.cells == {} for e in kept)
    assert all("requester_name" not in e.values for e in kept)  # never published, never read


def test_the_line_reader_reads_what_load_ledger_reads_and_hashes_the_file(tmp_path):
    path = record_ledger(tmp_path, every_kind_ledger())
    reader = LedgerReader(path)
    assert reader.read() == load_ledger(tmp_path)
    assert reader.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    empty = record_ledger(tmp_path / "empty", Ledger(LEDGER_DATE, []))
    assert LedgerReader(empty).read() == Ledger(LEDGER_DATE, [])


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: text.replace('"status":"skipped"', '"status":7', 1),  # an entry the year leaves out
        lambda text: text.replace("]}\n", "]}\n{}\n"),  # something after the end
        lambda text: text.replace('"format": 1', '"format": 9'),
    ],
)
def test_a_damaged_ledger_is_refused_with_the_same_message(tmp_path, config, damage):
    path = record_ledger(tmp_path, every_kind_ledger())
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(LedgerError) as whole:
        load_verified_ledger(tmp_path)
    with pytest.raises(LedgerError) as streamed:
        load_verified_ledger(tmp_path, ledger_projection(config, FiscalYear(2025)))
    try:
        load_ledger(tmp_path)
    except LedgerError as e:  # what the ledger said before it was read a line at a time
        assert str(streamed.value) == str(whole.value) == str(e)
    else:  # still the same JSON, edited: the manifest's sha256 says so
        assert str(streamed.value) == str(whole.value)
        assert "変更されています" in str(whole.value)
    with pytest.raises(LedgerError, match=re.escape(str(whole.value)[:20])):
        LedgerReader(path).read()


class _Recording(dict):
    """A values mapping that notes every key read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


def test_the_hold_reasons_read_only_values_the_publication_keeps():
    """The streamed publish keeps READINESS_VALUE_IDS of each entry: hold_reasons must read no other."""
    for values in (
        complete_values(),
        complete_values(public_summary=None, measures_needed="要", public_measures=None),
    ):
        entry = LedgerEntry(path="a.xlsx", status=Status.OK, values=_Recording(values))
        hold_reasons(entry)
        assert entry.values.read <= READINESS_VALUE_IDS
