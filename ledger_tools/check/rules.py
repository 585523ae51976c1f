"""The rules of the form (spec §4–§6): raw cell values → a normalised record and its findings.

This module knows one record at a time; comparisons across files live in ``validation``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import operator
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ledger_tools.check.findings import FileReport, Finding, make_finding, status_for
from ledger_tools.check.hidden_characters import HIDDEN, find_hidden, remove_hidden
from ledger_tools.check.hidden_characters import describe as describe_hidden
from ledger_tools.check.personal_data import Identity, Role, Scanner
from ledger_tools.check.reading import RawRecord
from ledger_tools.config import Config, Organisation
from ledger_tools.dates import DateProblem, normalise_text, parse_date, parse_time
from ledger_tools.form.fields import (
    APPLICABLE,
    BUSINESS_OTHER,
    DATE_CHAIN,
    DATE_FIELD_IDS,
    DATE_NOT_BEFORE,
    EXCEL_CELL_LIMIT,
    EXCLUSION_APPLIES,
    EXCLUSION_FIELDS,
    FIELD_BY_ID,
    FIELDS,
    METHOD_DOCUMENT,
    TEMPLATE_VERSION,
    Field,
    FieldType,
    field_ids_for,
    fields_for,
    form_version,
    section_titles,
    stage_of,
)

RECORD_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
EXCLUSION_LABELS_JA = {
    "public_venue": "不特定多数の者が内容を知り得る場",
    "minuted_meeting": "議事録が作成される会議の場",
    "official_document": "県の機関あての文書",
}
# Where a hint that an exclusion applies is looked for (spec §4): where it happened for the
# public venue and the minuted meeting; who wrote and what was summarised for the document.
HINT_FIELDS = {
    "public_venue": ("place",),
    "minuted_meeting": ("place",),
    "official_document": ("requester_affiliation", "public_summary", "request_content"),
}
PUBLIC_TEXT_FIELDS = tuple(
    f.id for f in FIELDS if f.public and f.type in (FieldType.TEXT, FieldType.LONG_TEXT)
)
# The form's own names and affiliations, none of which may be published (spec §6), and how
# each is looked for (see personal_data).
PRIVATE_IDENTITY_FIELDS: dict[str, Role] = {
    "requester_name": "name",
    "staff_name": "name",
    "requester_affiliation": "affiliation",
    "section": "section",
}
_IDENTITY_LABELS = tuple((f, FIELD_BY_ID[f].label, role) for f, role in PRIVATE_IDENTITY_FIELDS.items())


@dataclass(frozen=True)
class RuleContext:
    """What the rules depend on besides the record. Without ``as_of`` the one rule that needs a
    reference date (no date in the future) is left out: ``future_dates`` applies it later, so a
    report can be cached independently of the day it is looked at."""

    config: Config
    as_of: dt.date | None
    # The row readers built in this context, one per (form version, organisation), each with its
    # memo of short cell values (see _RowReader).
    readers: dict[tuple, _RowReader] = field(default_factory=dict, compare=False, repr=False)

    def __reduce__(self) -> tuple:
        return (RuleContext, (self.config, self.as_of))  # a worker starts with no reader


def check_version(template_version: object) -> int:
    """The form version of a workbook; ``VersionMismatch`` when this program does not read it."""
    version = form_version(template_version)
    if version is None:
        raise VersionMismatch(str(template_version))
    return version


def evaluate(
    path: str,
    record: RawRecord,
    context: RuleContext,
    version: int = TEMPLATE_VERSION,
    cells: ReadCells | None = None,
) -> FileReport:
    """Apply every single-record rule of form ``version``; return the record's report with its status.

    ``cells``: the record's cells as ``read_cells`` read them with the other rows of its list
    (used once); without it they are read here."""
    if cells is None:
        cells = read_cells([record], context, version)[0]
    values, findings, unusable, reader = cells
    return _finish(path, record, values, findings, unusable, context, reader, version)


def evaluate_records(
    path: str, records: Sequence[RawRecord], context: RuleContext, version: int = TEMPLATE_VERSION
) -> list[FileReport]:
    """``evaluate`` for each of ``records`` (the rows of a list), their cells read together."""
    read = read_cells(records, context, version)
    return [
        evaluate(path, record, context, version, cells) for record, cells in zip(records, read, strict=True)
    ]


class ReadCells(NamedTuple):
    """One record's cells once read: what the rules of the whole record start from."""

    values: dict[str, Any]  # field id -> normalised value, in the form's field order
    findings: list[Finding]  # of the cells, in field order (formulas and errors first)
    unusable: AbstractSet[str]  # fields filled but not readable: not reported again as missing
    reader: _RowReader  # of the record's form version and organisation


def read_cells(
    records: Sequence[RawRecord], context: RuleContext, version: int = TEMPLATE_VERSION
) -> list[ReadCells]:
    """The cells of ``records`` (the rows of a list) read a field at a time over all of them: a
    list repeats its choices, dates and times, so each field's memo is looked up by C-level maps
    over its column; in the records' order. What ``evaluate`` of each record on its own reads."""
    findings: list[list[Finding]] = [[] for _ in records]
    unusable: list[set[str] | None] = [None] * len(records)
    fields_of_version = field_ids_for(version)
    for index, record in enumerate(records):
        if not (record.formulas or record.errors):
            continue
        unusable[index] = {*record.formulas, *record.errors}  # filled, but unreadable: reported once
        cells = record.cells
        for field_id in fields_of_version:
            if field_id in record.formulas:
                findings[index].append(
                    make_finding("formula_without_value", field=field_id, cell=cells[field_id])
                )
            elif field_id in record.errors:
                findings[index].append(
                    make_finding(
                        "formula_error", field=field_id, cell=cells[field_id], value=record.errors[field_id]
                    )
                )
    stored = [record.values for record in records]
    ons = _organisation_dates(stored, context)
    groups: dict[Organisation, list[int]] = {}
    by_date: dict[dt.date, Organisation] = {}
    for index, on in enumerate(ons):
        organisation = by_date.get(on)
        if organisation is None:
            organisation = by_date[on] = context.config.organisation_on(on)
        groups.setdefault(organisation, []).append(index)
    fields = fields_for(version)
    read: list[ReadCells | None] = [None] * len(records)
    for organisation, indices in groups.items():
        reader = context.readers.get((version, organisation))
        if reader is None:
            reader = context.readers[(version, organisation)] = _RowReader(fields, organisation)
        rows = [stored[i] for i in indices] if len(indices) < len(records) else stored
        columns = _read_columns(reader, records, rows, indices, findings, unusable, context, ons)
        ids = reader.ids
        for index, row in zip(indices, zip(*columns, strict=True), strict=True):
            read[index] = ReadCells(
                dict(itertools.compress(zip(ids, row, strict=True), map(operator.is_not, row, _NONES))),
                findings[index],
                unusable[index] or _NOTHING,
                reader,
            )
    return read  # type: ignore[return-value]  # every index is in one group


_NOTHING: frozenset[str] = frozenset()
_NONES = itertools.repeat(None)  # for C-level maps comparing a column with None


def _organisation_dates(stored: list[dict[str, object]], context: RuleContext) -> list[dt.date]:
    """``organisation_date`` of each record, computed once per distinct received_date cell."""
    found: dict[object, dt.date] = {}
    dates = []
    for raw in map(dict.get, stored, itertools.repeat("received_date")):
        if type(raw) in _BARE_KEYS:
            on = found.get(raw)
            if on is None:
                on = found[raw] = organisation_date(raw, context)
        else:
            on = organisation_date(raw, context)
        dates.append(on)
    return dates


def _read_columns(
    reader: _RowReader,
    records: Sequence[RawRecord],
    rows: list[dict[str, object]],
    indices: list[int],
    findings: list[list[Finding]],
    unusable: list[set[str] | None],
    context: RuleContext,
    ons: list[dt.date],
) -> list[list[Any]]:
    """The normalised value of every field (in the reader's order) of ``rows`` (the records at
    ``indices``), None where the record keeps none; each cell's findings appended to its record's
    list in field order, a field with a problem added to its record's unusable set."""
    count = len(rows)
    blocked = [(i, unusable[index]) for i, index in enumerate(indices) if unusable[index]]
    columns: list[list[Any]] = []
    organs: list[Any] | None = None
    for (field_id, spec, memo, read), known in zip(reader.cells, reader.known, strict=True):
        column = list(map(dict.get, rows, itertools.repeat(field_id, count)))
        by_organ = spec.choices_from == "departments"
        if by_organ and organs is None:
            organs = [None] * count
        for i, fields in blocked:
            if field_id in fields:  # type: ignore[operator]
                column[i] = None
        if known is None:
            got = (
                _long_texts(column, spec.length_limit) if spec.type is FieldType.LONG_TEXT else [None] * count
            )
        else:
            keys = list(zip(column, organs, strict=True)) if by_organ else column  # type: ignore[arg-type]
            try:
                got = list(map(known.get, keys))
                if None in got:
                    got = _with_new_values(keys, got, known, read, by_organ)
            except TypeError:  # a value that is no key (not from a workbook): read one by one
                got = [None] * count
        if None in got:  # the cells not read yet, unless empty
            unread = map(operator.and_, map(operator.is_, got, _NONES), map(operator.is_not, column, _NONES))
            pending = list(itertools.compress(range(count), unread))
        else:
            pending = []
        for i in pending:
            raw = column[i]
            if raw is None:
                continue
            organ = organs[i] if by_organ else None  # type: ignore[index]
            earlier = {"organ": organ} if organ is not None else {}
            if memo is None or type(raw) not in _BARE_KEYS or (found := memo.get(raw)) is None:
                found = read(raw, earlier)
            hidden, value, problem = found
            index = indices[i]
            record = records[index]
            if hidden:  # removed, and reported
                code = "control_characters_in_public" if spec.public else "control_characters"
                findings[index].append(
                    make_finding(
                        code, field=field_id, cell=record.cells[field_id], chars=describe_hidden(hidden)
                    )
                )
            if problem is not None:
                if by_organ:
                    problem = _renamed(problem, record.values, context.config, ons[index]) or problem
                findings[index].append(problem.at(field_id, record.cells[field_id]))
                fields = unusable[index]
                if fields is None:
                    fields = unusable[index] = set()
                fields.add(field_id)
                continue
            # (a value that reads cleanly under a memo key is already in ``known``: _with_new_values)
            if value is not None and value != "":
                got[i] = value
        if known is None and _BLANK in got:
            got = [None if value is _BLANK else value for value in got]
        if field_id == "organ":
            organs = got
        columns.append(got)
    return columns


_BLANK = object()  # a cell whose text normalises to nothing: no value, no finding


def _with_new_values(keys: list[Any], got: list[Any], known: dict, read: Any, by_organ: bool) -> list[Any]:
    """``got`` with the cells the field's memo ``known`` did not know filled in, where their value
    reads without a finding: each distinct new key read once (a fresh worker starts with empty
    memos, and a list repeats its values down a column), then the column looked up again. The
    cells left None (empty, a finding, hidden characters, not a memo key) are read one by one."""
    new = {}
    for key in set(itertools.compress(keys, map(operator.is_, got, itertools.repeat(None)))):
        raw, organ = key if by_organ else (key, None)
        if (type(raw) is not str) if by_organ else (type(raw) not in _BARE_KEYS):
            continue
        if type(raw) is str and len(raw) > _MEMO_MAX_TEXT:
            continue
        hidden, value, problem = read(raw, {"organ": organ} if organ is not None else {})
        if not hidden and problem is None and value is not None and value != "":
            new[key] = value
    if not new:
        return got
    if len(known) + len(new) > _FIELD_MEMO_LIMIT:
        known.clear()
    known.update(itertools.islice(new.items(), _FIELD_MEMO_LIMIT))
    return list(map(new.get, keys, got))


def _long_texts(column: list[Any], limit: int) -> list[Any]:
    """What the reader of a long-text field gives the cells that hold a text without hidden
    characters and within the limits, the column's texts searched and normalised by C-level maps:
    the text as ``normalise_long_text`` makes it, ``_BLANK`` for one that becomes empty, None where
    the cell is empty or the reader must decide (a hidden character, too long, not a text)."""
    got: list[Any] = [None] * len(column)
    at = [i for i, raw in enumerate(column) if type(raw) is str and len(raw) <= EXCEL_CELL_LIMIT]
    texts = [column[i] for i in at]
    hidden = list(map(HIDDEN.search, texts))
    normal = list(map(unicodedata.normalize, itertools.repeat("NFKC"), texts))  # type: ignore[arg-type]
    for i, found, text in zip(at, hidden, normal, strict=True):
        if found is not None:
            continue
        text = _trimmed_lines(text)  # normalise_long_text, the NFKC done above for the whole column
        if len(text) <= limit:
            got[i] = text or _BLANK
    return got


def _finish(
    path: str,
    record: RawRecord,
    values: dict[str, Any],
    findings: list[Finding],
    unusable: AbstractSet[str],
    context: RuleContext,
    reader: _RowReader,
    version: int,
) -> FileReport:
    """The rules that read a whole record, once its cells are read; its report."""
    cells = record.cells
    in_list = record.row is not None  # a list names sections by title: its 「F欄」 would be column F
    absent = reader.required_ids.difference(values, unusable)  # the usual case: none
    if absent:
        findings += _missing_required(
            reader.absent_specs(absent),
            values,
            unusable,
            cells,
            section_titles if in_list else None,
        )
    findings += _date_rules(values, cells, context)
    exclusions = list(  # the reasons whose exclusion field says 該当する, by C-level maps
        itertools.compress(
            _EXCLUSION_REASONS, map(operator.eq, map(values.get, _EXCLUSION_IDS), _EXCLUSION_APPLIES)
        )
    )
    findings += _exclusion_findings(values, cells, exclusions, context.config)
    findings += _lead_division_check(values, cells, reader.organisation)
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


_EXCLUSION_IDS = tuple(EXCLUSION_FIELDS)
_EXCLUSION_REASONS = tuple(EXCLUSION_FIELDS.values())
_EXCLUSION_APPLIES = itertools.repeat(EXCLUSION_APPLIES)


class VersionMismatch(Exception):
    """The workbook's template_version is not one this program reads."""


@dataclass(frozen=True)
class _Problem:
    code: str
    context: dict[str, Any]

    def at(self, field_id: str, cell: str) -> Finding:
        return make_finding(self.code, field=field_id, cell=cell, **self.context)


def _as_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def normalise_long_text(value: str) -> str:
    """NFKC and trimmed like other text, but line breaks kept."""
    return _trimmed_lines(unicodedata.normalize("NFKC", value))


def _trimmed_lines(text: str) -> str:
    """Each line of ``text`` with its white space runs made one space, the lines joined by "\\n"."""
    if text.isprintable():  # no line break of any kind (all are unprintable): one line
        return " ".join(text.split())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(lines).strip()


def _choice_key(text: str) -> str:
    """What must match for a typed choice to be that choice: width and spaces do not count."""
    return "".join(normalise_text(text).split())


@functools.lru_cache(maxsize=256)
def _choices_by_key(choices: tuple[str, ...]) -> dict[str, str]:
    return {_choice_key(c): c for c in choices}


def organisation_date(received: object, context: RuleContext) -> dt.date:
    """The date whose organisation a record is checked against: its received_date when readable,
    else the run's reference date (today when the run has none)."""
    if received is not None:
        with contextlib.suppress(DateProblem):
            if isinstance(found := parse_date(received), dt.date):
                return found
    return context.as_of or dt.date.today()


def _renamed(problem: _Problem, stored: Mapping[str, object], config: Config, on: dt.date) -> _Problem | None:
    """A department no longer in force on ``on`` because a reorganisation renamed or merged it."""
    organ = normalise_text(_as_text(stored.get("organ", "")))
    department = normalise_text(_as_text(stored.get("department", "")))
    found = config.successor(organ, department, on)
    if found is None:
        return None
    date, new_organ, new_department = found
    return _Problem(
        "department_renamed",
        {
            "value": department,
            "date": date.isoformat(),
            "successor": new_department if new_organ == organ else f"{new_organ} {new_department}",
            "received": on.isoformat(),
        },
    )


_MEMO_MAX_TEXT = 64  # characters: longer texts (summaries, names) rarely repeat


# Types whose values are memo keys by themselves: no value of one equals a value of another
# (a date never equals a datetime), unlike 1, 1.0 and True, which are keyed with their type.
_BARE_KEYS = frozenset({str, dt.date, dt.datetime, dt.time})
_FIELD_MEMO_LIMIT = 4096  # entries per field of a row reader; past it that memo starts again


class _RowReader:
    """How the cells of one form version are read under one organisation: one reader function per
    field, built once (the field's type and choices decided here, not for every cell), each with
    its own memo of short values (a list repeats its choices, dates and times on every row)."""

    __slots__ = (
        "absent_in_order",
        "cells",
        "ids",
        "known",
        "organisation",
        "required",
        "required_by_id",
        "required_ids",
        "required_rank",
    )

    def __init__(self, fields: tuple[Field, ...], organisation: Organisation) -> None:
        self.organisation = organisation
        self.cells = tuple((spec.id, spec, *_cell_reader(spec, organisation)) for spec in fields)
        self.ids = tuple(spec.id for spec in fields)
        # Per field, the values kept of the cells read without a finding: raw cell value (with the
        # organ, for a department) -> normalised value; None for long texts, which are never memoised.
        self.known: tuple[dict | None, ...] = tuple(
            None if spec.type is FieldType.LONG_TEXT else {} for spec in fields
        )
        self.required = tuple(spec for spec in fields if spec.required)  # what _missing_required reads
        self.required_by_id = {spec.id: spec for spec in self.required}
        self.required_ids = frozenset(self.required_by_id)
        self.required_rank = {field_id: rank for rank, field_id in enumerate(self.required_by_id)}
        self.absent_in_order: dict[frozenset[str], tuple[Field, ...]] = {}

    def absent_specs(self, absent: frozenset[str]) -> tuple[Field, ...]:
        """The required fields of ``absent`` (ids), in field order; kept per set of ids."""
        specs = self.absent_in_order.get(absent)
        if specs is None:
            ordered = sorted(absent, key=self.required_rank.__getitem__)
            specs = tuple(map(self.required_by_id.__getitem__, ordered))
            if len(self.absent_in_order) >= _FIELD_MEMO_LIMIT:
                self.absent_in_order.clear()
            self.absent_in_order[absent] = specs
        return specs


def _cell_reader(spec: Field, organisation: Organisation) -> tuple[dict | None, Any]:
    """``read(value, earlier) -> (hidden characters removed, normalised value, problem)`` for ``spec``,
    and the memo of its text values keyed by the value alone (None where the key needs more).

    The same value of the same field (and organ, for a department) reads the same: values up to
    ``_MEMO_MAX_TEXT`` characters are memoised; long texts, which rarely repeat, never are."""
    memo: dict[Any, tuple] = {}
    by_organ = spec.choices_from == "departments"
    never = spec.type is FieldType.LONG_TEXT
    text = _text_converter(spec) if spec.type in (FieldType.TEXT, FieldType.LONG_TEXT) else None

    def uncached(value: object, earlier: Mapping[str, Any]) -> tuple:
        hidden = find_hidden(value) if isinstance(value, str) else []
        if hidden:
            value = remove_hidden(value)  # type: ignore[arg-type]
        if text is not None:
            return (hidden, *text(value))
        return (hidden, *_normalise(spec, value, organisation, earlier))

    def read(value: object, earlier: Mapping[str, Any]) -> tuple:
        if never:
            return uncached(value, earlier)
        if type(value) is str and len(value) > _MEMO_MAX_TEXT:
            return uncached(value, earlier)
        if by_organ:
            key: Any = (type(value), value, earlier.get("organ"))
        elif type(value) in _BARE_KEYS:
            key = value
        else:  # 1, 1.0 and True are equal keys: the type tells them apart
            key = (type(value), value, None)
        found = memo.get(key)
        if found is None:
            found = uncached(value, earlier)
            if len(memo) >= _FIELD_MEMO_LIMIT:
                memo.clear()
            memo[key] = found
        return found

    return (None if never or by_organ else memo), read


def _text_converter(spec: Field):
    """``_normalise`` for a free text field (not a choice), with what it reads of ``spec`` decided once."""
    normalise = normalise_long_text if spec.type is FieldType.LONG_TEXT else normalise_text
    limit = spec.length_limit
    is_record_id = spec.id == "record_id"

    def convert(value: object) -> tuple[Any, _Problem | None]:
        if isinstance(value, str) and len(value) > EXCEL_CELL_LIMIT:
            return None, _Problem("too_long", {"length": len(value), "limit": EXCEL_CELL_LIMIT})
        text = normalise(value if type(value) is str else _as_text(value))
        if is_record_id:
            if not RECORD_ID.fullmatch(text):
                return None, _Problem("invalid_record_id", {"value": text})
            text = text.upper()  # r7-0001 and R7-0001 are one record
        if len(text) > limit:
            return text, _Problem("too_long", {"length": len(text), "limit": limit})
        return text, None

    return convert


def _normalise(
    spec: Field, value: object, organisation: Organisation, earlier: Mapping[str, Any]
) -> tuple[Any, _Problem | None]:
    """A cell value → its normalised form, or the problem that stops it being read.

    ``earlier`` holds the fields already read (the organ, when reading the department).
    """
    if isinstance(value, str) and len(value) > EXCEL_CELL_LIMIT:  # any field, before parsing it
        return None, _Problem("too_long", {"length": len(value), "limit": EXCEL_CELL_LIMIT})
    if spec.type is FieldType.DATE:
        try:
            return parse_date(value), None
        except DateProblem as e:
            return None, _Problem(e.code, {"detail": e.detail, "hint": e.hint})
    if spec.type is FieldType.TIME:
        try:
            return parse_time(value), None
        except DateProblem as e:
            return None, _Problem(e.code, {"detail": e.detail})
    text = value if type(value) is str else _as_text(value)
    text = normalise_long_text(text) if spec.type is FieldType.LONG_TEXT else normalise_text(text)
    if spec.is_choice:
        organ = earlier.get("organ")
        choices = spec.allowed_values(organisation, organ)
        if text in choices:  # the usual case: picked from the dropdown
            return text, None
        chosen = _choices_by_key(choices).get(_choice_key(text))
        if chosen is not None:
            return chosen, None
        if spec.choices_from == "departments" and organ is not None:
            return None, _Problem(
                "department_not_in_organ", {"value": text, "organ": organ, "choices": "、".join(choices)}
            )
        return None, _Problem("invalid_choice", {"value": text, "choices": "、".join(choices)})
    if spec.id == "record_id":
        if not RECORD_ID.fullmatch(text):
            return None, _Problem("invalid_record_id", {"value": text})
        text = text.upper()  # r7-0001 and R7-0001 are one record
    if len(text) > spec.length_limit:
        return text, _Problem("too_long", {"length": len(text), "limit": spec.length_limit})
    return text, None


def _missing_required(
    fields: tuple[Field, ...],
    values: Mapping[str, Any],
    unusable: AbstractSet[str],
    cells: Mapping[str, str],
    sections: Callable[[str, str], str] | None = None,
) -> list[Finding]:
    findings = []
    for spec in fields:
        if spec.id in values or spec.id in unusable:
            continue
        reasons = [r for r in spec.required if r.applies(values)]
        if not reasons:
            continue
        errors = [r for r in reasons if r.severity == "error"]
        reason = errors[0] if errors else reasons[0]
        code = reason.code or ("required_missing" if reason.severity == "error" else "recommended_missing")
        findings.append(
            make_finding(code, field=spec.id, cell=cells[spec.id], condition=reason.describe(sections))
        )
    return findings


def _date_rules(values: Mapping[str, Any], cells: Mapping[str, str], context: RuleContext) -> list[Finding]:
    findings = []
    present = list(filter(values.__contains__, DATE_CHAIN))
    dates = list(map(values.__getitem__, present))
    # The usual case, the chain in order, decided by C-level comparisons of the same pairs.
    if any(map(operator.lt, dates[1:], dates)):
        pairs = list(itertools.pairwise(present)) + _DATE_NOT_BEFORE_PAIRS
    else:
        pairs = _DATE_NOT_BEFORE_PAIRS
    for earlier, later in pairs:
        if earlier in values and later in values and values[later] < values[earlier]:
            findings.append(
                make_finding(
                    "date_order",
                    field=later,
                    cell=cells[later],
                    value=values[later].isoformat(),
                    other_label=FIELD_BY_ID[earlier].label,
                    other_value=values[earlier].isoformat(),
                )
            )
    if context.as_of is not None:
        findings += future_dates(values, cells, context.as_of)
    received, reported = values.get("received_date"), values.get("reported_date")
    rules = context.config.rules
    if received is not None and received < rules.operation_start:
        findings.append(
            make_finding(
                "received_before_operation",
                field="received_date",
                cell=cells["received_date"],
                value=received.isoformat(),
                start=rules.operation_start.isoformat(),
            )
        )
    if received is not None and reported is not None and (reported - received).days > rules.report_due_days:
        findings.append(
            make_finding(
                "report_late",
                field="reported_date",
                cell=cells["reported_date"],
                value=reported.isoformat(),
                days=(reported - received).days,
                limit=rules.report_due_days,
            )
        )
    return findings


_DATE_NOT_BEFORE_PAIRS = [(earlier, later) for later, earlier in DATE_NOT_BEFORE]


def future_dates(values: Mapping[str, Any], cells: Mapping[str, str], as_of: dt.date) -> list[Finding]:
    """No date may lie after the run's reference date."""
    return [
        make_finding(
            "date_in_future",
            field=field_id,
            cell=cells[field_id],
            value=values[field_id].isoformat(),
            as_of=as_of.isoformat(),
        )
        for field_id in DATE_FIELD_IDS
        if field_id in values and values[field_id] > as_of
    ]


def _lead_division_check(
    values: Mapping[str, Any], cells: Mapping[str, str], organisation: Organisation
) -> list[Finding]:
    """The 主管課 written should be the one configured for the department in the record's period."""
    written = values.get("lead_division")
    expected = organisation.lead_division(values.get("organ", ""), values.get("department", ""))
    if written and expected and written != expected and "".join(written.split()) != "".join(expected.split()):
        return [
            make_finding(
                "lead_division_unexpected",
                field="lead_division",
                cell=cells["lead_division"],
                value=written,
                department=values.get("department"),
                expected=expected,
            )
        ]
    return []


def _exclusion_findings(
    values: Mapping[str, Any], cells: Mapping[str, str], exclusions: list[str], config: Config
) -> list[Finding]:
    """An exclusion that applies is noted; one that seems to apply but was not ticked is a warning."""
    if exclusions:
        reasons = "、".join(EXCLUSION_LABELS_JA[r] for r in exclusions)
        first = next(f for f, r in EXCLUSION_FIELDS.items() if r == exclusions[0])
        findings = [make_finding("exclusion_applies", field=first, cell=cells[first], reasons=reasons)]
        if values.get("supervisor_judgement") == APPLICABLE:
            findings.append(
                make_finding(
                    "exclusion_with_judgement",
                    field="supervisor_judgement",
                    cell=cells["supervisor_judgement"],
                )
            )
        return findings
    findings = []
    for field_id, reason, pattern in _hint_patterns(config.exclusion_hints):
        if reason == "official_document" and values.get("method") != METHOD_DOCUMENT:
            continue
        match = _first_match(values, pattern, HINT_FIELDS[reason])
        if match:
            source, keyword = match
            findings.append(
                make_finding(
                    "exclusion_suspected",
                    field=field_id,
                    cell=cells[field_id],
                    label=FIELD_BY_ID[source].label,
                    keyword=keyword,
                    reason=EXCLUSION_LABELS_JA[reason],
                )
            )
    return findings


_HINTS_READ: list[Any] = [None, ()]  # the exclusion hints last read, and _hint_patterns of them


def _hint_patterns(hints: Any) -> tuple[tuple[str, str, re.Pattern | None], ...]:
    """(exclusion field, reason, pattern of its keywords) of each exclusion, for the config's
    hints (kept for the hints object last read: a run reads one config)."""
    if _HINTS_READ[0] is not hints:
        _HINTS_READ[1] = tuple(
            (field_id, reason, _keyword_pattern(getattr(hints, reason)))
            for field_id, reason in EXCLUSION_FIELDS.items()
        )
        _HINTS_READ[0] = hints
    return _HINTS_READ[1]


def _first_match(
    values: Mapping[str, Any], pattern: re.Pattern | None, fields: tuple[str, ...]
) -> tuple[str, str] | None:
    """The first of ``fields`` whose text ``pattern`` finds a keyword in, and that keyword."""
    if pattern is None:
        return None
    for field_id in fields:
        text = values.get(field_id)
        if isinstance(text, str) and (m := pattern.search(text)):
            return field_id, m.group(0)
    return None


@functools.lru_cache(maxsize=64)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern | None:
    """One pattern for a list of keywords (compared after the same normalisation as the text)."""
    normalised = sorted({normalise_text(k) for k in keywords if k.strip()}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, normalised))) if normalised else None


def _personal_data(values: Mapping[str, Any], cells: Mapping[str, str]) -> list[Finding]:
    """Names, affiliations and contact data written into the fields that will be published.

    What is surely personal data is an error; what only may be (a family name alone, which
    may also be an ordinary word) a warning — see ``personal_data.find_personal_data``.
    """
    scanner: Scanner | None = None
    findings = []
    for field_id in PUBLIC_TEXT_FIELDS:
        text = values.get(field_id)
        if not isinstance(text, str):
            continue
        if scanner is None:
            scanner = _scanner(values)
        for hit in scanner.find(text):
            code = "personal_data_in_public" if hit.error else "personal_data_suspected"
            findings.append(
                make_finding(code, field=field_id, cell=cells[field_id], kind=hit.kind, found=hit.found)
            )
    return findings


_IDENTITY_FIELD_IDS = tuple(PRIVATE_IDENTITY_FIELDS)
_SCANNERS: dict[tuple, Scanner] = {}  # a record's identity texts -> their scanner (short texts only)


def _scanner(values: Mapping[str, Any]) -> Scanner:
    """The personal-data scanner of a record's names and affiliations, kept per distinct set of
    them when each is short (a list's rows often share the staff member and the requester)."""
    key = tuple(map(values.get, _IDENTITY_FIELD_IDS))
    scanner = _SCANNERS.get(key)
    if scanner is None:
        scanner = Scanner(
            [
                Identity(label, text, role)
                for text, (_, label, role) in zip(key, _IDENTITY_LABELS, strict=True)
                if isinstance(text, str)
            ]
        )
        if all(type(text) is not str or len(text) <= _MEMO_MAX_TEXT for text in key):
            if len(_SCANNERS) >= _FIELD_MEMO_LIMIT:
                _SCANNERS.clear()
            _SCANNERS[key] = scanner
    return scanner
