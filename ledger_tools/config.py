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
    """Limits on reading one submitted file: the container, checked before any parser opens it
    (zip-bomb defence), and what parsing it may cost in its worker process (0: no limit).

    ``max_read_seconds``: wall time to read and check one file; ``max_read_memory_mb``: memory
    of the worker process reading it (address space on POSIX; on Windows only with psutil).
    A file over either is ``unreadable`` (unreadable_timeout / unreadable_crashed)."""

    max_file_bytes: int = 64 * 1024 * 1024
    max_zip_entries: int = 2_000
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_sheet_cells: int = 5_000_000  # rows × columns of a sheet's used range (a list of 100,000 rows fits)
    max_read_seconds: float = Field(300.0, ge=0)
    max_read_memory_mb: int = Field(4096, ge=0)


class Config(_Model):
    rules: Rules = Rules()
    deadlines: Deadlines = Deadlines()
    publication: Publication = Publication()
    exclusion_hints: ExclusionHints = ExclusionHints()
    limits: Limits = Limits()
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
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise error(f"{what}の内容が正しくありません（{path}）: {problems}") from None
