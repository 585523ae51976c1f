"""The yearly publication (spec §7): the page, the open-data CSVs and the reconciliation report.

``build_publication`` turns the ledger into a ``Publication`` (the numbers and the public rows);
the renderers turn it into files. Only the columns of ``PUBLIC_COLUMNS`` — each a public field
of the catalogue — are ever copied out of a record, so names, affiliations, sections, record ids
and the other free text cannot reach ``publication/``. The reconciliation report, which may name
files and record ids, is internal and written beside the ledger, never under ``publication/``.

Every 該当 record of the year is either published, held back with its reasons, or listed as out of
scope (an exclusion applies, so it is never published); publishing with records held back needs
``allow_pending``. The counts and breakdowns cover every 該当 record of the year, published or
held back. The output depends only on the ledger, the configuration and the fiscal year (no
clock), so publishing twice gives byte-identical files.

Publishing holds the aggregator's lock on DIR and swaps a fully written folder into
DIR/publication/<FY>/, so a reader never sees the files of two runs mixed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger_tools.config import Config, config_digest
from ledger_tools.dates import FiscalYear
from ledger_tools.ledger.aggregation import load_verified_ledger
from ledger_tools.ledger.entries import Ledger, Projection
from ledger_tools.outputs import directory_lock, write_bytes_atomic
from ledger_tools.publish.datapackage import datapackage_json
from ledger_tools.publish.errors import PublicationError, PublicationLocked, PublicationRefused
from ledger_tools.publish.figures import (
    PAGE_LIST_COLUMNS,
    PUBLIC_COLUMNS,
    UNKNOWN,
    Counts,
    OrganGroup,
    Publication,
    PublicColumn,
    PublishedRecord,
    Tally,
    build_publication,
    check_fiscal_year,
    ledger_projection,
)
from ledger_tools.publish.folder import (
    PUBLICATION_DIR,
    Content,
    content_bytes,
    content_size,
    publication_directory,
    remove_stale_folders,
    write_publication,
)
from ledger_tools.publish.index import DATAPACKAGE_FILE, index_files, published_years
from ledger_tools.publish.open_data import (
    SUMMARY_FILE,
    counts_csv,
    counts_csv_name,
    counts_rows,
    records_csv,
    records_csv_name,
    records_csv_parts,
    records_header,
    summary_json,
)
from ledger_tools.publish.page import (
    PAGE_FILE,
    PAGE_TEMPLATE,
    RECORDS_PER_PAGE,
    STYLESHEET_FILE,
    STYLESHEET_SOURCE,
    RecordPage,
    iter_record_pages,
    record_pages,
    render_page,
    render_record_pages,
    stylesheet,
)
from ledger_tools.publish.reconciliation import (
    HOLD_REASONS,
    HeldBack,
    Reconciliation,
    ReconciliationRow,
    reconciliation_csv,
    reconciliation_name,
)
from ledger_tools.publish.selection import HeldKind

__all__ = [
    "HOLD_REASONS",
    "PAGE_FILE",
    "PAGE_LIST_COLUMNS",
    "PAGE_TEMPLATE",
    "PUBLICATION_DIR",
    "PUBLIC_COLUMNS",
    "RECORDS_PER_PAGE",
    "STYLESHEET_FILE",
    "STYLESHEET_SOURCE",
    "UNKNOWN",
    "Counts",
    "HeldBack",
    "HeldKind",
    "OrganGroup",
    "PublicColumn",
    "Publication",
    "PublicationError",
    "PublicationLocked",
    "PublicationRefused",
    "PublishResult",
    "PublishedRecord",
    "Reconciliation",
    "ReconciliationRow",
    "RecordPage",
    "Tally",
    "build_publication",
    "check_fiscal_year",
    "counts_csv",
    "counts_csv_name",
    "counts_rows",
    "iter_files",
    "publication_directory",
    "publish",
    "publish_ledger",
    "record_pages",
    "records_csv",
    "records_csv_name",
    "records_header",
    "render_files",
    "render_page",
    "render_record_pages",
    "write_publication",
]

LOCK_WAIT_SECONDS = 10.0  # publishing while another run holds DIR waits this long, then refuses


def render_files(publication: Publication) -> dict[str, bytes]:
    """Every file of DIR/publication/<FY>/ by name: the summary page, the list pages, the stylesheet,
    the two CSVs (complete: every published record in one file) and summary.json."""
    return {name: content_bytes(content) for name, content in iter_files(publication)}


def iter_files(publication: Publication) -> Iterator[tuple[str, Content]]:
    """``render_files`` one file at a time: a list page is rendered when it is to be written, so a
    large year's pages are never all held at once; the records CSV is in pieces (``Content``)."""
    fy = publication.fiscal_year
    data: dict[str, Content] = {
        records_csv_name(fy): records_csv_parts(publication),
        counts_csv_name(fy): counts_csv(publication),
    }
    sizes = {name: content_size(content) for name, content in data.items()}
    pages = record_pages(publication)
    page = render_page(publication, sizes, pages)
    yield PAGE_FILE, page.encode("utf-8")
    for name, text in iter_record_pages(publication, pages, sizes[records_csv_name(fy)]):
        yield name, text.encode("utf-8")
    yield STYLESHEET_FILE, stylesheet()
    yield from data.items()
    yield SUMMARY_FILE, summary_json(publication)


def render_index_files(parent: Path, staged: Mapping[str, Path] | None = None) -> dict[str, Content]:
    """DIR/publication/'s own files, from the year folders as they are published (``staged``: the
    folders about to replace some years)."""
    years = published_years(parent, staged)
    return {**index_files(years), DATAPACKAGE_FILE: datapackage_json(years)}


@dataclass
class PublishResult:
    """What ``publish`` wrote: the publication directory, its files and the reconciliation report."""

    publication: Publication
    reconciliation: Reconciliation
    directory: Path  # DIR/publication/<FY>
    files: list[Path]
    report: Path  # DIR/公表照合表_<FY>.csv (internal)

    @property
    def page(self) -> Path:
        return self.directory / PAGE_FILE

    def summary_text(self) -> str:
        pub = self.publication
        c = pub.counts
        lines = [
            f"{pub.fiscal_year.label_with_western}の公表を書き出しました（{pub.as_of.isoformat()}現在の台帳）。",
            f"  記録 {c.recorded}件（該当 {c.applicable}件、非該当 {c.not_applicable}件、判断中 {c.undecided}件）、公表 {c.published}件",
        ]
        held = pub.held_back
        if held:
            lines.append(
                f"  公表を保留した記録: {held.total}件（{held.groups_text()}）。ページにも同じ件数を記載しています。"
            )
            if held.reasons_text():
                lines.append(f"    理由: {held.reasons_text()}。照合表で確認してください。")
        if pub.out_of_scope:
            lines.append(
                f"  除外事由に該当するのに「該当する」と判断された記録: {pub.out_of_scope}件（公表の対象外。照合表に記載）"
            )
        before = sum(row.outcome == "運用開始前" for row in self.reconciliation.rows)
        if before:
            lines.append(f"  運用開始前に受けた記録: {before}件（公表・件数の対象外。照合表に記載）")
        lines.append(f"  ページ: {self.page.resolve()}")
        lines.append(f"  ブラウザで開く: {self.page.resolve().as_uri()}")
        lists = [p for p in self.files if p.name.startswith("records-") and p.suffix == ".html"]
        if lists:
            lines.append(f"  一覧のページ: {len(lists)}ページ（機関ごと、1ページ{RECORDS_PER_PAGE}件まで）")
        lines.append(f"  年度一覧: {(self.directory.parent / PAGE_FILE).resolve()}")
        lines.append("  CSV: " + "、".join(str(p.resolve()) for p in self.files if p.suffix == ".csv"))
        lines.append(f"  照合表（内部用・公開しない）: {self.report.resolve()}")
        return "\n".join(lines) + "\n"


def publication_lock(out_dir: Path, wait: float = LOCK_WAIT_SECONDS):
    """DIR's lock (the aggregator's): no aggregation or other publication writes DIR meanwhile."""
    return directory_lock(out_dir, wait, PublicationLocked, PublicationError)


@dataclass
class _Prepared:
    """What a publication computes before it writes anything."""

    publication: Publication
    reconciliation: Reconciliation


def _prepare(
    ledger: Ledger, config: Config, fiscal_year: FiscalYear, discard_ledger: bool = False
) -> _Prepared:
    if ledger.config_digest is not None and ledger.config_digest != config_digest(config):
        # Another configuration could publish what the aggregation's must not (day instead of month).
        raise PublicationError(
            "台帳を作った集計（aggregate）と異なる設定で公表しようとしています。"
            "--config に集計のときと同じ設定ファイルを指定してください（設定を変えたときは先に aggregate を実行し直してください）。"
        )
    publication, reconciliation = build_publication(ledger, config, fiscal_year)
    if discard_ledger:  # read for this run only: its memory serves the rendering
        ledger.entries = []
    return _Prepared(publication, reconciliation)


def _write(prepared: _Prepared, out_dir: Path, fiscal_year: FiscalYear, allow_pending: bool) -> PublishResult:
    publication, reconciliation = prepared.publication, prepared.reconciliation
    report = Path(out_dir) / reconciliation_name(fiscal_year)
    write_bytes_atomic(report, reconciliation_csv(reconciliation))
    if publication.held_back and not allow_pending:
        raise PublicationRefused(publication, reconciliation, report)
    directory = publication_directory(out_dir, fiscal_year)
    remove_stale_folders(directory.parent)
    names: list[str] = []

    def files() -> Iterator[tuple[str, Content]]:
        for name, content in iter_files(publication):
            names.append(name)
            yield name, content

    write_publication(
        directory, files(), lambda staged: render_index_files(directory.parent, {directory.name: staged})
    )
    return PublishResult(publication, reconciliation, directory, [directory / name for name in names], report)


def publish_ledger(
    ledger: Ledger,
    out_dir: Path,
    config: Config,
    fiscal_year: FiscalYear,
    allow_pending: bool = False,
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> PublishResult:
    """Write DIR/publication/<FY>/ and DIR/公表照合表_<FY>.csv from ``ledger``, holding DIR's lock.

    The reconciliation report is written in every case; when records are held back and
    ``allow_pending`` is false, nothing is published and ``PublicationRefused`` says how many and why.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PublicationError(f"フォルダ（{out_dir}）を作れません: {e.strerror or e}") from None
    with publication_lock(out_dir, lock_wait), _CollectorPaused() as collector:
        prepared = _prepare(ledger, config, fiscal_year)
        collector.resume()
        return _write(prepared, out_dir, fiscal_year, allow_pending)


def publish(
    directory: Path,
    config: Config,
    fiscal_year: FiscalYear,
    allow_pending: bool = False,
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> PublishResult:
    """Publish the year from the ledger that ``aggregate`` left in ``directory``; the ledger is read
    and the files written under DIR's lock, so an aggregation never runs in between.

    Example: publish(Path("集計"), load_config(), FiscalYear.parse("R7"))
    """
    directory = Path(directory)
    projection = ledger_projection(config, fiscal_year)
    if not directory.is_dir():
        read_ledger(directory, projection)  # raises LedgerError: no ledger (and no folder to lock) there
    with publication_lock(directory, lock_wait), _CollectorPaused() as collector:
        ledger = read_ledger(directory, projection)  # the year's entries only, never the whole ledger
        prepared = _prepare(ledger, config, fiscal_year, discard_ledger=True)
        collector.resume()
        return _write(prepared, directory, fiscal_year, allow_pending)


class _CollectorPaused:
    """The cyclic garbage collector off while a large year is read and its figures computed: many
    objects and no cycles, which it would walk again and again as the heap grows (≈ 20 % of a
    30,000-record year). ``resume()`` freezes what exists (``gc.freeze``: never walked while the
    files are rendered, a template's cycles are still collected) and turns it on; at the end the
    collector is as it was (unfrozen: ``gc.unfreeze``, unless something else had frozen objects)."""

    def __enter__(self) -> _CollectorPaused:
        self.enabled, self.frozen = gc.isenabled(), False
        gc.disable()
        return self

    def resume(self) -> None:
        if self.enabled and not gc.isenabled():
            if gc.get_freeze_count() == 0:
                gc.freeze()
                self.frozen = True
            gc.enable()

    def __exit__(self, *_exc: object) -> None:
        if self.frozen:
            gc.unfreeze()
        if self.enabled:
            gc.enable()


def read_ledger(directory: Path, projection: Projection | None = None) -> Ledger:
    """The one place where publishing reads DIR/ledger.json: only the one the aggregation wrote;
    with a ``projection`` (``ledger_projection``), only what publishing the year reads of it."""
    return load_verified_ledger(directory, projection)
