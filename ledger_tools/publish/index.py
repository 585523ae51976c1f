"""DIR/publication/ itself (spec form-v2 §3): the index of every published year and the open data of
all years together. Everything here is read from what each year's folder holds (its summary.json
and its CSVs), never recomputed from today's ledger, so a past publication stays as it was."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ledger_tools.dates import FiscalYear, to_wareki
from ledger_tools.outputs import csv_bytes
from ledger_tools.pages import template_environment
from ledger_tools.publish.csv_text import BOM, csv_line
from ledger_tools.publish.errors import PublicationError
from ledger_tools.publish.figures import COUNT_LABELS, DATE_HEADERS, Site
from ledger_tools.publish.folder import Content, content_size
from ledger_tools.publish.open_data import (
    CODE_HEADER,
    COUNTS_HEADER,
    SUMMARY_FILE,
    SUMMARY_FORMAT,
    records_header,
)
from ledger_tools.publish.page import PAGE_FILE, STYLESHEET_FILE, human_size, stylesheet

INDEX_TEMPLATE = "publication_index.html.j2"
RECORDS_ALL = "records_all.csv"
COUNTS_ALL = "counts_all.csv"
DATAPACKAGE_FILE = "datapackage.json"
YEAR_HEADER = "年度"
MIXED_DATE_HEADER = (
    "働きかけを受けた日又は月"  # records_all.csv when the years were published at different precisions
)


@dataclass(frozen=True)
class PublishedYear:
    """One year's folder as it was published: its numbers (summary.json) and its files."""

    fiscal_year: FiscalYear
    label: str
    as_of: str
    prefecture_code: str
    date_precision: str
    counts: Mapping[str, int]
    by_organ: Mapping[str, int]
    records_file: str
    counts_file: str
    path: Path  # the folder its files are read from (the staged one while it is being published)
    site: Site = field(default_factory=Site)
    last_posted: str = ""  # the page's 更新日 (or 掲載日), ISO; "" from a summary without it

    @property
    def folder(self) -> str:
        return str(self.fiscal_year)


def published_years(parent: Path, staged: Mapping[str, Path] | None = None) -> tuple[PublishedYear, ...]:
    """Every year folder of DIR/publication/ that holds a summary, newest first; ``staged`` names the
    folders about to replace some years (read instead of theirs). A folder written by a version
    without summary.json is left out of the index (publishing that year again adds it)."""
    folders = {f.name: f for f in (parent.iterdir() if parent.is_dir() else ()) if f.is_dir()}
    folders.update(staged or {})
    years = []
    for name, folder in sorted(folders.items(), reverse=True):
        if name.isdigit() and (folder / SUMMARY_FILE).is_file():
            years.append(_read_summary(folder / SUMMARY_FILE))
    return tuple(years)


def _read_summary(path: Path) -> PublishedYear:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["format"] != SUMMARY_FORMAT:
            raise ValueError(data["format"])
        return PublishedYear(
            FiscalYear(int(data["fiscal_year"])),
            data["label"],
            data["as_of"],
            data["prefecture_code"],
            data["date_precision"],
            {name: int(data["counts"][name]) for name in COUNT_LABELS},
            {str(k): int(v) for k, v in data["applicable_by_organ"].items()},
            data["files"]["records"],
            data["files"]["counts"],
            path.parent,
            Site(**data["site"]) if "site" in data else Site(),
            str(data.get("last_posted", data["as_of"])),
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise PublicationError(
            f"公表済みの年度の要約（{path}）を読めません（{e}）。その年度を公表し直してください。"
        ) from None


def organ_names(years: Sequence[PublishedYear]) -> list[str]:
    """The 機関 of every year: the newest year's in its order, then those only earlier years had."""
    return list(dict.fromkeys(name for year in years for name in year.by_organ))


def index_files(years: Sequence[PublishedYear]) -> dict[str, Content]:
    """The page of every year, its stylesheet and the two combined CSVs, by name (records_all.csv in
    pieces: ``folder.Content``)."""
    data: dict[str, Content] = {
        RECORDS_ALL: combined_records_csv(years),
        COUNTS_ALL: combined_counts_csv(years),
    }
    page = render_index(years, {name: content_size(content) for name, content in data.items()})
    return {PAGE_FILE: page.encode("utf-8"), STYLESHEET_FILE: stylesheet(), **data}


# --- the open data of every year ----------------------------------------------------------------


def records_all_date_header(years: Sequence[PublishedYear]) -> str:
    precisions = {year.date_precision for year in years}
    return DATE_HEADERS[precisions.pop()] if len(precisions) == 1 else MIXED_DATE_HEADER


def records_all_header(years: Sequence[PublishedYear]) -> list[str]:
    """The code, 年度, then the yearly file's columns (the date's name shared by every year)."""
    return [CODE_HEADER, YEAR_HEADER, "通番", records_all_date_header(years), *_year_header(years)[3:]]


def _year_header(years: Sequence[PublishedYear]) -> list[str]:
    return records_header(years[0].date_precision if years else "day")


def combined_records_csv(years: Sequence[PublishedYear]) -> list[bytes]:
    """Every year's records, oldest year first, each row with its 年度 after the code: a year's rows
    as its CSV holds them (written by us: already safe). In pieces, to be written one after the
    other (``folder.Content``), never joined in memory."""
    parts = [BOM, csv_line(records_all_header(years)).encode("utf-8")]
    for year in reversed(years):
        path = year.path / year.records_file
        copied = _rows_with_year(path, year.folder)
        if copied is None:  # read cell by cell
            copied = [csv_line([row[0], year.folder, *row[1:]]).encode("utf-8") for row in _read_rows(path)]
        parts.extend(copied)
    return parts


_CRLF = b"\r\n"


def _rows_with_year(path: Path, folder: str, piece: int = 1 << 20) -> list[bytes] | None:
    """The data lines of a published records CSV with the 年度 after each row's code, as
    ``csv.writer`` writes ``[code, folder, *rest]`` of each row that reading it gives; None when the
    file is not one this can copy. A file of ours where no cell is quoted (no quote in it: every CRLF
    ends a row, and there is no other CR or LF), UTF-8, whose rows all start with the same code, is
    copied ``piece`` bytes at a time (whole rows), the 年度 put after the code of each at once."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    year = folder.encode("utf-8") + b","
    pieces: list[bytes] = []
    try:
        with path.open("rb") as f:
            header = f.readline()
            if not header.startswith(BOM + CODE_HEADER.encode("utf-8") + b",") or not _plain_rows(header, 1):
                return None
            decoder.decode(header)
            code, rest = b"", b""
            while block := f.read(piece):
                data = rest + block
                cut = data.rfind(_CRLF) + 2  # whole rows; 1 when there is no row end in it
                rows, rest = (data[:cut], data[cut:]) if cut > 1 else (b"", data)
                if not rows:
                    continue
                decoder.decode(rows)
                count = rows.count(_CRLF)
                if not code:  # "code," of the first row
                    code = rows[: rows.find(b",") + 1]
                if (
                    len(code) < 2
                    or not rows.startswith(code)
                    or not _plain_rows(rows, count)
                    or rows.count(_CRLF + code) != count - 1  # every row starts with the code
                ):
                    return None
                pieces.append(code + year + rows[len(code) :].replace(_CRLF + code, _CRLF + code + year))
            decoder.decode(b"", final=True)
    except (OSError, UnicodeDecodeError):  # reading it cell by cell says what is wrong
        return None
    return None if rest else pieces  # a last row without its CRLF: read cell by cell


def _plain_rows(rows: bytes, count: int) -> bool:
    """``count`` rows, each ended by CRLF, with no quote (no quoted cell) and no other CR or LF."""
    return b'"' not in rows and rows.count(b"\r") == rows.count(b"\n") == rows.count(_CRLF) == count


def combined_counts_csv(years: Sequence[PublishedYear]) -> bytes:
    """Every year's counts, oldest year first (each row already names its 年度)."""
    rows = [
        row
        for year in reversed(years)
        for row in _read_rows(year.path / year.counts_file, header=COUNTS_HEADER)
    ]
    return csv_bytes(COUNTS_HEADER, rows)


def _read_rows(path: Path, header: Sequence[str] | None = None) -> list[list[str]]:
    """The data rows of a published CSV (its header checked to lead with the code, or to be ``header``)."""
    try:
        # Decoded as it stands: read_text would turn a CR inside a quoted cell into LF.
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    except (OSError, UnicodeDecodeError) as e:
        raise PublicationError(f"公表済みのCSV（{path}）を読めません: {e}") from None
    if not rows or rows[0][0] != CODE_HEADER or (header is not None and tuple(rows[0]) != tuple(header)):
        raise PublicationError(
            f"公表済みのCSV（{path}）の形式が古いか壊れています。その年度を公表し直してください。"
        )
    return rows[1:]


# --- the page -------------------------------------------------------------------------------------


YEAR_COLUMNS = {  # the index's table of years: short headings, explained below it
    "recorded": "記録",
    "applicable": "該当",
    "not_applicable": "非該当",
    "undecided": "判断中",
    "published": "掲載",
}


@dataclass(frozen=True)
class HBar:
    """One horizontal bar of the index chart: an organ's 該当 in a year, its number as text."""

    label: str
    count: int
    y: float | int
    width: float | int
    text_y: float | int
    count_x: float | int


@dataclass(frozen=True)
class YearGroup:
    label: str
    label_y: float | int
    bars: tuple[HBar, ...]


@dataclass(frozen=True)
class IndexChart:
    width: int
    height: int
    bar_x: int
    bar_height: int
    groups: tuple[YearGroup, ...]


def index_chart(years: Sequence[PublishedYear], organs: Sequence[str]) -> IndexChart:
    """A group of bars per year (newest first), one bar per 機関, each with its number beside it."""
    width, bar_x, bar_max, row, heading = 640, 150, 420, 24, 30
    peak = max((year.by_organ.get(o, 0) for year in years for o in organs), default=0) or 1
    y, groups = 8, []
    for year in years:
        label_y, y = y + 20, y + heading
        bars = []
        for organ in organs:
            count = year.by_organ.get(organ, 0)
            bar_width = round(bar_max * count / peak, 1)
            bars.append(HBar(organ, count, y + 4, bar_width, y + 17, bar_x + bar_width + 6))
            y += row
        groups.append(YearGroup(f"{year.label}（{year.folder}年度）", label_y, tuple(bars)))
        y += 8
    return IndexChart(width, y, bar_x, row - 8, tuple(groups))


def render_index(years: Sequence[PublishedYear], downloads: Mapping[str, int]) -> str:
    organs = organ_names(years)
    site = years[0].site if years else Site()  # the newest year's publisher
    updated = max((year.last_posted for year in years), default="")
    return (
        template_environment()
        .get_template(INDEX_TEMPLATE)
        .render(
            title="不当な働きかけの記録の状況（各年度の公表）",
            site=site,
            year_columns=YEAR_COLUMNS,
            iso_wareki=lambda iso: to_wareki(dt.date.fromisoformat(iso)),
            updated=dt.date.fromisoformat(updated) if updated else None,
            years=years,
            organs=organs,
            count_labels=COUNT_LABELS,
            chart=index_chart(years, organs),
            page=PAGE_FILE,
            stylesheet=STYLESHEET_FILE,
            files={"records": RECORDS_ALL, "counts": COUNTS_ALL, "datapackage": DATAPACKAGE_FILE},
            downloads={name: human_size(size) for name, size in downloads.items()},
        )
    )
