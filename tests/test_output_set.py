"""A run's outputs become visible together or not at all: failures and crashes at every step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger_tools import outputs
from ledger_tools.outputs import STAGING_DIR, OutputError, OutputSet, recover_outputs

OLD = {"台帳.csv": b"old csv", "ledger.json": b"old json", "sub/月次.html": b"old page"}
NEW = {"台帳.csv": b"new csv", "ledger.json": b"new json", "sub/月次.html": b"new page", "added.txt": b"new"}
OLD_FOLDER = {"index.html": b"old index", "gone.csv": b"old"}
NEW_FOLDER = {"index.html": b"new index", "records.csv": b"new"}


class Crash(BaseException):
    """The process dies here: no clean-up of any kind runs."""


def state(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and STAGING_DIR not in p.parts
    }


def old_set(root: Path) -> dict[str, bytes]:
    return {**OLD, **{f"publication/{k}": v for k, v in OLD_FOLDER.items()}}


def new_set(root: Path) -> dict[str, bytes]:
    return {**NEW, **{f"publication/{k}": v for k, v in NEW_FOLDER.items()}}


def prepare(root: Path) -> None:
    for name, data in old_set(root).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def stage(root: Path) -> OutputSet:
    output_set = OutputSet(root)
    for name, data in NEW.items():
        output_set.file(name, data)
    folder = output_set.folder("publication")
    for name, data in NEW_FOLDER.items():
        (folder / name).write_bytes(data)
    return output_set


def count_replaces(tmp_path: Path, monkeypatch) -> int:
    root = tmp_path / "count"
    prepare(root)
    calls = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(a), real(a, b))[1])
    stage(root).commit()
    monkeypatch.undo()
    assert state(root) == new_set(root) and not (root / STAGING_DIR).exists()
    return len(calls)


def failing_at(k: int, error: BaseException, monkeypatch) -> None:
    calls = []
    real = os.replace

    def replace(source, target):
        calls.append(source)
        if len(calls) == k:
            raise error
        return real(source, target)

    monkeypatch.setattr(os, "replace", replace)


def test_a_rename_that_fails_at_any_step_leaves_the_old_set(tmp_path, monkeypatch):
    """As on Windows when Excel holds one of the files: an error, and every output as it was."""
    steps = count_replaces(tmp_path, monkeypatch)
    assert steps >= 6
    for k in range(1, steps + 1):
        root = tmp_path / f"fail{k}"
        prepare(root)
        failing_at(k, PermissionError(13, "Permission denied"), monkeypatch)
        with pytest.raises(OutputError) as raised:
            stage(root).commit()
        monkeypatch.undo()
        assert "Excel などで開いているか" in raised.value.reason
        assert state(root) == old_set(root), f"after a failure at rename {k}"
        assert not (root / STAGING_DIR).exists()


def test_a_crash_at_any_step_leaves_the_old_set_or_the_new_one(tmp_path, monkeypatch):
    """Killed at the k-th rename: the next command's recovery gives one whole set, never a mix."""
    steps = count_replaces(tmp_path, monkeypatch)
    outcomes = []
    for k in range(1, steps + 1):
        root = tmp_path / f"crash{k}"
        prepare(root)
        output_set = stage(root)
        failing_at(k, Crash(), monkeypatch)
        with pytest.raises(Crash):
            output_set.commit()
        monkeypatch.undo()
        recover_outputs(root)
        after = state(root)
        assert after in (old_set(root), new_set(root)), f"a mix after a crash at rename {k}"
        assert not (root / STAGING_DIR).exists()
        outcomes.append("new" if after == new_set(root) else "old")
    assert outcomes[0] == "old" and outcomes[-1] == "new"  # before the journal: old; after it: new


def test_a_crash_while_undoing_a_failure_still_gives_one_whole_set(tmp_path, monkeypatch):
    """The last rename fails, and the process dies while putting the old versions back."""
    steps = count_replaces(tmp_path, monkeypatch)
    for extra in range(1, 6):
        root = tmp_path / f"undo{extra}"
        prepare(root)
        output_set = stage(root)
        calls: list = []

        def replace(source, target, extra=extra, calls=calls, real=os.replace):
            calls.append(source)
            if len(calls) == steps:
                raise PermissionError(13, "Permission denied")
            if len(calls) == steps + extra:
                raise Crash()
            return real(source, target)

        monkeypatch.setattr(os, "replace", replace)
        with pytest.raises((Crash, OutputError)):
            output_set.commit()
        monkeypatch.undo()
        recover_outputs(root)
        assert state(root) in (old_set(root), new_set(root))


def test_a_staging_folder_without_a_journal_is_discarded(tmp_path):
    prepare(tmp_path)
    stage(tmp_path)  # staged, never committed: the process died before the journal
    recover_outputs(tmp_path)
    assert state(tmp_path) == old_set(tmp_path) and not (tmp_path / STAGING_DIR).exists()


def test_a_full_disk_while_staging_names_the_file_and_replaces_nothing(tmp_path, monkeypatch):
    prepare(tmp_path)

    def no_space(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", no_space)
    with pytest.raises(OutputError) as raised:
        outputs.replace_outputs(tmp_path, NEW)
    monkeypatch.undo()
    assert (
        raised.value.reason == "ディスクの空き容量が不足しています" and raised.value.path.name == "台帳.csv"
    )
    assert state(tmp_path) == old_set(tmp_path) and not (tmp_path / STAGING_DIR).exists()
