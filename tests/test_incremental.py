"""An aggregation after a few files changed gives the same outputs as a fresh one on the same inbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from conftest import AS_OF

from ledger_tools.form.samples import complete_values, filled_workbook_bytes, recorded_values
from ledger_tools.ledger import aggregation, fragments
from ledger_tools.ledger.aggregation import aggregate, forget
from ledger_tools.ledger.archive import Manifest
from ledger_tools.ledger.entries import load_ledger
from ledger_tools.ledger.workbook import HISTORY_SHEET_LIMIT, ledger_csv_bytes, ledger_workbook_bytes

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


def _rendered_in_full(out: Path) -> dict[str, bytes]:
    """What the full renderers give for the ledger and history now in DIR."""
    ledger = load_ledger(out)
    with Manifest(out / "manifest.sqlite") as manifest:
        history = manifest.history(latest=HISTORY_SHEET_LIMIT)
    return {
        "ledger.json": ledger.to_json_text().encode("utf-8"),
        "台帳.csv": ledger_csv_bytes(ledger),
        "台帳.xlsx": ledger_workbook_bytes(ledger, history),
    }


def _assert_assembled_right(out: Path) -> None:
    for name, data in _rendered_in_full(out).items():
        assert (out / name).read_bytes() == data, name


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The records whose fragments a run renders (not taken from the cache)."""
    calls: list[str] = []
    real = fragments.render_fragments

    def counting(entry):
        calls.append(entry.location)
        return real(entry)

    monkeypatch.setattr(fragments, "render_fragments", counting)
    return calls


def _run(inbox: Path, out: Path, config) -> None:
    aggregate(inbox, out, config, AS_OF, progress=False, workers=1, retry_delay=0, allow_missing=True)


def test_fragments_follow_every_change(tmp_path: Path, config, books, renders) -> None:
    """Changed, added, removed, moved and retired records: the outputs assembled from cached
    fragments are those the full renderers give, and only what changed is rendered again."""
    inbox, out = tmp_path / "提出", tmp_path / "集計"
    (inbox / "課A").mkdir(parents=True)
    for name, key in [("課A/1.xlsx", "a"), ("2.xlsx", "b"), ("3.xlsx", "c"), ("4.xlsx", "d")]:
        (inbox / name).write_bytes(books[key])
    _run(inbox, out, config)
    _assert_assembled_right(out)
    assert len(renders) == 4

    renders.clear()
    (inbox / "2.xlsx").write_bytes(books["b_fixed"])  # changed
    (inbox / "5.xlsx").write_bytes(books["e"])  # added
    _run(inbox, out, config)
    _assert_assembled_right(out)
    assert sorted(renders) == ["2.xlsx", "5.xlsx"]

    renders.clear()
    (inbox / "3.xlsx").unlink()  # removed: kept from the archive as 原本なし
    (inbox / "4.xlsx").rename(inbox / "課A/4.xlsx")  # moved
    _run(inbox, out, config)
    _assert_assembled_right(out)
    assert sorted(renders) == ["3.xlsx", "課A/4.xlsx"]
    assert "原本なし" in (out / "台帳.csv").read_text(encoding="utf-8-sig")

    renders.clear()
    forget(out, "R-3", "試験用のファイル")  # retired: dropped from the ledger
    _run(inbox, out, config)
    _assert_assembled_right(out)
    assert renders == [] and "R-3" not in (out / "台帳.csv").read_text(encoding="utf-8-sig")


def test_a_configuration_change_renders_every_record_again(tmp_path: Path, config, books, renders) -> None:
    inbox, out = tmp_path / "提出", tmp_path / "集計"
    inbox.mkdir()
    for i, key in enumerate(["a", "b", "c"]):
        (inbox / f"{i}.xlsx").write_bytes(books[key])
    _run(inbox, out, config)
    renders.clear()
    other = dataclasses.replace(
        config, publication=dataclasses.replace(config.publication, prefecture_name="別の県")
    )
    _run(inbox, out, other)
    assert len(renders) == 3
    _assert_assembled_right(out)


def test_a_damaged_fragment_is_rendered_again(tmp_path: Path, config, books, renders) -> None:
    """A cached row whose content no longer matches its checksum is never spliced in."""
    inbox, out, fresh = tmp_path / "提出", tmp_path / "集計", tmp_path / "集計_新規"
    inbox.mkdir()
    for i, key in enumerate(["a", "b", "c", "d"]):
        (inbox / f"{i}.xlsx").write_bytes(books[key])
    _run(inbox, out, config)
    db = sqlite3.connect(out / "manifest.sqlite")
    with db:
        keys = [row[0] for row in db.execute("SELECT key FROM ledger_fragments ORDER BY key")]
        db.execute("UPDATE ledger_fragments SET csv = '改ざん' || csv WHERE key = ?", (keys[0],))
        db.execute("UPDATE ledger_fragments SET cells = '' WHERE key = ?", (keys[1],))
        db.execute("UPDATE ledger_fragments SET checksum = 'x' WHERE key = ?", (keys[2],))
    db.close()
    renders.clear()
    (inbox / "4.xlsx").write_bytes(books["e"])  # a change, so that the run renders its outputs
    _run(inbox, out, config)
    assert len(renders) == 4  # the new file and the three damaged rows
    _run(inbox, fresh, config)
    for name in ["ledger.json", "台帳.csv"]:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    _assert_assembled_right(out)
    assert "改ざん" not in (out / "台帳.csv").read_text(encoding="utf-8-sig")


def test_a_changed_run_decodes_only_what_changed(tmp_path: Path, config, books, monkeypatch) -> None:
    """Unchanged records are carried by their slim facts and cached fragments: their full report is
    never decoded; a record sharing its id with a new file is (the two are compared)."""
    inbox, out = tmp_path / "提出", tmp_path / "集計"
    inbox.mkdir()
    for i, key in enumerate(["a", "b", "c", "d"]):
        (inbox / f"{i}.xlsx").write_bytes(books[key])
    _run(inbox, out, config)
    decoded: list[str] = []
    real = aggregation.reports_from_json

    def counting(text: str, path: str):
        decoded.append(path)
        return real(text, path)

    monkeypatch.setattr(aggregation, "reports_from_json", counting)
    (inbox / "1.xlsx").write_bytes(books["b_fixed"])  # a correction
    (inbox / "5.xlsx").write_bytes(books["e"])  # a new record
    _run(inbox, out, config)
    assert sorted(set(decoded)) == ["1.xlsx", "5.xlsx"]  # rendered from their cached full reports
    decoded.clear()
    (inbox / "6.xlsx").write_bytes(books["a_later"])  # R-1 again, a later stage: compared with 0.xlsx
    _run(inbox, out, config)
    assert {"0.xlsx", "6.xlsx"} <= set(decoded) and "2.xlsx" not in decoded


def test_conflicts_copies_and_later_stages_incremental_equals_fresh(tmp_path: Path, config, books) -> None:
    inbox, kept, fresh = tmp_path / "提出", tmp_path / "集計", tmp_path / "集計_新規"
    inbox.mkdir()
    for name, key in [("1.xlsx", "a"), ("2.xlsx", "b"), ("3.xlsx", "c"), ("4.xlsx", "d")]:
        (inbox / name).write_bytes(books[key])
    _run(inbox, kept, config)
    (inbox / "9 copy.xlsx").write_bytes(books["b"])  # a duplicate (after 2.xlsx: kept either way)
    (inbox / "7.xlsx").write_bytes(books["b_fixed"])  # R-2 with other facts: a conflict
    (inbox / "8.xlsx").write_bytes(books["a_later"])  # supersedes 1.xlsx
    _run(inbox, kept, config)
    _run(inbox, fresh, config)
    for name in ["ledger.json", "台帳.csv"]:
        assert (kept / name).read_bytes() == (fresh / name).read_bytes(), name
    _assert_assembled_right(kept)
    entries = {e.location: e for e in load_ledger(kept).entries}
    assert "8.xlsx" in entries and "1.xlsx" not in entries  # superseded
    assert any(f.code == "record_id_conflict" for f in entries["7.xlsx"].findings)


def test_a_damaged_facts_row_is_cut_again_from_the_full_report(tmp_path: Path, config, books) -> None:
    inbox, out, fresh = tmp_path / "提出", tmp_path / "集計", tmp_path / "集計_新規"
    inbox.mkdir()
    for i, key in enumerate(["a", "b", "c"]):
        (inbox / f"{i}.xlsx").write_bytes(books[key])
    _run(inbox, out, config)
    db = sqlite3.connect(out / "manifest.sqlite")
    with db:
        db.execute("UPDATE facts SET facts = '[{\"status\": 1}]'")
    db.close()
    (inbox / "4.xlsx").write_bytes(books["e"])  # a change, so that the run reads the cache
    _run(inbox, out, config)
    _run(inbox, fresh, config)
    for name in ["ledger.json", "台帳.csv"]:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
