"""The published pages (a year's and the index of every year) in a real browser and a real HTML checker: axe-core in Debian's Chromium finds
no WCAG 2.x A/AA violation, nor does HTML_CodeSniffer (pa11y, WCAG2AA) on every kind of page (a year's, an
empty year's, the index, the internal monthly page), the Nu HTML Checker finds no error, nothing scrolls
sideways at 320 CSS px, and a screenshot is taken. No network: local files and the system's Chromium.

Needs node, chromium, java and ``npm install`` in tests/browser: skips locally without them,
fails (never skips) under CI=true."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import IN_CI, require_program
from test_publication import LEDGER_DATE, entry

from ledger_tools.check.findings import Status, make_finding
from ledger_tools.config import load_config
from ledger_tools.dates import FiscalYear
from ledger_tools.form.samples import complete_values, sample_records
from ledger_tools.ledger.entries import Ledger, LedgerEntry
from ledger_tools.ledger.monthly import monthly_html, monthly_state
from ledger_tools.publish.publication import PAGE_FILE, RECORDS_PER_PAGE, STYLESHEET_FILE, publish_ledger

pytestmark = pytest.mark.real_client

BROWSER_DIR = Path(__file__).resolve().parent / "browser"
VNU_JAR = BROWSER_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def require_node_modules() -> None:
    for package in ("axe-core", "playwright-core", "vnu-jar", "pa11y"):
        if not (BROWSER_DIR / "node_modules" / package).is_dir():
            message = f"npm package {package} is missing: run `npm ci` in {BROWSER_DIR}"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)


def sample_ledger() -> Ledger:
    """The bundled sample records as the aggregator would leave them, plus records held back in every
    group the page states: 該当 (one with values that cannot be read: 不明), one whose judgement cannot
    be read, and one unreadable file."""
    entries = []
    for path, values in sample_records().items():
        status = Status.OK
        if values.get("excl_public_venue") == "該当する":
            status = Status.EXCLUDED
        elif values.get("supervisor_judgement") == "該当しない":
            status = Status.NOT_APPLICABLE
        entries.append(
            LedgerEntry(
                path=path,
                sha256="",
                status=status,
                record_id=str(values["record_id"]),
                stage=None,
                values=values,
            )
        )
    entries.append(entry(record_id="R7-0009", shared_with_general_affairs_date=None))
    entries.append(
        entry(
            Status.INVALID,
            values={
                **complete_values(record_id="R7-0010", organ="警察本部"),
                "department": None,
                "method": None,
            },
            findings=[make_finding("required_missing", field="method", label="方法", condition="必須")],
        )
    )
    entries.append(
        entry(
            Status.INVALID,
            values={**complete_values(record_id="R7-0011"), "supervisor_judgement": None},
            findings=[
                make_finding(
                    "invalid_choice",
                    field="supervisor_judgement",
                    label="所属長の判断",
                    value="?",
                    choices="…",
                )
            ],
        )
    )
    entries.append(
        LedgerEntry(
            path="inbox/壊れた.xlsx",
            sha256="",
            status=Status.UNREADABLE,
            record_id=None,
            stage=None,
            findings=[make_finding("unreadable_corrupt", detail="zip")],
        )
    )
    return Ledger(LEDGER_DATE, entries)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """A year with records (one held back, so the notice shows), one of its record-list pages, a
    record-list page between others (its page navigation) and a year without any 該当."""
    out = tmp_path_factory.mktemp("publication")
    config = load_config()
    full = publish_ledger(sample_ledger(), out, config, FiscalYear(2025), allow_pending=True)
    held = full.publication.held_back
    assert (held.applicable, held.unconfirmed, held.unreadable) == (2, 1, 1)
    assert "不明" in full.page.read_text(encoding="utf-8")
    empty = publish_ledger(Ledger(LEDGER_DATE, []), out, config, FiscalYear(2024))
    index = out / "publication" / PAGE_FILE  # every year's index, written by each publish
    assert index.is_file()
    monthly = out / "月次状況_2026-05.html"  # the internal monthly page, as aggregate writes it
    monthly.write_text(monthly_html(monthly_state(sample_ledger(), config, "2026-05")), encoding="utf-8")
    paged = publish_ledger(
        Ledger(LEDGER_DATE, [entry(record_id=f"P-{i:04d}") for i in range(2 * RECORDS_PER_PAGE + 1)]),
        tmp_path_factory.mktemp("paged"),
        config,
        FiscalYear(2025),
    )
    return {
        "records": full.page,
        "list": full.directory / "records-01.html",
        "paged": paged.directory / "records-01-02.html",
        "empty": empty.page,
        "index": index,
        "monthly": monthly,
    }


def check_page(page: Path, *options: str) -> dict:
    """Run tests/browser/check_page.mjs: axe-core's results as JSON."""
    node = require_program("node")
    require_program("chromium")
    require_node_modules()
    result = subprocess.run(
        [node, str(BROWSER_DIR / "check_page.mjs"), str(page), *options],
        capture_output=True,
        timeout=120,
        cwd=BROWSER_DIR,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def axe_results(pages, tmp_path_factory) -> dict[str, dict]:
    shots = tmp_path_factory.mktemp("screenshots")
    return {
        "records": check_page(pages["records"], "--screenshot", str(shots / "publication.png")),
        "empty": check_page(pages["empty"]),
        "print": check_page(pages["records"], "--media", "print"),
        "index": check_page(pages["index"], "--screenshot", str(shots / "index.png")),
        "index-print": check_page(pages["index"], "--media", "print"),
        "index-narrow": check_page(pages["index"], "--width", "320"),
        "records-narrow": check_page(pages["records"], "--width", "320"),
        "paged": check_page(pages["paged"], "--screenshot", str(shots / "records-01-02.png")),
        "paged-print": check_page(pages["paged"], "--media", "print"),
        "paged-narrow": check_page(pages["paged"], "--width", "320"),
        "list": check_page(pages["list"]),
        "monthly": check_page(pages["monthly"]),
        "monthly-narrow": check_page(pages["monthly"], "--width", "320"),
    }


KINDS = [
    "records",
    "empty",
    "print",
    "index",
    "index-print",
    "index-narrow",
    "records-narrow",
    "paged",
    "paged-print",
    "paged-narrow",
    "list",
    "monthly",
    "monthly-narrow",
]


@pytest.mark.parametrize("which", KINDS)
def test_axe_finds_no_wcag_violation(axe_results, which):
    results = axe_results[which]
    assert results["tags"] == WCAG_TAGS
    assert results["passes"] > 5  # the rules really ran
    assert results["violations"] == [], json.dumps(results["violations"], ensure_ascii=False, indent=1)


@pytest.mark.parametrize("which", ["records-narrow", "paged-narrow", "index-narrow", "monthly-narrow"])
def test_at_320_css_pixels_nothing_scrolls_sideways(axe_results, which):
    results = axe_results[which]
    assert results["width"] == 320
    assert results["scroll_width"] <= 320, results["scroll_width"]


def test_html_codesniffer_finds_no_wcag2aa_error_on_any_page(pages):
    """A second engine beside axe: pa11y with HTML_CodeSniffer (WCAG2AA) in the system's Chromium."""
    node = require_program("node")
    require_program("chromium")
    require_node_modules()
    kinds = ["records", "list", "paged", "empty", "index", "monthly"]
    result = subprocess.run(
        [node, str(BROWSER_DIR / "check_htmlcs.mjs"), *(str(pages[k]) for k in kinds)],
        capture_output=True,
        timeout=300,
        cwd=BROWSER_DIR,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    report = json.loads(result.stdout)
    assert (report["runner"], report["standard"]) == ("htmlcs", "WCAG2AA")
    assert [r["title"] for r in report["results"]] and len(report["results"]) == len(kinds)
    issues = {k: r["issues"] for k, r in zip(kinds, report["results"], strict=True)}
    assert all(not found for found in issues.values()), json.dumps(issues, ensure_ascii=False, indent=1)


def test_a_screenshot_of_the_page_is_taken(axe_results):
    shot = Path(axe_results["records"]["screenshot"])
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1280 and height > 2000  # the whole page, not only the first screen
    print(f"screenshot: {shot}")


def test_the_nu_html_checker_finds_no_error(pages):
    java = require_program("java")
    require_node_modules()
    files = [
        pages["records"],
        pages["list"],
        pages["paged"],
        pages["empty"],
        pages["index"],
        pages["monthly"],
        pages["records"].parent / STYLESHEET_FILE,
    ]
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--format", "json", "--also-check-css", "--stdout", *map(str, files)],
        capture_output=True,
        timeout=180,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [m for m in messages if m.get("type") == "error" or m.get("subType") == "fatal"]
    assert errors == [], json.dumps(errors, ensure_ascii=False, indent=1)
    assert result.returncode == 0
    assert {p.name for p in files} == {
        PAGE_FILE,
        STYLESHEET_FILE,
        "records-01.html",
        "records-01-02.html",
        pages["monthly"].name,
    }
