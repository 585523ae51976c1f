"""Dates as people type them: Excel dates and serials, ISO text and 和暦; fiscal years."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: dt.date
    end: dt.date | None  # last day, inclusive

    def year_of(self, day: dt.date) -> int:
        return day.year - self.start.year + 1


ERAS: tuple[Era, ...] = (
    Era("令和", "R", dt.date(2019, 5, 1), None),
    Era("平成", "H", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("昭和", "S", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("大正", "T", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
)
_ERA_BY_KEY = {key: era for era in ERAS for key in (era.name, era.letter)}


class DateProblem(ValueError):
    """A value that is not a valid date; ``code`` is a finding code, ``hint`` a correction."""

    def __init__(self, code: str, detail: str, hint: str = ""):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.hint = hint


@functools.cache
def _control_pattern() -> re.Pattern[str]:
    return re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_text(value: str) -> str:
    """NFKC (full-width → half-width), trimmed, inner runs of white space folded to one,
    control characters (which no spreadsheet can store) removed."""
    return " ".join(_control_pattern().sub("", unicodedata.normalize("NFKC", value)).split())


_SEP = r"\s*(?:[./\-]|年|月)\s*"


@functools.cache
def _era_date_pattern() -> re.Pattern[str]:
    return re.compile(
        r"(?P<era>令和|平成|昭和|大正|[RHST])\s*(?P<y>元|\d{1,2})"
        + _SEP
        + r"(?P<m>\d{1,2})"
        + _SEP
        + r"(?P<d>\d{1,2})\s*日?",
        re.IGNORECASE,
    )


@functools.cache
def _western_date_pattern() -> re.Pattern[str]:
    return re.compile(r"(?P<y>\d{4})" + _SEP + r"(?P<m>\d{1,2})" + _SEP + r"(?P<d>\d{1,2})\s*日?")


# What may follow a date and is not part of it: a day of the week, a time of day.
@functools.cache
def _date_suffix_pattern() -> re.Pattern[str]:
    return re.compile(
        r"\s*(?:\((?:月|火|水|木|金|土|日)(?:曜日?)?\))?\s*(?:[ T]?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
    )


@functools.cache
def _compact_date_pattern() -> re.Pattern[str]:
    return re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")


_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 once Excel's 1900 leap-year bug is allowed for
# A date before this is not one someone meant: a year (2025) or a day (14) typed into a date cell.
MIN_PLAUSIBLE_DATE = dt.date(1950, 1, 1)
MIN_PLAUSIBLE_SERIAL = (MIN_PLAUSIBLE_DATE - _EXCEL_EPOCH).days


def era_year(day: dt.date) -> str:
    """令和7年; 元年 for the first year of an era."""
    era = era_of(day)
    year = era.year_of(day)
    return f"{era.name}{'元' if year == 1 else year}年"


@functools.lru_cache(maxsize=4096)  # the monthly page and the ledger show the same days again and again
def to_wareki(day: dt.date, *, letter: bool = False) -> str:
    """令和7年3月1日 (or R7.3.1 with ``letter``)."""
    if letter:
        era = era_of(day)
        return f"{era.letter}{era.year_of(day)}.{day.month}.{day.day}"
    return f"{era_year(day)}{day.month}月{day.day}日"


def to_wareki_month(day: dt.date) -> str:
    """令和7年6月."""
    return f"{era_year(day)}{day.month}月"


def era_of(day: dt.date) -> Era:
    for era in ERAS:
        if day >= era.start:
            return era
    raise DateProblem("date_out_of_range", f"{day.isoformat()}は対応していない古い日付です")


def from_excel_serial(serial: float) -> dt.date:
    if not MIN_PLAUSIBLE_SERIAL <= serial < 2958466:
        shown = int(serial) if float(serial).is_integer() else serial
        raise DateProblem("invalid_date", f"数値「{shown}」は日付として読めません")
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_date(value: object) -> dt.date:
    """Read a date cell's value; raise ``DateProblem`` with a Japanese reason and hint."""
    day = _parse_date(value)
    if day < MIN_PLAUSIBLE_DATE:  # a number typed into a date cell shows as 1905/7/17
        raise DateProblem(
            "invalid_date",
            f"{day.year}年{day.month}月{day.day}日は日付として考えられません（数値を入力した可能性）",
        )
    return day


def _parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise DateProblem("invalid_date", f"「{value}」は日付として読めません")
    if isinstance(value, (int, float)):
        return from_excel_serial(float(value))
    text = normalise_text(str(value))
    core = _date_suffix_pattern().sub("", text, count=1) if text else text
    if m := _era_date_pattern().fullmatch(core):
        return _era_date(m)
    if m := (_western_date_pattern().fullmatch(core) or _compact_date_pattern().fullmatch(core)):
        return _calendar_date(int(m["y"]), int(m["m"]), int(m["d"]), text)
    raise DateProblem("invalid_date", f"「{text}」は日付として読めません")


def _calendar_date(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        import calendar  # only for the message

        if not 1 <= month <= 12:
            reason = "月は1から12まで"
        elif day < 1:
            reason = "日は1から"
        elif month == 2 and dt.MINYEAR <= year <= dt.MAXYEAR:
            reason = f"{year}年の2月は{calendar.monthrange(year, 2)[1]}日まで"
        else:  # the month's last day (a year outside the calendar: 2月 as in a leap year)
            reason = f"{month}月は{calendar.monthrange(2000, month)[1]}日まで"
        raise DateProblem("impossible_date", f"「{text}」は存在しない日付です（{reason}）") from None


def _era_date(m: re.Match) -> dt.date:
    era = _ERA_BY_KEY[m["era"].upper() if len(m["era"]) == 1 else m["era"]]
    era_year = 1 if m["y"] == "元" else int(m["y"])
    text = m.group(0)
    if era_year == 0:
        raise DateProblem("impossible_date", f"「{text}」の年が0です（{era.name}は元年から）")
    day = _calendar_date(era.start.year + era_year - 1, int(m["m"]), int(m["d"]), text)
    if day < era.start or (era.end is not None and day > era.end):
        try:
            hint = to_wareki(day)
        except DateProblem:
            hint = day.isoformat()
        raise DateProblem("era_out_of_range", f"「{text}」は{era.name}の期間外の日付です", hint=hint)
    return day


@functools.cache
def _time_pattern() -> re.Pattern[str]:
    return re.compile(r"(?P<h>\d{1,2})\s*(?::|時)\s*(?P<m>\d{1,2})\s*分?(?::(?P<s>\d{1,2}))?")


def parse_time(value: object) -> dt.time:
    """Read a time: an Excel time, a fraction of a day, or text such as 14:30 / 14時30分."""
    if isinstance(value, dt.datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, dt.time):
        return value.replace(microsecond=0)
    if isinstance(value, dt.timedelta):
        value = value.total_seconds() / 86400
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1:
        minutes = min(round(value * 1440), 1439)  # 23:59:59.9 is still the last minute of the day
        return dt.time(minutes // 60, minutes % 60)
    text = normalise_text(str(value))
    if m := _time_pattern().fullmatch(text):
        hour, minute = int(m["h"]), int(m["m"])
        if hour < 24 and minute < 60:
            return dt.time(hour, minute)
    raise DateProblem("invalid_time", f"「{text}」は時刻として読めません（例: 14:30）")


@dataclass(frozen=True, order=True)
class FiscalYear:
    """A fiscal year April–March, named by the calendar year it starts in (2025 = 令和7年度)."""

    start_year: int

    @property
    def start(self) -> dt.date:
        return dt.date(self.start_year, 4, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.start_year + 1, 3, 31)

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        """令和7年度 (2025年度); the era is that of the year's start."""
        return f"{era_year(self.start)}度"

    @property
    def label_with_western(self) -> str:
        return f"{self.label}（{self.start_year}年度）"

    @classmethod
    def of(cls, day: dt.date) -> FiscalYear:
        return cls(day.year if day.month >= 4 else day.year - 1)

    @classmethod
    def parse(cls, text: str) -> FiscalYear:
        """``2025``, ``R7``, ``令和7``, ``令和7年度``, ``2025年度`` → FiscalYear(2025)."""
        t = normalise_text(text).removesuffix("年度")
        if re.fullmatch(r"\d{4}", t):
            return cls(int(t))
        if m := re.fullmatch(r"(令和|平成|[RH])\s*(元|\d{1,2})", t, re.IGNORECASE):
            era = _ERA_BY_KEY[m[1].upper() if len(m[1]) == 1 else m[1]]
            return cls(era.start.year + (1 if m[2] == "元" else int(m[2])) - 1)
        raise ValueError(f"年度「{text}」が読めません（例: 2025、R7、令和7）")

    def __str__(self) -> str:
        return str(self.start_year)
