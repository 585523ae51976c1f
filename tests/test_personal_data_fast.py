"""The fast personal-data scan (pre-filters, lazily compiled patterns, one Scanner per record) finds
exactly what the previous implementation found (kept in personal_data_oracle.py as the oracle)."""

from __future__ import annotations

import personal_data_oracle as oracle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_tools.check import personal_data
from ledger_tools.check.personal_data import Identity, Scanner, find_personal_data

# Pieces the patterns look for, and pieces that look like them without being them.
FRAGMENTS = [
    *"0123456789０１２３４５７",
    *"-ー－‐・ 　\n.@:：()（）〒#",
    "山田",
    "太郎",
    "田中",
    "鈴木",
    "花子",
    "県庁",
    "一郎",
    "ヤマダ",
    "スミス",
    "様",
    "さん",
    "氏",
    "殿",
    "君",
    "氏名",
    "様式",
    "課長",
    "社長",
    "代表取締役",
    "株式会社",
    "(株)",
    "㈱",
    "有限会社",
    "NPO法人",
    "一般社団法人",
    "建設",
    "開発",
    "工業",
    "道路建設課",
    "県土整備部",
    "電話",
    "TEL",
    "携帯",
    "FAX",
    "連絡先",
    "郵便番号",
    "住所",
    "東京都",
    "千代田区",
    "○○市",
    "△△町",
    "丁目",
    "番地",
    "番",
    "号",
    "第",
    "No.",
    "工事番号",
    "円",
    "万",
    "件",
    "年",
    "月",
    "日",
    "yamada",
    "taro",
    "example",
    "co",
    "jp",
    "com",
    "at",
    "dot",
    "アット",
    "ドット",
    "アットマーク",
    "の",
    "を",
    "に",
    "、",
    "。",
    "入札",
    "予定価格",
    "事業者",
    "会議",
    "方法",
    "\u200b",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join)
NAMES = ["山田 太郎", "田中", "県庁 一郎", "林 学", "スミス", "なし", "山田太郎、鈴木花子", "ヤマダ タロウ"]
AFFILIATIONS = [
    "山田建設株式会社",
    "(株)開発",
    "建設工業",
    "ヤマダ電機",
    "個人",
    "一般社団法人 田中会",
    "田中工務店 営業部",
]
SECTIONS = ["道路建設課", "県土整備部 道路建設課", "総務課"]
identities = st.tuples(
    st.sampled_from(NAMES), st.sampled_from(NAMES), st.sampled_from(AFFILIATIONS), st.sampled_from(SECTIONS)
).map(
    lambda t: [
        ("相手方の氏名", t[0], "name"),
        ("職員氏名", t[1], "name"),
        ("相手方の所属", t[2], "affiliation"),
        ("所属", t[3], "section"),
    ]
)


def _as_tuples(hits) -> list[tuple]:
    return [(h.kind, h.found, h.error, h.start, h.end) for h in hits]


def _both(text: str, ids: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    new = find_personal_data(text, [Identity(*i) for i in ids])
    old = oracle.find_personal_data(text, [oracle.Identity(*i) for i in ids])
    return _as_tuples(new), _as_tuples(old)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, identities)
def test_the_fast_scan_finds_what_the_previous_one_found(text, ids):
    new, old = _both(text, ids)
    assert new == old


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), identities)
def test_the_fast_scan_agrees_on_any_text(text, ids):
    new, old = _both(text, ids)
    assert new == old


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=1, max_size=3), identities)
def test_one_scanner_for_several_texts_finds_what_one_call_per_text_finds(several, ids):
    scanner = Scanner([Identity(*i) for i in ids])
    for text in several:
        assert _as_tuples(scanner.find(text)) == _both(text, ids)[1]


def test_the_pre_filters_hold_what_every_match_needs():
    # Every legal form holds one of the parts looked for before _CORPORATE runs.
    for form in personal_data._LEGAL_FORMS:
        assert any(part in form for part in personal_data._LEGAL_FORM_PARTS), form
    # Every honorific of _HONORIFIC is one of the marks looked for before it runs.
    for mark in ("様", "氏", "さん", "殿", "君"):
        assert mark in personal_data._HONORIFIC_MARKS
        assert personal_data._ANY_TRIGGER.search(mark) is not None
    for part in personal_data._LEGAL_FORM_PARTS:
        assert personal_data._ANY_TRIGGER.search(part) is not None


@pytest.mark.parametrize(
    "text",
    [
        "担当の山田様から電話03-1234-5678があった。",
        "株式会社山田建設の〒100-0001東京都千代田区1丁目2番3号",
        "yamada(at)example.co.jp 宛",
        "建設工事の入札に関し、事業者から予定価格を教えるよう求められた。",
    ],
)
def test_known_texts_agree(text):
    ids = [("相手方の氏名", "山田 太郎", "name"), ("相手方の所属", "山田建設株式会社", "affiliation")]
    new, old = _both(text, ids)
    assert new == old
