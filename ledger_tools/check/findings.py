"""Findings (typed problems) and the validation report.

Every code is in ``CODES``, with its severity and a Japanese message template keyed by
the code and formatted with the finding's context — the message is rendered once, when the
finding is made. ``docs/finding-codes.md`` is generated from ``CODES`` and checked by a test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ledger_tools.form.fields import FIELD_BY_ID, NOT_APPLICABLE, TEMPLATE_VERSION, VERSIONS_TEXT

_LATEST_FORM = f"対応記録簿_v{TEMPLATE_VERSION}.xlsx"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Status(StrEnum):
    """One per file: the first that applies, in this order (spec §4)."""

    SKIPPED = "skipped"
    UNREADABLE = "unreadable"
    INVALID = "invalid"
    EXCLUDED = "excluded"
    NOT_APPLICABLE = "not_applicable"
    OK = "ok"


STATUS_LABELS_JA: dict[Status, str] = {
    Status.OK: "正常",
    Status.EXCLUDED: "対象外（除外事由）",
    Status.NOT_APPLICABLE: "非該当",
    Status.INVALID: "要修正",
    Status.UNREADABLE: "読み取り不可",
    Status.SKIPPED: "対象外ファイル",
}


@dataclass(frozen=True)
class Code:
    """A finding code: its severity, a short title and the message template."""

    severity: Severity
    title: str
    template: str


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741 - one letter keeps the table aligned

# The closed list of finding codes. Templates are formatted with the finding's context;
# {label} is the field's Japanese label where the finding concerns one field.
CODES: dict[str, Code] = {
    # --- files that are not submissions (status skipped)
    "skipped_lock_file": Code(
        I, "Excelのロックファイル", "Excelが作業中に作る一時ファイル（~$…）なので読み飛ばしました。"
    ),
    "skipped_hidden_file": Code(
        I, "隠し・一時ファイル", "隠しファイル又は一時ファイルなので読み飛ばしました。"
    ),
    "skipped_empty_list": Code(
        I, "記録のない一覧", "一覧形式の様式ですが、記入された行がないので読み飛ばしました。"
    ),
    "skipped_not_spreadsheet": Code(
        I, "表計算ファイルではない", "Excelファイル（.xlsx / .xlsm）ではないので読み飛ばしました。"
    ),
    # --- files that cannot be read (status unreadable)
    "unreadable_encrypted": Code(
        E,
        "パスワード付きファイル",
        "パスワードで保護（暗号化）されているため読めません。パスワードを解除して保存し直してから提出してください。",
    ),
    "unreadable_legacy_xls": Code(
        E,
        "旧形式（.xls）",
        "旧形式のExcelファイル（.xls）は読めません。Excelで開き「Excel ブック (*.xlsx)」形式で保存し直してください。",
    ),
    "unreadable_not_xlsx": Code(
        E,
        "xlsxではない",
        "Excelファイル（.xlsx）として読めません（中身が別の形式です）。様式（"
        + _LATEST_FORM
        + "）に記入して保存してください。",
    ),
    "unreadable_corrupt": Code(
        E,
        "破損又はコピー中",
        "ファイルが壊れているか、コピー中の可能性があります（{detail}）。コピーが終わってから再実行するか、作成者に保存し直しを依頼してください。",
    ),
    "unreadable_zip_bomb": Code(
        E,
        "異常な圧縮ファイル",
        "圧縮の内容が異常なため安全のため読みません（{detail}）。様式に記入し直して提出してください。",
    ),
    "unreadable_xml": Code(
        E,
        "内部のXMLが不正",
        "ファイル内部のXMLが不正又は危険な構造のため読めません（{detail}）。Excelで開いて保存し直してください。",
    ),
    "unreadable_too_large": Code(
        E, "ファイルが大きすぎる", "ファイルが大きすぎます（{detail}）。1件ずつ様式に記入してください。"
    ),
    "unreadable_io": Code(
        E,
        "ファイルを開けない",
        "ファイルを開けません（{detail}）。アクセス権やほかのプログラムでの使用状況を確認してください。",
    ),
    "unreadable_not_template": Code(
        E,
        "様式ではない",
        "対応記録簿（" + VERSIONS_TEXT + "）の様式ではありません（入力欄の名前 {detail} がありません）。"
        "配布された様式「" + _LATEST_FORM + "」に記入してください。",
    ),
    "unreadable_list_columns": Code(
        E,
        "一覧の列がない",
        "一覧形式の列（項目ID {detail}）が見つかりません。非表示の1行目（項目ID）と列は削除しないでください。配布された一覧形式の様式に記入し直してください。",
    ),
    "unreadable_list_duplicate_columns": Code(
        E,
        "一覧の列が重複",
        "一覧形式の同じ項目の列が2つあります（項目ID {detail}）。どちらかの列を削除してから保存し直してください。",
    ),
    "unreadable_template_version": Code(
        E,
        "様式の版が違う",
        "様式の版（template_version = {detail}）に対応していません。読める様式は "
        + VERSIONS_TEXT
        + "です。最新の様式（v"
        + str(TEMPLATE_VERSION)
        + "）に記入し直してください。",
    ),
    "unreadable_unexpected": Code(
        E,
        "予期しないエラー",
        "読み取り中に予期しないエラーが起きました（{detail}）。このファイルを添えてシステム担当に連絡してください。",
    ),
    # --- hostile or unusual files (issue 9): never read, never a crash of the batch
    "unreadable_other_format": Code(
        E,
        "xlsx以外の表計算形式",
        "Excel ブック（.xlsx）以外の表計算形式（{detail}）なので読めません。Excel で開き『Excel ブック (*.xlsx)』で保存し直してください。",
    ),
    "unreadable_not_regular_file": Code(
        E,
        "通常のファイルではない",
        "通常のファイルではない（{detail}）ため読みません。ファイルそのものを提出フォルダに置いてください。",
    ),
    "unreadable_crashed": Code(
        E,
        "読み取り中に異常終了",
        "読み取り中に処理が異常終了しました（{detail}）。ファイルが壊れているか異常な構造です。Excel で開き『Excel ブック (*.xlsx)』で保存し直してください。",
    ),
    "unreadable_timeout": Code(
        E,
        "読み取りが終わらない",
        "読み取りが制限時間（{detail}）内に終わりませんでした。ファイルが異常に大きいか壊れています。Excel で開き『Excel ブック (*.xlsx)』で保存し直してください。",
    ),
    "unreadable_link_outside": Code(
        E,
        "受付フォルダの外へのリンク",
        "受付フォルダの外を指すリンク（{detail}）なので読みません。ファイルそのものを提出フォルダに置いてください。",
    ),
    "unreadable_linked_folder": Code(
        E,
        "リンクされたフォルダ",
        "フォルダへのリンク（{detail}）は中を読みません。ファイルそのものを提出フォルダに置いてください。",
    ),
    "macro_not_run": Code(
        I, "マクロ付きファイル", "マクロ付きファイルです。マクロは実行せず、値だけを読みました。"
    ),
    # --- single fields
    "required_missing": Code(
        E, "必須項目が未記入", "「{label}」が未記入です。{condition}のため記入してください。"
    ),
    "recommended_missing": Code(W, "記入が必要な項目が未記入", "「{label}」が未記入です（{condition}）。"),
    "invalid_choice": Code(
        E,
        "選択肢にない値",
        "「{label}」の「{value}」は選択肢にありません。一覧（{choices}）から選んでください。",
    ),
    "department_not_in_organ": Code(
        E,
        "機関に属さない部局",
        "「部局」の「{value}」は機関「{organ}」の部局にありません。一覧（{choices}）から選んでください。",
    ),
    "department_renamed": Code(
        E,
        "組織改正で改称された部局",
        "「部局」の「{value}」は {date} の組織改正で「{successor}」になりました。"
        "受けた日（{received}）の部局は「{successor}」です。",
    ),
    "invalid_date": Code(
        E, "日付として読めない", "「{label}」: {detail}。2025/3/1 や 令和7年3月1日 の形で記入してください。"
    ),
    "impossible_date": Code(E, "存在しない日付", "「{label}」: {detail}。日付を確認してください。"),
    "era_out_of_range": Code(E, "元号の期間外の日付", "「{label}」: {detail}。正しくは「{hint}」です。"),
    "invalid_time": Code(E, "時刻として読めない", "「{label}」: {detail}。"),
    "invalid_record_id": Code(
        E,
        "整理番号の形式",
        "「整理番号」の「{value}」は使えません。半角英数字・ハイフン・アンダースコアの40文字以内で記入してください。",
    ),
    "too_long": Code(E, "文字数超過", "「{label}」が{length}文字あります。{limit}文字以内にしてください。"),
    "control_characters_in_public": Code(
        E,
        "公表欄に見えない文字",
        "「{label}」に表示されない文字 {chars} が含まれています。公表される欄なので、この文字を削除して保存し直してください（読み取った値からは取り除いています）。",
    ),
    "control_characters": Code(
        W,
        "見えない文字",
        "「{label}」に表示されない文字 {chars} が含まれていたため、取り除いて読み取りました。",
    ),
    "formula_error": Code(
        E,
        "数式のエラー",
        "「{label}」の数式がエラー（{value}）になっています。数式を直すか、値を直接入力してください。",
    ),
    "sheet_copied": Code(
        E,
        "シートのコピー",
        "「{detail}」シートにも様式の入力欄があります（シートのコピー）。1つのファイルには1件だけ記入し、コピーしたシートの記録は別のファイルにしてください（コピーしたシートは読み取っていません）。",
    ),
    "formula_without_value": Code(
        E,
        "計算結果のない数式",
        "「{label}」の数式に計算結果が保存されていません。Excelで開いて再計算・保存するか、値を直接入力してください。",
    ),
    # --- cross-field rules
    "date_order": Code(
        E,
        "日付の順序",
        "「{label}」（{value}）が「{other_label}」（{other_value}）より前になっています。日付を確認してください。",
    ),
    "date_in_future": Code(
        E, "未来の日付", "「{label}」（{value}）が基準日（{as_of}）より後です。日付を確認してください。"
    ),
    "received_before_operation": Code(
        W,
        "運用開始前の日付",
        "「働きかけを受けた日」（{value}）が制度の運用開始日（{start}）より前です。日付を確認してください。",
    ),
    "report_late": Code(
        W,
        "報告の遅れ",
        "所属長への報告（{value}）が受けた日から{days}日後です（目安{limit}日以内）。速やかに報告してください。",
    ),
    "exclusion_applies": Code(
        I,
        "除外事由に該当",
        "除外事由（{reasons}）に該当するため、制度の対象外として別に管理します（公表しません）。",
    ),
    "exclusion_suspected": Code(
        W,
        "除外事由の可能性",
        "「{label}」に「{keyword}」とあり、除外事由（{reason}）に当たる可能性がありますが、除外事由はすべて「該当しない」です。D欄を確認してください。",
    ),
    "exclusion_with_judgement": Code(
        W,
        "除外事由と判断の矛盾",
        "除外事由に該当するとされていますが、所属長の判断は「不当な働きかけに該当する」です。除外事由に当たる働きかけは制度の対象外です。D欄又はF欄を確認してください。",
    ),
    "lead_division_unexpected": Code(
        W,
        "主管課の確認",
        "「主管課」の「{value}」は、設定上の部局「{department}」の主管課（{expected}）と異なります。確認してください。",
    ),
    "business_type_other": Code(
        W,
        "対象外の事務の可能性",
        "「事務の区分」が「その他」です。この制度の対象は入札・契約、許認可、補助金等に関する働きかけです。区分を確認してください。",
    ),
    "art38_2_not_notified": Code(
        W,
        "人事委員会への届出日が未記入",
        "地方公務員法第38条の2の規制対象の疑いが「あり」ですが、人事委員会への届出日が未記入です。この制度とは別に人事委員会へ届け出てください。",
    ),
    "personal_data_suspected": Code(
        W,
        "公表欄に個人情報の可能性",
        "「{label}」の「{found}」は{kind}の可能性があります。個人や団体を特定できる情報であれば、削除するか一般的な表現に改めてください。",
    ),
    "personal_data_in_public": Code(
        E,
        "公表欄に個人情報",
        "「{label}」に{kind}（「{found}」）が含まれています。公表される欄なので、削除するか一般的な表現に改めてください。",
    ),
    # --- across files
    "record_id_conflict": Code(
        E,
        "整理番号の重複",
        "整理番号「{record_id}」が別のファイル（{other}）にもあり、内容が異なります。どちらが正しいか確認し、一方の整理番号を直してください。",
    ),
    "superseded": Code(
        I, "後の段階の版あり", "整理番号「{record_id}」は後の段階の版（{other}）に引き継がれています。"
    ),
    "supersedes": Code(
        I, "前の段階の版を置換", "整理番号「{record_id}」の前の段階の版（{other}）を置き換えます。"
    ),
    "duplicate_file": Code(
        I,
        "同じ内容のファイル",
        "整理番号「{record_id}」と同じ内容のファイルがほかにもあります（{other}）。1件として扱います。",
    ),
    # --- across runs (the aggregator's archive)
    "source_missing": Code(
        W,
        "原本なし",
        "原本がフォルダにありません（最後にあった場所: {path}）。保管庫（archive）の写しで台帳に残しています。誤って削除・移動したときは元の場所に戻してください。",
    ),
    "previous_version_kept": Code(
        I,
        "前回の版を表示",
        "このファイルを今回は読み取れなかったため、前回読み取った版の内容を台帳に残しています。読み取れるようになると、その内容に置き換わります。",
    ),
}


@dataclass(frozen=True)
class Finding:
    """One problem (or note) found in a file."""

    code: str
    severity: Severity
    message: str
    field: str | None = None
    cell: str | None = None  # "sheet!A1"

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "field": self.field,
            "cell": self.cell,
            "message": self.message,
        }


def make_finding(code: str, *, field: str | None = None, cell: str | None = None, **context: Any) -> Finding:
    """Build a finding from the catalogue: the message is rendered here, once."""
    spec = CODES[code]
    if field is not None and "label" not in context:
        context["label"] = FIELD_BY_ID[field].label if field in FIELD_BY_ID else field
    return Finding(code, spec.severity, spec.template.format_map(_Missing(context)), field, cell)


class _Missing(dict):
    def __missing__(self, key: str) -> str:  # a missing context value never crashes a batch
        return ""


def record_location(path: str, row: int | None) -> str:
    """The file, and the row for a list-format record: how messages point at a record."""
    return path if not row else f"{path} {row}行目"


@dataclass
class FileReport:
    """What validation says of one file."""

    path: str
    status: Status
    record_id: str | None = None
    stage: str | None = None
    exclusions: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict, repr=False)  # normalised field values
    cells: Mapping[str, str] = field(default_factory=dict, repr=False)  # field id -> "sheet!A1"
    sha256: str | None = None
    row: int | None = None  # the sheet row of a list-format record
    form_version: int | None = None  # the 様式の版 the record was written on (None: unreadable)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def location(self) -> str:
        return record_location(self.path, self.row)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "row": self.row,
            "status": str(self.status),
            "record_id": self.record_id,
            "stage": self.stage,
            "exclusions": list(self.exclusions),
            "findings": [f.to_dict() for f in self.findings],
        }


def status_for(findings: Iterable[Finding], exclusions: list[str], judgement: object) -> Status:
    """The status of a readable file (spec §4): invalid, excluded, not_applicable or ok."""
    if any(f.severity is Severity.ERROR for f in findings):
        return Status.INVALID
    if exclusions:
        return Status.EXCLUDED
    if judgement == NOT_APPLICABLE:
        return Status.NOT_APPLICABLE
    return Status.OK


@dataclass
class ValidationReport:
    """One entry per file found under the given paths."""

    files: list[FileReport] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        counts = Counter(str(f.status) for f in self.files)
        return {str(s): counts.get(str(s), 0) for s in Status}

    @property
    def has_failures(self) -> bool:
        return any(f.status in (Status.INVALID, Status.UNREADABLE) for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"files": [f.to_dict() for f in self.files], "summary": self.summary()}

    def to_frame(self):
        """The findings as a pandas DataFrame, one row per finding (for analysis in a notebook)."""
        import pandas as pd

        columns = ("path", "row", "status", "record_id", "severity", "code", "field", "cell", "message")
        rows = [
            (r.path, r.row, str(r.status), r.record_id, str(f.severity), f.code, f.field, f.cell, f.message)
            for r in self.files
            for f in r.findings
        ]
        return pd.DataFrame(rows, columns=columns)

    def flatten(self, keys: tuple[str, ...] = ("path", "code", "field", "cell")) -> list[list[Any]]:
        """One row per finding with the chosen keys: compact for tests and tables."""
        rows = []
        for report in self.files:
            for finding in report.findings:
                row = {"path": report.path, "status": str(report.status), **finding.to_dict()}
                rows.append([row[k] for k in keys])
        return rows
