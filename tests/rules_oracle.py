"""The record-at-a-time ``rules.evaluate`` as it was before the list was read column by column,
kept as the oracle of ``tests/test_rules_columns.py``: ``rules.evaluate_records`` must give exactly
what this gives, record by record. Its whole-record half is the plain form of ``rules._finish``
(which finds absent required fields and exclusions by C-level shortcuts): kept here on purpose,
so that those shortcuts are checked too."""

from __future__ import annotations

from typing import Any

from ledger_tools.check.findings import FileReport, Finding, make_finding, status_for
from ledger_tools.check.hidden_characters import describe as describe_hidden
from ledger_tools.check.reading import RawRecord
from ledger_tools.check.rules import (
    _BARE_KEYS,
    RuleContext,
    _date_rules,
    _exclusion_findings,
    _lead_division_check,
    _missing_required,
    _personal_data,
    _renamed,
    _RowReader,
    organisation_date,
)
from ledger_tools.form.fields import (
    BUSINESS_OTHER,
    EXCLUSION_APPLIES,
    EXCLUSION_FIELDS,
    TEMPLATE_VERSION,
    field_ids_for,
    fields_for,
    section_titles,
    stage_of,
)


def evaluate_one(
    path: str, record: RawRecord, context: RuleContext, version: int = TEMPLATE_VERSION
) -> FileReport:
    """Apply every single-record rule of form ``version``; return the record's report with its status."""
    fields = fields_for(version)
    findings: list[Finding] = []
    values: dict[str, Any] = {}
    cells = record.cells
    unusable: set[str] = set(record.formulas)  # filled, but unreadable: reported once, not again as missing
    unusable.update(record.errors)
    for field_id in field_ids_for(version) if unusable else ():
        if field_id in record.formulas:
            findings.append(make_finding("formula_without_value", field=field_id, cell=cells[field_id]))
        elif field_id in record.errors:
            findings.append(
                make_finding(
                    "formula_error", field=field_id, cell=cells[field_id], value=record.errors[field_id]
                )
            )
    stored = record.values
    on = organisation_date(stored.get("received_date"), context)
    organisation = context.config.organisation_on(on)
    reader = context.readers.get((version, organisation))
    if reader is None:
        reader = context.readers[(version, organisation)] = _RowReader(fields, organisation)
    for field_id, spec, memo, read in reader.cells:
        if field_id not in stored or field_id in unusable:
            continue
        raw = stored[field_id]
        # The usual cell, a short text, date or time already read: its memo looked up here, no call.
        if memo is None or type(raw) not in _BARE_KEYS or (found := memo.get(raw)) is None:
            found = read(raw, values)
        hidden, value, problem = found
        if hidden:  # removed, and reported
            code = "control_characters_in_public" if spec.public else "control_characters"
            findings.append(
                make_finding(code, field=field_id, cell=cells[field_id], chars=describe_hidden(hidden))
            )
        if problem is not None:
            if spec.choices_from == "departments":
                problem = _renamed(problem, stored, context.config, on) or problem
            findings.append(problem.at(field_id, cells[field_id]))
            unusable.add(field_id)
        elif value is not None and value != "":
            values[field_id] = value

    in_list = record.row is not None  # a list names sections by title: its 「F欄」 would be column F
    findings += _missing_required(
        reader.required, values, unusable, cells, section_titles if in_list else None
    )
    findings += _date_rules(values, cells, context)
    exclusions = [
        reason for field_id, reason in EXCLUSION_FIELDS.items() if values.get(field_id) == EXCLUSION_APPLIES
    ]
    findings += _exclusion_findings(values, cells, exclusions, context.config)
    findings += _lead_division_check(values, cells, organisation)
    if values.get("business_type") == BUSINESS_OTHER:
        findings.append(
            make_finding("business_type_other", field="business_type", cell=cells["business_type"])
        )
    findings += _personal_data(values, cells)

    return FileReport(
        path=path,
        row=record.row,
        status=status_for(findings, exclusions, values.get("supervisor_judgement")),
        record_id=values.get("record_id"),
        stage=stage_of(values),
        exclusions=exclusions,
        findings=findings,
        values=values,
        cells=cells,
        form_version=version,
    )
