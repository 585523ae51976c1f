"""What a 該当 record still lacks before it can be published: one answer for the monthly state
(who to chase) and the publication (what is held back, and why)."""

from __future__ import annotations

from ledger_tools.check.findings import Severity
from ledger_tools.form.fields import MEASURES_NEEDED, filled
from ledger_tools.ledger.entries import LedgerEntry

# Reason codes, in the order they are listed. Each one holds a record back from publication.
HOLD_REASONS: dict[str, str] = {
    "unreadable": "読み取れないファイル（年度不明）",
    "conflict": "整理番号の重複（内容の異なる別ファイルあり）",
    "error": "要修正のエラーあり",
    "not_shared": "総務課への共有日が未記入",
    "no_public_summary": "公表用の概要が未記入",
    "no_public_measures": "措置が「要」なのに公表用の措置の概要が未記入",
}


def hold_reasons(entry: LedgerEntry) -> tuple[str, ...]:
    """The codes of ``HOLD_REASONS`` that keep a readable record from publication (empty: ready)."""
    values = entry.values
    reasons = []
    errors = [f for f in entry.findings if f.severity is Severity.ERROR]
    if any(f.code == "record_id_conflict" for f in errors):
        reasons.append("conflict")
    if any(f.code != "record_id_conflict" for f in errors):
        reasons.append("error")
    if not filled(values.get("shared_with_general_affairs_date")):
        reasons.append("not_shared")
    if not filled(values.get("public_summary")):
        reasons.append("no_public_summary")
    if values.get("measures_needed") == MEASURES_NEEDED and not filled(values.get("public_measures")):
        reasons.append("no_public_measures")
    return tuple(reasons)
