"""Filled 対応記録簿 workbooks: the bundled sample inbox, test fixtures and benchmark inputs.

Every filled workbook is the generated template with values written at the cells that the
defined names point to, so samples follow the field catalogue and the template by construction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from ledger_tools.config import Config, load_config
from ledger_tools.form.fields import APPLICABLE, FIELD_IDS, NOT_APPLICABLE, TEMPLATE_VERSION, UNDECIDED
from ledger_tools.outputs import workbook_bytes, write_bytes_atomic

# The bundled sample inbox of a clone (the README quick start runs the pipeline on it).
SAMPLE_INBOX = Path(__file__).resolve().parents[2] / "samples" / "inbox"


def complete_values(**overrides: object) -> dict[str, object]:
    """A record that has gone through every stage: judged 該当, measures taken, shared with 総務課."""
    values: dict[str, object] = {
        "record_id": "R7-0001",
        "organ": "知事部局",
        "department": "県土整備部",
        "section": "道路建設課",
        "staff_name": "県庁 一郎",
        "staff_title": "主任",
        "received_date": dt.date(2025, 6, 10),
        "received_time": dt.time(14, 30),
        "place": "道路建設課 執務室",
        "method": "面談",
        "requester_name": "山田 太郎",
        "requester_affiliation": "山田建設株式会社",
        "requester_category": "事業者",
        "business_type": "入札・契約",
        "business_name": "県道○○線改良工事",
        "request_content": "予定価格を事前に教えてほしいとの要求。",
        "excl_public_venue": "該当しない",
        "excl_minuted_meeting": "該当しない",
        "excl_official_document": "該当しない",
        "told_cannot_comply": "伝えた",
        "told_will_be_recorded": "伝えた",
        "requester_withdrew": "撤回した",
        "response_detail": "応じられない旨と記録する旨を伝えた。",
        "reported_date": dt.date(2025, 6, 11),
        "supervisor_judgement": APPLICABLE,
        "judgement_date": dt.date(2025, 6, 12),
        "personnel_info_provided": "行っていない",
        "art38_2_suspected": "なし",
        "sent_to_lead_date": dt.date(2025, 6, 13),
        "responsible_division": "技術管理課",
        "shared_with_responsible_date": dt.date(2025, 6, 13),
        "lead_division": "県土整備部監理課",
        "measures_needed": "要",
        "measures_taken": "課内で入札情報の管理を再確認した。",
        "coordinated_with_responsible": "連携した",
        "result_notified_date": dt.date(2025, 6, 20),
        "shared_with_general_affairs_date": dt.date(2025, 6, 25),
        "public_summary": "建設工事の入札に関し、事業者から予定価格を教えるよう求められた。",
        "public_measures": "入札情報の管理について職員に再周知した。",
    }
    unknown = set(overrides) - set(FIELD_IDS)
    if unknown:
        raise KeyError(f"unknown field ids: {sorted(unknown)}")
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def recorded_values(**overrides: object) -> dict[str, object]:
    """A record as the staff member hands it on: sections A–E only."""
    later = dict.fromkeys(FIELD_IDS[FIELD_IDS.index("supervisor_judgement") :])
    return complete_values(**{**later, **overrides})


def filled_workbook(
    values: Mapping[str, object],
    config: Config | None = None,
    version: int = TEMPLATE_VERSION,
    as_of: dt.date | None = None,
):
    """The template of ``version`` with ``values`` written into the named cells (a str starting
    '=' is a formula); fields the version does not have are left out."""
    from ledger_tools.form.template import FORM_SHEET, build_template, fit_form_rows

    wb = build_template(config or load_config(), as_of, version)
    for field_id, value in values.items():
        if field_id not in wb.defined_names:
            continue
        for sheet_name, ref in wb.defined_names[field_id].destinations:
            wb[sheet_name][ref.replace("$", "").split(":")[0]].value = value
    fit_form_rows(wb[FORM_SHEET], version)
    return wb


def filled_workbook_bytes(
    values: Mapping[str, object],
    config: Config | None = None,
    version: int = TEMPLATE_VERSION,
    as_of: dt.date | None = None,
) -> bytes:
    return workbook_bytes(filled_workbook(values, config, version, as_of))


def sample_records() -> dict[str, dict[str, object]]:
    """The bundled sample inbox: relative path → values. Every status a user meets, but no errors."""
    return {
        "知事部局/県土整備部/R7-0001_入札.xlsx": complete_values(),
        "知事部局/健康福祉部/R7-0002_補助金.xlsx": complete_values(
            record_id="R7-0002",
            department="健康福祉部",
            section="福祉政策課",
            staff_name="福祉 花子",
            place="福祉政策課（電話）",
            received_date=dt.date(2025, 9, 3),
            received_time=None,
            method="電話",
            requester_name="佐藤 次郎",
            requester_affiliation="社会福祉法人さくら会",
            requester_category="団体",
            business_type="補助金等",
            business_name="施設整備補助金",
            request_content="補助金の審査を甘くしてほしいとの依頼。",
            response_detail="審査の基準は変えられない旨と記録する旨を伝えた。",
            requester_withdrew="撤回していない",
            reported_date=dt.date(2025, 9, 4),
            judgement_date=dt.date(2025, 9, 5),
            sent_to_lead_date=dt.date(2025, 9, 8),
            responsible_division="障害福祉課",
            shared_with_responsible_date=dt.date(2025, 9, 8),
            lead_division="健康福祉部福祉政策課",
            measures_needed="不要",
            measures_taken=None,
            coordinated_with_responsible=None,
            result_notified_date=None,
            shared_with_general_affairs_date=dt.date(2025, 9, 19),
            public_summary="補助金の交付審査に関し、団体から審査の基準を緩めるよう依頼された。",
            public_measures=None,
        ),
        "教育委員会/R7-E001_許認可.xlsx": complete_values(
            record_id="R7-E001",
            organ="教育委員会",
            department="教育庁",
            section="教育施設課",
            staff_name="学校 三郎",
            place="教育施設課（電子メール）",
            received_date=dt.date(2026, 1, 15),
            method="電子メール",
            requester_name="鈴木 四郎",
            requester_affiliation="鈴木設備",
            requester_category="再就職者（県職員OB）",
            business_type="許認可",
            business_name="施設使用許可",
            request_content="許可の手続を早めてほしいとの依頼。",
            response_detail="手続の順序は変えられない旨と記録する旨を返信した。",
            reported_date=dt.date(2026, 1, 16),
            judgement_date=dt.date(2026, 1, 19),
            personnel_info_provided="行った",
            personnel_info_date=dt.date(2026, 1, 20),
            art38_2_suspected="あり",
            personnel_committee_notified_date=dt.date(2026, 1, 21),
            sent_to_lead_date=dt.date(2026, 1, 20),
            responsible_division="教育施設課",
            shared_with_responsible_date=dt.date(2026, 1, 20),
            lead_division="教育庁教育総務課",
            measures_taken="許可事務の手順を確認し、課内に周知した。",
            result_notified_date=dt.date(2026, 1, 30),
            shared_with_general_affairs_date=dt.date(2026, 2, 5),
            public_summary="施設使用許可に関し、再就職者から手続を優先するよう依頼された。",
            public_measures="許可事務の手順を確認し、職員に周知した。",
        ),
        "知事部局/県土整備部/R7-0003_判断中.xlsx": recorded_values(
            record_id="R7-0003",
            received_date=dt.date(2026, 3, 2),
            reported_date=dt.date(2026, 3, 3),
            requester_name="田中 五郎",
            requester_affiliation="田中土木",
            supervisor_judgement=UNDECIDED,
        ),
        "知事部局/農林水産部/R7-0004_非該当.xlsx": recorded_values(
            record_id="R7-0004",
            department="農林水産部",
            section="農政課",
            place="農政課 窓口",
            received_date=dt.date(2025, 11, 5),
            reported_date=dt.date(2025, 11, 6),
            business_type="補助金等",
            business_name="農業振興補助金",
            request_content="申請書類の書き方を教えてほしいとの相談。",
            response_detail="記入例を示して書き方を説明した。求めに応じられない内容ではなかった。",
            requester_withdrew="不明",
            requester_name="高橋 六郎",
            requester_affiliation="高橋農園",
            supervisor_judgement=NOT_APPLICABLE,
            judgement_date=dt.date(2025, 11, 7),
            personnel_info_provided="行っていない",
            art38_2_suspected="なし",
        ),
        "警察本部/R7-P001_説明会.xlsx": recorded_values(
            record_id="R7-P001",
            organ="警察本部",
            department="警察本部",
            section="会計課",
            received_date=dt.date(2025, 7, 22),
            reported_date=dt.date(2025, 7, 23),
            place="入札説明会の会場",
            requester_name="伊藤 七郎",
            requester_affiliation="伊藤商事",
            excl_public_venue="該当する",
        ),
    }


def write_sample_inbox(target: Path = SAMPLE_INBOX, config: Config | None = None) -> list[Path]:
    """(Re)generate the sample inbox; a test checks the shipped files equal this output."""
    written = []
    for relative, values in sample_records().items():
        path = target / relative
        write_bytes_atomic(path, filled_workbook_bytes(values, config))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_sample_inbox():
        print(path)
