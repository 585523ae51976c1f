"""Personal data in the published text (spec §6), measured on a corpus of real-looking summaries.

tests/pii_corpus/<set>/ holds the identities of a form (identities.txt) and summaries that are
harmless (no error allowed) and summaries that hold personal data (an error required). The
detector is run on the whole corpus directly and through ``rules.evaluate``; a subset goes
through real workbooks and ``validate_file``, as a 主管課 running validate sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import phonenumbers
import pytest
from conftest import AS_OF, codes

from ledger_tools.check import personal_data
from ledger_tools.check.findings import Status
from ledger_tools.check.personal_data import Identity, find_personal_data
from ledger_tools.check.reading import RawRecord
from ledger_tools.check.rules import PRIVATE_IDENTITY_FIELDS, RuleContext, evaluate
from ledger_tools.form.fields import FIELD_BY_ID
from ledger_tools.form.samples import complete_values
from ledger_tools.form.template import field_cells

CORPUS = Path(__file__).parent / "pii_corpus"
CELLS = {field_id: f"対応記録簿!{cell}" for field_id, cell in field_cells().items()}


def _lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


@dataclass(frozen=True)
class CorpusSet:
    name: str
    fields: dict[str, str]  # the form's identity fields (field id -> value)
    harmless: list[str]
    personal: list[str]

    @property
    def identities(self) -> list[Identity]:
        return [Identity(FIELD_BY_ID[f].label, v, PRIVATE_IDENTITY_FIELDS[f]) for f, v in self.fields.items()]


SETS = [
    CorpusSet(
        folder.name,
        dict(line.split("=", 1) for line in _lines(folder / "identities.txt")),
        _lines(folder / "harmless.txt"),
        _lines(folder / "personal.txt"),
    )
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir())
]
HARMLESS = [(s, text) for s in SETS for text in s.harmless]
PERSONAL = [(s, text) for s in SETS for text in s.personal]


def _errors(hits):
    return [h for h in hits if h.error]


def _figures() -> dict[str, object]:
    found = sum(bool(_errors(find_personal_data(t, s.identities))) for s, t in PERSONAL)
    false_errors = [t for s, t in HARMLESS if _errors(find_personal_data(t, s.identities))]
    warned = [t for s, t in HARMLESS if find_personal_data(t, s.identities)]
    return {
        "personal": len(PERSONAL),
        "recall": found / len(PERSONAL),
        "harmless": len(HARMLESS),
        "false_errors": false_errors,
        "warned": warned,
    }


# --- the corpus, directly ------------------------------------------------------------------


def test_the_corpus_is_big_enough():
    assert len(HARMLESS) >= 200 and len(PERSONAL) >= 100


def test_corpus_figures_every_personal_summary_is_an_error_and_no_harmless_one(capsys):
    figures = _figures()
    with capsys.disabled():
        print(
            f"\npersonal-data corpus: recall {figures['recall']:.1%} of {figures['personal']} summaries; "
            f"{len(figures['false_errors'])} false errors and {len(figures['warned'])} warnings "
            f"on {figures['harmless']} harmless summaries"
        )
    assert figures["recall"] == 1.0, [
        t for s, t in PERSONAL if not _errors(find_personal_data(t, s.identities))
    ]
    assert figures["false_errors"] == []
    # Warnings only where the text is genuinely ambiguous (an unlabelled 10-digit number …).
    assert len(figures["warned"]) <= len(HARMLESS) // 20, figures["warned"]


@pytest.mark.parametrize(("corpus", "text"), PERSONAL, ids=[f"{s.name}:{t[:20]}" for s, t in PERSONAL])
def test_each_personal_summary_gives_an_error(corpus, text):
    assert _errors(find_personal_data(text, corpus.identities)), text


@pytest.mark.parametrize(("corpus", "text"), HARMLESS, ids=[f"{s.name}:{t[:20]}" for s, t in HARMLESS])
def test_each_harmless_summary_gives_no_error(corpus, text):
    assert _errors(find_personal_data(text, corpus.identities)) == []


def _phone_matches(text: str, leniency) -> list[str]:
    plain = personal_data.normalise(text)
    return [m.raw_string for m in phonenumbers.PhoneNumberMatcher(plain, "JP", leniency=leniency)]


def test_leniency_valid_finds_the_phones_of_the_corpus_that_possible_finds_without_its_false_matches(capsys):
    """Why Leniency.VALID (plus the 0-and-10-or-11-digits rule for made-up numbers)."""
    phone_lines = [
        t
        for s, t in PERSONAL
        if any(h.kind == personal_data.PHONE for h in _errors(find_personal_data(t, s.identities)))
    ]
    rows = {}
    for name in ("POSSIBLE", "VALID"):
        leniency = getattr(phonenumbers.Leniency, name)
        rows[name] = (
            sum(bool(_phone_matches(t, leniency)) for t in phone_lines),
            sum(bool(_phone_matches(t, leniency)) for _, t in HARMLESS),
        )
    with capsys.disabled():
        for name, (found, false) in rows.items():
            print(
                f"\nLeniency.{name}: {found}/{len(phone_lines)} phone summaries, matches in {false} harmless summaries"
            )
    assert rows["VALID"][1] < rows["POSSIBLE"][1]
    assert rows["VALID"][0] >= 0.9 * len(phone_lines)  # the rest: made-up numbers, caught by the digit rule


# --- through the rules, as validate reports it ---------------------------------------------


def _evaluate(config, corpus: CorpusSet, **overrides):
    """The report of a record holding the corpus set's identities, evaluated as validate does."""
    values = complete_values(**corpus.fields, **overrides)
    return evaluate("record.xlsx", RawRecord(None, values, CELLS), RuleContext(config, AS_OF))


def test_every_corpus_summary_through_the_rules(config):
    missed, blocked = [], []
    for corpus, text in PERSONAL:
        report = _evaluate(config, corpus, public_summary=text)
        if ("personal_data_in_public", "public_summary") not in codes(
            report
        ) or report.status is not Status.INVALID:
            missed.append(text)
    for corpus, text in HARMLESS:
        report = _evaluate(config, corpus, public_measures=text)
        if report.errors or report.status is not Status.OK:
            blocked.append((text, [f.message for f in report.errors]))
    assert (missed, blocked) == ([], [])


SUBSET = [PERSONAL[i] for i in range(0, len(PERSONAL), 10)] + [
    HARMLESS[i] for i in range(0, len(HARMLESS), 20)
]


@pytest.mark.parametrize(("corpus", "text"), SUBSET, ids=[t[:20] for _, t in SUBSET])
def test_a_subset_through_real_workbooks(validate_values, corpus, text):
    report = validate_values(complete_values(**corpus.fields, public_summary=text))
    if (corpus, text) in PERSONAL:
        assert report.status is Status.INVALID
        assert ("personal_data_in_public", "public_summary") in codes(report)
    else:
        assert report.status is Status.OK and report.errors == []


def test_the_message_names_the_field_the_kind_and_what_was_found(validate_values):
    report = validate_values(
        complete_values(public_measures="連絡先 ０９０－１２３４－５６７８ に返答した。")
    )
    assert codes(report) == [("personal_data_in_public", "public_measures")]
    assert "「公表用の措置の概要」に電話番号（「090-1234-5678」）" in report.findings[0].message


# --- the classes of problem, one by one ----------------------------------------------------

A = next(s for s in SETS if s.name == "set_a").identities  # 田中 一郎 / 株式会社開発 / 中川 誠 / 道路建設課


def _found(text, identities=A):
    return [(h.kind, h.found, h.error) for h in find_personal_data(text, identities)]


@pytest.mark.parametrize(
    "text",
    [
        "田中川改修工事",
        "開発許可の審査",
        "宅地開発の協議",
        "中川橋の架替",
        "新田中学校の改築",
        "開発について相談を受けた",
    ],
)
def test_a_name_part_inside_a_longer_word_or_a_common_affiliation_word_is_no_error(text):
    assert _errors(find_personal_data(text, A)) == []


@pytest.mark.parametrize(
    "text", ["田中氏から依頼があった。", "田中課長から依頼があった。", "相手方の田中から。"]
)
def test_a_family_name_alone_is_a_warning(text):
    assert _found(text) == [("相手方の氏名", "田中", False)]


@pytest.mark.parametrize(
    "text", ["田中一郎から", "田中 一郎氏から", "代表取締役田中一郎から", "田中　一郎様"]
)
def test_the_full_name_is_an_error_wherever_it_stands(text):
    assert _found(text)[0][::2] == ("相手方の氏名", True)


@pytest.mark.parametrize(
    "text",
    ["株式会社開発から", "株式会社 開発から", "(株)開発から", "㈱開発から", "（株）開発から", "開発(株)から"],
)
def test_a_generic_affiliation_is_an_error_only_with_its_legal_form(text):
    assert [h.error for h in find_personal_data(text, A)] == [True]


def test_a_distinctive_affiliation_is_an_error_without_its_legal_form_and_a_warning_inside_a_word():
    b = [Identity("相手方の所属（会社・団体等）", "山田建設株式会社", "affiliation")]
    assert _found("山田建設から依頼された。", b) == [("相手方の所属（会社・団体等）", "山田建設", True)]
    assert _found("㈱山田建設から", b) == [("相手方の所属（会社・団体等）", "(株)山田建設", True)]
    assert _found("山田建設業協会から", b) == [("相手方の所属（会社・団体等）", "山田建設", False)]


@pytest.mark.parametrize("placeholder", ["なし", "不明", "個人", "－", "該当なし"])
def test_placeholders_are_never_names(placeholder):
    identities = [
        Identity("相手方の所属（会社・団体等）", placeholder, "affiliation"),
        Identity("相手方の氏名", placeholder, "name"),
    ]
    assert find_personal_data("対応の必要はなしと判断した。不明な点を確認した。", identities) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("090.1234.5678", "電話番号"),
        ("+81-90-1234-5678", "電話番号"),
        ("+81 3 1234 5678", "電話番号"),
        ("03(1234)5678", "電話番号"),
        ("０９０－１２３４－５６７８", "電話番号"),
        ("0120-123-456", "電話番号"),
        ("０３ー１２３４ー５６７８", "電話番号"),
        ("TEL03-1234-5678", "電話番号"),
        ("03-0000-0000", "電話番号"),
        ("taro @ example.co.jp", "メールアドレス"),
        ("taro＠example．co．jp", "メールアドレス"),
        ("taro(at)example.co.jp", "メールアドレス"),
        ("taro at example dot jp", "メールアドレス"),
        ("1234.5678.9012", "12桁の番号（個人番号の可能性）"),
        ("１２３４ ５６７８ ９０１２", "12桁の番号（個人番号の可能性）"),
        ("123-4567 東京都千代田区", "郵便番号"),
        ("〒 123－4567", "郵便番号"),
        ("郵便番号1234567", "郵便番号"),
        ("住所：123-4567 ○○市", "郵便番号"),
        ("連絡先 1234-5678", "電話番号"),
    ],
)
def test_contact_data_as_people_type_it_is_an_error(text, kind):
    assert [(h.kind, h.error) for h in find_personal_data(f"相手方は{text}とのこと。")] == [(kind, True)]


@pytest.mark.parametrize(
    "text",
    [
        "2025-04-01",
        "令和7年4月1日",
        "R7.4.1",
        "10:00-12:00",
        "10時～12時",
        "９：３０－１１：００",
        "1,234,567円",
        "12億3,456万円",
        "123456789012円",
        "地方自治法第234条第2項",
        "2025-123-4567",
        "第R7-001号",
        "土木第12-3456号",
        "第123-4567号",
        "95.5%",
        "工事番号100-2025",
        "法人番号1234567890123",
        "字大原123番地の土地",
        "○○町3丁目5番地先",
        "0930-1100",
        "2025.04.01",
    ],
)
def test_numbers_that_are_not_personal_data_raise_nothing(text):
    assert find_personal_data(f"{text}に関する依頼。") == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("○○市△△町1丁目2番3号の事業所で面談した。", "住所"),
        ("△△町1-2-3の事業所で面談した。", "住所"),
        ("鈴木様から依頼された。", "氏名（敬称付き）"),
        ("スミス氏から依頼された。", "氏名（敬称付き）"),
        ("株式会社山田商事から依頼された。", "法人・団体の名称"),
        ("管理番号01-2345-6789の案件。", "電話番号"),
        ("受付123-4567の文書。", "郵便番号"),
    ],
)
def test_what_may_be_personal_data_is_a_warning(text, kind):
    assert [(h.kind, h.error) for h in find_personal_data(text)] == [(kind, False)]


@pytest.mark.parametrize(
    "text",
    [
        "所定の様式で申請",
        "御殿場市の事業",
        "県民の皆様へ",
        "事業者様から",
        "お客様から",
        "相手方氏名は伏せる",
    ],
)
def test_words_with_an_honorific_character_that_are_no_names(text):
    assert find_personal_data(text) == []


def test_a_section_is_found_after_its_department_but_a_name_not_inside_a_longer_word():
    assert _found("県土整備部道路建設課の職員") == [("所属", "道路建設課", True)]
    assert _found("小田中一郎") == [("相手方の氏名", "田中一郎", True)]  # a full name stays an error
    assert _found("小田中の集落") == []


def test_overlapping_findings_are_reported_once_the_strongest_winning():
    hits = find_personal_data("田中一郎氏（株式会社開発）090-1234-5678", A)
    assert [(h.kind, h.error) for h in hits] == [
        ("相手方の氏名", True),
        ("相手方の所属（会社・団体等）", True),
        ("電話番号", True),
    ]
