"""The rules of spec §4–§6 on one workbook, as a 主管課 running validate would see them."""

import datetime as dt

import pytest
from conftest import codes

from ledger_tools.check.findings import Severity, Status
from ledger_tools.form.fields import APPLICABLE, NOT_APPLICABLE, UNDECIDED
from ledger_tools.form.samples import complete_values, recorded_values
from ledger_tools.form.template import field_cells

CELLS = field_cells()


def test_a_complete_record_is_ok_with_no_findings(validate_values):
    report = validate_values(complete_values())
    assert (report.status, report.stage, report.record_id, report.findings) == (
        Status.OK,
        "共有済",
        "R7-0001",
        [],
    )


def test_a_record_handed_on_by_staff_is_ok_at_stage_recorded(validate_values):
    report = validate_values(recorded_values())
    assert (report.status, report.stage, codes(report)) == (Status.OK, "記録", [])


def test_each_missing_required_field_names_its_cell_and_says_what_to_do(validate_values):
    report = validate_values(recorded_values(staff_name=None, place=None))
    assert report.status is Status.INVALID
    assert [(f.code, f.field, f.cell) for f in report.errors] == [
        ("required_missing", "staff_name", f"対応記録簿!{CELLS['staff_name']}"),
        ("required_missing", "place", f"対応記録簿!{CELLS['place']}"),
    ]
    assert "「職員氏名」が未記入です" in report.errors[0].message


def test_choices_typed_with_other_widths_or_spaces_match(validate_values):
    report = validate_values(recorded_values(method=" 面 談 ", business_type="入札・契約", organ="知事部局 "))
    assert report.status is Status.OK
    assert report.values["method"] == "面談"


def test_a_value_not_in_the_list_is_an_error_listing_the_choices(validate_values):
    report = validate_values(recorded_values(method="訪問"))
    assert codes(report) == [("invalid_choice", "method")]
    assert "面談、電話、電子メール、文書、その他" in report.findings[0].message


def test_a_department_of_another_organ_is_refused(validate_values):
    report = validate_values(recorded_values(organ="教育委員会", department="県土整備部"))
    assert codes(report) == [("department_not_in_organ", "department")]
    assert "教育庁" in report.findings[0].message


@pytest.mark.parametrize(
    "typed", ["令和7年6月10日", "R7.6.10", "Ｒ７．６．１０", "2025/6/10", "R07/06/10", 45818]
)
def test_dates_typed_as_text_or_serials_are_read(validate_values, typed):
    report = validate_values(recorded_values(received_date=typed))
    assert report.status is Status.OK
    assert report.values["received_date"] == dt.date(2025, 6, 10)


def test_an_impossible_date_and_an_era_overflow_are_errors_with_a_hint(validate_values):
    report = validate_values(recorded_values(received_date="令和7年2月30日", reported_date="平成32年1月1日"))
    assert codes(report) == [("impossible_date", "received_date"), ("era_out_of_range", "reported_date")]
    assert "令和2年1月1日" in report.findings[1].message
    assert report.findings[1].cell == f"対応記録簿!{CELLS['reported_date']}"


def test_dates_out_of_order_name_the_later_field(validate_values):
    report = validate_values(complete_values(judgement_date=dt.date(2025, 6, 9)))
    assert ("date_order", "judgement_date") in codes(report)
    assert ("date_order", "shared_with_responsible_date") not in codes(report)  # 6/13 ≥ 6/9 still holds
    report = validate_values(complete_values(shared_with_responsible_date=dt.date(2025, 6, 11)))
    assert codes(report) == [("date_order", "shared_with_responsible_date")]


def test_future_dates_are_errors_against_the_reference_date(validate_values):
    report = validate_values(
        recorded_values(received_date=dt.date(2026, 11, 20), reported_date=dt.date(2026, 11, 21)),
        as_of=dt.date(2026, 11, 20),
    )
    assert codes(report) == [("date_in_future", "reported_date")]


def test_before_operation_start_and_late_report_are_warnings(validate_values):
    report = validate_values(
        recorded_values(received_date=dt.date(2025, 2, 1), reported_date=dt.date(2025, 2, 20))
    )
    assert codes(report) == [("received_before_operation", "received_date"), ("report_late", "reported_date")]
    assert report.status is Status.OK  # warnings never change the status
    assert "19日後" in report.findings[1].message


def test_each_exclusion_gives_status_excluded_with_its_reason(validate_values):
    report = validate_values(
        recorded_values(excl_minuted_meeting="該当する", excl_official_document="該当する")
    )
    assert report.status is Status.EXCLUDED
    assert report.exclusions == ["minuted_meeting", "official_document"]


def test_an_exclusion_with_an_error_is_still_invalid(validate_values):
    report = validate_values(recorded_values(excl_public_venue="該当する", place=None))
    assert report.status is Status.INVALID


def test_a_place_that_suggests_an_exclusion_is_a_warning(validate_values):
    report = validate_values(recorded_values(place="入札説明会の会場"))
    assert codes(report) == [("exclusion_suspected", "excl_public_venue")]
    report = validate_values(recorded_values(method="文書", requester_affiliation="○○協会（知事あて要望書）"))
    assert codes(report) == [("exclusion_suspected", "excl_official_document")]


def test_a_withdrawn_request_is_still_recorded(validate_values):
    assert validate_values(complete_values(requester_withdrew="撤回した")).status is Status.OK


def test_judged_not_applicable_is_its_own_status(validate_values):
    values = recorded_values(
        supervisor_judgement=NOT_APPLICABLE,
        judgement_date=dt.date(2025, 6, 12),
        personnel_info_provided="行っていない",
        art38_2_suspected="なし",
    )
    report = validate_values(values)
    assert (report.status, report.stage) == (Status.NOT_APPLICABLE, "判断")


def test_judged_applicable_needs_the_forwarding_fields(validate_values):
    values = recorded_values(
        supervisor_judgement=APPLICABLE,
        judgement_date=dt.date(2025, 6, 12),
        personnel_info_provided="行っていない",
        art38_2_suspected="なし",
    )
    assert codes(validate_values(values)) == [
        ("required_missing", "sent_to_lead_date"),
        ("required_missing", "responsible_division"),
        ("required_missing", "shared_with_responsible_date"),
    ]


def test_undecided_needs_no_judgement_date(validate_values):
    report = validate_values(recorded_values(supervisor_judgement=UNDECIDED))
    assert (report.status, report.stage, codes(report)) == (Status.OK, "記録", [])


def test_a_section_g_entry_without_a_judgement_is_an_error(validate_values):
    report = validate_values(recorded_values(lead_division="県土整備部監理課", measures_needed="不要"))
    assert ("required_missing", "supervisor_judgement") in codes(report)


def test_reemployed_requester_needs_the_article_38_2_answer(validate_values):
    report = validate_values(recorded_values(requester_category="再就職者（県職員OB）"))
    assert codes(report) == [("required_missing", "art38_2_suspected")]
    report = validate_values(
        complete_values(requester_category="再就職者（県職員OB）", art38_2_suspected="あり")
    )
    assert codes(report) == [("art38_2_not_notified", "personnel_committee_notified_date")]
    assert report.findings[0].severity is Severity.WARNING


def test_not_told_needs_a_reason(validate_values):
    report = validate_values(recorded_values(told_will_be_recorded="伝えていない"))
    assert codes(report) == [("required_missing", "not_told_reason")]
    assert (
        validate_values(
            recorded_values(
                told_will_be_recorded="伝えていない", not_told_reason="相手が一方的に電話を切った"
            )
        ).status
        is Status.OK
    )


def test_business_type_other_is_a_warning(validate_values):
    report = validate_values(recorded_values(business_type="その他"))
    assert (report.status, codes(report)) == (Status.OK, [("business_type_other", "business_type")])


def test_measures_needed_requires_measures_and_notification(validate_values):
    report = validate_values(complete_values(measures_taken=None, result_notified_date=None))
    assert codes(report) == [
        ("required_missing", "measures_taken"),
        ("required_missing", "result_notified_date"),
    ]


def test_publication_fields_are_warned_when_shared_with_general_affairs(validate_values):
    report = validate_values(complete_values(public_summary=None, public_measures=None))
    assert codes(report) == [
        ("recommended_missing", "public_summary"),
        ("recommended_missing", "public_measures"),
    ]
    assert report.status is Status.OK


@pytest.mark.parametrize(
    ("summary", "kind"),
    [
        ("山田建設株式会社から予定価格を問われた。", "相手方の所属（会社・団体等）"),
        ("山田建設の担当者から予定価格を問われた。", "相手方の所属（会社・団体等）"),
        ("山田太郎氏から予定価格を問われた。", "相手方の氏名"),
        ("連絡先 03-1234-5678 の事業者から。", "電話番号"),
        ("連絡先 090ー1234ー5678 の事業者から。", "電話番号"),
        ("連絡先 (03)1234-5678 の事業者から。", "電話番号"),
        ("連絡先 090 1234 5678 の事業者から。", "電話番号"),
        ("連絡先 09012345678 の事業者から。", "電話番号"),
        ("taro@example.co.jp から依頼があった。", "メールアドレス"),
        ("〒100-0001 の事業者から。", "郵便番号"),
        ("番号 1234 5678 9012 の書類。", "12桁の番号"),
        ("番号１２３４５６７８９０１２の書類。", "12桁の番号"),
    ],
)
def test_personal_data_in_the_public_summary_is_an_error_naming_what_was_found(
    validate_values, summary, kind
):
    report = validate_values(complete_values(public_summary=summary))
    assert codes(report) == [("personal_data_in_public", "public_summary")]
    assert kind in report.findings[0].message
    assert report.status is Status.INVALID


def test_a_part_of_a_name_is_a_warning_since_it_may_be_an_ordinary_word(validate_values):
    report = validate_values(complete_values(public_summary="山田氏から予定価格を問われた。"))
    assert (report.status, codes(report)) == (Status.OK, [("personal_data_suspected", "public_summary")])


@pytest.mark.parametrize(
    "summary",
    [
        "2025-06-10に1,234,567円の工事について依頼があった。",
        "工事番号100-2025の入札に関する依頼。",
        "第123-4567号の許可に関する依頼。",
        "令和7年度の補助金の交付を急ぐよう求められた。",
    ],
)
def test_ordinary_summaries_raise_nothing(validate_values, summary):
    assert codes(validate_values(complete_values(public_summary=summary))) == []


def test_placeholder_affiliations_are_not_names(validate_values):
    report = validate_values(
        complete_values(requester_affiliation="なし", public_summary="対応の必要はなしと判断した。")
    )
    assert codes(report) == []


def test_a_cell_holding_only_spaces_is_empty(validate_values):
    report = validate_values(
        recorded_values(staff_title="\u3000", received_time="\u3000", judgement_date=" ")
    )
    assert (report.status, codes(report)) == (Status.OK, [])
    report = validate_values(recorded_values(method="\u3000"))
    assert codes(report) == [("required_missing", "method")]


def test_an_excluded_record_judged_applicable_is_a_contradiction_to_check(validate_values):
    report = validate_values(complete_values(excl_minuted_meeting="該当する"))
    assert report.status is Status.EXCLUDED
    assert ("exclusion_with_judgement", "supervisor_judgement") in codes(report)


@pytest.mark.parametrize("place", ["○○建設業協議会の事務所", "非公開の応接室"])
def test_words_that_only_contain_a_hint_raise_no_warning(validate_values, place):
    assert codes(validate_values(recorded_values(place=place))) == []


def test_a_council_member_is_not_a_public_venue(validate_values):
    report = validate_values(recorded_values(requester_category="議員", requester_affiliation="○○県議会"))
    assert codes(report) == []


def test_public_text_over_200_characters_is_an_error(validate_values):
    report = validate_values(complete_values(public_measures="あ" * 201))
    assert codes(report) == [("too_long", "public_measures")]


@pytest.mark.parametrize("record_id", ["R7 001", "R7/001", "x" * 41, "整理1"])
def test_record_ids_outside_the_format_are_refused(validate_values, record_id):
    report = validate_values(recorded_values(record_id=record_id))
    assert codes(report) == [("invalid_record_id", "record_id")]


def test_record_id_is_normalised(validate_values):
    assert validate_values(recorded_values(record_id=" Ｒ７－００１ ")).record_id == "R7-001"
    assert validate_values(recorded_values(record_id="r7-001")).record_id == "R7-001"


@pytest.mark.parametrize("typed", ["2025年6月10日（火）", "2025/6/10 9:30", "R7.6.10(火)"])
def test_dates_with_a_weekday_or_a_time_are_read(validate_values, typed):
    assert validate_values(recorded_values(received_date=typed)).values["received_date"] == dt.date(
        2025, 6, 10
    )


@pytest.mark.parametrize("typed", [2025, "2025", 14])
def test_a_bare_number_is_not_taken_for_a_date(validate_values, typed):
    report = validate_values(recorded_values(received_date=typed))
    assert codes(report) == [("invalid_date", "received_date")]


def test_a_time_that_cannot_be_read(validate_values):
    report = validate_values(recorded_values(received_time="午後"))
    assert codes(report) == [("invalid_time", "received_time")]


def test_a_number_typed_in_a_text_field_reads_as_text(validate_values):
    assert validate_values(recorded_values(record_id=2025001)).record_id == "2025001"


def test_a_lead_division_other_than_the_configured_one_is_a_warning(validate_values):
    report = validate_values(complete_values(lead_division="総務部総務課"))
    assert (report.status, codes(report)) == (Status.OK, [("lead_division_unexpected", "lead_division")])
    assert "県土整備部監理課" in report.findings[0].message
