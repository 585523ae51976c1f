"""Start-up of ``validate ONE_FILE``: nothing heavy is imported that one file does not need."""

from __future__ import annotations

import json
import subprocess
import sys

from ledger_tools.form.samples import complete_values, filled_workbook_bytes

HEAVY = ("pydantic", "openpyxl", "pandas", "numpy", "jinja2", "tomllib")


def test_validating_one_file_imports_no_heavy_package(tmp_path, config):
    path = tmp_path / "R7-0001.xlsx"
    path.write_bytes(filled_workbook_bytes(complete_values(), config))
    code = (
        "import contextlib, io, json, sys\n"
        "from ledger_tools import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = cli.main(['validate', {str(path)!r}, '--format', 'json'])\n"
        f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exit_code, heavy = json.loads(done.stdout.splitlines()[-1])
    assert exit_code in (0, 1) and heavy == []  # 1: a finding on another day; never a usage error


def test_a_configuration_file_is_still_validated(tmp_path):
    (tmp_path / "設定.toml").write_text("[rules]\nreport_due_days = -1\n", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger_tools",
            "validate",
            str(tmp_path),
            "--config",
            str(tmp_path / "設定.toml"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert (
        "「rules.report_due_days」は 0 以上にしてください" in done.stderr and "Traceback" not in done.stderr
    )
