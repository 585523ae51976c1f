"""Killed at random moments (SIGKILL: no clean-up at all), then run to completion, the aggregation
leaves the same ledger as a run that was never killed."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import AS_OF

from ledger_tools.form.samples import complete_values, filled_workbook_bytes, recorded_values
from ledger_tools.ledger.entries import load_ledger

N_FILES = 200
KILLS = 5
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGKILL and process groups are POSIX")


def with_record_id(data: bytes, placeholder: str, record_id: str) -> bytes:
    """The workbook with the inline string ``placeholder`` replaced (much faster than building it)."""
    old, new = f"<t>{placeholder}</t>".encode(), f"<t>{record_id}</t>".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info).replace(old, new))
    return out.getvalue()


def make_inbox(inbox: Path) -> None:
    bases = [
        filled_workbook_bytes(complete_values(record_id="KILLBASE")),
        filled_workbook_bytes(recorded_values(record_id="KILLBASE")),
        filled_workbook_bytes(recorded_values(record_id="KILLBASE", place=None)),  # invalid
    ]
    for n in range(N_FILES):
        folder = inbox / f"部局{n % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"K-{n:04d}.xlsx").write_bytes(with_record_id(bases[n % 3], "KILLBASE", f"K-{n:04d}"))


def start(inbox: Path, out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "ledger_tools", "aggregate", str(inbox), "--out", str(out)]
    command += ["--as-of", AS_OF.isoformat(), "--workers", "1", "--wait", "30"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def finish(process: subprocess.Popen) -> int:
    _, err = process.communicate(timeout=120)
    assert b"Traceback" not in err, err.decode()
    return process.returncode


def ledger_of(out: Path) -> tuple[bytes, bytes]:
    return (out / "台帳.csv").read_bytes(), (out / "ledger.json").read_bytes()


def test_killed_runs_then_a_full_one_give_the_ledger_of_a_run_never_killed(tmp_path):
    inbox = tmp_path / "提出"
    make_inbox(inbox)

    started = time.monotonic()
    assert finish(start(inbox, tmp_path / "never killed")) == 1  # a third of the files are invalid
    duration = time.monotonic() - started
    expected = ledger_of(tmp_path / "never killed")

    out = tmp_path / "killed"
    seed = random.randrange(1 << 30)
    chooser = random.Random(seed)
    for kill in range(KILLS):
        process = start(inbox, out)
        time.sleep(chooser.uniform(0.1, duration))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        if (out / "ledger.json").exists():  # never a torn ledger, whenever the kill came
            load_ledger(out)
            assert json.loads((out / "ledger.json").read_text(encoding="utf-8"))["entries"]
        print(f"kill {kill + 1} (seed {seed}): exit {process.returncode}")

    assert finish(start(inbox, out)) == 1
    assert ledger_of(out) == expected, f"seed {seed}"
    assert not (out / ".staging").exists()
