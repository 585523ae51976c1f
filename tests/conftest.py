"""Shared fixtures: filled workbooks are generated from the field catalogue and the template."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_file
from ledger_tools.config import load_config
from ledger_tools.form.samples import filled_workbook_bytes

AS_OF = dt.date(2026, 11, 25)
# A reorganisation on 2026-04-01: 県土整備部 renamed 県土整備局 (config TOML to append to the default).
REORGANISATION = """
[[reorganisations]]
from = 2026-04-01
renamed = { "知事部局/県土整備部" = "知事部局/県土整備局" }

[[reorganisations.organs]]
name = "知事部局"
departments = [
  { name = "総務部", lead_division = "総務部総務課" },
  { name = "健康福祉部", lead_division = "健康福祉部福祉政策課" },
  { name = "県土整備局", lead_division = "県土整備局監理課" },
]

[[reorganisations.organs]]
name = "教育委員会"
departments = [{ name = "教育庁", lead_division = "教育庁教育総務課" }]
"""

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def config():
    return load_config()


@pytest.fixture
def inbox(tmp_path) -> Path:
    """An empty shared folder (提出) for aggregation tests."""
    folder = tmp_path / "提出"
    folder.mkdir()
    return folder


@pytest.fixture
def out(tmp_path) -> Path:
    """The aggregation's output folder (集計), beside the inbox."""
    return tmp_path / "集計"


@pytest.fixture
def write_workbook(tmp_path):
    """write_workbook(values, name="record.xlsx") → the path of a filled template."""

    def write(values, name: str = "record.xlsx", folder: Path | None = None) -> Path:
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(filled_workbook_bytes(values))
        return path

    return write


@pytest.fixture
def validate_values(write_workbook, config):
    """validate_values(values) → the FileReport of a workbook filled with ``values``."""

    def validate(values, as_of: dt.date = AS_OF):
        return validate_file(write_workbook(values), RuleContext(config, as_of))

    return validate


def codes(report) -> list[tuple[str, str | None]]:
    """(code, field) of every finding: compact and exact for assertions."""
    return [(f.code, f.field) for f in report.findings]


def require_program(name: str) -> str:
    """The path of a real client program; skip without it locally, fail under CI=true."""
    found = shutil.which(name)
    if found:
        return found
    if IN_CI:
        pytest.fail(f"{name} is required under CI=true (installed by .ci/run)")
    pytest.skip(f"{name} is not installed")
