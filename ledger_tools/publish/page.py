"""The yearly HTML page (static, Japanese, accessible) and its stylesheet, from the year's ``Publication``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from ledger_tools.pages import template_environment
from ledger_tools.publish.figures import (
    COUNT_LABELS,
    DATE_HEADERS,
    NUMBER_HEADER,
    PAGE_LIST_COLUMNS,
    UNKNOWN,
    Publication,
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


def stylesheet() -> bytes:
    return resources.files("ledger_tools").joinpath("templates", STYLESHEET_SOURCE).read_bytes()


def render_page(publication: Publication, downloads: Mapping[str, int]) -> str:
    """The HTML page; ``downloads`` maps the CSV file names to their sizes in bytes."""
    fy = publication.fiscal_year
    return (
        template_environment()
        .get_template(PAGE_TEMPLATE)
        .render(
            pub=publication,
            title=f"{fy.label}（{fy.start_year}年度）不当な働きかけの記録の状況",
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
        )
    )
