import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_tools.dates import (
    MIN_PLAUSIBLE_DATE,
    DateProblem,
    FiscalYear,
    normalise_text,
    parse_date,
    parse_time,
    to_wareki,
)


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-01",
        "2025/3/1",
        "2025年3月1日",
        "令和7年3月1日",
        "R7.3.1",
        "R07/03/01",
        "Ｒ７．３．１",
        "r7.3.1",
        "令和７年３月１日",
        " 2025/03/01 ",
        "2025-03-01 00:00:00",
        45717,
        45717.0,
        dt.datetime(2025, 3, 1, 0, 0),
    ],
)
def test_every_form_of_the_spec_reads_as_the_same_day(text):
    assert parse_date(text) == dt.date(2025, 3, 1)


def test_first_year_of_an_era_is_gannen():
    assert parse_date("令和元年5月1日") == dt.date(2019, 5, 1)
    assert parse_date("平成31年4月30日") == dt.date(2019, 4, 30)
    assert to_wareki(dt.date(2019, 5, 1)) == "令和元年5月1日"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("平成31年5月1日", "令和元年5月1日"),
        ("平成32年1月1日", "令和2年1月1日"),
        ("令和元年4月30日", "平成31年4月30日"),
    ],
)
def test_a_date_past_its_era_is_refused_with_the_right_name(text, hint):
    with pytest.raises(DateProblem) as caught:
        parse_date(text)
    assert caught.value.code == "era_out_of_range"
    assert caught.value.hint == hint


@pytest.mark.parametrize("text", ["令和7年2月30日", "2025/2/29", "R7.13.1"])
def test_impossible_dates_are_refused(text):
    with pytest.raises(DateProblem) as caught:
        parse_date(text)
    assert caught.value.code == "impossible_date"


@pytest.mark.parametrize("text", ["来週", "3月1日", "2025/3", "R7", True])
def test_text_that_is_not_a_date_is_refused(text):
    with pytest.raises(DateProblem) as caught:
        parse_date(text)
    assert caught.value.code == "invalid_date"


@pytest.mark.parametrize("value", ["14:30", "１４：３０", "14時30分", dt.time(14, 30), 0.6041666666666666])
def test_times(value):
    assert parse_time(value) == dt.time(14, 30)


def test_fiscal_years_and_their_names():
    assert FiscalYear.parse("2025") == FiscalYear.parse("R7") == FiscalYear.parse("令和7") == FiscalYear(2025)
    assert FiscalYear.parse("令和7年度") == FiscalYear(2025)
    fy = FiscalYear(2025)
    assert (fy.start, fy.end, fy.label) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31), "令和7年度")
    assert FiscalYear.of(dt.date(2025, 3, 1)) == FiscalYear(2024)  # the first month of operation is 令和6年度
    with pytest.raises(ValueError):
        FiscalYear.parse("来年")


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=MIN_PLAUSIBLE_DATE, max_value=dt.date(2100, 12, 31)))
def test_any_wareki_date_reads_back_in_every_written_form(day):
    assert parse_date(to_wareki(day)) == day
    assert parse_date(to_wareki(day, letter=True)) == day
    full_width = to_wareki(day, letter=True).translate(
        str.maketrans("0123456789.RHST", "０１２３４５６７８９．ＲＨＳＴ")
    )
    assert parse_date(full_width) == day
    assert parse_date(day.strftime("%Y/%m/%d")) == day


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_text_normalisation_is_trimmed_folded_and_idempotent(text):
    once = normalise_text(text)
    assert once == normalise_text(once)
    assert once == once.strip()
    assert "  " not in once


@given(st.text(alphabet="０１２３４５６７８９ＡＢＣａｂｃ　", max_size=20))
def test_full_width_letters_and_digits_become_half_width(text):
    assert all(ord(ch) < 128 for ch in normalise_text(text))


@pytest.mark.parametrize("value", [2025, 14, dt.date(1905, 7, 17), "昭和20年8月15日"])
def test_dates_nobody_meant_are_refused(value):
    with pytest.raises(DateProblem) as caught:
        parse_date(value)
    assert caught.value.code == "invalid_date"


def test_control_characters_are_dropped():
    assert normalise_text("a\x01b\x7f c") == "ab c"
