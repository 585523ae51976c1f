"""The master ledger as data: one entry per current record version, as the aggregator left it.

The aggregator writes it to ``DIR/ledger.json`` (deterministic: sorted, ISO dates, no time
stamps but the run's reference date); the monthly state reads it back with ``load_ledger``, the
publisher one entry line at a time with ``LedgerReader`` (a projection, the file hashed as read). The Excel and CSV ledgers are renderings of this model.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
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


REPORT_FIELD_NAMES = tuple(f.name for f in fields(FileReport))  # (dataclasses.fields is slow per call)


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
        copied = {name: getattr(report, name) for name in REPORT_FIELD_NAMES}
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
    def from_json(
        cls, data: dict[str, Any], value_ids: Collection[str] | None = None, cells: bool = True
    ) -> LedgerEntry:
        """An entry as ``to_json`` wrote it; ``KeyError``/``TypeError``/``ValueError`` for anything else.
        ``value_ids``: keep only these values (a projection); ``cells=False``: no cell references."""
        return cls(**entry_fields(data, value_ids, cells))


def entry_fields(
    data: dict[str, Any], value_ids: Collection[str] | None = None, cells: bool = True
) -> dict[str, Any]:
    """The fields of the ``LedgerEntry`` that ``to_json`` wrote as ``data`` (see ``from_json``), for a
    caller that makes another kind of report of them without an entry in between."""
    try:  # every key there and of its type, in one pass
        typed = all(map(isinstance, _entry_items(data), _ENTRY_TYPE_LIST))
    except (KeyError, TypeError):
        typed = False
    if not typed:  # which one, in the order the keys are checked
        for key, types in _ENTRY_TYPES.items():
            if not isinstance(data[key], types):
                raise TypeError(f"{key} の値の型が違います（{type(data[key]).__name__}）")
    values = data["values"]
    if value_ids is not None:
        ids, parsers = _projected(frozenset(value_ids))
        try:  # the values as the aggregation writes them: every field
            values = {k: values[k] for k in ids}
        except KeyError:
            values = {k: values[k] for k in ids if k in values}
        decoded = _decoded(values, copy=False, parsers=parsers)
    else:
        decoded = _decoded(values)
    status = data["status"]
    return {
        "path": data["path"],
        "sha256": data["sha256"],
        "status": _STATUSES.get(status) or Status(status),
        "record_id": data["record_id"],
        "stage": data["stage"],
        "exclusions": list(data["exclusions"]),
        "findings": [
            Finding(
                f["code"],
                _SEVERITIES.get(f["severity"]) or Severity(f["severity"]),
                f["message"],
                f["field"],
                f["cell"],
            )
            for f in data["findings"]
        ],
        "values": decoded,
        "cells": dict(data["cells"]) if cells else {},
        "source_missing": bool(data["source_missing"]),
        "row": data.get("row"),
        "form_version": data.get("form_version"),
    }


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


_entry_items = operator.itemgetter(*_ENTRY_TYPES)
_ENTRY_TYPE_LIST = tuple(_ENTRY_TYPES.values())


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


_PARSER_ITEMS = tuple(_PARSERS.items())
_STATUSES = {str(s): s for s in Status}
_SEVERITIES = {str(s): s for s in Severity}  # a look-up, not an Enum call, per finding


@functools.lru_cache(maxsize=16)
def _projected(
    value_ids: frozenset[str],
) -> tuple[tuple[str, ...], tuple[tuple[str, Callable[[str], Any]], ...]]:
    """A projection's value ids in one order, and the parsers of the dates and times among them."""
    return tuple(value_ids), tuple((k, parse) for k, parse in _PARSERS.items() if k in value_ids)


def _decoded(
    values: dict[str, Any],
    copy: bool = True,
    parsers: Iterable[tuple[str, Callable[[str], Any]]] | None = None,
) -> dict[str, Any]:
    """The values as ``to_json`` wrote them, dates and times parsed again (in place: ``copy=False``;
    ``parsers``: only those, for a projection)."""
    out = dict(values) if copy else values
    for field_id, parse in _PARSER_ITEMS if parsers is None else parsers:
        if isinstance(value := out.get(field_id), str):
            out[field_id] = parse(value)
    return out


# --- reading ledger.json one entry line at a time ------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """What a reader keeps of ``ledger.json``: the entries ``keep`` accepts (it sees an entry as
    JSON, before anything is decoded) and of those only the values ``value_ids`` (None: all), with
    their cell references or not."""

    keep: Callable[[Mapping[str, Any]], bool] | None = None
    value_ids: frozenset[str] | None = None
    cells: bool = True

    def entry(self, data: Any) -> LedgerEntry | None:
        """The entry of one decoded line, or None when it is not kept; ``KeyError``/``TypeError``/
        ``ValueError``/``AttributeError`` for anything ``to_json`` does not write."""
        if not isinstance(data, dict):
            raise TypeError(f"記録が JSON のオブジェクトではありません（{type(data).__name__}）")
        if self.keep is not None and not self.keep(data):
            return None
        return LedgerEntry.from_json(data, self.value_ids, self.cells)


_HEAD_END = b', "entries": [\n'  # the end of Ledger.json_head()
_NO_ENTRIES = Ledger.JSON_TAIL.encode()[:1]  # the body of a ledger of no entries: b"\n"
_TAIL_LINE = Ledger.JSON_TAIL.encode()[1:]  # the last line: b"]}\n"
_SEPARATOR = b","  # entries are joined by ",\n": every entry line but the last ends with it


class LedgerReader:
    """``ledger.json`` read one entry line at a time, as ``Ledger.save`` writes it (the head line,
    one entry a line joined by ``",\\n"``, ``JSON_TAIL``), hashing the bytes as they are read: the
    file is read once and never held whole, nor the entries the projection leaves out.

    ``entries()`` yields the kept entries; ``as_of`` and ``config_digest`` are set once the head is
    read, ``sha256`` once the tail is. ``LedgerError`` (Japanese) for a file that is missing, damaged
    or not laid out that way (``load_ledger`` reads any layout of the same JSON).
    """

    def __init__(self, path: Path, projection: Projection | None = None) -> None:
        self.path = Path(path)
        self.projection = projection or Projection()
        self.as_of: dt.date | None = None
        self.config_digest: str | None = None
        self.sha256: str | None = None

    def read(self) -> Ledger:
        """The ledger of the kept entries (a projection of the whole)."""
        entries = list(self.entries())
        assert self.as_of is not None  # set by entries()
        return Ledger(self.as_of, entries, self.config_digest)

    def entries(self) -> Iterator[LedgerEntry]:
        digest = hashlib.sha256()
        try:
            file = self.path.open("rb")
        except FileNotFoundError:
            raise LedgerError(
                f"台帳（{self.path}）がありません。先に aggregate を実行してください。"
            ) from None
        except OSError as e:
            raise LedgerError(f"台帳（{self.path}）を読めません: {e}") from None
        with file:
            try:
                head = file.readline()
                digest.update(head)
                self._read_head(head)
                number, closing, ended = 1, False, False
                for line in file:
                    digest.update(line)
                    number += 1
                    if ended:
                        raise self._damaged(number, "台帳の終わりの後に続きがあります")
                    if closing:
                        if line != _TAIL_LINE:
                            raise self._damaged(number, "台帳の終わりの形ではありません")
                        ended = True
                        continue
                    if number == 2 and line == _NO_ENTRIES:
                        closing = True
                        continue
                    if not line.endswith(b"\n"):
                        raise self._damaged(number, "台帳が途中で切れています")
                    text = line[:-1]
                    if text.endswith(_SEPARATOR):
                        text = text[:-1]
                    else:
                        closing = True
                    entry = self._entry(text, number)
                    if entry is not None:
                        yield entry
            except OSError as e:
                raise LedgerError(f"台帳（{self.path}）を読めません: {e}") from None
        if not ended:
            raise self._damaged(number, "台帳が途中で切れています")
        self.sha256 = digest.hexdigest()

    def _read_head(self, line: bytes) -> None:
        if not line.endswith(_HEAD_END):
            raise self._damaged(1, "集計が書く台帳の形ではありません")
        try:
            head = orjson.loads(line[: -len(_HEAD_END)] + b"}")
        except orjson.JSONDecodeError as e:
            raise self._damaged(1, str(e)) from None
        if not isinstance(head, dict):
            raise self._damaged(1, "台帳の形ではありません")
        if head.get("format") != LEDGER_FORMAT:
            raise LedgerError(
                f"台帳（{self.path}）の形式 {head.get('format')} に対応していません。aggregate を実行し直してください。"
            )
        config = head.get("config")
        if not isinstance(config, (str, type(None))) or not isinstance(head.get("as_of"), str):
            raise self._damaged(1, "as_of 又は config の値の型が違います")
        try:
            self.as_of = dt.date.fromisoformat(head["as_of"])
        except ValueError as e:
            raise self._damaged(1, str(e)) from None
        self.config_digest = config

    def _entry(self, text: bytes, number: int) -> LedgerEntry | None:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            try:  # what only json writes and reads (a file name's undecodable bytes, a huge integer)
                data = json.loads(text.decode("utf-8"))
            except ValueError as e:  # UnicodeDecodeError included
                raise self._damaged(number, str(e)) from None
        try:
            return self.projection.entry(data)
        except KeyError as e:
            raise self._damaged(number, f"項目 {e} がありません") from None
        except (TypeError, ValueError, AttributeError) as e:
            raise self._damaged(number, str(e)) from None

    def _damaged(self, number: int, why: str) -> LedgerError:
        return LedgerError(f"台帳（{self.path}）の内容が壊れています（{number}行目: {why}）。{REBUILD_HINT}")


def read_ledger_any_layout(directory: Path, projection: Projection) -> Ledger:
    """``load_ledger``'s reading (any layout of the same JSON; its errors) with ``projection``
    applied: for a ledger the line reader does not take."""
    ledger = load_ledger(directory)  # raises LedgerError for anything it does not take
    data = json.loads((Path(directory) / LEDGER_FILE).read_text(encoding="utf-8"))
    kept = (projection.entry(d) for d in data["entries"])
    return Ledger(ledger.as_of, [e for e in kept if e is not None], ledger.config_digest)
