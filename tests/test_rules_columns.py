"""Reading a list's cells a field at a time over all rows gives exactly what reading each record
on its own gives (``rules_oracle``): the same findings in the same order, values, statuses."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import REORGANISATION
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_oracle import evaluate_one

from ledger_tools.check.reading import RawRecord, RowCells, column_letter
from ledger_tools.check.rules import RuleContext, evaluate_records
from ledger_tools.config import default_config_text, load_config
from ledger_tools.form.fields import FIELD_IDS, TEMPLATE_VERSION, field_ids_for
from ledger_tools.form.samples import complete_values

AS_OF = dt.date(2026, 11, 25)
BASE = complete_values()
COLUMNS = {f: f"一覧!{column_letter(i + 1)}" for i, f in enumerate(FIELD_IDS)}
# Cell values a list holds besides the sample's: blanks, width variants, hidden characters,
# numbers of three types that compare equal, dates written every way, bad choices, long texts.
OTHER_VALUES = [
    None,
    "",
    "　",
    "該当しない",
    "該当する",
    "ｘ",
    "???",
    "伝えた\u200b",
    "知事部局",
    "教育委員会",
    "県土整備部",
    "県土整備局",
    "総務部",
    "1",
    1,
    1.0,
    True,
    45818.0,
    dt.date(2025, 6, 1),
    dt.date(2026, 5, 1),
    dt.datetime(2025, 6, 1, 10, 30),
    dt.time(10, 30),
    "2025-06-10",
    "令和7年6月10日",
    "10:30",
    "山田 太郎",
    "山田建設株式会社の山田太郎さんから電話 090-1234-5678",
    "会議録\n二行目\r\n三行目",
    "x" * 70,
    "長" * 300,
    "ｱｲｳ　ＡＢＣ　\n　",  # width variants, a line break, spaces that normalise away
    "\n \u3000\n",  # nothing once normalised
    "\u2028段落",  # a line break that splitlines knows
    "超" * 33_000,  # longer than a cell may hold
]


@st.composite
def _record(draw, row: int) -> RawRecord:
    values = dict(BASE)
    for field_id in draw(st.lists(st.sampled_from(FIELD_IDS), max_size=8, unique=True)):
        values[field_id] = draw(st.sampled_from(OTHER_VALUES))
    values = {f: v for f, v in values.items() if v is not None}
    unreadable = draw(st.lists(st.sampled_from(FIELD_IDS), max_size=2, unique=True))
    formulas = frozenset(unreadable[:1])
    errors = dict.fromkeys(unreadable[1:], "#DIV/0!")
    return RawRecord(row, values, RowCells(COLUMNS, row), formulas, errors)


@st.composite
def _records(draw) -> list[RawRecord]:
    count = draw(st.integers(1, 12))
    records = [draw(_record(4 + i)) for i in range(count)]
    copies = draw(st.lists(st.integers(0, count - 1), max_size=4))  # repeated rows: the memos' work
    return records + [records[i] for i in copies]


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "設定.toml"
    path.write_text(default_config_text() + REORGANISATION, encoding="utf-8")
    return [load_config(), load_config(path)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_records(), which=st.integers(0, 1), version=st.sampled_from([1, TEMPLATE_VERSION]))
def test_reading_by_column_gives_what_reading_each_record_gives(configs, records, which, version):
    config = configs[which]
    columns = RuleContext(config, AS_OF)
    one_by_one = RuleContext(config, AS_OF)
    version_fields = set(field_ids_for(version))
    records = [
        RawRecord(
            r.row,
            {f: v for f, v in r.values.items() if f in version_fields},
            r.cells,
            frozenset(f for f in r.formulas if f in version_fields),
            {f: e for f, e in r.errors.items() if f in version_fields},
        )
        for r in records
    ]
    for _ in range(2):  # the second time with every memo filled
        got = evaluate_records("一覧.xlsx", records, columns, version)
        expected = [evaluate_one("一覧.xlsx", r, one_by_one, version) for r in records]
        assert got == expected
        assert [list(r.values.items()) for r in got] == [list(r.values.items()) for r in expected]
