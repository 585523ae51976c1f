"""Migrating an existing register (CSV in UTF-8 or CP932, or Excel) into a list-format workbook.

A mapping file (TOML) says which source column holds which field, how source values translate
to the form's choices, and which fixed values fill fields the register never had. Everything
that could not be mapped is reported; the resulting workbook then goes through ``validate``
like any other submission.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ledger_tools.config import Config, load_toml_model
from ledger_tools.dates import DateProblem, normalise_text, parse_date, parse_time
from ledger_tools.form.fields import FIELD_BY_ID, FieldType
from ledger_tools.form.list_template import FIRST_RECORD_ROW, write_list_template

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}


class MigrationError(Exception):
    """The legacy register or the mapping cannot be used."""


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    header_row: int = Field(default=1, ge=1)
    sheet: str = ""
    encoding: str = "auto"  # CSV only: auto (UTF-8, else CP932), utf-8, cp932


class ColumnMapping(BaseModel):
    """The contents of a mapping file."""

    model_config = ConfigDict(extra="forbid")
    source: Source = Source()
    columns: dict[str, str]  # source column name -> field id
    values: dict[str, dict[str, str]] = {}  # field id -> {source value -> choice}
    fixed: dict[str, str] = {}  # field id -> value for every record

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(columns.values()) - FIELD_BY_ID.keys())
        if unknown:
            raise ValueError(f"項目IDがありません: {'、'.join(unknown)}（docs/fields.md の項目IDを書きます）")
        return {normalise_text(k): v for k, v in columns.items()}

    @model_validator(mode="after")
    def _choice_and_fixed_fields(self) -> ColumnMapping:
        for field_id, table in self.values.items():
            if field_id not in FIELD_BY_ID or not FIELD_BY_ID[field_id].is_choice:
                raise ValueError(
                    f"values.{field_id}: 選択肢のある項目ではありません（値の対応を書けるのは選択肢のある項目だけです）"
                )
            choices = FIELD_BY_ID[field_id].choices
            wrong = sorted(v for v in table.values() if choices and v not in choices)
            if wrong:
                raise ValueError(
                    f"values.{field_id}: 項目の選択肢にない値です: {'、'.join(wrong)}（選択肢: {'、'.join(choices)}）"
                )
        unknown = sorted(set(self.fixed) - FIELD_BY_ID.keys())
        if unknown:
            raise ValueError(
                f"fixed: 項目IDがありません: {'、'.join(unknown)}（docs/fields.md の項目IDを書きます）"
            )
        return self


@dataclass(frozen=True)
class UnmappedValue:
    row: int  # the row in the source register
    column: str
    field: str
    value: str
    list_row: int  # where the record lands in the list-format workbook (what validate will name)


@dataclass
class ImportResult:
    records: list[dict[str, Any]]
    unmapped_columns: list[str] = field(default_factory=list)  # in the register, not in the mapping
    missing_columns: list[str] = field(default_factory=list)  # in the mapping, not in the register
    unmapped_values: list[UnmappedValue] = field(default_factory=list)

    def summary_text(self, out: Path) -> str:
        lines = [f"{len(self.records)}件を一覧形式に変換しました: {out}"]
        if self.unmapped_columns:
            lines.append("対応表にない列（取り込んでいません）: " + "、".join(self.unmapped_columns))
        if self.missing_columns:
            lines.append(
                "記録簿に見つからない列（対応表の見出しを確認してください）: "
                + "、".join(self.missing_columns)
            )
        for item in self.unmapped_values:
            label = FIELD_BY_ID[item.field].label
            lines.append(
                f"  記録簿の{item.row}行目「{item.column}」の値「{item.value}」を「{label}」の選択肢に対応づけられません"
                f"（一覧の{item.list_row}行目にそのまま記入しました）"
            )
        if self.unmapped_values:
            lines.append(
                f"対応づけられない値 {len(self.unmapped_values)}件: 対応表の [values] に追加するか、変換後のファイルで直してください。"
            )
        lines.append("変換したファイルは validate で検査してから提出してください。")
        return "\n".join(lines) + "\n"


def load_mapping(path: Path) -> ColumnMapping:
    return load_toml_model(Path(path), ColumnMapping, "対応表", MigrationError)


def read_register(path: Path, source: Source) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header and the (source row number, values) of every non-empty data row."""
    path = Path(path)
    if not path.exists():
        raise MigrationError(f"既存の記録簿が見つかりません: {path}")
    rows = _excel_rows(path, source) if path.suffix.lower() in EXCEL_SUFFIXES else _csv_rows(path, source)
    if len(rows) < source.header_row:
        raise MigrationError(f"見出しの行（{source.header_row}行目）がありません: {path}")
    header = [normalise_text(str(v)) if v is not None else "" for v in rows[source.header_row - 1]]
    data = [
        (number, values)
        for number, values in enumerate(rows[source.header_row :], start=source.header_row + 1)
        if any(v is not None and normalise_text(str(v)) for v in values)
    ]
    return header, data


def _csv_rows(path: Path, source: Source) -> list[list[Any]]:
    raw = path.read_bytes()
    encodings = {"auto": ("utf-8-sig", "cp932"), "utf-8": ("utf-8-sig",), "cp932": ("cp932",)}.get(
        source.encoding.lower()
    )
    if encodings is None:
        raise MigrationError(f"文字コード {source.encoding} には対応していません（auto、utf-8、cp932）")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise MigrationError(f"文字コードを判別できません（UTF-8 でも CP932 でもありません）: {path}")
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]


def _excel_rows(path: Path, source: Source) -> list[list[Any]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_name(source.sheet) if source.sheet else book.get_sheet_by_index(0)
        return sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as e:
        raise MigrationError(f"Excelファイルを読めません（{path}）: {e}") from None


def convert(
    header: list[str], rows: list[tuple[int, list[Any]]], mapping: ColumnMapping, config: Config
) -> ImportResult:
    """Source rows → records of field values (choices mapped, dates as dates where readable)."""
    positions = {field_id: header.index(name) for name, field_id in mapping.columns.items() if name in header}
    result = ImportResult(
        records=[],
        unmapped_columns=[name for name in header if name and name not in mapping.columns],
        missing_columns=[name for name in mapping.columns if name not in header],
    )
    value_maps = {f: {normalise_text(k): v for k, v in m.items()} for f, m in mapping.values.items()}
    for number, values in rows:
        record: dict[str, Any] = dict(mapping.fixed)
        for field_id, index in positions.items():
            value = values[index] if index < len(values) else None
            if value is None or (isinstance(value, str) and not normalise_text(value)):
                continue
            record[field_id] = _field_value(field_id, value, value_maps.get(field_id, {}))
        received = record.get("received_date")
        organisation = config.organisation_on(received if isinstance(received, dt.date) else dt.date.today())
        for field_id, value in record.items():
            spec = FIELD_BY_ID[field_id]
            if (
                spec.is_choice
                and isinstance(value, str)
                and value not in spec.allowed_values(organisation, record.get("organ"))
            ):
                column = next((name for name, f in mapping.columns.items() if f == field_id), "（固定値）")
                list_row = FIRST_RECORD_ROW + len(result.records)
                result.unmapped_values.append(UnmappedValue(number, column, field_id, value, list_row))
        result.records.append(record)
    return result


def _field_value(field_id: str, value: Any, value_map: dict[str, str]) -> Any:
    spec = FIELD_BY_ID[field_id]
    if spec.type is FieldType.DATE:
        try:
            return parse_date(value)
        except DateProblem:
            return value  # kept as written: validate names the cell and says what is wrong
    if spec.type is FieldType.TIME:
        try:
            return parse_time(value)
        except DateProblem:
            return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if isinstance(value, (dt.date, dt.time)) else str(value)
    if spec.is_choice:
        key = normalise_text(text)
        return value_map.get(key, key)
    return text


def import_register(source_path: Path, mapping_path: Path, out: Path, config: Config) -> ImportResult:
    """Read a legacy register, convert it with the mapping, write the list-format workbook."""
    if Path(out).resolve() == Path(source_path).resolve():
        raise MigrationError(f"書き出し先が既存の記録簿と同じです。別のファイル名を指定してください: {out}")
    mapping = load_mapping(mapping_path)
    header, rows = read_register(source_path, mapping.source)
    result = convert(header, rows, mapping, config)
    if len(result.missing_columns) == len(mapping.columns):
        raise MigrationError(
            f"対応表の列が1つも見つかりません（見出しの行: {mapping.source.header_row}行目）: "
            + "、".join(result.missing_columns[:5])
        )
    write_list_template(out, config, result.records)
    return result
