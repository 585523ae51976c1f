"""Generated artefacts never drift from their generators: docs and the sample inbox."""

import pytest
from conftest import AS_OF

from ledger_tools import reference
from ledger_tools.check.findings import CODES
from ledger_tools.check.validation import validate_paths
from ledger_tools.form.samples import SAMPLE_INBOX, filled_workbook_bytes, sample_records


@pytest.mark.parametrize("name", sorted(reference.documents()))
def test_reference_documents_are_current(name):
    committed = (reference.DOCS / name).read_text(encoding="utf-8")
    assert committed == reference.documents()[name], (
        f"docs/{name} is stale: run python -m ledger_tools.reference"
    )


def test_every_finding_code_is_documented():
    text = (reference.DOCS / "finding-codes.md").read_text(encoding="utf-8")
    assert all(f"`{code}`" in text for code in CODES)


def test_the_shipped_sample_inbox_equals_its_generator():
    records = sample_records()
    shipped = sorted(p.relative_to(SAMPLE_INBOX).as_posix() for p in SAMPLE_INBOX.rglob("*") if p.is_file())
    assert shipped == sorted(records), "run python -m ledger_tools.form.samples"
    for relative, values in records.items():
        assert (SAMPLE_INBOX / relative).read_bytes() == filled_workbook_bytes(values), (
            f"{relative} is stale: run python -m ledger_tools.form.samples"
        )


def test_the_sample_inbox_validates_without_errors(config):
    report = validate_paths([SAMPLE_INBOX], config, AS_OF)
    assert report.summary() == {
        "skipped": 0,
        "unreadable": 0,
        "invalid": 0,
        "excluded": 1,
        "not_applicable": 1,
        "ok": 4,
    }
