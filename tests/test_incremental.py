"""An aggregation after a few files changed gives the same outputs as a fresh one on the same inbox."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import AS_OF

from ledger_tools.form.samples import complete_values, filled_workbook_bytes, recorded_values
from ledger_tools.ledger import aggregation
from ledger_tools.ledger.aggregation import aggregate

SAME_BYTES = ["ledger.json", "台帳.csv", "月次状況_2026-11.xlsx", "月次状況_2026-11.html"]
HISTORY_PART = "xl/worksheets/sheet5.xml"  # 処理履歴: what happened over the runs, not what the inbox holds


def _book(values: dict[str, object]) -> bytes:
    return filled_workbook_bytes(values)


@pytest.fixture(scope="module")
def books() -> dict[str, bytes]:
    return {
        "a": _book(recorded_values(record_id="R-1")),
        "a_later": _book(complete_values(record_id="R-1")),
        "b": _book(complete_values(record_id="R-2", received_date=dt.date(2025, 7, 1))),
        "b_fixed": _book(complete_values(record_id="R-2", received_date=dt.date(2025, 7, 3))),
        "c": _book(recorded_values(record_id="R-3", excl_public_venue="該当する")),
        "d": _book(recorded_values(record_id="R-4", requester_name="=1+1")),
        "e": _book(complete_values(record_id="R-5", received_date=dt.date(2025, 8, 1))),
    }


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _without_history_filter(part: bytes) -> bytes:
    """workbook.xml names the filter range of every sheet: the 処理履歴 one follows its length."""
    return re.sub(
        rb'<definedName name="_xlnm._FilterDatabase" localSheetId="4"[^<]*</definedName>', b"", part
    )


def test_incremental_run_equals_a_fresh_run(tmp_path: Path, config, books) -> None:
    inbox, kept, fresh = tmp_path / "提出", tmp_path / "集計", tmp_path / "集計_新規"
    (inbox / "課A").mkdir(parents=True)
    for name, key in [("課A/1.xlsx", "a"), ("2.xlsx", "b"), ("3.xlsx", "c"), ("4.xlsx", "d")]:
        (inbox / name).write_bytes(books[key])
    aggregate(inbox, kept, config, AS_OF, progress=False, workers=1, retry_delay=0)
    # A few files change: a later stage saved over, a correction, a new file.
    (inbox / "課A/1.xlsx").write_bytes(books["a_later"])
    (inbox / "2.xlsx").write_bytes(books["b_fixed"])
    (inbox / "5.xlsx").write_bytes(books["e"])
    again = aggregate(inbox, kept, config, AS_OF, progress=False, workers=1, retry_delay=0)
    assert again.parsed == 3
    shutil.rmtree(fresh, ignore_errors=True)
    aggregate(inbox, fresh, config, AS_OF, progress=False, workers=1, retry_delay=0)

    for name in SAME_BYTES:
        assert (kept / name).read_bytes() == (fresh / name).read_bytes(), name
    incremental, rebuilt = (
        _parts((kept / "台帳.xlsx").read_bytes()),
        _parts((fresh / "台帳.xlsx").read_bytes()),
    )
    assert incremental.keys() == rebuilt.keys()
    for part in incremental:
        if part != HISTORY_PART:
            assert _without_history_filter(incremental[part]) == _without_history_filter(rebuilt[part]), part
    assert b"\xe5\xa4\x89\xe6\x9b\xb4" in incremental[HISTORY_PART]  # 変更: the incremental run's history


def test_rerun_gives_the_same_bytes(tmp_path: Path, config, books) -> None:
    """The same inbox into two fresh folders: every output byte-identical, the history included."""
    inbox = tmp_path / "提出"
    inbox.mkdir()
    for i, key in enumerate(["a", "b", "c", "d"]):
        (inbox / f"{i}.xlsx").write_bytes(books[key])
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        aggregate(inbox, out, config, AS_OF, progress=False, workers=1, retry_delay=0)
    for name in [*SAME_BYTES, "台帳.xlsx"]:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_unchanged_rerun_with_division_files_decodes_nothing(
    tmp_path: Path, config, books, monkeypatch
) -> None:
    """The outputs under 主管課別/ are checked by their place in DIR, so an unchanged inbox is not read again."""
    inbox, out = tmp_path / "提出", tmp_path / "集計"
    inbox.mkdir()
    for i, key in enumerate(["a", "b", "e"]):
        (inbox / f"{i}.xlsx").write_bytes(books[key])
    first = aggregate(inbox, out, config, AS_OF, progress=False, workers=1, retry_delay=0)
    assert any(path.parent.name == "主管課別" for path in first.outputs)

    def no_decoding(*_args: object) -> None:
        raise AssertionError("the unchanged inbox was decoded again")

    monkeypatch.setattr(aggregation._Run, "_report_inbox", no_decoding)
    again = aggregate(inbox, out, config, AS_OF, progress=False, workers=1, retry_delay=0)
    assert again.parsed == 0 and sorted(again.outputs) == sorted(first.outputs)
