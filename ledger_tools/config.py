"""The configuration: organs, departments and their 主管課, rule parameters, limits.

One TOML file (``--config``); the bundled ``data/default_config.toml`` describes a sample
prefecture and supplies every default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(Exception):
    """The configuration file is missing or malformed."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Model):
    name: str
    lead_division: str = ""


class Organ(_Model):
    name: str
    departments: tuple[Department, ...]


class Rules(_Model):
    operation_start: dt.date = dt.date(2025, 3, 1)
    report_due_days: int = Field(7, ge=0)


class Deadlines(_Model):
    judgement_days: int = Field(14, ge=0)
    sent_to_lead_days: int = Field(7, ge=0)
    result_notified_days: int = Field(30, ge=0)
    shared_with_general_affairs_days: int = Field(30, ge=0)


class Publication(_Model):
    date_precision: Literal["day", "month"] = "day"


class ExclusionHints(_Model):
    public_venue: tuple[str, ...] = ()
    minuted_meeting: tuple[str, ...] = ()
    official_document: tuple[str, ...] = ()


class Limits(_Model):
    """Container limits applied before any parser opens a file (zip-bomb defence)."""

    max_file_bytes: int = 64 * 1024 * 1024
    max_zip_entries: int = 2_000
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_sheet_cells: int = 5_000_000  # rows × columns of a sheet's used range (a list of 100,000 rows fits)


class Config(_Model):
    rules: Rules = Rules()
    deadlines: Deadlines = Deadlines()
    publication: Publication = Publication()
    exclusion_hints: ExclusionHints = ExclusionHints()
    limits: Limits = Limits()
    folders: Folders = Field(
        default_factory=lambda: Folders(), exclude=True
    )  # local paths: not in the digest
    organs: tuple[Organ, ...]

    @model_validator(mode="after")
    def _names_unique(self) -> Config:
        names = [o.name for o in self.organs]
        if len(set(names)) != len(names) or not names:
            raise ValueError("organs must be a non-empty list of distinct names")
        return self

    @cached_property
    def organ_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.organs)

    @cached_property
    def departments_by_organ(self) -> dict[str, tuple[str, ...]]:
        return {o.name: tuple(d.name for d in o.departments) for o in self.organs}

    @cached_property
    def all_departments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for ds in self.departments_by_organ.values() for d in ds))

    @cached_property
    def lead_divisions(self) -> tuple[str, ...]:
        """Every configured 主管課, in configuration order."""
        return tuple(
            dict.fromkeys(d.lead_division for o in self.organs for d in o.departments if d.lead_division)
        )

    def lead_division(self, organ: str, department: str) -> str:
        for o in self.organs:
            if o.name == organ:
                for d in o.departments:
                    if d.name == department:
                        return d.lead_division
        return ""


def config_digest(config: Config) -> str:
    """A short fingerprint of a configuration: the ledger keeps the one it was made with."""
    text = json.dumps(config.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def default_config_text() -> str:
    return resources.files("ledger_tools").joinpath("data/default_config.toml").read_text(encoding="utf-8")


def read_toml_text(path: Path) -> str:
    """A TOML file as text; a BOM (which Windows Notepad may add) is dropped."""
    return path.read_bytes().decode("utf-8-sig")


def load_config(path: str | Path | None = None) -> Config:
    """Load ``path`` (TOML), or the bundled default when ``path`` is None."""
    if path is None:
        return Config.model_validate(tomllib.loads(default_config_text()))
    return load_toml_model(Path(path), Config, "設定ファイル", ConfigError)


M = TypeVar("M", bound=BaseModel)


def load_toml_model(path: Path, model: type[M], what: str, error: type[Exception]) -> M:
    """A TOML file read as ``model``; any problem becomes ``error`` with a Japanese message
    that names ``what`` (設定ファイル, 対応表) and the file."""
    try:
        return model.model_validate(tomllib.loads(read_toml_text(path)))
    except FileNotFoundError:
        raise error(f"{what}が見つかりません: {path}") from None
    except UnicodeDecodeError:
        raise error(f"{what}を UTF-8 で保存し直してください（{path}）") from None
    except OSError as e:
        raise error(f"{what}を読めません（{path}）: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{what}の書式が正しくありません（{path}）: {e}") from None
    except ValidationError as e:
        raise error(validation_error_text(e, what, path)) from None


def _key_text(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as the TOML key a person edits: organs（1番目）.departments（2番目）.name."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] += f"（{part + 1}番目）"
        else:
            parts.append(str(part))
    return ".".join(parts) or "（ファイル全体）"


def _value_text(value: object) -> str:
    if isinstance(value, (dict, list, tuple)) or value is None:
        return ""
    if isinstance(value, str):
        return f'（今の値: "{value}"）'
    if isinstance(value, (dt.date, dt.time)):
        return f"（今の値: {value.isoformat()}）"
    return f"（今の値: {str(value).lower() if isinstance(value, bool) else value}）"


_EXPECTED = {
    "missing": "がありません。指定してください",
    "extra_forbidden": "という項目はありません。綴りと書く場所（[ ] の見出し）を確かめてください",
    "int_parsing": "は整数で指定してください",
    "int_type": "は整数で指定してください",
    "int_from_float": "は整数（小数点なし）で指定してください",
    "float_parsing": "は数値で指定してください",
    "float_type": "は数値で指定してください",
    "bool_parsing": "は true 又は false で指定してください",
    "bool_type": "は true 又は false で指定してください",
    "string_type": 'は文字列（"…" で囲む）で指定してください',
    "date_parsing": "は日付を YYYY-MM-DD の形で指定してください（例: 2025-03-01）",
    "date_type": "は日付を YYYY-MM-DD の形で指定してください（例: 2025-03-01）",
    "date_from_datetime_parsing": "は日付を YYYY-MM-DD の形で指定してください（例: 2025-03-01）",
    "date_from_datetime_inexact": "は時刻を付けずに日付だけ（YYYY-MM-DD）で指定してください",
    "tuple_type": "は一覧（[ … ]）で指定してください",
    "list_type": "は一覧（[ … ]）で指定してください",
    "model_type": "は表（[見出し] 又は { … }）で指定してください",
    "model_attributes_type": "は表（[見出し] 又は { … }）で指定してください",
    "dict_type": "は表（[見出し] 又は { … }）で指定してください",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "以上"),
    "greater_than": ("gt", "より大きい値"),
    "less_than_equal": ("le", "以下"),
    "less_than": ("lt", "より小さい値"),
}


def validation_error_text(e: ValidationError, what: str, path: Path) -> str:
    """Each problem of ``e`` in Japanese, one a line: the key, what is expected, the value found."""
    lines = [f"{what}の内容が正しくありません（{path}）:"]
    for err in e.errors():
        kind, ctx, key = err["type"], err.get("ctx") or {}, _key_text(err["loc"])
        value = "" if kind in ("missing", "extra_forbidden") else _value_text(err.get("input"))
        if kind in _EXPECTED:
            text = f"「{key}」{_EXPECTED[kind]}"
        elif kind in _BOUNDS:
            name, word = _BOUNDS[kind]
            text = f"「{key}」は {ctx.get(name)} {word}にしてください"
        elif kind == "literal_error":
            choices = str(ctx.get("expected", "")).replace(" or ", ", ").replace("'", '"').split(", ")
            text = f"「{key}」は次のどれかにしてください: {'、'.join(choices)}"
        elif kind == "too_short":
            text = f"「{key}」には少なくとも{ctx.get('min_length')}個指定してください"
        elif kind == "too_long":
            text = f"「{key}」は{ctx.get('max_length')}個までにしてください"
        elif kind == "value_error" and "organs" in str(ctx.get("error", "")):
            text = "機関（[[organs]]）を1つ以上、名前が重ならないように指定してください"
        elif kind == "value_error":  # a validator's own message says what is wrong
            text = f"「{key}」の値が正しくありません: {ctx.get('error', '')}"
        else:
            text = f"「{key}」の値が正しくありません"
        lines.append(f"  - {text}{value}")
    return "\n".join(lines)


class Folders(_Model):
    """Where the offline bundle's double-click files find the shared folders (``[folders]``).

    Paths as Windows writes them (``\\\\server\\共有\\提出``, ``D:\\集計``); a relative path is relative to
    the bundle's folder. Only the bundle (``python -m ledger_tools.bundle``) reads them.
    """

    inbox: str = ""
    out: str = ""


Config.model_rebuild()
