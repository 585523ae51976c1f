"""The configuration: organs, departments and their 主管課, rule parameters, limits.

One TOML file (``--config``); the bundled ``data/default_config.toml`` describes a sample
prefecture and supplies every default.

The models are frozen stdlib dataclasses, so that a run on the bundled default never imports
pydantic: only loading a TOML file validates it (``pydantic.TypeAdapter``), with the bounds and
checks below carried as ``Annotated`` metadata that pydantic reads then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

if TYPE_CHECKING:
    from pydantic import ValidationError


class ConfigError(Exception):
    """The configuration file is missing or malformed."""


# ------------------------------------------------------------ pydantic metadata, read only on load


class _Schema:
    """Constraints added to a field's core schema (``ge``, ``min_length``) when pydantic builds it."""

    def __init__(self, **constraints: object) -> None:
        self.constraints = constraints

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return {**handler(source), **self.constraints}


class _Before:
    """A check run by pydantic on the raw value before the field's own validation."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(self.function, handler(source))


class _After(_Before):
    """A check run by pydantic on the validated value (a ``ValueError`` names what is wrong)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.function, handler(source))


_NON_NEGATIVE = _Schema(ge=0)
# extra keys are refused, as a typo would otherwise be ignored silently
_FORBID_EXTRA: dict[str, Any] = {"extra": "forbid"}


@dataclass(frozen=True, kw_only=True)
class Department:
    """A department (部局) of an organ and its 主管課."""

    __pydantic_config__ = _FORBID_EXTRA
    name: str
    lead_division: str = ""


@dataclass(frozen=True, kw_only=True)
class Organ:
    """An organ (機関: 知事部局, 教育委員会, …) and its departments."""

    __pydantic_config__ = _FORBID_EXTRA
    name: str
    departments: tuple[Department, ...]


@dataclass(frozen=True, kw_only=True)
class Rules:
    """Parameters of the record checks (``[rules]``)."""

    __pydantic_config__ = _FORBID_EXTRA
    operation_start: dt.date = dt.date(2025, 3, 1)
    report_due_days: Annotated[int, _NON_NEGATIVE] = 7


@dataclass(frozen=True, kw_only=True)
class Deadlines:
    """Days after which the monthly state counts a stage as late (``[deadlines]``)."""

    __pydantic_config__ = _FORBID_EXTRA
    judgement_days: Annotated[int, _NON_NEGATIVE] = 14
    sent_to_lead_days: Annotated[int, _NON_NEGATIVE] = 7
    result_notified_days: Annotated[int, _NON_NEGATIVE] = 30
    shared_with_general_affairs_days: Annotated[int, _NON_NEGATIVE] = 30


def local_government_check_digit(first_five: str) -> int:
    """The check digit of a 全国地方公共団体コード (weights 6..2, modulus 11, the ones digit of 11 − r)."""
    remainder = sum(int(d) * w for d, w in zip(first_five, range(6, 1, -1), strict=True)) % 11
    return (11 - remainder) % 10


_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _email_valid(email: str) -> str:
    if not _EMAIL.fullmatch(email):
        raise ValueError("メールアドレス（例: soumu@pref.example.jp）で指定してください")
    return email


@dataclass(frozen=True, kw_only=True)
class Contact:
    """お問い合わせ先 printed on every published page."""

    __pydantic_config__ = _FORBID_EXTRA
    division: str = "総務部総務課"
    phone: str = "000-000-0000"
    email: Annotated[str, _After(_email_valid)] = "soumu@example.jp"
    url: str = ""  # optional: the division's page


def _prefecture_code_valid(code: str) -> str:
    if not (len(code) == 6 and code.isascii() and code.isdigit() and code[2:5] == "000"):
        raise ValueError("都道府県の全国地方公共団体コード（6桁、例: 130001）で指定してください")
    if int(code[5]) != local_government_check_digit(code[:5]):
        raise ValueError(
            f"検査数字（6桁目）が正しくありません（{code[:5]} の検査数字は {local_government_check_digit(code[:5])}）"
        )
    return code


@dataclass(frozen=True, kw_only=True)
class Publication:
    """The yearly publication (``[publication]``)."""

    __pydantic_config__ = _FORBID_EXTRA
    date_precision: Literal["day", "month"] = "day"
    # 全国地方公共団体コード of the prefecture: a column of the open data, so many prefectures' files stack.
    prefecture_code: Annotated[str, _After(_prefecture_code_valid)] = "990001"
    prefecture_name: Annotated[str, _Schema(min_length=1)] = "サンプル県"
    contact: Contact = field(default_factory=Contact)
    # 掲載日 / 更新日 of a year's page by fiscal year (2025 = 令和7年度); without one, the ledger's as_of.
    posted_on: dict[int, dt.date] = field(default_factory=dict)
    updated_on: dict[int, dt.date] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ExclusionHints:
    """Words that hint an exclusion may apply (``[exclusion_hints]``)."""

    __pydantic_config__ = _FORBID_EXTRA
    public_venue: tuple[str, ...] = ()
    minuted_meeting: tuple[str, ...] = ()
    official_document: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Limits on reading one submitted file: the container, checked before any parser opens it
    (zip-bomb defence), and what parsing it may cost in its worker process (0: no limit).

    ``max_read_seconds``: wall time to read and check one file; ``max_read_memory_mb``: memory
    of the worker process reading it (address space on POSIX; on Windows only with psutil).
    A file over either is ``unreadable`` (unreadable_timeout / unreadable_crashed)."""

    __pydantic_config__ = _FORBID_EXTRA
    max_file_bytes: int = 64 * 1024 * 1024
    max_zip_entries: int = 2_000
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_sheet_cells: int = 5_000_000  # rows × columns of a sheet's used range (a list of 100,000 rows fits)
    max_read_seconds: Annotated[float, _NON_NEGATIVE] = 300.0
    max_read_memory_mb: Annotated[int, _NON_NEGATIVE] = 4096


@dataclass(frozen=True, kw_only=True)
class Folders:
    """Where the offline bundle's double-click files find the shared folders (``[folders]``).

    Paths as Windows writes them (``\\\\server\\共有\\提出``, ``D:\\集計``); a relative path is relative to
    the bundle's folder. Only the bundle (``python -m ledger_tools.bundle``) reads them.
    """

    __pydantic_config__ = _FORBID_EXTRA
    inbox: str = ""
    out: str = ""


class Organisation:
    """The organisation in force during one period: organs, their departments and 主管課."""

    def __init__(self, start: dt.date | None, organs: tuple[Organ, ...]) -> None:
        self.start = start  # None: in force from the start of operation
        self.organs = organs

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
        """Every 主管課 of the period, in configuration order."""
        return tuple(
            dict.fromkeys(d.lead_division for o in self.organs for d in o.departments if d.lead_division)
        )

    @cached_property
    def _lead_by_department(self) -> dict[tuple[str, str], str]:
        return {(o.name, d.name): d.lead_division for o in self.organs for d in o.departments}

    def lead_division(self, organ: str, department: str) -> str:
        """The 主管課 configured for a department of this period ("" when unknown)."""
        return self._lead_by_department.get((organ, department), "")

    def has_department(self, organ: str, department: str) -> bool:
        return (organ, department) in self._lead_by_department


def _split_department(key: str) -> tuple[str, str]:
    organ, _, department = key.partition("/")
    return organ.strip(), department.strip()


def _a_date(value: object) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value.strip())
    raise ValueError(f"組織改正の日付（from）は日付で書いてください（例: from = 2026-04-01）: {value!r}")


@dataclass(frozen=True, kw_only=True)
class Reorganisation:
    """One 組織改正: the whole organisation in force from ``from``, and which departments it renamed."""

    # the TOML key is ``from`` (a Python keyword): an alias, and ``start`` itself is refused
    __pydantic_config__: ClassVar[dict[str, Any]] = {
        **_FORBID_EXTRA,
        "alias_generator": lambda name: "from" if name == "start" else name,
    }
    start: Annotated[dt.date, _Before(_a_date)]
    # "機関/部局" before → "機関/部局" from ``start``; two olds → one new: a merger
    renamed: dict[str, str] = field(default_factory=dict)
    organs: tuple[Organ, ...]


def _names_unique(config: Config) -> None:
    for key, organs in [("organs", config.organs)] + [
        (f"reorganisations（{i}番目）.organs", r.organs)
        for i, r in enumerate(config.reorganisations, start=1)
    ]:
        names = [o.name for o in organs]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"{key}: 機関は1つ以上、重複のない名前で書いてください")


def _periods_valid(config: Config) -> None:
    seen: set[dt.date] = set()
    for i, r in enumerate(config.reorganisations, start=1):
        key = f"reorganisations（{i}番目）"
        if r.start <= config.rules.operation_start:
            raise ValueError(
                f"{key}.from: 組織改正の日付 {r.start.isoformat()} は運用開始日"
                f"（rules.operation_start = {config.rules.operation_start.isoformat()}）より後にしてください"
            )
        if r.start in seen:
            raise ValueError(f"{key}.from: 組織改正の日付 {r.start.isoformat()} が重複しています")
        seen.add(r.start)
    for i, r in enumerate(config.reorganisations, start=1):
        before = config.organisation_on(r.start - dt.timedelta(days=1))
        after = config.organisation_on(r.start)
        for old, new in r.renamed.items():
            for side, name, organisation in (("改正前", old, before), ("改正後", new, after)):
                if not organisation.has_department(*_split_department(name)):
                    raise ValueError(
                        f"reorganisations（{i}番目）.renamed: 「{name}」は{side}（{r.start.isoformat()}"
                        f"{'の前日' if side == '改正前' else ''}）の組織にない部局です"
                        "（「機関/部局」の形で書いてください）"
                    )


def _config_valid(config: Config) -> Config:
    """The checks across sections, run after every field is valid."""
    _names_unique(config)
    _periods_valid(config)
    return config


@dataclass(frozen=True, kw_only=True)
class Config:
    """The whole configuration (one TOML file)."""

    __pydantic_config__ = _FORBID_EXTRA
    rules: Rules = field(default_factory=Rules)
    deadlines: Deadlines = field(default_factory=Deadlines)
    publication: Publication = field(default_factory=Publication)
    exclusion_hints: ExclusionHints = field(default_factory=ExclusionHints)
    limits: Limits = field(default_factory=Limits)
    folders: Folders = field(default_factory=Folders)  # local paths: not in the digest
    organs: tuple[Organ, ...]
    reorganisations: tuple[Reorganisation, ...] = ()

    @cached_property
    def periods(self) -> tuple[Organisation, ...]:
        """Every organisation in force, oldest first: the one from the start of operation, then one
        per reorganisation."""
        ordered = sorted(self.reorganisations, key=lambda r: r.start)
        return (Organisation(None, self.organs), *(Organisation(r.start, r.organs) for r in ordered))

    def organisation_on(self, date: dt.date) -> Organisation:
        """The organisation in force on ``date`` (before the first reorganisation: the initial one)."""
        current = self.periods[0]
        for period in self.periods[1:]:
            if period.start is not None and period.start <= date:
                current = period
        return current

    def departments_in_force_during(self, start: dt.date, end: dt.date) -> tuple[tuple[str, str], ...]:
        """Every (organ, department) in force at any time from ``start`` to ``end`` (inclusive),
        under the name it had, in configuration order (oldest period first)."""
        found: dict[tuple[str, str], None] = {}
        for i, period in enumerate(self.periods):
            following = self.periods[i + 1].start if i + 1 < len(self.periods) else None
            if (period.start is None or period.start <= end) and (following is None or following > start):
                found.update({(o.name, d.name): None for o in period.organs for d in o.departments})
        return tuple(found)

    @cached_property
    def renames(self) -> tuple[tuple[dt.date, tuple[str, str], tuple[str, str]], ...]:
        """Every rename or merger: (date, (organ, department) before, (organ, department) after), by date."""
        return tuple(
            (r.start, _split_department(old), _split_department(new))
            for r in sorted(self.reorganisations, key=lambda r: r.start)
            for old, new in r.renamed.items()
        )

    def successor(self, organ: str, department: str, on: dt.date) -> tuple[dt.date, str, str] | None:
        """What a department was renamed or merged into by ``on``, following the chain of renames:
        (date of the last rename, organ, department), or None when it was never renamed."""
        current, last = (organ, department), None
        for date, old, new in self.renames:
            if date <= on and old == current:
                current, last = new, date
        return None if last is None else (last, *current)

    def current_name(self, organ: str, department: str, on: dt.date) -> tuple[str, str]:
        """The name a department has on ``on`` after every rename since (itself when never renamed):
        what the yearly index uses to follow a department across years."""
        found = self.successor(organ, department, on)
        return (found[1], found[2]) if found else (organ, department)


def config_data(config: Config, *, by_alias: bool = False) -> dict[str, Any]:
    """The configuration as JSON-ready data (what pydantic's ``model_dump(mode="json")`` gave):
    dates as ISO text, tuples as lists, mapping keys as text; ``folders`` (local paths) left out."""
    data = _json_data(config, by_alias)
    del data["folders"]
    return data


def _json_data(value: object, by_alias: bool) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        alias = by_alias and isinstance(value, Reorganisation)
        return {
            ("from" if alias and f.name == "start" else f.name): _json_data(getattr(value, f.name), by_alias)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, (tuple, list)):
        return [_json_data(v, by_alias) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_data(v, by_alias) for k, v in value.items()}
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


def config_digest(config: Config) -> str:
    """A short fingerprint of a configuration: the ledger keeps the one it was made with."""
    import hashlib
    import json

    data = config_data(config, by_alias=True)
    defaults = _DEFAULTS_OF_LATER_KEYS
    for section, key in defaults:  # a configuration that leaves a later key alone keeps its fingerprint
        holder = data if section is None else data[section]
        if holder.get(key) == defaults[(section, key)]:
            del holder[key]
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# Keys added after the first release, with their defaults: left out of the fingerprint while at
# the default, so that a ledger made before they existed still matches its configuration.
_DEFAULTS_OF_LATER_KEYS: dict[tuple[str | None, str], object] = {
    (None, "reorganisations"): [],
    ("publication", "prefecture_code"): Publication.prefecture_code,
    ("publication", "prefecture_name"): Publication.prefecture_name,
    ("publication", "contact"): _json_data(Contact(), by_alias=False),
    ("publication", "posted_on"): {},
    ("publication", "updated_on"): {},
    ("limits", "max_read_seconds"): Limits.max_read_seconds,
    ("limits", "max_read_memory_mb"): Limits.max_read_memory_mb,
}


def default_config_text() -> str:
    from importlib import resources

    return resources.files("ledger_tools").joinpath("data/default_config.toml").read_text(encoding="utf-8")


def read_toml_text(path: Path) -> str:
    """A TOML file as text; a BOM (which Windows Notepad may add) is dropped."""
    return path.read_bytes().decode("utf-8-sig")


def load_config(path: str | Path | None = None) -> Config:
    """Load ``path`` (TOML), or the bundled default when ``path`` is None."""
    if path is None:
        return bundled_default()
    return load_toml_model(Path(path), _VALIDATED_CONFIG, "設定ファイル", ConfigError)


# What a TOML configuration is validated as: the fields, then the checks across sections.
_VALIDATED_CONFIG: Any = Annotated[Config, _After(_config_valid)]


def bundled_default() -> Config:
    """The bundled default, built here without reading or validating ``default_config.toml``: it is
    ours, and a test checks that validating that file gives this same object."""
    return Config(
        exclusion_hints=ExclusionHints(
            public_venue=(
                "説明会",
                "公開の場",
                "公開の会議",
                "公聴会",
                "記者会見",
                "シンポジウム",
                "街頭",
                "本会議",
                "県議会",
                "議場",
                "議会棟",
            ),
            minuted_meeting=("議事録", "会議録", "審議会", "委員会の会議"),
            official_document=(
                "県あて",
                "知事あて",
                "知事宛",
                "県宛",
                "要望書",
                "要請書",
                "陳情書",
                "公文書",
                "文書で提出",
            ),
        ),
        organs=tuple(
            Organ(
                name=organ,
                departments=tuple(Department(name=d, lead_division=lead) for d, lead in departments),
            )
            for organ, departments in _DEFAULT_ORGANS
        ),
    )


_DEFAULT_ORGANS = (
    (
        "知事部局",
        (
            ("総務部", "総務部総務課"),
            ("企画振興部", "企画振興部企画調整課"),
            ("健康福祉部", "健康福祉部福祉政策課"),
            ("環境生活部", "環境生活部環境政策課"),
            ("商工労働部", "商工労働部商工政策課"),
            ("農林水産部", "農林水産部農政課"),
            ("県土整備部", "県土整備部監理課"),
            ("会計局", "会計局会計課"),
        ),
    ),
    ("教育委員会", (("教育庁", "教育庁教育総務課"),)),
    ("警察本部", (("警察本部", "警務部警務課"),)),
    ("企業局", (("企業局", "企業局経営企画課"),)),
    ("病院局", (("病院局", "病院局経営管理課"),)),
    ("議会事務局", (("議会事務局", "議会事務局総務課"),)),
    (
        "各種委員会",
        (
            ("選挙管理委員会", "選挙管理委員会事務局"),
            ("人事委員会", "人事委員会事務局総務課"),
            ("監査委員", "監査委員事務局"),
            ("労働委員会", "労働委員会事務局"),
            ("収用委員会", "収用委員会事務局"),
        ),
    ),
)


M = TypeVar("M")


def validate_data(model: Any, data: object) -> Any:
    """``data`` validated as ``model`` (a pydantic model, a dataclass or an annotated type);
    pydantic is imported here, on the first file actually loaded."""
    return _adapter(model).validate_python(data)


_ADAPTERS: dict[object, Any] = {}


def _adapter(model: object) -> Any:
    if model not in _ADAPTERS:
        from pydantic import TypeAdapter

        _ADAPTERS[model] = TypeAdapter(model)
    return _ADAPTERS[model]


def load_toml_model(path: Path, model: type[M] | Any, what: str, error: type[Exception]) -> M:
    """A TOML file read as ``model``; any problem becomes ``error`` with a Japanese message
    that names ``what`` (設定ファイル, 対応表) and the file."""
    import tomllib

    from pydantic import ValidationError

    try:
        return validate_data(model, tomllib.loads(read_toml_text(path)))
    except FileNotFoundError:
        raise error(f"{what}が見つかりません: {path}") from None
    except UnicodeDecodeError:
        raise error(f"{what}を UTF-8 で保存し直してください（{path}）") from None
    except OSError as e:
        raise error(f"{what}を読めません（{path}）: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{what}の書式が正しくありません（{path}）: {toml_error_text(str(e))}") from None
    except ValidationError as e:
        raise error(validation_error_text(e, what, path)) from None


# tomllib's messages (English), by how they start → Japanese.
_TOML_MESSAGES = (
    ("Cannot declare", "同じ表（[...]）が2回書かれています"),
    ("Cannot mutate immutable namespace", "書き換えられない値に追加しようとしています"),
    ("Cannot overwrite a value", "同じキーが2回書かれています"),
    ("Cannot redefine namespace", "同じ表が2回定義されています"),
    ("Duplicate inline table key", "{ } の中で同じキーが2回書かれています"),
    ("Escaped character is not a Unicode scalar value", "エスケープした文字が正しくありません"),
    ("Expected '=' after a key", "キーの後に「=」がありません"),
    ("Expected ']' at the end of a table", "表の見出しが「]」で閉じていません"),
    ("Expected ']]' at the end of an array", "表の配列の見出しが「]]」で閉じていません"),
    ("Expected newline or end of document", "1行に2つ以上の値が書かれています（改行が必要です）"),
    ("Expected", "必要な記号がありません"),
    ("Found invalid character", "使えない文字があります"),
    ("Illegal character", "文字列の中に使えない文字（改行・制御文字）があります"),
    ("Invalid date or datetime", "日付・日時が正しくありません"),
    ("Invalid hex value", "\\u の後の16進数が正しくありません"),
    (
        "Invalid initial character for a key part",
        'キーの書き方が正しくありません（日本語などのキーは "..." で囲みます）',
    ),
    (
        "Invalid statement",
        'この行を読めません（キー = 値 の形で書きます。日本語などのキーは "..." で囲みます）',
    ),
    ("Invalid value", '値が正しくありません（文字列は "..." で囲みます）'),
    ("Unclosed array", "配列が「]」で閉じていません"),
    ("Unclosed inline table", "{ } が閉じていません"),
    (
        "Unescaped '\\' in a string",
        "文字列の中の「\\」はエスケープが必要です（\\\\ と書くか '...' で囲みます）",
    ),
    ("Unterminated string", "文字列が閉じていません（引用符の対応を確かめてください）"),
)
_TOML_WHERE = r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$"


def toml_error_text(message: str) -> str:
    """tomllib's English message in Japanese, with the line and column where it was found."""
    import re

    where = re.search(_TOML_WHERE, message)
    text = message[: where.start()] if where else message
    japanese = next((ja for prefix, ja in _TOML_MESSAGES if text.startswith(prefix)), None)
    if japanese is None:
        japanese = f"書式の誤り（{text}）"
    if where is None:
        return japanese
    if where.group(1) is None:
        return f"ファイルの終わり: {japanese}"
    return f"{where.group(1)}行目 {where.group(2)}文字目: {japanese}"


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
    "unexpected_keyword_argument": "という項目はありません。綴りと書く場所（[ ] の見出し）を確かめてください",
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
    "dataclass_type": "は表（[見出し] 又は { … }）で指定してください",
    "dataclass_args_type": "は表（[見出し] 又は { … }）で指定してください",
    "dict_type": "は表（[見出し] 又は { … }）で指定してください",
}
_NO_VALUE = ("missing", "extra_forbidden", "unexpected_keyword_argument")
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
        value = "" if kind in _NO_VALUE else _value_text(err.get("input"))
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
        elif kind == "value_error" and not err["loc"]:  # a model's own check names its key itself
            text = str(ctx.get("error", ""))
        elif kind == "value_error":  # a validator's own message says what is wrong
            text = f"「{key}」の値が正しくありません: {ctx.get('error', '')}"
        else:
            text = f"「{key}」の値が正しくありません"
        lines.append(f"  - {text}{value}")
    return "\n".join(lines)
