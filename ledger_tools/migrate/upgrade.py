"""Upgrading a filled form (or list) of an older form version to the current one.

Every value the reader finds in the old file is written, as it was typed, into the same field of
a new workbook of the current version; fields the old version did not have stay empty. The old
file is never changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ledger_tools.check.findings import make_finding
from ledger_tools.check.reading import RawWorkbook, Unreadable, read_workbook
from ledger_tools.config import Config
from ledger_tools.dates import DateProblem, parse_date
from ledger_tools.form.fields import TEMPLATE_VERSION
from ledger_tools.form.list_template import list_template_bytes
from ledger_tools.form.template import FORM_SHEET, build_template, fit_form_rows
from ledger_tools.outputs import set_text, workbook_bytes, write_bytes_atomic


class UpgradeError(Exception):
    """The file cannot be upgraded (unreadable, or the output would replace it)."""


class UpgradeUsageError(UpgradeError):
    """What was asked for is wrong (the output's name or place), not the file: a usage error."""


@dataclass(frozen=True)
class UpgradeResult:
    source: Path
    out: Path | None  # None: nothing to do
    from_version: int
    to_version: int
    records: int

    def summary_text(self) -> str:
        if self.out is None:
            return f"{self.source} は既に様式 v{self.to_version} です。変換の必要はありません。\n"
        return (
            f"{self.source}（様式 v{self.from_version}、{self.records}件）を"
            f"様式 v{self.to_version} に変換しました: {self.out}\n"
            f"元のファイルは変更していません。新しい項目は空欄です。\n"
        )


def upgrade(source: Path, out: Path, config: Config, today: dt.date | None = None) -> UpgradeResult:
    """Write ``out``: the current form version holding every value of ``source``."""
    source, out = Path(source), Path(out)
    if out.suffix.lower() != ".xlsx":
        raise UpgradeUsageError(f"変換後のファイル（--out）には .xlsx のファイル名を指定してください: {out}")
    if (out.exists() and out.resolve() == source.resolve()) or out.absolute() == source.absolute():
        raise UpgradeUsageError(
            f"変換後のファイル（--out）に元のファイルと同じ場所は指定できません（元のファイルは変更しません）: {out}"
        )
    try:
        raw = read_workbook(source, config.limits)
    except Unreadable as e:
        message = make_finding(e.code, detail=e.detail).message
        raise UpgradeError(f"{source} を変換できません: {message}") from None
    if raw.form_version >= TEMPLATE_VERSION:
        return UpgradeResult(source, None, raw.form_version, TEMPLATE_VERSION, len(raw.records))
    write_bytes_atomic(out, upgraded_bytes(raw, config, today or dt.date.today()))
    return UpgradeResult(source, out, raw.form_version, TEMPLATE_VERSION, len(raw.records))


def upgraded_bytes(raw: RawWorkbook, config: Config, today: dt.date) -> bytes:
    """The workbook of the current version holding every value of ``raw``."""
    if raw.is_list:
        return list_template_bytes(config, [r.values for r in raw.records], today)
    values = raw.records[0].values if raw.records else {}
    # The dropdowns follow the organisation the record belongs to: that of its received_date.
    as_of = today
    with contextlib.suppress(DateProblem):
        if (received := values.get("received_date")) is not None:
            as_of = parse_date(received)
    wb = build_template(config, as_of)
    for field_id, value in values.items():
        for sheet_name, ref in wb.defined_names[field_id].destinations:
            set_text(wb[sheet_name][ref.replace("$", "").split(":")[0]], value)
    fit_form_rows(wb[FORM_SHEET])  # rows sized to the texts, so they print whole
    return workbook_bytes(wb)
