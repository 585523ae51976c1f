"""The ways a publication can fail, each with a Japanese message for the user."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from ledger_tools.publish.figures import Publication
    from ledger_tools.publish.reconciliation import Reconciliation


class PublicationError(Exception):
    """The publication cannot be made as asked (a fiscal year outside the ledger's period, DIR unwritable)."""


class PublicationLocked(PublicationError):
    """Another aggregation or publication is using the same DIR."""


class PublicationRefused(PublicationError):
    """Some 該当 records of the year are held back and publishing with them was not allowed."""

    def __init__(self, publication: Publication, reconciliation: Reconciliation, report: Path):
        self.publication = publication
        self.reconciliation = reconciliation
        self.report = report
        held = publication.held_back
        super().__init__(
            f"{publication.fiscal_year.label_with_western}の公表を中止しました: 公表できない記録が{held.total}件あります"
            f"（{held.text()}）。"
            f"照合表 {report} で記録を確認し、準備が整ってから再実行してください。"
            "保留したまま公表するときは --allow-pending を付けてください。"
        )
