"""`ledger-tools forget`: retiring, with a logged reason, a record whose file is gone for good."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import AS_OF
from filelock import FileLock
from openpyxl import load_workbook

from ledger_tools.check.findings import Status
from ledger_tools.cli import main
from ledger_tools.form.samples import complete_values, filled_workbook_bytes, recorded_values
from ledger_tools.ledger.aggregation import AggregationLocked, ForgetRefused, aggregate, forget


@pytest.fixture(scope="module")
def books() -> dict[str, bytes]:
    return {
        "recorded": filled_workbook_bytes(recorded_values(record_id="R-1")),
        "other_facts": filled_workbook_bytes(
            complete_values(
                record_id="R-1",
                received_date=dt.date(2025, 6, 9),
                requester_name="別人 花子",
                section="別の課",
            )
        ),
        "invalid": filled_workbook_bytes(recorded_values(record_id="R-5", place=None)),
    }


def run(inbox: Path, out: Path, config):
    return aggregate(
        inbox, out, config, AS_OF, progress=False, workers=1, retry_delay=0.01, allow_missing=True
    )


def test_deleting_the_wrong_side_of_a_conflict_then_forgetting_it_resolves_the_conflict(
    inbox, out, books, config
):
    (inbox / "A.xlsx").write_bytes(books["recorded"])
    b = inbox / "B.xlsx"
    b.write_bytes(books["other_facts"])
    assert run(inbox, out, config).conflicts == 1
    b.unlink()
    ghost = run(inbox, out, config)  # B's file is gone, its record is not: still a conflict, B shown 原本なし
    assert ghost.conflicts == 1 and {e.path: e.source_missing for e in ghost.ledger.entries} == {
        "A.xlsx": False,
        "B.xlsx": True,
    }

    assert forget(out, "R-1", "誤った内容で提出されたファイル（正しいのは A.xlsx）") == ["B.xlsx"]
    result = run(inbox, out, config)
    assert [(e.path, e.status) for e in result.ledger.entries] == [("A.xlsx", Status.OK)]
    assert (result.conflicts, result.has_failures, result.source_missing) == (0, False, 0)
    assert [(e.event, e.record_id, e.location) for e in result.events if e.event == "取消"] == [
        ("取消", "R-1", "B.xlsx")
    ]
    history = list(load_workbook(out / "台帳.xlsx")["処理履歴"].iter_rows(min_row=2, values_only=True))
    assert any(row[1] == "取消" and "正しいのは A.xlsx" in row[4] for row in history)

    (inbox / "A.xlsx").unlink()  # retired versions never come back, the others still do
    later = run(inbox, out, config)
    assert [(e.path, e.source_missing) for e in later.ledger.entries] == [("A.xlsx", True)]


def test_a_deleted_invalid_file_stops_failing_the_run_once_forgotten(inbox, out, books, config):
    (inbox / "試験.xlsx").write_bytes(books["invalid"])
    run(inbox, out, config)
    (inbox / "試験.xlsx").unlink()
    assert run(inbox, out, config).has_failures  # kept from the archive: still to fix
    forget(out, "R-5", "試験用のファイル")
    result = run(inbox, out, config)
    assert (result.entries, result.has_failures) == (0, False)
    assert not (out / "ledger.json").read_text(encoding="utf-8").count('"R-5"')  # publish no longer sees it


def test_a_record_whose_file_is_still_in_the_inbox_cannot_be_forgotten(inbox, out, books, config):
    (inbox / "A.xlsx").write_bytes(books["recorded"])
    run(inbox, out, config)
    with pytest.raises(ForgetRefused, match=r"提出フォルダにあります（A\.xlsx）"):
        forget(out, "R-1", "不要")
    with pytest.raises(ForgetRefused, match="原本なしの記録は、前回の集計の台帳にありません"):
        forget(out, "R-404", "不要")
    with pytest.raises(ForgetRefused, match="理由"):
        forget(out, "R-1", "  ")
    assert run(inbox, out, config).entries == 1


def test_path_picks_one_of_several_places_and_the_row_of_a_list(inbox, out, books, config):
    from ledger_tools.form.list_template import build_list_template
    from ledger_tools.outputs import workbook_bytes

    (inbox / "A.xlsx").write_bytes(books["recorded"])
    (inbox / "B.xlsx").write_bytes(books["other_facts"])
    rows = [
        recorded_values(record_id="L-1"),
        recorded_values(
            record_id="L-1", received_date=dt.date(2025, 7, 1), reported_date=dt.date(2025, 7, 2)
        ),
    ]
    (inbox / "一覧.xlsx").write_bytes(workbook_bytes(build_list_template(config, rows)))
    run(inbox, out, config)
    for name in ("A.xlsx", "B.xlsx", "一覧.xlsx"):
        (inbox / name).unlink()
    run(inbox, out, config)

    assert forget(out, "Ｒ-1 ", "重複", path="B.xlsx") == ["B.xlsx"]  # typed with a full-width letter
    assert forget(out, "L-1", "重複", path="一覧.xlsx 5行目") == ["一覧.xlsx 5行目"]
    result = run(inbox, out, config)
    assert sorted((e.location, e.source_missing) for e in result.ledger.entries) == [
        ("A.xlsx", True),
        ("一覧.xlsx 4行目", True),
    ]
    assert result.conflicts == 0


def test_forget_waits_for_a_running_aggregation(inbox, out, books, config):
    (inbox / "A.xlsx").write_bytes(books["recorded"])
    run(inbox, out, config)
    with FileLock(str(out / ".lock")), pytest.raises(AggregationLocked):
        forget(out, "R-1", "理由", lock_wait=0.1)


def test_the_forget_command_says_what_it_retired_and_refuses_with_exit_code_2(
    inbox, out, books, config, capsys
):
    (inbox / "B.xlsx").write_bytes(books["other_facts"])
    run(inbox, out, config)
    args = ["forget", str(out), "R-1", "--reason", "誤って提出された"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "提出フォルダにあります" in err

    (inbox / "B.xlsx").unlink()
    run(inbox, out, config)
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert (
        "整理番号「R-1」の原本なしの記録を1件取り消しました（理由: 誤って提出された）" in printed
        and "  B.xlsx" in printed
    )
    assert "次に aggregate を実行すると" in printed
    assert main(args) == 2 and "取り消し済み" in capsys.readouterr().err  # already retired
    assert main(["forget", str(out.parent / "ない"), "R-1", "--reason", "x"]) == 2
    assert "manifest.sqlite" in capsys.readouterr().err
