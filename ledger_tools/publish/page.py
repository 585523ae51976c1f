"""The year's HTML pages (static, Japanese, accessible) and their stylesheet, from the year's
``Publication``: the summary (index.html: counts, breakdowns, chart, links to the lists) and the list of
records in pages, one set per 機関 (records-01.html, records-01-02.html, …), each of at most
``RECORDS_PER_PAGE`` records so that no page grows past 1 MB however large the year."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources

from markupsafe import Markup

from ledger_tools.pages import html_text, template_environment
from ledger_tools.publish.figures import (
    COUNT_LABELS,
    DATE_HEADERS,
    NUMBER_HEADER,
    PAGE_LIST_COLUMNS,
    UNKNOWN,
    Publication,
    PublishedRecord,
    Tally,
)
from ledger_tools.publish.open_data import counts_csv_name, records_csv_name

PAGE_FILE = "index.html"
STYLESHEET_FILE = "style.css"


@dataclass(frozen=True)
class Bar:
    """One bar of the monthly chart, in the SVG's user units."""

    x: float | int
    y: float | int
    width: float | int
    height: float | int
    label: str
    count: int
    label_x: float | int
    count_y: float | int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    month_label_y: float
    bars: tuple[Bar, ...]


def monthly_chart(months: tuple[Tally, ...]) -> Chart:
    """Bar geometry for the inline SVG; every bar also carries its number as text."""
    width, height, top, bottom, left = 640, 240, 28.0, 40.0, 8.0
    baseline = height - bottom
    slot = (width - 2 * left) / max(len(months), 1)
    peak = max((m.count for m in months), default=0) or 1
    bars = []
    for i, month in enumerate(months):
        bar_height = (baseline - top) * month.count / peak
        bars.append(
            Bar(
                x=_coord(left + i * slot + slot * 0.2),
                y=_coord(baseline - bar_height),
                width=_coord(slot * 0.6),
                height=_coord(bar_height),
                label=month.label.split("年")[-1],
                count=month.count,
                label_x=_coord(left + (i + 0.5) * slot),
                count_y=_coord(baseline - bar_height - 6),
            )
        )
    return Chart(width, height, baseline, baseline + 22, tuple(bars))


def _coord(value: float) -> float | int:
    """A coordinate written the same way on every run: 34, 86.5."""
    value = round(value, 1)
    return int(value) if value == int(value) else value


def human_size(size: int) -> str:
    """850バイト, 2.2KB, 1.3MB: written inside brackets on the page, so never bracketed itself."""
    if size < 1024:
        return f"{size:,}バイト"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f}KB"
    return f"{size / 1024 / 1024:.1f}MB"


NONE_TEXT = "なし"  # an empty cell of the list, spoken as a word (a dash is read as nothing)
# Where a heading of the list may wrap: between its phrases (文節), never inside a word.
_PHRASE_ENDS = ("を", "の")


def phrases(heading: str) -> list[str]:
    """``働きかけを受けた日`` → ``["働きかけを", "受けた日"]``: the page puts <wbr> between them and the
    stylesheet keeps each phrase whole."""
    parts, current = [], ""
    for char in heading:
        current += char
        if char in _PHRASE_ENDS and len(current) > 1:
            parts.append(current)
            current = ""
    if current:
        if parts and len(current) == 1:
            parts[-1] += current
        else:
            parts.append(current)
    return parts


STYLESHEET_SOURCE = "publication.css"  # in ledger_tools/templates/, published as style.css
PAGE_TEMPLATE = "publication.html.j2"
RECORDS_TEMPLATE = "publication_records.html.j2"
# A row of the list with both long texts at their 200-character limit, all escaped to 5 bytes a
# character ("&amp;"), is under 3 KB: 200 rows stay well under 1 MB (a test writes that worst case).
RECORDS_PER_PAGE = 200


@dataclass(frozen=True)
class RecordPage:
    """One page of a 機関's list: its file name, its place among the 機関's pages, its records."""

    file: str
    organ: str
    number: int  # 1, 2, … within the organ
    records: tuple[PublishedRecord, ...]

    @property
    def first(self) -> int:
        return self.records[0].number

    @property
    def last(self) -> int:
        return self.records[-1].number

    @property
    def range_text(self) -> str:
        """通番1から200まで、200件; one record: 通番3（1件）."""
        if self.first == self.last:
            return f"通番{self.first}（1件）"
        return f"通番{self.first}から{self.last}まで、{len(self.records)}件"


def record_page_name(organ_number: int, number: int) -> str:
    """records-01.html, records-01-02.html: the organ's place in the year's list (the configuration's
    order) and the page's; ASCII, and the first page's name never depends on how many follow."""
    return (
        f"records-{organ_number:02d}.html" if number == 1 else f"records-{organ_number:02d}-{number:02d}.html"
    )


def record_pages(
    publication: Publication, per_page: int = RECORDS_PER_PAGE
) -> dict[str, tuple[RecordPage, ...]]:
    """Every organ's pages by organ name (an organ without published records has none)."""
    pages: dict[str, tuple[RecordPage, ...]] = {}
    for organ_number, group in enumerate(publication.organs, 1):
        chunks = [group.records[i : i + per_page] for i in range(0, len(group.records), per_page)]
        pages[group.name] = tuple(
            RecordPage(record_page_name(organ_number, n), group.name, n, chunk)
            for n, chunk in enumerate(chunks, 1)
        )
    return pages


@dataclass(frozen=True)
class ListColumn:
    """A column of the list as the template writes it, computed once for every row."""

    field_id: str
    label: str
    css_class: str
    phrases: tuple[str, ...]
    is_date: bool


_LONG = 64  # a cell of a longer value is seldom repeated: made for its row, not kept


def list_rows(
    records: tuple[PublishedRecord, ...],
    columns: tuple[ListColumn, ...],
    memo: dict[str, dict[str, str]] | None = None,
) -> Markup:
    """The <tr> rows of a list page. Written here rather than in the template because a year may list
    tens of thousands of records and a template costs several escapes a cell; every value is still
    escaped (``html_text``, as the template's autoescape would) and only this function's markup is
    trusted. ``memo``: cells already made, by column and value (shared by the pages of a year: the
    choices repeat on every row). Made a column at a time, then joined row by row."""
    number = html_text(NUMBER_HEADER)
    memo = {} if memo is None else memo
    values = [r.values for r in records]
    made: list[list[str]] = []
    for column in columns:
        opening = f'<td class="{html_text(column.css_class)}" data-label="{html_text(column.label)}">'
        if column.is_date:
            written = memo.setdefault("", {})
            get = written.get
            made.append([get(r.date_iso) or _date_cell(written, opening, r) for r in records])
        else:
            written = memo.setdefault(column.field_id, {})
            get = written.get
            field = operator.itemgetter(column.field_id)
            made.append([get(v) or _text_cell(written, opening, v) for v in map(field, values)])
    heads = [f'<tr>\n<th scope="row" class="num" data-label="{number}">{r.number}</th>\n' for r in records]
    ends = ["</tr>\n"] * len(records)
    return Markup("".join([part for row in zip(heads, *made, ends, strict=True) for part in row]))


def _date_cell(written: dict[str, str], opening: str, record: PublishedRecord) -> str:
    iso, label = html_text(record.date_iso), html_text(record.date_label)
    cell = written[record.date_iso] = f'{opening}<time datetime="{iso}">{label}</time></td>\n'
    return cell


def _text_cell(written: dict[str, str], opening: str, value: str) -> str:
    cell = f"{opening}{html_text(value) if value else html_text(NONE_TEXT)}</td>\n"
    if len(value) <= _LONG:
        written[value] = cell
    return cell


def list_columns(date_precision: str) -> tuple[ListColumn, ...]:
    columns = []
    for column in PAGE_LIST_COLUMNS:
        is_date = column.field_id == "received_date"
        label = DATE_HEADERS[date_precision] if is_date else column.header
        columns.append(
            ListColumn(
                column.field_id,
                label,
                "date" if is_date else column.field_id.replace("_", "-"),
                tuple(phrases(label)),
                is_date,
            )
        )
    return tuple(columns)


def stylesheet() -> bytes:
    return resources.files("ledger_tools").joinpath("templates", STYLESHEET_SOURCE).read_bytes()


def page_title(publication: Publication) -> str:
    fy = publication.fiscal_year
    return f"{fy.label}（{fy.start_year}年度）不当な働きかけの記録の状況"


def render_page(
    publication: Publication,
    downloads: Mapping[str, int],
    pages: Mapping[str, tuple[RecordPage, ...]] | None = None,
) -> str:
    """The summary page; ``downloads`` maps the CSV file names to their sizes in bytes, ``pages`` the
    organs to their list pages (``record_pages``)."""
    fy = publication.fiscal_year
    return (
        template_environment()
        .get_template(PAGE_TEMPLATE)
        .render(
            pub=publication,
            title=page_title(publication),
            site=publication.site,
            none_text=NONE_TEXT,
            phrases=phrases,
            count_labels=COUNT_LABELS,
            columns=PAGE_LIST_COLUMNS,
            number_header=NUMBER_HEADER,
            date_header=DATE_HEADERS[publication.date_precision],
            unknown=UNKNOWN,
            chart=monthly_chart(publication.by_month),
            records_csv=records_csv_name(fy),
            counts_csv=counts_csv_name(fy),
            downloads={name: human_size(size) for name, size in downloads.items()},
            stylesheet=STYLESHEET_FILE,
            index_page=PAGE_FILE,
            record_pages=record_pages(publication) if pages is None else pages,
            per_page=RECORDS_PER_PAGE,
        )
    )


def render_record_pages(
    publication: Publication, pages: Mapping[str, tuple[RecordPage, ...]], records_csv_size: int
) -> dict[str, str]:
    """Every list page by file name, in the organs' order."""
    return dict(iter_record_pages(publication, pages, records_csv_size))


def iter_record_pages(
    publication: Publication, pages: Mapping[str, tuple[RecordPage, ...]], records_csv_size: int
) -> Iterator[tuple[str, str]]:
    """(file name, text) of every list page, in the organs' order, one rendered at a time."""
    fy = publication.fiscal_year
    template = template_environment().get_template(RECORDS_TEMPLATE)
    columns = list_columns(publication.date_precision)
    common = {
        "fy": fy,
        "site": publication.site,
        "none_text": NONE_TEXT,
        "number_header": NUMBER_HEADER,
        "columns": columns,
        "date_precision": publication.date_precision,
        "records_csv": records_csv_name(fy),
        "records_csv_size": human_size(records_csv_size),
        "stylesheet": STYLESHEET_FILE,
        "index_page": PAGE_FILE,
        "summary_page": PAGE_FILE,
        "posted": publication.posted,
        "updated": publication.updated,
    }
    memo: dict[str, dict[str, str]] = {}  # list cells by column and value, for every page
    for organ_pages in pages.values():
        for page in organ_pages:
            position = f"　全{len(organ_pages)}ページ中{page.number}ページ目" if len(organ_pages) > 1 else ""
            title = f"{fy.label}（{fy.start_year}年度）不当な働きかけの一覧（{page.organ}{position}）"
            rows = list_rows(page.records, columns, memo)
            yield page.file, template.render(common, title=title, page=page, pages=organ_pages, rows=rows)
