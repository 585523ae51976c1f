"""Personal data in the text that will be published (spec §6): a small detector.

``find_personal_data(text, identities)`` returns what a 公表用 text should not hold: the names
and affiliations written in the form's own fields, telephone numbers, e-mail addresses, postal
codes and 12-digit numbers (個人番号) — errors — and what only may be personal data (a family
name alone, a name with 様/氏/さん, a street address, an unknown company name) — warnings.

Everything is compared after NFKC (full-width digits, ＠, ㈱ and half-width katakana read as
their plain forms) and with the dashes people type between digits read as "-".
This module imports nothing from ledger_tools, so that it can be tested and reused on its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, NamedTuple

Role = Literal["name", "affiliation", "section"]


class _LazyPattern:
    """A regular expression compiled on first use: importing this module (which ``validate
    ONE_FILE`` does) costs no compilation, and a text without digits never compiles the number
    patterns. After the first use its methods are the compiled pattern's own (no extra call)."""

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source, self._flags = source, flags

    def __getattr__(self, name: str) -> Any:  # only for what is not yet set: the first use
        compiled = re.compile(self._source, self._flags)
        for method in ("search", "match", "fullmatch", "finditer", "findall", "sub", "split"):
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)


class Identity(NamedTuple):
    """A name or affiliation written in the form: ``label`` names its field in messages (a named
    tuple: each record's identities are a cache key, hashed without a Python call)."""

    label: str
    text: str
    role: Role


@dataclass(frozen=True)
class Hit:
    """One piece of (possible) personal data: what kind, the text found, error or warning."""

    kind: str
    found: str
    error: bool
    start: int = 0  # offsets in the normalised text
    end: int = 0


PHONE = "電話番号"
EMAIL = "メールアドレス"
POSTCODE = "郵便番号"
MY_NUMBER = "12桁の番号（個人番号の可能性）"
ADDRESS = "住所"
HONORIFIC_NAME = "氏名（敬称付き）"
CORPORATE_NAME = "法人・団体の名称"

# What people write in a name or affiliation field when there is none: never a name to look for.
PLACEHOLDERS = {
    "なし",
    "無し",
    "無",
    "不明",
    "個人",
    "特になし",
    "該当なし",
    "-",
    "ー",
    "未記入",
    "匿名",
    "不詳",
    "氏名不詳",
    "名乗らず",
    "無所属",
    "自営",
    "自営業",
    "個人事業主",
    "なし(個人)",
    "-(個人)",
}
# Legal-form words (after NFKC, so ㈱ is already "(株)"), each with the forms it is also written in.
_LEGAL_FORM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("株式会社", "(株)", "(株", "株)"),
    ("有限会社", "(有)"),
    ("合同会社", "(同)"),
    ("合資会社", "(資)"),
    ("合名会社", "(名)"),
    ("一般社団法人", "(一社)", "(一社"),
    ("公益社団法人", "(公社)"),
    ("一般財団法人", "(一財)"),
    ("公益財団法人", "(公財)"),
    ("社会福祉法人", "(福)"),
    ("医療法人", "(医)"),
    ("医療法人社団", "(医社)"),
    ("学校法人", "(学)"),
    ("特定非営利活動法人", "NPO法人", "(特非)"),
    ("独立行政法人", "(独)"),
    ("宗教法人", "(宗)"),
)
_LEGAL_FORMS = sorted({form for group in _LEGAL_FORM_GROUPS for form in group}, key=len, reverse=True)
_LEGAL_FORM = _LazyPattern("|".join(map(re.escape, _LEGAL_FORMS)))

# Words a company or body name is made of that are ordinary words on their own. An affiliation
# whose name (without its legal form) is made only of these — 株式会社開発, 建設工業(株) — is a
# real name only together with its legal form: 「開発許可」「建設工事」 must stay harmless.
_GENERIC_WORDS = frozenset(
    [
        "開発",
        "建設",
        "産業",
        "工業",
        "商事",
        "興業",
        "技研",
        "設計",
        "電気",
        "電設",
        "電工",
        "土木",
        "工務店",
        "工務",
        "不動産",
        "企画",
        "総合",
        "運輸",
        "物流",
        "商会",
        "製作所",
        "製作",
        "設備",
        "環境",
        "管理",
        "サービス",
        "システム",
        "システムズ",
        "エンジニアリング",
        "コンサルタント",
        "コンサルタンツ",
        "コンサルティング",
        "測量",
        "造園",
        "舗装",
        "住宅",
        "ホーム",
        "ハウス",
        "地所",
        "農園",
        "水道",
        "交通",
        "観光",
        "医療",
        "福祉",
        "会計",
        "保険",
        "印刷",
        "通信",
        "情報",
        "技術",
        "緑化",
        "地域",
        "協会",
        "組合",
        "協同組合",
        "連合会",
        "協議会",
        "振興",
        "商店",
        "ストア",
        "販売",
        "ホールディングス",
        "グループ",
        "工事",
        "建築",
        "建材",
        "資材",
        "機械",
        "機工",
        "重機",
        "リース",
        "レンタル",
        "警備",
        "清掃",
        "衛生",
        "食品",
        "農業",
        "林業",
        "漁業",
        "鉱業",
        "化学",
        "製薬",
        "薬品",
        "電力",
        "ガス",
        "石油",
        "エネルギー",
        "鉄工",
        "鉄工所",
        "鋼業",
        "メディカル",
        "病院",
        "医院",
        "クリニック",
        "事務所",
        "研究所",
        "センター",
        "本社",
        "支店",
        "営業所",
        "営業部",
        "営業",
        "事業部",
        "事業",
        "部",
        "課",
        "室",
        "係",
        "業",
        "会",
        "社",
        "代表",
        "代表取締役",
        "取締役",
        "社長",
        "会長",
        "役員",
        "専務",
        "常務",
        "理事",
        "理事長",
        "顧問",
        "担当",
        "担当者",
        "日本",
        "全国",
        "中央",
        "東部",
        "西部",
        "南部",
        "北部",
        "県南",
        "県北",
        "県央",
        "県西",
        "県東",
        "第一",
        "第二",
        "新",
        "東",
        "西",
        "南",
        "北",
        "ジャパン",
        "国際",
        "インターナショナル",
        "公社",
        "事業団",
        "財団",
        "社団",
        "協同",
        "共同",
        "合同",
        "企業",
        "商工",
        "商工会",
        "商工会議所",
        "議会",
        "県議会",
        "市議会",
        "町議会",
        "村議会",
        "後援会",
        "法人",
        "本部",
        "支部",
        "土地",
        "不動産",
        "開発公社",
        "整備",
        "保全",
        "防災",
        "安全",
        "計画",
        "調査",
    ]
)

# Title words that, right after a name, show that the name ends there (田中課長, 山田建設社長).
_TITLES = (
    "社長",
    "副社長",
    "会長",
    "部長",
    "課長",
    "係長",
    "室長",
    "所長",
    "支店長",
    "店長",
    "工場長",
    "局長",
    "次長",
    "専務",
    "常務",
    "取締役",
    "代表",
    "理事",
    "議員",
    "県議",
    "市議",
    "町議",
    "村議",
    "先生",
    "様",
    "氏",
    "殿",
    "君",
    "長",
    "担当",
    "主任",
    "顧問",
    "相談役",
    "委員",
    "本人",
    "夫妻",
    "一家",
    "親子",
    "家",
    "等",
    "外",
    "以下",
    "側",
    "社員",
    "職員",
    "役員",
    "関係者",
    "本社",
    "支店",
    "営業所",
    "事務所",
)
_TITLE_AFTER = _LazyPattern("|".join(sorted(_TITLES, key=len, reverse=True)))
# Words that, right before a name, show that the name starts there (代表取締役山田太郎, 申請者田中).
_TITLE_BEFORE = _LazyPattern(
    r"(?:" + "|".join(sorted((*_TITLES, "者", "元", "前", "現", "故"), key=len, reverse=True)) + r")$"
)

_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
_KATAKANA = "\u30a1-\u30fa\u30fc"  # ー continues a katakana word
_WORD_CHAR = _LazyPattern(f"[{_KANJI}{_KATAKANA}A-Za-z]")
_SAME_SCRIPT = {
    "kanji": _LazyPattern(f"[{_KANJI}]"),
    "katakana": _LazyPattern(f"[{_KATAKANA}]"),
    "latin": _LazyPattern("[A-Za-z]"),
}

# Dashes typed between digits (ー from the Japanese keyboard's minus key, −, ‐ …) read as "-".
_DIGIT_DASHES = _LazyPattern(r"(?<=[0-9])\s*[-‐‑‒–—―−ー－ｰ─━・･]\s*(?=[0-9])")  # 03・1234・5678 too

_EMAIL = _LazyPattern(
    r"[A-Za-z0-9][A-Za-z0-9._%+-]*"
    r"(?:\s*@\s*|\s*[(\[<]\s*(?:at|アット)\s*[)\]>]\s*|\s*アットマーク\s*|\s+at\s+)"
    r"[A-Za-z0-9-]+(?:(?:\s*\.\s*|\s*[(\[<]\s*(?:dot|ドット)\s*[)\]>]\s*|\s*ドット\s*|\s+dot\s+)[A-Za-z0-9-]+)*"
    r"(?:\s*\.\s*|\s*[(\[<]\s*(?:dot|ドット)\s*[)\]>]\s*|\s*ドット\s*|\s+dot\s+)[A-Za-z]{2,}(?![A-Za-z])",
    re.IGNORECASE,
)
# 個人番号: 12 digits, plain or in three groups of four; never part of a longer number or an amount.
_TWELVE_DIGITS = _LazyPattern(
    r"(?<![0-9.,-])(?:[0-9]{4}[ .-]?){2}[0-9]{4}(?![0-9]|[.,-][0-9]|\s*(?:円|千|万|億|%|件|人|㎡|m))"
)
# A number labelled as a telephone number, even one no phone library would take (連絡先 1234-5678).
_PHONE_LABELLED = _LazyPattern(
    r"(?:電話番号|電話|TEL|携帯|FAX|ファクス|ファックス|連絡先)\s*[:：は]?\s*(\+?[0-9][0-9() -]{4,}[0-9])",
    re.IGNORECASE,
)
_YEAR_FIRST = _LazyPattern(
    r"(?:19|20)[0-9]{2}-.*"
)  # 電話 2025-04-01 (に受けた), 2025-123-4567: a date or an id
# A number given its label: 工事番号 2025-123-4567, 第12-3456号, No.01-2345-6789 — not personal data.
_ID_LABEL_BEFORE = _LazyPattern(
    r"(?:第|No\.?|NO\.?|№|#|(?<!電話)(?<!携帯)(?<!FAX)(?<!TEL)(?<!郵便)(?<!連絡先)番号|コード|ID)\s*[:：は]?\s*$",
    re.IGNORECASE,
)
_ID_AFTER = _LazyPattern(r"^\s*号")

_PREFECTURES = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|神奈川県|新潟県|富山県"
    "|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|大阪府|兵庫県|奈良県|和歌山県|鳥取県|島根県"
    "|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_PLACE = f"[{_KANJI}{_KATAKANA}ぁ-ん○△□×]"
_POSTCODE_LABELLED = _LazyPattern(
    r"(?:〒|郵便番号|郵便|ZIP|〠|住所|所在地)\s*[:：は]?\s*([0-9]{3}-?[0-9]{4})(?![0-9])", re.IGNORECASE
)
_POSTCODE_BARE = _LazyPattern(r"(?<![0-9./-])(?<![0-9]:)[0-9]{3}-[0-9]{4}(?![0-9]|-[0-9]|:)")
# After a postcode: an address begins (a prefecture, or a municipality within a few characters).
_ADDRESS_AHEAD = _LazyPattern(rf"\s*(?:{_PREFECTURES}|{_PLACE}{{1,6}}?[市区町村郡])")
# 住居表示 and street numbers: ○○市△△町1丁目2番3号, △△町1-2-3. A lot number (123番地, 456番1)
# has fewer parts and stays harmless: it names land, not where someone lives.
_ADDRESS = _LazyPattern(
    rf"(?:{_PREFECTURES})?{_PLACE}{{1,8}}?[市区町村郡]{_PLACE}{{0,8}}?"
    r"[0-9]{1,4}(?:丁目[0-9]{1,4}(?:番地?[0-9]{1,4}号?|-[0-9]{1,4})|-[0-9]{1,4}-[0-9]{1,4}|番[0-9]{1,4}号)(?![0-9])"
)
# A name with an honorific: the kanji (or katakana) run just before 様/氏/さん/殿, when the
# honorific is not the start of another word (様式, 氏名, 御殿場).
# Katakana only before 氏 (スミス氏): オーナー様, メーカーさん are no names.
_HONORIFIC = _LazyPattern(
    rf"(?:([{_KANJI}]{{2,6}})(?:様|氏|さん|殿|君)|([{_KATAKANA}]{{2,10}})氏)(?![{_KANJI}{_KATAKANA}]|名)"
    rf"|([{_KANJI}]{{2,6}})(?:様|氏|さん|殿|君)(?=等)"
)
# Runs before an honorific that are no name: お客様, 事業者様, 同氏, 関係者各位 ...
_NOT_A_NAME = _LazyPattern(
    r"(?:者|方|社|会|課|局|部|所|店|員|長|人|客|側|皆|各|同|両|諸|貴|御|先|当|業|家|庁|様|係|団|校|院|組|署|室|事|主|合|記|位|族)$"
)
# Some word next to a legal form: 株式会社○○ or ○○(株) that is not the requester's affiliation.
_CORPORATE = _LazyPattern(
    rf"(?:{'|'.join(map(re.escape, _LEGAL_FORMS))})\s*[{_KANJI}{_KATAKANA}A-Za-z0-9・&]{{2,20}}"
    rf"|[{_KANJI}{_KATAKANA}A-Za-z0-9・&]{{2,20}}\s*(?:{'|'.join(map(re.escape, _LEGAL_FORMS))})"
)


def normalise(text: str) -> str:
    """NFKC, and dashes between digits as "-": the form every pattern here is written for."""
    plain = unicodedata.normalize("NFKC", text)
    if _ASCII_DIGIT.search(plain) is None:  # no digit, no dash between digits: the usual text
        return plain
    return _DIGIT_DASHES.sub("-", plain)


def find_personal_data(text: str, identities: Sequence[Identity] = ()) -> list[Hit]:
    """The personal data in ``text``, in order of appearance; overlapping findings are reported
    once, the strongest (an error, then the longer) winning."""
    return Scanner(identities).find(text)


class Scanner:
    """``find_personal_data`` for the texts of one record: its identities are prepared once."""

    __slots__ = ("_needles", "_texts")

    def __init__(self, identities: Sequence[Identity] = ()) -> None:
        self._needles = _all_needles(tuple(identities)) if identities else frozenset()
        self._texts = tuple(needle.text for needle in self._needles)

    def find(self, text: str) -> list[Hit]:
        """See ``find_personal_data``."""
        plain = normalise(text)
        hits: list[Hit] = []
        # The usual text holds neither a needle nor a trigger: decided by C-level tests, no generator.
        if self._texts:
            compact, offsets = _compact(plain)
            if any(map(compact.__contains__, self._texts)):
                hits += _identity_hits(plain, compact, offsets, self._needles)
        if _ANY_TRIGGER.search(plain) is not None:  # one pass: something a pattern needs
            hits += _pattern_hits(plain)
        if not hits:
            return hits
        # Errors first, then the hits of the form's own fields (more specific), then the longer.
        hits.sort(key=lambda h: (not h.error, h.kind in _PATTERN_KINDS, -(h.end - h.start), h.start, h.kind))
        kept: list[Hit] = []
        for hit in hits:
            if not any(hit.start < k.end and k.start < hit.end for k in kept):
                kept.append(hit)
        return sorted(kept, key=lambda h: h.start)


_PATTERN_KINDS = {PHONE, EMAIL, POSTCODE, MY_NUMBER, ADDRESS, HONORIFIC_NAME, CORPORATE_NAME}


# --- the form's own names and affiliations -------------------------------------------------


@dataclass(frozen=True)
class _Needle:
    text: str  # compact: NFKC, casefolded, without spaces or ・
    label: str
    role: Role
    strength: Literal["error", "warning", "weak"]
    # error: an error even inside a longer word;  warning: an error standing alone, a warning
    # inside a longer word;  weak: a warning standing alone, nothing inside a longer word.


_SPACE_OR_DOT = _LazyPattern(r"[\s・･]")


def _compact(text: str) -> tuple[str, Sequence[int]]:
    """``text`` without white space and ・ (casefolded), with each kept character's offset."""
    if "・" not in text and "･" not in text and len(text.split()) == 1:  # the usual case: nothing to drop
        return text.casefold(), range(len(text))
    kept = [(i, c) for i, c in enumerate(text) if not c.isspace() and c not in "・･"]
    return "".join(c for _, c in kept).casefold(), [i for i, _ in kept]


def _identity_hits(
    plain: str, compact: str, offsets: Sequence[int], needles: frozenset[_Needle]
) -> Iterable[Hit]:
    """The hits of ``needles`` in ``plain``, whose ``_compact`` form is ``compact``, ``offsets``."""
    for needle in needles:
        if needle.text not in compact:  # the usual case: a plain test, no loop
            continue
        start = compact.find(needle.text)
        while start >= 0:
            end = start + len(needle.text)
            # A section or company may follow what it belongs to (県土整備部道路建設課); a name
            # after kanji is often the end of another word (小山田, 新田中学校).
            inside = _inside_a_word(compact, start, end, before=needle.role == "name")
            if needle.strength == "error" or (needle.strength == "warning" and not inside):
                error = True
            elif needle.strength == "weak" and inside:
                error = None  # nothing: a common word, or a part of a longer word (田中川, 開発許可)
            else:
                error = False
            if error is not None:
                first, last = offsets[start], offsets[end - 1] + 1
                yield Hit(needle.label, plain[first:last], error, first, last)
            start = compact.find(needle.text, start + 1)


@lru_cache(maxsize=1024)
def _all_needles(identities: tuple[Identity, ...]) -> frozenset[_Needle]:
    """The needles of a record's identities (the same for each text field of a record, and often
    for many rows of a list): computed once."""
    return frozenset(n for identity in identities for n in _needles(identity))


@lru_cache(maxsize=4096)
def _needles(identity: Identity) -> tuple[_Needle, ...]:
    text = unicodedata.normalize("NFKC", identity.text).strip()
    if not text or "".join(text.split()) in PLACEHOLDERS:
        return ()
    text = re.sub(
        r"[(\[（【][^)\]）】]*(?:代表|担当|様|氏|社長|役)[^)\]）】]*[)\]）】]", " ", text
    )  # 山田太郎（代表取締役）
    label = identity.label
    needles: list[_Needle] = []

    def add(value: str, strength: str, minimum: int = 2) -> None:
        value, _ = _compact(value)
        if len(value) >= minimum and value not in PLACEHOLDERS:
            needles.append(_Needle(value, label, identity.role, strength))  # type: ignore[arg-type]

    for entry in re.split(r"[、,，/／;；]", text):  # 山田太郎、鈴木次郎: two people
        if identity.role == "name":
            parts = entry.split()
            # A full name as written is an error anywhere; a two-character one (林 学) only
            # standing alone, since it may be the end of a longer word (森林学).
            add(entry, "error" if len(_compact(entry)[0]) >= 3 else "warning")
            if len(parts) > 1:
                for part in parts:
                    add(part, "weak")  # a family or given name alone: maybe an ordinary word
        elif identity.role == "section":
            # The staff member's section as written; a short one (総務課) is a common word, and so
            # is a part of it (県土整備部 道路建設課: the 部局 is published anyway).
            add(entry, "warning" if len(_compact(entry)[0]) >= 4 else "weak")
            if len(entry.split()) > 1:
                for part in entry.split():
                    add(part, "weak", minimum=4)
        else:
            needles += _affiliation_needles(entry, label)
    return tuple(needles)


def _affiliation_needles(entry: str, label: str) -> list[_Needle]:
    """The affiliation as written and in its other legal-form spellings (errors), and its name
    without the legal form: an error when distinctive (山田建設), at most a warning when only
    a common word (開発)."""
    compact, _ = _compact(entry)
    core = _LEGAL_FORM.sub(" ", entry)
    core_compact, _ = _compact(core)
    found: list[_Needle] = []
    if _LEGAL_FORM.search(entry):
        for variant in _legal_form_variants(compact):
            found.append(_Needle(variant.casefold(), label, "affiliation", "error"))
    elif core_compact:
        found.append(
            _Needle(compact, label, "affiliation", "weak" if _is_generic(core_compact) else "warning")
        )
    # The name without its legal form, and each part of it (山田建設 営業部): a distinctive name
    # is the body itself; a common word (開発, 営業部) is nothing without the legal form.
    parts = [_compact(p)[0] for p in core.split()]
    for name in {core_compact, *parts}:
        if len(name) >= 2 and name not in PLACEHOLDERS and name != compact and not _is_generic(name):
            found.append(_Needle(name, label, "affiliation", "warning"))
    return [n for n in found if len(n.text) >= 2]


def _legal_form_variants(compact: str) -> set[str]:
    """株式会社山田建設 → also (株)山田建設 and 山田建設(株) and 山田建設株式会社: one company."""
    variants = {compact}
    for group in _LEGAL_FORM_GROUPS:
        for form in group:
            form = form.casefold()
            if form not in compact:
                continue
            rest = compact.replace(form, "", 1)
            for other in group[:2]:
                other = other.casefold()
                variants |= {compact.replace(form, other, 1), other + rest, rest + other}
    return {v for v in variants if v}


def _is_generic(name: str) -> bool:
    """Whether ``name`` is made only of ordinary words (開発, 総合建設, 建設工業)."""
    name = name.casefold()
    reachable = [True] + [False] * len(name)
    for i in range(len(name)):
        if reachable[i]:
            for j in range(i + 1, len(name) + 1):
                if name[i:j] in _GENERIC_WORDS:
                    reachable[j] = True
    return reachable[-1]


def _script(char: str) -> str | None:
    return next((name for name, pattern in _SAME_SCRIPT.items() if pattern.match(char)), None)


def _inside_a_word(text: str, start: int, end: int, before: bool = True) -> bool:
    """Whether text[start:end] continues into a longer word: the next character (or the one
    before) is of the same script — kanji after kanji, katakana after katakana — and is not a
    title or honorific that ends a name (田中課長, 代表取締役山田) rather than extending it (田中川).
    Mixed scripts count too when a kanji run follows a katakana name (ヤマダ電機 stays one word)."""
    after, previous = text[end : end + 1], text[start - 1 : start] if start else ""
    last, first = _script(text[end - 1]), _script(text[start])
    continues_after = (
        bool(after) and _WORD_CHAR.match(after) is not None and (_script(after) == last or last == "katakana")
    )
    if continues_after and _TITLE_AFTER.match(text, end):
        continues_after = False
    continues_before = (
        before and bool(previous) and _WORD_CHAR.match(previous) is not None and _script(previous) == first
    )
    if continues_before and _TITLE_BEFORE.search(text, 0, start):
        continues_before = False
    return continues_after or continues_before


# --- contact data and numbers --------------------------------------------------------------


def _pattern_hits(plain: str) -> Iterable[Hit]:
    """The contact data and numbers in ``plain``, which holds a character of ``_ANY_TRIGGER``.

    Each pattern runs only on a text that holds what every match of it needs (cheap tests):
    most summaries hold no digit, no ASCII letter, no honorific and no legal form."""
    if _ALNUM_OR_DIGIT.search(plain) is not None:
        if _ASCII_ALNUM.search(plain) is not None:  # an address has ASCII letters or digits
            for m in _EMAIL.finditer(plain):
                yield Hit(EMAIL, m.group(0), True, m.start(), m.end())
        if _DIGIT.search(plain) is not None:  # every pattern down to _ADDRESS needs a digit
            yield from _number_hits(plain)
    if "様" in plain or "氏" in plain or "さん" in plain or "殿" in plain or "君" in plain:
        for m in _HONORIFIC.finditer(plain):
            name = m.group(1) or m.group(2) or m.group(3)
            if not _NOT_A_NAME.search(name):
                yield Hit(HONORIFIC_NAME, m.group(0), False, m.start(), m.end())
    if "会社" in plain or "法人" in plain or "(" in plain or ")" in plain:
        for m in _CORPORATE.finditer(plain):
            yield Hit(CORPORATE_NAME, m.group(0), False, m.start(), m.end())


_ASCII_ALNUM = _LazyPattern(r"[A-Za-z0-9]")
_ALNUM_OR_DIGIT = _LazyPattern(r"[A-Za-z\d]")  # [0-9] is in \d
_ASCII_DIGIT = _LazyPattern(r"[0-9]")
# A character of what every match of a pattern needs: an ASCII letter or a digit (e-mail and
# numbers), 様氏さん殿君 (_HONORIFIC), 会社/法人/( ) (every legal form holds one, and so does every
# match of _CORPORATE). tests/test_personal_data_fast.py checks these against the patterns.
_ANY_TRIGGER = _LazyPattern(r"[A-Za-z\d様氏さ殿君会法()]")
_HONORIFIC_MARKS = ("様", "氏", "さん", "殿", "君")
_LEGAL_FORM_PARTS = ("会社", "法人", "(", ")")


def _number_hits(plain: str) -> Iterable[Hit]:
    yield from _phone_hits(plain)
    for m in _PHONE_LABELLED.finditer(plain):
        if len(re.sub(r"[^0-9]", "", m.group(1))) >= 6 and not _YEAR_FIRST.fullmatch(m.group(1)):
            yield Hit(PHONE, m.group(1), True, m.start(1), m.end(1))
    for m in _TWELVE_DIGITS.finditer(plain):
        yield Hit(MY_NUMBER, m.group(0), True, m.start(), m.end())
    for m in _POSTCODE_LABELLED.finditer(plain):
        yield Hit(POSTCODE, m.group(0), True, m.start(), m.end())
    for m in _POSTCODE_BARE.finditer(plain):
        if _labelled_as_an_id(plain, m.start(), m.end()):
            continue
        # 123-4567 東京都… is a postcode; alone, 123-4567 may be some other number.
        yield Hit(POSTCODE, m.group(0), bool(_ADDRESS_AHEAD.match(plain, m.end())), m.start(), m.end())
    for m in _ADDRESS.finditer(plain):
        if not _labelled_as_an_id(plain, m.start(), m.end()):
            yield Hit(ADDRESS, m.group(0), False, m.start(), m.end())


# Letters glued to a number (TEL03-…, tel:090…) keep phonenumbers from matching; they are
# replaced by spaces in the copy it reads (same length, so the offsets still hold).
_LETTERS = _LazyPattern(r"[A-Za-z]")
_DIGIT = _LazyPattern(r"\d")


def _phone_hits(plain: str) -> Iterable[Hit]:
    """Telephone numbers as libphonenumber reads them for Japan.

    Leniency.VALID (a number of an existing Japanese numbering range) leaves dates, 工事番号
    2025-123-4567 and 1234 5678 9012 alone, which POSSIBLE takes for phone numbers (measured on
    the corpus in tests/test_personal_data.py). VALID alone misses the numbers people make up
    or mistype (011-123-4567, 03-0000-0000), so a possible number written the Japanese way —
    a leading 0 (or +81) and 10 or 11 digits — counts too: no date, amount or 和暦 looks like that.
    """
    if _DIGIT.search(plain) is None:  # no number at all: phonenumbers (slow to import) is not needed
        return
    import phonenumbers

    scanned = _LETTERS.sub(" ", plain)
    valid = {
        (m.start, m.end)
        for m in phonenumbers.PhoneNumberMatcher(scanned, "JP", leniency=phonenumbers.Leniency.VALID)
    }
    for match in phonenumbers.PhoneNumberMatcher(scanned, "JP", leniency=phonenumbers.Leniency.POSSIBLE):
        start, end = match.start, match.end
        if (start, end) not in valid and not _written_like_a_japanese_number(match.raw_string):
            continue
        # A number labelled as some other number (契約番号 01-2345-6789, 第…号) is only a warning.
        yield Hit(PHONE, plain[start:end], not _labelled_as_an_id(plain, start, end), start, end)


def _written_like_a_japanese_number(raw: str) -> bool:
    digits = re.sub(r"[^0-9]", "", raw)
    if raw.startswith("+81"):  # +81 3 0000 0000: the same without the leading 0
        return len(digits) in (11, 12)
    return raw.lstrip("(").startswith("0") and len(digits) in (10, 11)


def _labelled_as_an_id(text: str, start: int, end: int) -> bool:
    return bool(_ID_LABEL_BEFORE.search(text[max(0, start - 12) : start]) or _ID_AFTER.match(text[end:]))
