"""The aggregator as 総務課 meets it: records across files and runs, nothing lost, faults survived."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import AS_OF
from filelock import FileLock
from openpyxl import load_workbook

from ledger_tools.check import reading
from ledger_tools.check.findings import Status
from ledger_tools.form.fields import NOT_APPLICABLE
from ledger_tools.form.samples import complete_values, filled_workbook, filled_workbook_bytes, recorded_values
from ledger_tools.ledger import aggregation, intake
from ledger_tools.ledger.aggregation import (
    AggregationError,
    AggregationLocked,
    ArchiveUnwritable,
    FoldersOverlap,
    InboxNotFound,
    OutputInUse,
    aggregate,
)
from ledger_tools.ledger.entries import load_ledger
from ledger_tools.outputs import workbook_bytes

OUTPUT_NAMES = ["ledger.json", "台帳.xlsx", "台帳.csv", "月次状況_2026-11.xlsx", "月次状況_2026-11.html"]


@pytest.fixture(scope="session")
def books() -> dict[str, bytes]:
    """The workbooks these tests need, built once (each costs about 0.1 s)."""
    return {
        "recorded": filled_workbook_bytes(recorded_values(record_id="R-1")),
        "complete": filled_workbook_bytes(complete_values(record_id="R-1")),
        "conflict": filled_workbook_bytes(
            recorded_values(record_id="R-1", received_date=dt.date(2025, 6, 9))
        ),
        "other": filled_workbook_bytes(
            complete_values(
                record_id="R-2", received_date=dt.date(2025, 7, 1), reported_date=dt.date(2025, 7, 2)
            )
        ),
        "excluded": filled_workbook_bytes(recorded_values(record_id="R-3", excl_public_venue="該当する")),
        "not_applicable": filled_workbook_bytes(
            recorded_values(
                record_id="R-4",
                supervisor_judgement=NOT_APPLICABLE,
                judgement_date=dt.date(2025, 6, 12),
                personnel_info_provided="行っていない",
                art38_2_suspected="なし",
            )
        ),
        "invalid": filled_workbook_bytes(recorded_values(record_id="R-5", place=None)),
    }


def put(folder: Path, relative: str, data: bytes) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def run(inbox: Path, out: Path, config, **options):
    # the tests delete files on purpose: the unmounted-share guard has its own tests
    options = {"progress": False, "workers": 1, "retry_delay": 0.01, "allow_missing": True, **options}
    return aggregate(inbox, out, config, AS_OF, **options)


def entries_by_path(result) -> dict[str, object]:
    return {e.path: e for e in result.ledger.entries}


def outputs_bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUT_NAMES}


def fingerprints(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


# ---------------------------------------------------------------------------- what lands where


def test_every_current_entry_is_in_the_ledger_and_every_output_is_written(inbox, out, books, config):
    put(inbox, "県土整備部/R-1.xlsx", books["complete"])
    put(inbox, "警察本部/R-3.xlsx", books["excluded"])
    put(inbox, "農林水産部/R-4.xlsx", books["not_applicable"])
    put(inbox, "R-5.xlsx", books["invalid"])
    put(inbox, "壊れた.xlsx", b"PK\x03\x04broken")
    put(inbox, "県土整備部/~$R-1.xlsx", b"lock")
    put(inbox, "メモ.txt", b"memo")
    before = fingerprints(inbox)

    result = run(inbox, out, config)

    statuses = {path: e.status for path, e in entries_by_path(result).items()}
    assert statuses == {
        "県土整備部/R-1.xlsx": Status.OK,
        "警察本部/R-3.xlsx": Status.EXCLUDED,
        "農林水産部/R-4.xlsx": Status.NOT_APPLICABLE,
        "R-5.xlsx": Status.INVALID,
        "壊れた.xlsx": Status.UNREADABLE,
    }
    assert result.summary == {
        "skipped": 2,
        "unreadable": 1,
        "invalid": 1,
        "excluded": 1,
        "not_applicable": 1,
        "ok": 1,
    }
    assert result.has_failures and result.conflicts == 0
    assert [p.name for p in result.outputs][: len(OUTPUT_NAMES)] == OUTPUT_NAMES and all(
        p.is_file() for p in result.outputs
    )
    assert load_ledger(out).entries == result.ledger.entries
    assert fingerprints(inbox) == before  # inputs are never modified, moved or deleted
    archived = sorted(p.name for p in (out / "archive").rglob("*.xlsx"))
    assert len(archived) == 4  # every readable version, the unreadable one not


def test_the_ledger_workbook_has_one_sheet_per_kind_with_real_dates(inbox, out, books, config):
    put(inbox, "R-1.xlsx", books["complete"])
    put(inbox, "R-3.xlsx", books["excluded"])
    put(inbox, "R-4.xlsx", books["not_applicable"])
    put(inbox, "R-5.xlsx", books["invalid"])
    run(inbox, out, config)
    wb = load_workbook(out / "台帳.xlsx")
    assert wb.sheetnames == ["対象の記録", "除外", "非該当", "要修正・読取不可", "処理履歴"]
    records = wb["対象の記録"]
    header = [c.value for c in records[1]]
    assert header[:4] == ["状態", "段階", "除外事由", "整理番号"] and header[-1] == "ソースファイル"
    assert (
        records.freeze_panes == "A2"
        and records.auto_filter.ref == f"A1:{records.cell(1, len(header)).column_letter}3"
    )
    rows = {r[3]: dict(zip(header, r, strict=False)) for r in records.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"R-1", "R-5"}  # in scope: the valid record and the one to fix
    assert (
        rows["R-1"]["働きかけを受けた日"] == dt.datetime(2025, 6, 10)
        and rows["R-1"]["段階"] == "総務課へ共有済み"
    )
    assert records.cell(2, header.index("働きかけを受けた日") + 1).number_format == "yyyy/m/d"
    assert [r[2] for r in wb["除外"].iter_rows(min_row=2, values_only=True)] == [
        "不特定多数の者が内容を知り得る場"
    ]
    assert [r[3] for r in wb["非該当"].iter_rows(min_row=2, values_only=True)] == ["R-4"]
    errors = list(wb["要修正・読取不可"].iter_rows(min_row=2, values_only=True))
    assert [(e[0], e[6]) for e in errors] == [("R-5.xlsx", "place")]
    assert {r[1] for r in wb["処理履歴"].iter_rows(min_row=2, values_only=True)} == {"追加"}


def test_the_csv_opens_in_excel_and_follows_rfc_4180(inbox, out, books, config):
    put(inbox, "R-1.xlsx", books["complete"])
    run(inbox, out, config)
    data = (out / "台帳.csv").read_bytes()
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    text = data.decode("utf-8-sig")
    header, row = text.split("\r\n")[:2]
    assert header.startswith("状態,段階,除外事由,整理番号,機関,部局")
    assert "2025-06-10" in row and "14:30:00" in row and row.endswith(",R-1.xlsx")


# ---------------------------------------------------------------------------- records across files


def test_a_later_stage_supersedes_the_earlier_which_stays_only_in_the_history(inbox, out, books, config):
    put(inbox, "1_記録.xlsx", books["recorded"])
    put(inbox, "2_共有済.xlsx", books["complete"])
    result = run(inbox, out, config)
    assert list(entries_by_path(result)) == ["2_共有済.xlsx"]
    assert [f.code for f in result.ledger.entries[0].findings] == ["supersedes"]
    assert result.superseded == 1 and not result.has_failures
    events = {e.location: e.detail for e in result.events}
    assert events["1_記録.xlsx"].startswith("後の段階の版に置換")


def test_a_conflict_lists_both_files_with_an_error_and_chooses_neither(inbox, out, books, config):
    put(inbox, "a.xlsx", books["recorded"])
    put(inbox, "b.xlsx", books["conflict"])
    result = run(inbox, out, config)
    entries = entries_by_path(result)
    assert set(entries) == {"a.xlsx", "b.xlsx"}
    assert all(
        e.status is Status.INVALID and [f.code for f in e.findings] == ["record_id_conflict"]
        for e in entries.values()
    )
    assert "b.xlsx" in entries["a.xlsx"].findings[0].message
    assert result.conflicts == 1 and result.has_failures


def test_a_copied_file_is_one_record(inbox, out, books, config):
    put(inbox, "a.xlsx", books["complete"])
    put(inbox, "a - コピー.xlsx", books["complete"])
    result = run(inbox, out, config)
    assert len(result.ledger.entries) == 1 and result.duplicates == 1
    [note] = result.ledger.entries[0].findings
    assert note.code == "duplicate_file" and "a.xlsx" in note.message and "1件として扱います" in note.message
    assert next(e.detail for e in result.events if e.location == "a.xlsx").startswith("重複")


# ---------------------------------------------------------------------------- across runs: nothing lost


def test_a_file_deleted_from_the_inbox_stays_in_the_ledger_from_the_archive(inbox, out, books, config):
    path = put(inbox, "県土整備部/R-1.xlsx", books["complete"])
    put(inbox, "R-2.xlsx", books["other"])
    run(inbox, out, config)
    path.unlink()

    result = run(inbox, out, config)
    entry = entries_by_path(result)["県土整備部/R-1.xlsx"]
    assert entry.source_missing and entry.status is Status.OK and entry.values["record_id"] == "R-1"
    assert [f.code for f in entry.findings] == ["source_missing"]
    assert (
        "原本がフォルダにありません" in entry.findings[0].message
        and "県土整備部/R-1.xlsx" in entry.findings[0].message
    )
    assert result.source_missing == 1 and "原本なし 1件" in result.summary_text()
    assert [(e.event, e.record_id) for e in result.events] == [("原本なし", "R-1")]
    assert load_ledger(out).entries[1].source_missing  # the publisher sees it too

    path.write_bytes(books["complete"])  # put back
    result = run(inbox, out, config)
    assert not any(e.source_missing for e in result.ledger.entries)
    assert [e.event for e in result.events] == ["原本の復帰"]


def test_a_superseded_version_never_comes_back_as_missing(inbox, out, books, config):
    earlier = put(inbox, "1_記録.xlsx", books["recorded"])
    later = put(inbox, "2_共有済.xlsx", books["complete"])
    run(inbox, out, config)
    earlier.unlink()
    assert list(entries_by_path(run(inbox, out, config))) == ["2_共有済.xlsx"]
    later.unlink()
    result = run(inbox, out, config)
    assert [(e.path, e.source_missing, e.stage) for e in result.ledger.entries] == [
        ("2_共有済.xlsx", True, "共有済")
    ]


def test_a_later_stage_in_the_inbox_replaces_an_archived_version(inbox, out, books, config):
    earlier = put(inbox, "1_記録.xlsx", books["recorded"])
    run(inbox, out, config)
    earlier.unlink()
    put(inbox, "2_共有済.xlsx", books["complete"])
    result = run(inbox, out, config)
    assert [(e.path, e.source_missing) for e in result.ledger.entries] == [("2_共有済.xlsx", False)]


def test_an_archived_later_stage_outranks_an_earlier_copy_left_in_the_inbox(inbox, out, books, config):
    later = put(inbox, "2_共有済.xlsx", books["complete"])
    run(inbox, out, config)
    later.unlink()
    put(inbox, "1_記録.xlsx", books["recorded"])
    result = run(inbox, out, config)
    assert [(e.path, e.source_missing, e.stage) for e in result.ledger.entries] == [
        ("2_共有済.xlsx", True, "共有済")
    ]
    assert result.superseded == 1


def test_a_file_saved_again_at_its_place_is_the_new_version(inbox, out, books, config):
    path = put(inbox, "R-1.xlsx", books["recorded"])
    run(inbox, out, config)
    path.write_bytes(books["conflict"])  # corrected facts, same record id, same place
    result = run(inbox, out, config)
    assert [(e.path, e.source_missing, e.status) for e in result.ledger.entries] == [
        ("R-1.xlsx", False, Status.OK)
    ]
    assert result.ledger.entries[0].values["received_date"] == dt.date(2025, 6, 9)
    assert [e.event for e in result.events] == ["変更"]


def test_a_moved_file_keeps_its_record_without_being_parsed_again(inbox, out, books, config):
    path = put(inbox, "R-1.xlsx", books["complete"])
    run(inbox, out, config)
    (inbox / "県土整備部").mkdir()
    path.rename(inbox / "県土整備部" / "R-1.xlsx")
    result = run(inbox, out, config)
    assert [(e.path, e.source_missing) for e in result.ledger.entries] == [("県土整備部/R-1.xlsx", False)]
    assert result.parsed == 0
    assert [(e.event, e.location) for e in result.events] == [("移動", "県土整備部/R-1.xlsx")]


def test_each_row_of_a_list_workbook_is_a_record_kept_like_any_other(inbox, out, config):
    from ledger_tools.form.list_template import build_list_template

    rows = [
        complete_values(record_id="L-1"),
        recorded_values(
            record_id="L-2", received_date=dt.date(2025, 7, 1), reported_date=dt.date(2025, 7, 2)
        ),
    ]
    path = put(inbox, "一覧.xlsx", workbook_bytes(build_list_template(config, rows)))
    first = run(inbox, out, config)
    assert sorted((e.record_id, e.status) for e in first.ledger.entries) == [
        ("L-1", Status.OK),
        ("L-2", Status.OK),
    ]
    path.unlink()
    result = run(inbox, out, config)
    assert sorted((e.record_id, e.source_missing) for e in result.ledger.entries) == [
        ("L-1", True),
        ("L-2", True),
    ]
    assert all(
        "一覧.xlsx " in e.findings[-1].message and "行目" in e.findings[-1].message
        for e in result.ledger.entries
    )


# ---------------------------------------------------------------------------- re-runs


def test_a_rerun_parses_nothing_and_gives_byte_identical_outputs(inbox, out, books, config, tmp_path):
    put(inbox, "R-1.xlsx", books["complete"])
    put(inbox, "R-5.xlsx", books["invalid"])
    first = run(inbox, out, config)
    written = outputs_bytes(out)
    assert first.parsed == 2

    again = run(inbox, out, config)
    assert (again.parsed, again.events, again.files_read) == (0, [], 2)
    assert outputs_bytes(out) == written
    assert (again.summary, again.has_failures, again.entries) == (
        first.summary,
        first.has_failures,
        first.entries,
    )
    assert again.ledger.entries == first.ledger.entries  # read back from ledger.json on demand
    assert "変更: なし" in again.summary_text()

    elsewhere = run(inbox, tmp_path / "別の集計", config)  # nothing hidden in the outputs: a fresh DIR agrees
    assert outputs_bytes(tmp_path / "別の集計") == written and elsewhere.parsed == 2


def test_after_one_file_changed_only_that_file_is_read_again(inbox, out, books, config):
    changed = put(inbox, "R-1.xlsx", books["recorded"])
    put(inbox, "R-3.xlsx", books["excluded"])
    put(inbox, "R-4.xlsx", books["not_applicable"])
    run(inbox, out, config)
    changed.write_bytes(books["complete"])
    result = run(inbox, out, config)
    assert result.parsed == 1 and result.entries == 3
    assert [(e.event, e.location) for e in result.events] == [("変更", "R-1.xlsx")]


def test_a_file_saved_with_another_record_replaces_the_first_which_stays_in_the_archive(
    inbox, out, books, config
):
    path = put(inbox, "記録.xlsx", books["complete"])
    run(inbox, out, config)
    path.write_bytes(books["excluded"])  # R-3 saved over R-1's file: the user's correction
    result = run(inbox, out, config)
    assert [(e.record_id, e.source_missing) for e in result.ledger.entries] == [("R-3", False)]
    assert [(e.event, e.record_id) for e in result.events] == [("置換", "R-1"), ("追加", "R-3")]
    assert (
        "別の記録（整理番号 R-3）で上書き保存" in result.events[0].detail
        and "保管庫に残っています" in result.events[0].detail
    )
    assert len(list((out / "archive").rglob("*.xlsx"))) == 2  # both versions kept


def test_an_output_edited_by_hand_is_written_again(inbox, out, books, config):
    put(inbox, "R-1.xlsx", books["complete"])
    run(inbox, out, config)
    written = outputs_bytes(out)
    (out / "台帳.csv").write_text("edited", encoding="utf-8")
    run(inbox, out, config)
    assert outputs_bytes(out) == written


# ---------------------------------------------------------------------------- faults


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def test_a_file_still_being_copied_is_read_again_after_a_pause(inbox, out, books, config, monkeypatch):
    path = put(inbox, "R-1.xlsx", truncated(books["complete"]))
    pauses = []

    def copy_finishes(seconds):
        pauses.append(seconds)
        path.write_bytes(books["complete"])

    monkeypatch.setattr(aggregation, "pause", copy_finishes)
    result = run(inbox, out, config, retry_delay=0.25)
    assert pauses == [0.25]
    assert [(e.status, e.values.get("record_id")) for e in result.ledger.entries] == [(Status.OK, "R-1")]


def test_a_file_still_cut_short_after_the_pause_is_unreadable_never_half_read(inbox, out, books, config):
    put(inbox, "R-1.xlsx", truncated(books["complete"]))
    result = run(inbox, out, config)
    [entry] = result.ledger.entries
    assert entry.status is Status.UNREADABLE and entry.values == {}
    assert "コピー中の可能性" in entry.findings[0].message
    assert not list((out / "archive").rglob("*.xlsx"))


def test_a_file_that_grows_while_read_is_never_taken_as_read(inbox, out, books, config, monkeypatch):
    path = put(inbox, "R-1.xlsx", books["complete"])
    real_open = reading._open_fd

    def open_while_copying(file, flags):  # another program appends while we read
        handle = real_open(file, flags)
        with open(file, "ab") as writer:
            writer.write(b"\0")
        return handle

    assert intake.read_snapshot(path) is not None
    monkeypatch.setattr(reading, "_open_fd", open_while_copying)
    assert intake.read_snapshot(path) is None
    result = run(inbox, out, config)
    [entry] = result.ledger.entries
    assert entry.status is Status.UNREADABLE
    assert (
        "コピー中の可能性" in entry.findings[0].message
        and intake.CHANGED_WHILE_READ in entry.findings[0].message
    )


def test_a_second_run_on_the_same_dir_waits_then_refuses(inbox, out, books, config):
    put(inbox, "R-1.xlsx", books["complete"])
    out.mkdir()
    with (
        FileLock(str(out / ".lock")),
        pytest.raises(AggregationLocked, match="別の集計又は公表が同じフォルダ"),
    ):
        run(inbox, out, config, lock_wait=0.2)
    assert not (out / "ledger.json").exists()
    assert run(inbox, out, config).entries == 1  # once the other run is over


KILLED_RUN = """
import os, sys
from pathlib import Path
out = Path(sys.argv[1]).resolve()
real_replace = os.replace
def die_at_first_output(src, dst):
    if Path(dst).resolve().parent == out:  # an output of DIR (not an archive copy)
        os._exit(137)  # killed: no clean-up, no finally
    return real_replace(src, dst)
os.replace = die_at_first_output
from ledger_tools.cli import main
sys.exit(main(["aggregate", sys.argv[2], "--out", sys.argv[1], "--as-of", sys.argv[3]]))
"""


def test_a_run_killed_while_writing_leaves_the_previous_outputs_intact(inbox, out, books, config):
    put(inbox, "R-1.xlsx", books["complete"])
    run(inbox, out, config)
    previous = outputs_bytes(out)
    put(inbox, "R-2.xlsx", books["other"])

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(out), str(inbox), AS_OF.isoformat()],
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == 137
    assert outputs_bytes(out) == previous
    leftovers = [
        p.name
        for p in out.iterdir()
        if p.name not in OUTPUT_NAMES and p.name not in ("archive", "manifest.sqlite", ".lock", "主管課別")
    ]
    assert leftovers == [".staging"]  # the new set, staged with its journal: the next command completes it

    result = run(inbox, out, config)
    assert result.entries == 2 and outputs_bytes(out) != previous
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*OUTPUT_NAMES, "archive", "manifest.sqlite", "主管課別"]
    )


def test_an_output_open_in_another_program_stops_the_run_with_a_message(
    inbox, out, books, config, monkeypatch
):
    put(inbox, "R-1.xlsx", books["complete"])
    run(inbox, out, config)
    previous = outputs_bytes(out)
    put(inbox, "R-2.xlsx", books["other"])

    real_replace = os.replace

    def refuse(src, dst):  # as Windows does while Excel has the file open
        if Path(dst).parent == out:
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputInUse, match="閉じてから"):
        run(inbox, out, config)
    monkeypatch.undo()
    assert outputs_bytes(out) == previous and not list(out.glob(".*.tmp"))
    assert run(inbox, out, config).entries == 2  # nothing was recorded as done


def test_an_archive_that_cannot_be_written_stops_the_run_with_a_message(
    inbox, out, books, config, monkeypatch
):
    put(inbox, "R-1.xlsx", books["complete"])

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(intake, "keep_copy", disk_full)
    with pytest.raises(ArchiveUnwritable, match="保管庫"):
        run(inbox, out, config)
    assert not (out / "ledger.json").exists()


def formula_workbook(values: dict) -> bytes:
    """A form whose text cells hold what a user typed, even text starting with '='."""
    wb = filled_workbook(values)
    for field_id, value in values.items():
        if isinstance(value, str) and value.startswith(("=", "＝")):
            for sheet, ref in wb.defined_names[field_id].destinations:
                wb[sheet][ref.replace("$", "")].data_type = "s"
    return workbook_bytes(wb)


def test_text_users_typed_never_runs_as_a_formula(inbox, out, config):
    typed = {
        "place": '=HYPERLINK("http://example.com","x")',
        "business_name": "+SUM(1,2)",
        "request_content": "-1+2",
        "response_detail": "@SUM(A1)",
        "staff_title": "＝1+1",
    }
    put(inbox, "=cmd.xlsx", formula_workbook(recorded_values(**typed)))
    result = run(inbox, out, config)
    [entry] = result.ledger.entries
    assert entry.status is Status.OK, entry.findings
    csv_text = (out / "台帳.csv").read_text(encoding="utf-8-sig")
    for text in (
        '\'=HYPERLINK(""http://example.com"",""x"")',
        "'+SUM(1,2)",
        "'-1+2",
        "'@SUM(A1)",
        "'=1+1",
        "'=cmd.xlsx",
    ):
        assert text in csv_text
    sheet = load_workbook(out / "台帳.xlsx")["対象の記録"]
    cells = {c.value: c for c in sheet[2] if isinstance(c.value, str)}
    for text in (
        '=HYPERLINK("http://example.com","x")',
        "+SUM(1,2)",
        "-1+2",
        "@SUM(A1)",
        "=1+1",
        "=cmd.xlsx",
    ):
        assert cells[text].data_type == "s"
    with zipfile.ZipFile(out / "台帳.xlsx") as zf:
        assert not any(b"<f>" in zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_a_damaged_manifest_is_a_message_not_a_traceback(inbox, out, books, config):
    put(inbox, "R-1.xlsx", books["complete"])
    out.mkdir()
    (out / "manifest.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(AggregationError, match="処理記録"):
        run(inbox, out, config)


def test_a_lost_manifest_is_rebuilt_from_the_ledger_and_the_archive(inbox, out, books, config):
    path = put(inbox, "R-1.xlsx", books["complete"])
    put(inbox, "R-2.xlsx", books["other"])
    run(inbox, out, config)
    path.unlink()
    (out / "manifest.sqlite").rename(out / "manifest.sqlite.old")
    result = run(inbox, out, config)
    assert sorted((e.record_id, e.source_missing) for e in result.ledger.entries) == [
        ("R-1", True),
        ("R-2", False),
    ]


def test_folders_that_make_no_sense_are_refused(inbox, tmp_path, config):
    with pytest.raises(FoldersOverlap):
        run(inbox, inbox / "集計", config)
    with pytest.raises(FoldersOverlap):
        run(inbox, inbox, config)
    with pytest.raises(InboxNotFound):
        run(tmp_path / "ない", tmp_path / "集計", config)
    assert not (inbox / "集計").exists()


# ---------------------------------------------------------------------------- on all cores, with progress


def test_worker_processes_give_the_same_ledger(inbox, tmp_path, books, config, monkeypatch):
    for i, key in enumerate(("complete", "other", "excluded", "not_applicable", "invalid")):
        put(inbox, f"{i}.xlsx", books[key])
    monkeypatch.setattr(intake, "PARALLEL_MIN_FILES", 2)
    alone = run(inbox, tmp_path / "1", config, workers=1)
    pooled = run(inbox, tmp_path / "2", config, workers=2)
    assert (tmp_path / "1" / "ledger.json").read_bytes() == (tmp_path / "2" / "ledger.json").read_bytes()
    assert pooled.parsed == alone.parsed == 5


def test_workers_also_start_with_spawn_as_on_windows(inbox, tmp_path, books, config, monkeypatch):
    import multiprocessing

    from ledger_tools.check.rules import RuleContext

    monkeypatch.setattr(intake, "PARALLEL_MIN_FILES", 2)
    items = [(put(inbox, f"{key}.xlsx", books[key]), f"{key}.xlsx") for key in ("complete", "invalid")]
    progress = intake.Progress(len(items), "test", enabled=False)
    found = list(
        intake.examine_all(
            items * 2,
            RuleContext(config, AS_OF),
            tmp_path / "archive",
            frozenset(),
            2,
            progress,
            mp_context=multiprocessing.get_context("spawn"),
        )
    )
    assert [f.reports[0].status for f in found] == [Status.OK, Status.INVALID] * 2
    assert len(list((tmp_path / "archive").rglob("*.xlsx"))) == 2  # the workers kept the copies


def test_progress_is_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = intake.Progress(200, "ファイルの確認", stream=stream)
    for _ in range(200):
        progress.advance()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1] == "ファイルの確認: 200/200件"
    quiet = io.StringIO()
    intake.Progress(5, "x", stream=quiet).advance(5)  # a handful of files: no noise
    assert quiet.getvalue() == ""


def test_the_manifest_keeps_every_accepted_version(inbox, out, books, config):
    import sqlite3

    path = put(inbox, "R-1.xlsx", books["recorded"])
    run(inbox, out, config)
    path.write_bytes(books["complete"])
    run(inbox, out, config)
    with sqlite3.connect(out / "manifest.sqlite") as db:
        rows = db.execute(
            "SELECT path, record_id, status, stage, size, run_id, time FROM manifest_with_time ORDER BY run_id"
        ).fetchall()
        runs = db.execute("SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0]
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows] == [
        ("R-1.xlsx", "R-1", "ok", "記録", 1),
        ("R-1.xlsx", "R-1", "ok", "共有済", 2),
    ]
    assert all(r[4] > 0 and r[6] for r in rows) and runs == 2
    assert len(list((out / "archive").rglob("*.xlsx"))) == 2


# ---------------------------------------------------------------------------- corrections by the user


def list_bytes(config, rows: list[dict]) -> bytes:
    from ledger_tools.form.list_template import build_list_template

    return workbook_bytes(build_list_template(config, rows))


def list_rows(count: int) -> list[dict]:
    return [
        recorded_values(
            record_id=f"L-{i}", received_date=dt.date(2025, 7, i), reported_date=dt.date(2025, 7, i + 1)
        )
        for i in range(1, count + 1)
    ]


def test_renumbering_one_side_of_a_conflict_in_place_resolves_it_without_a_ghost(inbox, out, books, config):
    other_facts = {"received_date": dt.date(2025, 7, 1), "reported_date": dt.date(2025, 7, 2)}
    put(inbox, "A.xlsx", books["recorded"])
    b = put(inbox, "B.xlsx", filled_workbook_bytes(recorded_values(record_id="R-1", **other_facts)))
    assert run(inbox, out, config).conflicts == 1
    b.write_bytes(
        filled_workbook_bytes(recorded_values(record_id="R-9", **other_facts))
    )  # B's id corrected in place

    result = run(inbox, out, config)
    assert sorted((e.path, e.record_id, e.status, e.source_missing) for e in result.ledger.entries) == [
        ("A.xlsx", "R-1", Status.OK, False),
        ("B.xlsx", "R-9", Status.OK, False),
    ]
    assert (result.conflicts, result.has_failures, result.source_missing) == (0, False, 0)
    assert [(e.event, e.record_id, e.location) for e in result.events] == [
        ("状態の変更", "R-1", "A.xlsx"),
        ("置換", "R-1", "B.xlsx"),
        ("追加", "R-9", "B.xlsx"),
    ]


def test_a_row_deleted_from_a_list_leaves_the_ledger_and_only_that_row_is_in_the_history(inbox, out, config):
    rows = list_rows(4)
    path = put(inbox, "一覧.xlsx", list_bytes(config, rows))
    run(inbox, out, config)
    path.write_bytes(
        list_bytes(config, [rows[0], rows[2], rows[3]])
    )  # L-2 deleted: L-3 and L-4 move up a row

    result = run(inbox, out, config)
    assert [(e.record_id, e.row, e.source_missing) for e in result.ledger.entries] == [
        ("L-1", 4, False),
        ("L-3", 5, False),
        ("L-4", 6, False),
    ]
    assert [(e.event, e.record_id, e.location) for e in result.events] == [
        ("行の削除", "L-2", "一覧.xlsx 5行目")
    ]
    assert "保管庫に残っています" in result.events[0].detail and not result.has_failures


def test_a_row_of_a_list_renumbered_in_place_replaces_the_old_record(inbox, out, config):
    rows = list_rows(2)
    path = put(inbox, "一覧.xlsx", list_bytes(config, rows))
    run(inbox, out, config)
    path.write_bytes(list_bytes(config, [rows[0], {**rows[1], "record_id": "L-9"}]))
    result = run(inbox, out, config)
    assert [(e.record_id, e.source_missing) for e in result.ledger.entries] == [
        ("L-1", False),
        ("L-9", False),
    ]
    assert [(e.event, e.record_id, e.location) for e in result.events] == [
        ("置換", "L-2", "一覧.xlsx 5行目"),
        ("追加", "L-9", "一覧.xlsx 5行目"),
    ]
    assert "別の記録（整理番号 L-9）に書き換えられました" in result.events[0].detail


def test_saving_a_list_again_logs_only_the_rows_that_changed(inbox, out, config):
    rows = list_rows(5)
    path = put(inbox, "一覧.xlsx", list_bytes(config, rows))
    assert len(run(inbox, out, config).events) == 5
    rows[3] = {**rows[3], "place": "第二会議室"}
    path.write_bytes(list_bytes(config, rows))
    result = run(inbox, out, config)
    assert [(e.event, e.record_id, e.location) for e in result.events] == [("変更", "L-4", "一覧.xlsx 7行目")]
    assert result.history_total == 6


def test_another_record_reusing_a_deleted_records_id_is_a_conflict_not_a_replacement(
    inbox, out, books, config
):
    a = put(inbox, "a.xlsx", books["complete"])
    run(inbox, out, config)
    a.unlink()
    put(
        inbox,
        "b.xlsx",
        filled_workbook_bytes(
            complete_values(
                record_id="R-1",
                received_date=dt.date(2025, 6, 9),
                requester_name="別人 花子",
                section="別の課",
            )
        ),
    )

    result = run(inbox, out, config)
    entries = entries_by_path(result)
    assert set(entries) == {"a.xlsx", "b.xlsx"}
    assert entries["a.xlsx"].source_missing and entries["a.xlsx"].values["requester_name"] == "山田 太郎"
    assert all(
        "record_id_conflict" in {f.code for f in e.findings} and e.status is Status.INVALID
        for e in entries.values()
    )
    assert result.conflicts == 1 and result.has_failures


def test_a_new_version_of_the_same_record_elsewhere_still_replaces_the_deleted_one(inbox, out, books, config):
    a = put(inbox, "a.xlsx", books["recorded"])
    run(inbox, out, config)
    a.unlink()
    put(
        inbox, "b.xlsx", filled_workbook_bytes(recorded_values(record_id="R-1", place="別の場所"))
    )  # same record, corrected
    result = run(inbox, out, config)
    assert [(e.path, e.source_missing, e.status) for e in result.ledger.entries] == [
        ("b.xlsx", False, Status.OK)
    ]


def test_a_record_in_a_file_with_another_suffix_survives_its_deletion(inbox, out, books, config):
    path = put(inbox, "R-1.xls", books["complete"])  # an .xlsx saved under an .xls name
    assert [e.status for e in run(inbox, out, config).ledger.entries] == [Status.OK]
    path.unlink()
    edited = dataclasses.replace(config, deadlines=dataclasses.replace(config.deadlines, judgement_days=20))
    result = run(inbox, out, edited)  # another configuration: the record is read again from its archived copy
    assert [(e.path, e.record_id, e.status, e.source_missing) for e in result.ledger.entries] == [
        ("R-1.xls", "R-1", Status.OK, True)
    ]


def test_a_file_being_overwritten_keeps_its_previous_version_flagged_not_missing(
    inbox, out, books, config, monkeypatch
):
    path = put(inbox, "R-1.xlsx", books["recorded"])
    run(inbox, out, config)
    path.write_bytes(truncated(books["conflict"]))  # the new version is still being copied
    monkeypatch.setattr(aggregation, "pause", lambda seconds: None)

    result = run(inbox, out, config)
    [entry] = result.ledger.entries
    assert (entry.path, entry.record_id, entry.source_missing, entry.status) == (
        "R-1.xlsx",
        "R-1",
        False,
        Status.INVALID,
    )
    assert entry.values["received_date"] == dt.date(2025, 6, 10)  # the previous version
    assert [f.code for f in entry.findings] == ["unreadable_corrupt", "previous_version_kept"]
    assert (result.source_missing, result.unreadable_kept, result.entries) == (0, 1, 1)
    assert "前回読み取った版" in result.summary_text()
    assert [e.event for e in result.events] == ["読み取り不可"]

    path.write_bytes(books["conflict"])  # the copy finished
    result = run(inbox, out, config)
    assert [(e.status, e.values["received_date"]) for e in result.ledger.entries] == [
        (Status.OK, dt.date(2025, 6, 9))
    ]
    assert [e.event for e in result.events] == ["変更"]


# ---------------------------------------------------------------------------- what is read again, and when


def test_a_file_damaged_for_good_is_not_read_again_nor_waited_for_on_the_next_run(
    inbox, out, config, monkeypatch
):
    put(inbox, "壊れた.xlsx", b"PK\x03\x04broken")
    pauses = []
    monkeypatch.setattr(aggregation, "pause", pauses.append)
    first = run(inbox, out, config)
    assert [e.status for e in first.ledger.entries] == [Status.UNREADABLE] and len(pauses) == 1
    again = run(inbox, out, config)
    assert (again.parsed, len(pauses), again.has_failures) == (0, 1, True)


def test_another_reference_date_parses_nothing_again_and_the_same_one_gives_the_same_bytes(
    inbox, out, books, config
):
    put(inbox, "R-1.xlsx", books["complete"])  # shared with 総務課 on 2025-06-25
    early, late = dt.date(2025, 6, 20), dt.date(2025, 6, 30)

    first = aggregate(inbox, out, config, early, progress=False, workers=1)
    assert first.parsed == 1 and [f.code for f in first.ledger.entries[0].findings] == ["date_in_future"]
    written = outputs_bytes_for(out, "2025-06")

    later = aggregate(inbox, out, config, late, progress=False, workers=1)
    assert later.parsed == 0 and later.ledger.entries[0].status is Status.OK and not later.has_failures
    assert later.events[0].event == "状態の変更"

    back = aggregate(inbox, out, config, early, progress=False, workers=1)
    assert back.parsed == 0 and back.ledger.entries[0].status is Status.INVALID
    now = outputs_bytes_for(out, "2025-06")
    assert {k: v for k, v in now.items() if k != "台帳.xlsx"} == {
        k: v for k, v in written.items() if k != "台帳.xlsx"
    }  # the history grew
    again = aggregate(inbox, out, config, early, progress=False, workers=1)  # the unchanged-run shortcut
    assert again.events == [] and again.has_failures and outputs_bytes_for(out, "2025-06") == now


def outputs_bytes_for(out: Path, month: str) -> dict[str, bytes]:
    names = ["ledger.json", "台帳.xlsx", "台帳.csv", f"月次状況_{month}.xlsx", f"月次状況_{month}.html"]
    return {name: (out / name).read_bytes() for name in names}


def test_the_history_sheet_shows_the_latest_events_and_says_where_the_rest_is(
    inbox, out, config, monkeypatch
):
    from ledger_tools.ledger import workbook as ledger_book

    monkeypatch.setattr(ledger_book, "HISTORY_SHEET_LIMIT", 3)
    monkeypatch.setattr(aggregation, "HISTORY_SHEET_LIMIT", 3)
    path = put(inbox, "一覧.xlsx", list_bytes(config, list_rows(2)))
    assert "処理履歴: " not in run(inbox, out, config).summary_text()  # 2 events: all on the sheet
    path.unlink()
    result = run(inbox, out, config)
    history = list(load_workbook(out / "台帳.xlsx")["処理履歴"].iter_rows(min_row=2, values_only=True))
    assert [(row[1], row[2]) for row in history] == [
        ("追加", "L-2"),
        ("原本なし", "L-1"),
        ("原本なし", "L-2"),
    ]
    assert (
        "処理履歴: 全4件のうち最新の3件を 台帳.xlsx に載せています（全件は manifest.sqlite の history 表）"
        in result.summary_text()
    )


def test_a_manifest_of_the_previous_version_is_upgraded_in_place(inbox, out, books, config):
    import sqlite3

    path = put(inbox, "R-1.xlsx", books["complete"])
    run(inbox, out, config)
    with sqlite3.connect(out / "manifest.sqlite") as db:  # as version 1 left it
        db.execute("ALTER TABLE record_state DROP COLUMN content")
        db.execute("DROP TABLE retired")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    path.unlink()
    result = run(inbox, out, config)
    assert [(e.record_id, e.source_missing) for e in result.ledger.entries] == [("R-1", True)]
    assert [e.event for e in result.events] == ["原本なし"]


# ---------------------------------------------------------------------------- Windows


def test_no_more_than_61_worker_processes_on_windows(tmp_path, books, config, monkeypatch):
    from ledger_tools.check.rules import RuleContext

    started = []

    def windows_pool(func, items, on_failure, budget, workers, initializer, initargs, **kwargs):
        if workers > 61:  # Windows cannot wait on more processes
            raise ValueError("max_workers must be <= 61")
        started.append(workers)
        initializer(*initargs)
        return map(func, items)

    monkeypatch.setattr(intake.sys, "platform", "win32")
    monkeypatch.setattr(intake, "run_isolated", windows_pool)
    monkeypatch.setattr(intake, "PARALLEL_MIN_FILES", 2)
    items = [(put(tmp_path / "提出", f"{i}.xlsx", books["complete"]), f"{i}.xlsx") for i in range(2)]
    progress = intake.Progress(len(items), "test", enabled=False)
    found = list(
        intake.examine_all(items, RuleContext(config, None), tmp_path / "archive", frozenset(), 64, progress)
    )
    assert started == [61] and [f.reports[0].status for f in found] == [Status.OK, Status.OK]


def test_a_stray_copy_does_not_take_over_the_record_the_ledger_held(inbox, out, books, config):
    put(inbox, "知事部局/R-1.xlsx", books["recorded"])
    run(inbox, out, config)
    put(inbox, "another/copy_of_R-1.xlsx", books["recorded"])  # sorts before 知事部局
    result = run(inbox, out, config)
    assert [e.path for e in result.ledger.entries] == ["知事部局/R-1.xlsx"]
    assert result.duplicates == 1
