"""The master ledger as data: one entry per current record version, as the aggregator left it.

The aggregator writes it to ``DIR/ledger.json`` (deterministic: sorted, ISO dates, no time
stamps but the run's reference date); the publisher and the monthly state read it back
with ``load_ledger``. The Excel and CSV ledgers are renderings of this model.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson

from ledger_tools.check.findings import FileReport, Finding, Severity, Status
from ledger_tools.form.fields import FIELD_BY_ID, FIELD_IDS, FieldType
from ledger_tools.outputs import write_text_atomic

LEDGER_FILE = "ledger.json"
LEDGER_FORMAT = 1
REBUILD_HINT = (
    "手で編集しないでください。集計フォルダの ledger.json を削除して aggregate を実行し直すと、"
    "処理記録と保管庫から作り直します。"
)


class LedgerError(Exception):
    """The ledger in DIR is missing or cannot be read."""


@dataclass
class LedgerEntry(FileReport):
    """A record version the ledger holds: its file report, and whether the file is still there."""

    source_missing: bool = False  # the file is no longer in the inbox: kept from the archive

    @classmethod
    def from_report(
        cls, report: FileReport, path: str | None = None, source_missing: bool = False
    ) -> LedgerEntry:
        """The entry of a report handed over: it shares the report's lists and dicts (not copied,
        so that a ledger of 30,000 records is not held twice)."""
        copied = {f.name: getattr(report, f.name) for f in fields(FileReport)}
        copied.update(path=path or report.path)
        return cls(**copied, source_missing=source_missing)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256 or "",
            "status": str(self.status),
            "record_id": self.record_id,
            "stage": self.stage,
            "exclusions": self.exclusions,
            "findings": [f.to_dict() for f in self.findings],
            "values": {k: _encode(v) for k, v in sorted(self.values.items(), key=_in_field_order)},
            "cells": dict(self.cells),
            "source_missing": self.source_missing,
            "row": self.row,
            "form_version": self.form_version,
        }

    def json_line(self) -> str:
        """The entry's line in ``ledger.json`` (compact; orjson: ≈5× json.dumps on 30,000 entries)."""
        data = self.to_json()
        try:
            return orjson.dumps(data).decode()
        except orjson.JSONEncodeError:  # what only json writes (a file name's undecodable bytes)
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LedgerEntry:
        """An entry as ``to_json`` wrote it; ``KeyError``/``TypeError``/``ValueError`` for anything else."""
        for key, types in _ENTRY_TYPES.items():
            if not isinstance(data[key], types):
                raise TypeError(f"{key} の値の型が違います（{type(data[key]).__name__}）")
        return cls(
            path=data["path"],
            sha256=data["sha256"],
            status=Status(data["status"]),
            record_id=data["record_id"],
            stage=data["stage"],
            exclusions=list(data["exclusions"]),
            findings=[
                Finding(f["code"], Severity(f["severity"]), f["message"], f["field"], f["cell"])
                for f in data["findings"]
            ],
            values=_decoded(data["values"]),
            cells=dict(data["cells"]),
            source_missing=bool(data["source_missing"]),
            row=data.get("row"),
            form_version=data.get("form_version"),
        )


@dataclass
class Ledger:
    """Every file version the last aggregation accepted as current, with the run's reference date."""

    as_of: dt.date
    entries: list[LedgerEntry] = field(default_factory=list)
    config_digest: str | None = None  # the configuration the aggregation used (config.config_digest)

    def to_json_text(self) -> str:
        """One entry per line: diffs stay readable and the C encoder does the work (no indent)."""
        return self.json_head() + ",\n".join(e.json_line() for e in self.entries) + self.JSON_TAIL

    JSON_TAIL = "\n]}\n"

    def json_head(self) -> str:
        """``ledger.json`` up to its first entry: head, the entries joined by ``",\\n"``, ``JSON_TAIL``."""
        head = json.dumps(
            {"format": LEDGER_FORMAT, "as_of": self.as_of.isoformat(), "config": self.config_digest},
            ensure_ascii=False,
        )[:-1]
        return head + ', "entries": [\n'

    def save(self, directory: Path) -> Path:
        path = Path(directory) / LEDGER_FILE
        write_text_atomic(path, self.to_json_text())
        return path


_ENTRY_TYPES: dict[str, type | tuple[type, ...]] = {
    "path": str,
    "sha256": str,
    "status": str,
    "record_id": (str, type(None)),
    "stage": (str, type(None)),
    "exclusions": list,
    "findings": list,
    "values": dict,
    "cells": dict,
    "source_missing": bool,
}


def load_ledger(directory: Path) -> Ledger:
    """Read ``DIR/ledger.json`` as written by the aggregator; ``LedgerError`` (in Japanese, with how
    to rebuild it) for a file that is missing, not JSON, or not of the ledger's shape."""
    path = Path(directory) / LEDGER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LedgerError(f"台帳（{path}）がありません。先に aggregate を実行してください。") from None
    except (OSError, ValueError) as e:
        raise LedgerError(f"台帳（{path}）を読めません: {e}") from None
    if not isinstance(data, dict):
        raise LedgerError(f"台帳（{path}）の内容が壊れています（台帳の形ではありません）。{REBUILD_HINT}")
    if data.get("format") != LEDGER_FORMAT:
        raise LedgerError(
            f"台帳（{path}）の形式 {data.get('format')} に対応していません。aggregate を実行し直してください。"
        )
    try:
        if not isinstance(data["entries"], list) or not isinstance(data.get("config"), (str, type(None))):
            raise TypeError("entries 又は config の値の型が違います")
        entries = [LedgerEntry.from_json(e) for e in data["entries"]]
        return Ledger(dt.date.fromisoformat(data["as_of"]), entries, data.get("config"))
    except KeyError as e:
        raise LedgerError(
            f"台帳（{path}）の内容が壊れています（項目 {e} がありません）。{REBUILD_HINT}"
        ) from None
    except (TypeError, ValueError, AttributeError) as e:
        raise LedgerError(f"台帳（{path}）の内容が壊れています（{e}）。{REBUILD_HINT}") from None


_FIELD_ORDER = {field_id: i for i, field_id in enumerate(FIELD_IDS)}


def _in_field_order(item: tuple[str, Any]) -> int:
    order = _FIELD_ORDER.get(item[0])
    if order is None:
        raise ValueError(f"{item[0]} は様式の項目ではありません")
    return order


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


_PARSERS = {
    f.id: dt.date.fromisoformat if f.type is FieldType.DATE else dt.time.fromisoformat
    for f in FIELD_BY_ID.values()
    if f.type in (FieldType.DATE, FieldType.TIME)
}


def _decoded(values: dict[str, Any]) -> dict[str, Any]:
    """The values as ``to_json`` wrote them, dates and times parsed again."""
    out = dict(values)
    for field_id in _PARSERS.keys() & out.keys():
        if isinstance(value := out[field_id], str):
            out[field_id] = _PARSERS[field_id](value)
    return out
