"""A write that fails (disk full, a file open in Excel, no permission) stops aggregate, forget and
publish with exit code 2 and a Japanese message naming the file and the cause; never a traceback."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import AS_OF

from ledger_tools.cli import main
from ledger_tools.form.samples import complete_values, filled_workbook_bytes
from ledger_tools.ledger import archive, intake
from ledger_tools.publish import publication

OUTPUTS = ("ledger.json", "台帳.xlsx", "台帳.csv", "月次状況_2026-11.xlsx", "月次状況_2026-11.html")


@pytest.fixture(scope="module")
def books():
    return [filled_workbook_bytes(complete_values(record_id=f"R-{n}")) for n in (1, 2)]


@pytest.fixture
def aggregated(tmp_path, books, capsys):
    """An inbox aggregated once, then a second file put in: the next run has outputs to replace."""
    inbox, out = tmp_path / "提出", tmp_path / "集計"
    inbox.mkdir()
    (inbox / "R-1.xlsx").write_bytes(books[0])
    assert aggregate(inbox, out) == 0
    (inbox / "R-2.xlsx").write_bytes(books[1])
    capsys.readouterr()
    return inbox, out


def aggregate(inbox: Path, out: Path, *extra: str) -> int:
    return main(
        ["aggregate", str(inbox), "--out", str(out), "--as-of", AS_OF.isoformat(), "--workers", "1", *extra]
    )


def outputs_of(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def refused(capsys, *expected: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("ledger-tools: ")
    for text in expected:
        assert text in err, err
    return err


def test_a_full_disk_while_writing_the_outputs(aggregated, capsys, monkeypatch):
    inbox, out = aggregated
    before = outputs_of(out)

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    assert aggregate(inbox, out) == 2
    monkeypatch.undo()
    refused(capsys, "ディスクの空き容量が不足しています", "ledger.json", "前回のまま")
    assert outputs_of(out) == before
    assert aggregate(inbox, out) == 0  # space freed: the run goes through


def test_an_output_open_in_excel(aggregated, capsys, monkeypatch):
    inbox, out = aggregated
    before = outputs_of(out)
    real_replace = os.replace

    def locked(source, target):  # Windows: a file open in Excel can be neither replaced nor renamed
        if Path(target).name == "台帳.xlsx" or Path(source).name == "台帳.xlsx":
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", locked)
    assert aggregate(inbox, out) == 2
    monkeypatch.undo()
    refused(capsys, "台帳.xlsx", "Excel などで開いているか、書き込みの権限がありません")
    assert outputs_of(out) == before


def test_a_full_disk_while_archiving_a_copy(aggregated, capsys, monkeypatch):
    inbox, out = aggregated
    before = outputs_of(out)

    def no_space(root, sha256, suffix, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(root / sha256[:2] / (sha256 + suffix)))

    monkeypatch.setattr(intake, "keep_copy", no_space)
    assert aggregate(inbox, out) == 2
    refused(capsys, "保管庫", "archive", "ディスクの空き容量が不足しています")
    assert outputs_of(out) == before


def test_another_cause_is_named_in_the_systems_words(aggregated, capsys, monkeypatch):
    inbox, out = aggregated
    before = outputs_of(out)

    def io_error(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", io_error)
    assert aggregate(inbox, out) == 2
    monkeypatch.undo()
    refused(capsys, os.strerror(errno.EIO), "ledger.json")
    assert outputs_of(out) == before


def test_a_full_disk_while_recording_the_run(aggregated, capsys, monkeypatch):
    inbox, out = aggregated

    def disk_full(self, *args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(archive.Manifest, "commit_run", disk_full)
    assert aggregate(inbox, out) == 2
    monkeypatch.undo()
    refused(capsys, "manifest.sqlite", "ディスクの空き容量が不足しています")
    assert aggregate(inbox, out) == 0  # the outputs did not match the manifest: the run is done again
    assert "台帳: 2件" in capsys.readouterr().out


def test_forget_on_a_full_disk(aggregated, capsys, monkeypatch):
    inbox, out = aggregated
    (inbox / "R-1.xlsx").unlink()
    assert aggregate(inbox, out, "--allow-missing") == 0

    def disk_full(self, *args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(archive.Manifest, "retire", disk_full)
    capsys.readouterr()
    assert main(["forget", str(out), "R-1", "--reason", "試験"]) == 2
    refused(capsys, "manifest.sqlite", "ディスクの空き容量が不足しています")


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (errno.ENOSPC, "ディスクの空き容量が不足しています"),
        (errno.EACCES, "Excel などで開いているか、書き込みの権限がありません"),
    ],
)
def test_publish_on_a_full_disk_or_a_file_open_in_excel(aggregated, capsys, monkeypatch, error, cause):
    inbox, out = aggregated
    assert aggregate(inbox, out) == 0

    def fail(path, data):
        raise OSError(error, os.strerror(error), str(path))

    monkeypatch.setattr(publication, "write_bytes_atomic", fail)
    capsys.readouterr()
    assert main(["publish", str(out), "--fiscal-year", "R7", "--allow-pending"]) == 2
    refused(capsys, cause, "公表照合表")
    assert not (out / "publication").exists()
