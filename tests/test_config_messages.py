"""A configuration file's problems, in the exact Japanese messages (and digests) the pydantic models
gave before the configuration became dataclasses validated only on load: pinned from that version."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from test_organisation import REORGANISATION

from ledger_tools.config import (
    ConfigError,
    Limits,
    config_data,
    config_digest,
    default_config_text,
    load_config,
)

D = default_config_text()
HEAD = "設定ファイルの内容が正しくありません（PATH）:\n  - "
NO_SUCH_KEY = "という項目はありません。綴りと書く場所（[ ] の見出し）を確かめてください"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            D + REORGANISATION.replace("from = 2026-04-01", "start = 2026-04-01"),
            "「reorganisations（1番目）.from」がありません。指定してください\n"
            f"  - 「reorganisations（1番目）.start」{NO_SUCH_KEY}",
        ),
        (
            D + REORGANISATION.replace("from = 2026-04-01", 'from = "四月"'),
            "「reorganisations（1番目）.from」の値が正しくありません: 組織改正の日付（from）は日付で書いてください"
            "（例: from = 2026-04-01）: '四月'（今の値: \"四月\"）",
        ),
        (D.replace("[rules]", "[rules]\nfoo = 1"), f"「rules.foo」{NO_SUCH_KEY}"),
        (
            D.replace("[rules]\n", "rules = 3\n[rules0]\n"),
            "「rules」は表（[見出し] 又は { … }）で指定してください（今の値: 3）\n"
            f"  - 「rules0」{NO_SUCH_KEY}",
        ),
        (
            D.replace('phone = "000-000-0000"', 'phone = "1"\nfax = "2"'),
            f"「publication.contact.fax」{NO_SUCH_KEY}",
        ),
        (
            D.replace('prefecture_code = "990001"', 'prefecture_code = "130002"'),
            "「publication.prefecture_code」の値が正しくありません: 検査数字（6桁目）が正しくありません"
            '（13000 の検査数字は 1）（今の値: "130002"）',
        ),
        (
            D.replace('email = "soumu@example.jp"', 'email = "not-an-email"'),
            "「publication.contact.email」の値が正しくありません: メールアドレス（例: soumu@pref.example.jp）"
            'で指定してください（今の値: "not-an-email"）',
        ),
        (
            D + "\n[limits]\nmax_read_seconds = -1\n",
            "「limits.max_read_seconds」は 0.0 以上にしてください（今の値: -1）",
        ),
        (
            D.replace('prefecture_name = "サンプル県"', 'prefecture_name = ""'),
            '「publication.prefecture_name」の値が正しくありません（今の値: ""）',
        ),
        (
            D.replace("report_due_days = 7", "report_due_days = -1").replace(
                'prefecture_code = "990001"', 'prefecture_code = "13000"'
            ),
            "「rules.report_due_days」は 0 以上にしてください（今の値: -1）\n"
            "  - 「publication.prefecture_code」の値が正しくありません: 都道府県の全国地方公共団体コード"
            '（6桁、例: 130001）で指定してください（今の値: "13000"）',
        ),
        (
            D + '\n[[organs]]\nname = "企業局"\ndepartments = []\n',
            "機関（[[organs]]）を1つ以上、名前が重ならないように指定してください",
        ),
        (
            D + REORGANISATION + REORGANISATION,
            "reorganisations（2番目）.from: 組織改正の日付 2026-04-01 が重複しています",
        ),
    ],
)
def test_each_problem_is_named_as_before(tmp_path, text, message):
    path = tmp_path / "設定.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value).replace(str(path), "PATH") == HEAD + message


@pytest.mark.parametrize(
    ("text", "digest"),
    [
        (D + REORGANISATION, "20a147b1dc321d47"),
        (D.replace('prefecture_code = "990001"', 'prefecture_code = "130001"'), "f2cf5c985a1681a4"),
        (D.replace("posted_on = {}", "posted_on = { 2025 = 2026-06-01 }"), "eabacb46bfb90b42"),
        (
            D + "\n[limits]\nmax_compression_ratio = 100\nmax_read_seconds = 20\nmax_file_bytes=1000\n",
            "e2e4d07b7885ff11",
        ),
        (D + '\n[folders]\ninbox = "x"\n', "9c9104027e17df1d"),  # local paths are not in the digest
    ],
)
def test_a_loaded_configuration_keeps_its_digest(tmp_path, text, digest):
    path = tmp_path / "設定.toml"
    path.write_text(text, encoding="utf-8")
    assert config_digest(load_config(path)) == digest


def test_loaded_values_have_their_types(tmp_path):
    path = tmp_path / "設定.toml"
    path.write_text(
        D.replace("posted_on = {}", "posted_on = { 2025 = 2026-06-01 }")
        + "\n[limits]\nmax_compression_ratio = 100\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.publication.posted_on == {2025: dt.date(2026, 6, 1)}
    assert config.limits == dataclasses.replace(Limits(), max_compression_ratio=100.0)
    assert isinstance(config.limits.max_compression_ratio, float)
    assert config_data(config)["publication"]["posted_on"] == {"2025": "2026-06-01"}
    assert "folders" not in config_data(config)


def test_the_configuration_is_frozen(config):
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.rules = None
