"""Every workbook the project writes is valid against the ECMA-376 schemas (what Excel accepts
without "We found a problem with some content"). Uses ../shared/ooxml/check.sh and xmllint; skips
without them locally, never under CI=true."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import AS_OF, IN_CI

from ledger_tools.cli import main
from ledger_tools.form.samples import complete_values, recorded_values

CHECK = Path(__file__).resolve().parent.parent.parent / "shared" / "ooxml" / "check.sh"


@pytest.fixture(scope="module")
def checker() -> Path:
    missing = [
        what for what, ok in (("xmllint", shutil.which("xmllint")), (str(CHECK), CHECK.is_file())) if not ok
    ]
    if missing:
        if IN_CI:
            pytest.fail(f"needed under CI=true: {', '.join(missing)}")
        pytest.skip(f"not available: {', '.join(missing)}")
    return CHECK


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> dict[str, list[Path]]:
    """Each kind of workbook the command line writes, by kind."""
    from ledger_tools.form.samples import filled_workbook_bytes

    root = tmp_path_factory.mktemp("ooxml")
    inbox = root / "提出"
    (inbox / "県土整備部").mkdir(parents=True)
    (inbox / "県土整備部" / "R7-0001.xlsx").write_bytes(filled_workbook_bytes(complete_values()))
    (inbox / "R7-0002.xlsx").write_bytes(
        filled_workbook_bytes(recorded_values(record_id="R7-0002", place=None))
    )
    assert main(["template", "--out", str(root / "様式.xlsx")]) == 0
    assert main(["template", "--list", "--out", str(root / "一覧.xlsx")]) == 0
    report = root / "指摘事項.xlsx"
    main(["validate", str(inbox), "--report", str(report), "--as-of", AS_OF.isoformat()])
    out = root / "集計"
    main(["aggregate", str(inbox), "--out", str(out), "--as-of", AS_OF.isoformat()])
    kinds = {
        "template": [root / "様式.xlsx"],
        "list template": [root / "一覧.xlsx"],
        "validation report": [report],
        "ledger": [out / "台帳.xlsx"],
        "monthly state": sorted(out.glob("月次状況_*.xlsx")),
    }
    known = {p for paths in kinds.values() for p in paths}
    # Kinds added later (per-主管課 files, upgraded forms...) are picked up from the output folder.
    kinds["other aggregate outputs"] = sorted(
        p for p in out.rglob("*.xlsx") if p not in known and "archive" not in p.relative_to(out).parts
    )
    return kinds


@pytest.mark.parametrize(
    "kind",
    ["template", "list template", "validation report", "ledger", "monthly state", "other aggregate outputs"],
)
def test_every_workbook_kind_is_schema_valid(kind, workbooks, checker):
    paths = workbooks[kind]
    if kind != "other aggregate outputs":
        assert paths and all(p.is_file() for p in paths), f"{kind} was not written"
    if not paths:
        return
    result = subprocess.run(
        ["bash", str(checker), *map(str, paths)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
