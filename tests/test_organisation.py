"""Organisation periods (組織改正): records are checked against the organisation of their date."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import REORGANISATION, codes

from ledger_tools.check.findings import Status
from ledger_tools.check.rules import RuleContext
from ledger_tools.check.validation import validate_file
from ledger_tools.config import ConfigError, config_digest, default_config_text, load_config
from ledger_tools.form.samples import complete_values, filled_workbook_bytes
from ledger_tools.form.template import template_bytes


def write_config(tmp_path, extra: str = REORGANISATION, name: str = "設定.toml"):
    path = tmp_path / name
    path.write_text(default_config_text() + extra, encoding="utf-8")
    return path


@pytest.fixture
def reorganised(tmp_path):
    return load_config(write_config(tmp_path))


def check(tmp_path, config, values, as_of=dt.date(2026, 11, 25)):
    path = tmp_path / "record.xlsx"
    received = values.get("received_date")
    form_date = received if isinstance(received, dt.date) else dt.date(2025, 6, 1)
    path.write_bytes(filled_workbook_bytes(values, config, as_of=form_date))
    return validate_file(path, RuleContext(config, as_of))


def test_the_organisation_is_a_function_of_the_date(reorganised):
    before = reorganised.organisation_on(dt.date(2026, 3, 31))
    after = reorganised.organisation_on(dt.date(2026, 4, 1))
    assert "県土整備部" in before.departments_by_organ["知事部局"]
    assert after.departments_by_organ["知事部局"] == ("総務部", "健康福祉部", "県土整備局")
    assert after.organ_names == ("知事部局", "教育委員会")
    assert before.lead_division("知事部局", "県土整備部") == "県土整備部監理課"
    assert after.lead_division("知事部局", "県土整備局") == "県土整備局監理課"
    assert after.lead_division("知事部局", "県土整備部") == ""


def test_departments_in_force_during_a_year_keep_the_names_they_had(reorganised):
    fy2025 = reorganised.departments_in_force_during(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    fy2026 = reorganised.departments_in_force_during(dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    across = reorganised.departments_in_force_during(dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    assert ("知事部局", "県土整備部") in fy2025 and ("知事部局", "県土整備局") not in fy2025
    assert ("知事部局", "県土整備局") in fy2026 and ("知事部局", "県土整備部") not in fy2026
    assert {("知事部局", "県土整備部"), ("知事部局", "県土整備局")} <= set(across)


def test_the_renamed_chain_follows_a_department_across_years(tmp_path):
    again = """
[[reorganisations]]
from = 2027-04-01
renamed = { "知事部局/県土整備局" = "知事部局/都市整備局", "知事部局/総務部" = "知事部局/都市整備局" }

[[reorganisations.organs]]
name = "知事部局"
departments = [{ name = "都市整備局", lead_division = "都市整備局総務課" }]
"""
    config = load_config(write_config(tmp_path, REORGANISATION + again))
    assert config.current_name("知事部局", "県土整備部", dt.date(2026, 5, 1)) == ("知事部局", "県土整備局")
    assert config.current_name("知事部局", "県土整備部", dt.date(2027, 5, 1)) == ("知事部局", "都市整備局")
    assert config.current_name("知事部局", "総務部", dt.date(2027, 5, 1)) == (
        "知事部局",
        "都市整備局",
    )  # merged
    assert config.current_name("知事部局", "健康福祉部", dt.date(2027, 5, 1)) == ("知事部局", "健康福祉部")
    assert config.renames[0] == (dt.date(2026, 4, 1), ("知事部局", "県土整備部"), ("知事部局", "県土整備局"))


def test_a_record_before_the_reorganisation_stays_valid(tmp_path, reorganised):
    report = check(tmp_path, reorganised, complete_values(received_date=dt.date(2025, 6, 10)))
    assert codes(report) == []


def test_after_the_reorganisation_the_old_name_is_an_error_naming_the_successor(tmp_path, reorganised):
    values = complete_values(
        received_date=dt.date(2026, 5, 11),
        reported_date=dt.date(2026, 5, 12),
        judgement_date=dt.date(2026, 5, 13),
        sent_to_lead_date=dt.date(2026, 5, 14),
        shared_with_responsible_date=dt.date(2026, 5, 14),
        result_notified_date=dt.date(2026, 5, 20),
        shared_with_general_affairs_date=dt.date(2026, 5, 25),
        lead_division="県土整備局監理課",
    )
    report = check(tmp_path, reorganised, values)
    assert codes(report) == [("department_renamed", "department")]
    message = report.findings[0].message
    assert "県土整備局" in message and "2026-04-01" in message
    renamed = check(tmp_path, reorganised, {**values, "department": "県土整備局"})
    assert codes(renamed) == []


def test_the_lead_division_is_the_one_of_the_records_period(tmp_path, reorganised):
    old = check(tmp_path, reorganised, complete_values(lead_division="県土整備局監理課"))
    assert codes(old) == [("lead_division_unexpected", "lead_division")]
    assert "県土整備部監理課" in old.findings[0].message


def test_without_a_readable_received_date_the_reference_date_decides(tmp_path, reorganised):
    values = complete_values(received_date="いつか")
    report = check(tmp_path, reorganised, values, as_of=dt.date(2026, 11, 25))
    assert ("department_renamed", "department") in codes(report)
    earlier = check(tmp_path, reorganised, values, as_of=dt.date(2026, 1, 25))
    assert ("department_renamed", "department") not in codes(earlier)


def test_the_template_follows_the_organisation_of_its_date(reorganised):
    import io

    import openpyxl

    def departments(as_of):
        wb = openpyxl.load_workbook(io.BytesIO(template_bytes(reorganised, as_of)))
        lists = wb["選択肢"]
        return {c.value for row in lists.iter_rows() for c in row if c.value}

    assert "県土整備部" in departments(dt.date(2026, 3, 31))
    assert "県土整備局" not in departments(dt.date(2026, 3, 31))
    after = departments(dt.date(2026, 4, 1))
    assert "県土整備局" in after and "県土整備局監理課" in after and "県土整備部" not in after


def test_a_configuration_without_reorganisations_carries_over_unchanged(config):
    assert len(config.periods) == 1
    assert config.organisation_on(dt.date(2030, 1, 1)).organs == config.organs
    assert config_digest(config) == "9c9104027e17df1d"  # the fingerprint from before periods existed


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        (
            REORGANISATION.replace("from = 2026-04-01", 'from = "四月"'),
            "reorganisations（1番目）.from",
            "日付",
        ),
        (REORGANISATION.replace("from = 2026-04-01", ""), "reorganisations（1番目）.from", "ありません"),
        (REORGANISATION + REORGANISATION, "reorganisations（2番目）.from", "重複"),
        (REORGANISATION.replace("2026-04-01", "2025-03-01"), "reorganisations（1番目）.from", "運用開始日"),
        (
            REORGANISATION.replace('"知事部局/県土整備部"', '"知事部局/土木部"'),
            "reorganisations（1番目）.renamed",
            "知事部局/土木部",
        ),
        (
            REORGANISATION.replace('"知事部局/県土整備局"', '"知事部局/県土整備庁"'),
            "reorganisations（1番目）.renamed",
            "改正後",
        ),
    ],
)
def test_configuration_errors_are_refused_in_japanese_naming_the_key(tmp_path, extra, key, words):
    path = write_config(tmp_path, extra)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert key in str(e.value) and words in str(e.value)


def test_a_year_is_published_with_the_departments_it_had(tmp_path, reorganised):
    """Publishing 令和7年度 after the 2026 reorganisation lists 2025's departments (with zeros), and
    令和8年度 lists the new ones: each publication says what was true in its year."""
    from ledger_tools.dates import FiscalYear
    from ledger_tools.ledger.entries import Ledger, LedgerEntry
    from ledger_tools.publish.publication import publish_ledger

    old = complete_values(record_id="A", department="県土整備部", received_date=dt.date(2025, 6, 2))
    new = complete_values(record_id="B", department="県土整備局", received_date=dt.date(2026, 6, 1))
    entries = [
        LedgerEntry(path=f"{v['record_id']}.xlsx", record_id=v["record_id"], status=Status.OK, values=v)
        for v in (old, new)
    ]
    ledger = Ledger(dt.date(2026, 11, 30), entries, config_digest(reorganised))
    pages = {}
    for year in (2025, 2026):
        result = publish_ledger(ledger, tmp_path, reorganised, FiscalYear(year), allow_pending=True)
        pages[year] = (result.directory / "index.html").read_text(encoding="utf-8")
    assert "県土整備部" in pages[2025] and "県土整備局" not in pages[2025]
    assert "県土整備局" in pages[2026] and "県土整備部" not in pages[2026]
