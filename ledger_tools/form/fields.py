"""The field catalogue of the 対応記録簿 (every form version): the one place that knows every field.

Template, reader, validator, ledger columns, CSV headers and the documentation are all
generated from ``FIELDS``; ``fields_for(version)`` is one version's form. Adding a field is
adding one ``Field`` entry here (with ``since`` the first form version that has it).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger_tools.config import Organisation

FORM_VERSIONS: tuple[int, ...] = (1, 2)  # every form version this program reads
TEMPLATE_VERSION = FORM_VERSIONS[-1]  # the version ``template`` writes
TEMPLATE_VERSION_NAME = "template_version"
RECORD_LIST_NAME = "record_list"  # list-format workbooks: the defined name of the field-id row
EXCEL_CELL_LIMIT = 32_767  # characters in one Excel cell


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    DATE = "date"
    TIME = "time"


@dataclass(frozen=True)
class Section:
    letter: str
    title: str


SECTIONS: tuple[Section, ...] = (
    Section("A", "識別"),
    Section("B", "受けた職員"),
    Section("C", "働きかけの状況"),
    Section("D", "除外事由の確認"),
    Section("E", "職員の対応"),
    Section("F", "所属長の判断"),
    Section("G", "主管課の措置"),
    Section("H", "公表用"),
)

# Choice values used by the rules; the catalogue below is their single source.
APPLICABLE = "不当な働きかけに該当する"
NOT_APPLICABLE = "該当しない"
UNDECIDED = "判断中"
EXCLUSION_APPLIES = "該当する"
EXCLUSION_DOES_NOT_APPLY = "該当しない"
TOLD = "伝えた"
NOT_TOLD = "伝えていない"
REEMPLOYED = "再就職者（県職員OB）"
BUSINESS_OTHER = "その他"
METHOD_DOCUMENT = "文書"
MEASURES_NEEDED = "要"
PROVIDED = "行った"
SUSPECTED = "あり"
COORDINATED = "連携した"


class Need(StrEnum):
    """Kinds of requirement; see ``Requirement.applies``."""

    ALWAYS = "always"
    DECIDED = "decided"  # "stage F": the 所属長 has judged 該当する or 該当しない
    LATER_STAGE = "later_stage"  # a field of section F or G (other than this one) is filled
    STAGE_G = "stage_g"  # any field of section G is filled
    WHEN = "when"  # another field holds one of some values
    PUBLICATION = "publication"  # 該当 and shared with 総務課: about to be published


@dataclass(frozen=True)
class Requirement:
    """One reason a field must be filled; ``severity`` is what its absence costs."""

    need: Need
    when_field: str | None = None
    when_values: tuple[str, ...] = ()
    severity: str = "error"
    code: str | None = None  # the finding code when missing; default required_missing / recommended_missing

    def applies(self, values: Mapping[str, object]) -> bool:
        """Whether this requirement holds for a record's normalised ``values``."""
        need = self.need
        if need is Need.WHEN:  # the usual one: a choice made
            return self.when_field is not None and values.get(self.when_field) in self.when_values
        if need is Need.ALWAYS:
            return True
        if need is Need.DECIDED:
            return values.get("supervisor_judgement") in (APPLICABLE, NOT_APPLICABLE)
        if need is Need.LATER_STAGE:
            return any(filled(values.get(f)) for f in LATER_STAGE_FIELD_IDS)
        if need is Need.STAGE_G:
            return any(filled(values.get(f)) for f in STAGE_G_FIELD_IDS)
        # Need.PUBLICATION
        return (
            values.get("supervisor_judgement") == APPLICABLE
            and filled(values.get("shared_with_general_affairs_date"))
            and (self.when_field is None or values.get(self.when_field) in self.when_values)
        )

    def describe(
        self, sections: Callable[[str, str], str] | None = None, columns: Mapping[str, str] | None = None
    ) -> str:
        """The condition in Japanese, for the 記入要領 sheet and the docs. ``sections`` names a run
        of sections (first, last letter) and ``columns`` gives a field's column, for a form that
        names them otherwise (the list form: by its columns); by default the single form's 欄."""
        if self.need is Need.ALWAYS:
            return "必須"
        if self.need is Need.DECIDED:
            return "所属長が判断したとき必須"
        if self.need is Need.LATER_STAGE:
            return (sections("F", "G") if sections else "F・G欄") + "を記入したとき必須"
        if self.need is Need.STAGE_G:
            return (
                (sections("G", "G") if sections else "G欄")
                + "を記入したとき"
                + ("必須" if self.severity == "error" else "必要")
            )
        label = field_reference(self.when_field, columns) if self.when_field else ""
        choices = "又は".join(f"「{v}」" for v in self.when_values)
        condition = f"{label}が{choices}のとき" if self.when_field else ""
        if self.need is Need.PUBLICATION:
            return f"公表に必要（{condition}）" if condition else "公表に必要"
        return condition + ("必須" if self.severity == "error" else "記入を推奨")


def section_titles(first: str, last: str) -> str:
    """Sections ``first``..``last`` named by their titles, for a form whose columns are not the
    single form's 欄 (a list row's findings): "「所属長の判断」「主管課の措置」の項目"."""
    titles = [f"「{s.title}」" for s in SECTIONS if first <= s.letter <= last]
    return "".join(titles) + "の項目"


def field_reference(field_id: str, columns: Mapping[str, str] | None = None) -> str:
    """A field as a requirement names it: 「label」, and its column when ``columns`` has it."""
    label = f"「{FIELD_BY_ID[field_id].label}」"
    return f"{label}（{columns[field_id]}列）" if columns and field_id in columns else label


def filled(value: object) -> bool:
    """Whether a normalised value is there (not None, not empty text)."""
    return value is not None and value != ""


ALWAYS = (Requirement(Need.ALWAYS),)
OPTIONAL: tuple[Requirement, ...] = ()


def when(field_id: str, *values: str, severity: str = "error", code: str | None = None) -> Requirement:
    return Requirement(Need.WHEN, field_id, tuple(values), severity, code)


@dataclass(frozen=True)
class Field:
    """One input of the form. ``id`` is also the workbook's defined name for its cell."""

    id: str
    label: str
    type: FieldType
    section: str
    required: tuple[Requirement, ...] = ALWAYS
    public: bool = False
    choices: tuple[str, ...] = ()
    choices_from: str | None = None  # "organs" or "departments": taken from the configuration
    suggestions_from: str | None = None  # "lead_divisions": a text field offered a list, other values allowed
    max_length: int | None = None
    hint: str = ""  # the input prompt shown in Excel
    since: int = 1  # the first form version that has this field
    until: int | None = None  # the last form version that has it (None: still there)

    def in_version(self, version: int) -> bool:
        return self.since <= version and (self.until is None or version <= self.until)

    @property
    def versions_text(self) -> str:
        """The form versions that have this field, e.g. "v1〜", "v2〜", "v1〜v2"."""
        return f"v{self.since}〜" + (f"v{self.until}" if self.until is not None else "")

    @property
    def length_limit(self) -> int:
        """The most characters a value may have: ``max_length``, and never more than an Excel
        cell holds, so that no output (the ledger, a CSV opened in Excel) ever cuts it."""
        return min(self.max_length or EXCEL_CELL_LIMIT, EXCEL_CELL_LIMIT)

    @property
    def is_choice(self) -> bool:
        return self.type is FieldType.CHOICE

    @property
    def has_list(self) -> bool:
        """Whether the template offers a dropdown: a choice, or a text field with suggestions."""
        return self.is_choice or self.suggestions_from is not None

    @property
    def is_date(self) -> bool:
        return self.type is FieldType.DATE

    @property
    def always_required(self) -> bool:
        return any(r.need is Need.ALWAYS for r in self.required)

    def allowed_values(self, organisation: Organisation, organ: str | None = None) -> tuple[str, ...]:
        """The values a choice field accepts: the catalogue's, or the organs or departments of the
        organisation in force (those of ``organ`` when it is known)."""
        if self.choices_from == "organs":
            return organisation.organ_names
        if self.choices_from == "departments":
            return (
                organisation.departments_by_organ.get(organ, organisation.all_departments)
                if organ
                else organisation.all_departments
            )
        if self.suggestions_from == "lead_divisions":
            return organisation.lead_divisions
        return self.choices

    def requirement_text(
        self, sections: Callable[[str, str], str] | None = None, columns: Mapping[str, str] | None = None
    ) -> str:
        """The requirements in Japanese; conditions on the same values are joined with 又は.
        ``sections`` and ``columns`` as for ``Requirement.describe``."""
        merged: list[str] = []
        for r in self.required:
            same = [
                o
                for o in self.required
                if o.need is Need.WHEN
                and r.need is Need.WHEN
                and (o.when_values, o.severity) == (r.when_values, r.severity)
            ]
            if len(same) > 1:
                if r is same[0]:
                    labels = "又は".join(field_reference(o.when_field or "", columns) for o in same)
                    merged.append(
                        f"{labels}が" + "又は".join(f"「{v}」" for v in r.when_values) + "のとき必須"
                    )
            else:
                merged.append(r.describe(sections, columns))
        return "、".join(merged) or "任意"


C, D, T, LT, TM = FieldType.CHOICE, FieldType.DATE, FieldType.TEXT, FieldType.LONG_TEXT, FieldType.TIME
EXCLUSION = (EXCLUSION_APPLIES, EXCLUSION_DOES_NOT_APPLY)
TOLD_CHOICES = (TOLD, NOT_TOLD)
DATE_HINT = "例: 2025/3/1、令和7年3月1日、R7.3.1"

FIELDS: tuple[Field, ...] = (
    # A 識別
    Field(
        "record_id",
        "整理番号",
        T,
        "A",
        max_length=40,
        hint="半角英数字・ハイフン・アンダースコア（40文字以内）",
    ),
    Field("organ", "機関", C, "A", public=True, choices_from="organs"),
    Field(
        "department",
        "部局",
        C,
        "A",
        public=True,
        choices_from="departments",
        hint="機関を選んでから選択してください",
    ),
    Field("section", "所属", T, "A"),
    # B 受けた職員
    Field("staff_name", "職員氏名", T, "B"),
    Field("staff_title", "職名", T, "B", OPTIONAL),
    # C 働きかけの状況
    Field("received_date", "働きかけを受けた日", D, "C", public=True, hint=DATE_HINT),
    Field("received_time", "時刻", TM, "C", OPTIONAL, hint="例: 14:30"),
    Field("place", "場所", T, "C"),
    Field(
        "method",
        "方法",
        C,
        "C",
        public=True,
        choices=("面談", "電話", "電子メール", METHOD_DOCUMENT, "その他"),
    ),
    Field("requester_name", "相手方の氏名", T, "C"),
    Field("requester_affiliation", "相手方の所属（会社・団体等）", T, "C", OPTIONAL),
    Field(
        "requester_category",
        "相手方の区分",
        C,
        "C",
        public=True,
        choices=("事業者", "団体", "議員", REEMPLOYED, "その他"),
    ),
    Field(
        "business_type",
        "事務の区分",
        C,
        "C",
        public=True,
        choices=("入札・契約", "許認可", "補助金等", BUSINESS_OTHER),
    ),
    Field("business_name", "関係する事務・事業名", T, "C"),
    Field("request_content", "要求又は依頼の内容", LT, "C"),
    # D 除外事由の確認
    Field("excl_public_venue", "除外(1) 不特定多数の者が内容を知り得る場", C, "D", choices=EXCLUSION),
    Field("excl_minuted_meeting", "除外(2) 議事録が作成される会議の場", C, "D", choices=EXCLUSION),
    Field("excl_official_document", "除外(3) 県の機関あての文書", C, "D", choices=EXCLUSION),
    # E 職員の対応
    Field("told_cannot_comply", "応じられない旨の伝達", C, "E", public=True, choices=TOLD_CHOICES),
    Field("told_will_be_recorded", "記録される旨の伝達", C, "E", public=True, choices=TOLD_CHOICES),
    Field(
        "not_told_reason",
        "伝えていない理由",
        T,
        "E",
        (when("told_cannot_comply", NOT_TOLD), when("told_will_be_recorded", NOT_TOLD)),
    ),
    Field(
        "requester_withdrew",
        "相手方の撤回",
        C,
        "E",
        public=True,
        choices=("撤回した", "撤回していない", "不明"),
    ),
    Field("response_detail", "対応の内容", LT, "E", OPTIONAL),
    Field("reported_date", "所属長への報告日", D, "E", hint=DATE_HINT),
    # F 所属長の判断
    Field(
        "supervisor_judgement",
        "所属長の判断",
        C,
        "F",
        (Requirement(Need.LATER_STAGE),),
        public=True,
        choices=(APPLICABLE, NOT_APPLICABLE, UNDECIDED),
    ),
    Field(
        "judgement_date",
        "判断日",
        D,
        "F",
        (when("supervisor_judgement", APPLICABLE, NOT_APPLICABLE),),
        hint=DATE_HINT,
    ),
    Field(
        "personnel_info_provided",
        "人事課長への情報提供（退職管理）",
        C,
        "F",
        (Requirement(Need.DECIDED),),
        choices=(PROVIDED, "行っていない"),
    ),
    Field(
        "personnel_info_date",
        "情報提供日",
        D,
        "F",
        (when("personnel_info_provided", PROVIDED),),
        hint=DATE_HINT,
    ),
    Field(
        "art38_2_suspected",
        "地方公務員法第38条の2の規制対象の疑い",
        C,
        "F",
        (Requirement(Need.DECIDED), when("requester_category", REEMPLOYED)),
        choices=(SUSPECTED, "なし"),
    ),
    Field(
        "personnel_committee_notified_date",
        "人事委員会への届出日",
        D,
        "F",
        (when("art38_2_suspected", SUSPECTED, severity="warning", code="art38_2_not_notified"),),
        hint=DATE_HINT,
    ),
    Field(
        "sent_to_lead_date",
        "主管課長への送付日",
        D,
        "F",
        (when("supervisor_judgement", APPLICABLE),),
        hint=DATE_HINT,
    ),
    Field("responsible_division", "主務課", T, "F", (when("supervisor_judgement", APPLICABLE),)),
    Field(
        "shared_with_responsible_date",
        "主務課長への共有日",
        D,
        "F",
        (when("supervisor_judgement", APPLICABLE),),
        hint=DATE_HINT,
    ),
    # G 主管課の措置
    Field(
        "lead_division",
        "主管課",
        T,
        "G",
        (Requirement(Need.STAGE_G),),
        suggestions_from="lead_divisions",
        hint="一覧にない場合は直接入力できます",
    ),
    Field(
        "measures_needed",
        "措置の要否",
        C,
        "G",
        (Requirement(Need.STAGE_G),),
        public=True,
        choices=(MEASURES_NEEDED, "不要"),
    ),
    Field("measures_taken", "講じた措置の内容", LT, "G", (when("measures_needed", MEASURES_NEEDED),)),
    Field(
        "coordinated_with_responsible",
        "主務課長との連携",
        C,
        "G",
        (when("measures_needed", MEASURES_NEEDED),),
        choices=(COORDINATED, "連携していない"),
        since=2,
    ),
    Field(
        "result_notified_date",
        "所属長への結果通知日",
        D,
        "G",
        (when("measures_needed", MEASURES_NEEDED),),
        hint=DATE_HINT,
    ),
    # Needed for publication; a record may rest at stage 措置 before it is shared, so only a warning.
    Field(
        "shared_with_general_affairs_date",
        "総務課への共有日",
        D,
        "G",
        (Requirement(Need.STAGE_G, severity="warning"),),
        hint=DATE_HINT,
    ),
    # H 公表用
    Field(
        "public_summary",
        "公表用の概要",
        LT,
        "H",
        (Requirement(Need.PUBLICATION, severity="warning"),),
        public=True,
        max_length=200,
        hint="氏名・団体名・連絡先を書かないでください（200字以内）",
    ),
    Field(
        "public_measures",
        "公表用の措置の概要",
        LT,
        "H",
        (Requirement(Need.PUBLICATION, "measures_needed", (MEASURES_NEEDED,), severity="warning"),),
        public=True,
        max_length=200,
        hint="氏名・団体名・連絡先を書かないでください（200字以内）",
    ),
)

FIELD_BY_ID: dict[str, Field] = {f.id: f for f in FIELDS}
FIELD_IDS: tuple[str, ...] = tuple(f.id for f in FIELDS)
PUBLIC_FIELD_IDS: tuple[str, ...] = tuple(f.id for f in FIELDS if f.public)
DATE_FIELD_IDS: tuple[str, ...] = tuple(f.id for f in FIELDS if f.is_date)
STAGE_G_FIELD_IDS: tuple[str, ...] = tuple(f.id for f in FIELDS if f.section == "G")
LATER_STAGE_FIELD_IDS: tuple[str, ...] = tuple(
    f.id for f in FIELDS if f.section in "FG" and f.id != "supervisor_judgement"
)


def fields_of(section: str, version: int | None = None) -> tuple[Field, ...]:
    """The fields of a section (of one form version; of the catalogue when ``version`` is None)."""
    return tuple(f for f in FIELDS if f.section == section and (version is None or f.in_version(version)))


@functools.cache
def fields_for(version: int) -> tuple[Field, ...]:
    """The fields of one form version, in catalogue order."""
    if version not in FORM_VERSIONS:
        raise ValueError(f"unknown form version: {version}")
    return tuple(f for f in FIELDS if f.in_version(version))


@functools.cache
def field_ids_for(version: int) -> tuple[str, ...]:
    return tuple(f.id for f in fields_for(version))


# The fields every known version has: what any form must hold before its version is read.
COMMON_FIELD_IDS: tuple[str, ...] = tuple(f.id for f in FIELDS if all(f.in_version(v) for v in FORM_VERSIONS))


def form_version(value: object) -> int | None:
    """A template_version cell as a known form version: 2, 2.0 and "2" (also full-width) are
    version 2; 1.9, 3 or text are None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(unicodedata.normalize("NFKC", str(value)).strip())
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or int(number) not in FORM_VERSIONS:
        return None
    return int(number)


VERSIONS_TEXT = "、".join(f"v{v}" for v in FORM_VERSIONS)  # for messages: "v1、v2"


# The order in which the dates of a record must run (spec §6); each where present.
DATE_CHAIN: tuple[str, ...] = (
    "received_date",
    "reported_date",
    "judgement_date",
    "sent_to_lead_date",
    "result_notified_date",
    "shared_with_general_affairs_date",
)
# Dates that may not precede another date: (later, earlier).
DATE_NOT_BEFORE: tuple[tuple[str, str], ...] = (("shared_with_responsible_date", "judgement_date"),)

# Stages (spec §3): the furthest a record has reached.
STAGE_RECORDED = "記録"
STAGE_JUDGED = "判断"
STAGE_MEASURES = "措置"
STAGE_SHARED = "共有済"
STAGES: tuple[str, ...] = (STAGE_RECORDED, STAGE_JUDGED, STAGE_MEASURES, STAGE_SHARED)
# What every output shows for a stage: what has been done and what is awaited (a bare 「記録」 reads
# as a count, 「措置」 as the measure itself).
STAGE_LABELS_JA: dict[str, str] = {
    STAGE_RECORDED: "記録済み（所属長の判断待ち）",
    STAGE_JUDGED: "判断済み（主管課の措置待ち）",
    STAGE_MEASURES: "措置中（総務課への共有待ち）",
    STAGE_SHARED: "総務課へ共有済み",
}


def stage_label(stage: str | None) -> str:
    """A stage as the outputs show it (``STAGE_LABELS_JA``); empty for none."""
    return STAGE_LABELS_JA.get(stage, stage) if stage else ""


def stage_of(values: Mapping[str, object]) -> str:
    """The furthest stage a record has reached."""
    if filled(values.get("shared_with_general_affairs_date")):
        return STAGE_SHARED
    if any(filled(values.get(f)) for f in STAGE_G_FIELD_IDS):
        return STAGE_MEASURES
    if values.get("supervisor_judgement") in (APPLICABLE, NOT_APPLICABLE):
        return STAGE_JUDGED
    return STAGE_RECORDED


EXCLUSION_FIELDS: dict[str, str] = {
    "excl_public_venue": "public_venue",
    "excl_minuted_meeting": "minuted_meeting",
    "excl_official_document": "official_document",
}
