"""What the last run's record versions become: the pure decision, case by case."""

import pytest

from ledger_tools.check.findings import Status
from ledger_tools.form.fields import STAGES
from ledger_tools.ledger.aggregation import (
    Disposition,
    Fate,
    InboxNow,
    Version,
    decide_fates,
    state_key,
    wants_archive,
)
from ledger_tools.ledger.archive import RecordState, Retirement

IDENTITY = ("2026-04-01", "山田 太郎", "県土整備部")
OTHER_IDENTITY = ("2026-04-02", "佐藤 花子", "県土整備部")


def earlier(
    path="a.xlsx",
    sha="h1",
    record_id="R7-0001",
    status=Status.OK,
    stage=STAGES[1],
    disposition=Disposition.LEDGER,
):
    return RecordState(path, 0, sha, record_id, status, stage, str(disposition), "c")


def inbox(paths=(), unreadable=(), hashes=(), records=None):
    return InboxNow(frozenset(paths), frozenset(unreadable), frozenset(hashes), records or {})


CASES = {
    "path replaced": (earlier(), inbox(paths=["a.xlsx"], hashes=["h2"]), {}, True, Fate.REPLACED_BY_PATH),
    "copy moved": (earlier(), inbox(paths=["b/a.xlsx"], hashes=["h1"]), {}, True, Fate.MOVED),
    "file gone": (earlier(), inbox(), {}, True, Fate.SOURCE_MISSING),
    "file gone, no copy in the archive": (earlier(), inbox(), {}, False, Fate.NO_COPY),
    "file gone, no record": (earlier(record_id=None), inbox(), {}, True, Fate.NO_RECORD),
    "retired": (earlier(), inbox(), {("a.xlsx", 0, "h1"): "reason"}, True, Fate.RETIRED),
    "unreadable now": (
        earlier(),
        inbox(paths=["a.xlsx"], unreadable=["a.xlsx"], hashes=["h2"]),
        {},
        True,
        Fate.KEPT_UNREADABLE_NOW,
    ),
    "unreadable now, unreadable before": (
        earlier(status=Status.UNREADABLE, stage=None),
        inbox(paths=["a.xlsx"], unreadable=["a.xlsx"], hashes=["h2"]),
        {},
        True,
        Fate.REPLACED_BY_PATH,
    ),
    "unreadable now, no copy in the archive": (
        earlier(),
        inbox(paths=["a.xlsx"], unreadable=["a.xlsx"], hashes=["h2"]),
        {},
        False,
        Fate.REPLACED_BY_PATH,
    ),
    "later stage elsewhere": (
        earlier(),
        inbox(paths=["b.xlsx"], hashes=["h2"], records={"R7-0001": (Version(IDENTITY, STAGES[2]),)}),
        {},
        True,
        Fate.SUPERSEDED_ELSEWHERE,
    ),
    "same stage elsewhere": (
        earlier(),
        inbox(paths=["b.xlsx"], hashes=["h2"], records={"R7-0001": (Version(IDENTITY, STAGES[1]),)}),
        {},
        True,
        Fate.SUPERSEDED_ELSEWHERE,
    ),
    "earlier stage elsewhere": (
        earlier(),
        inbox(paths=["b.xlsx"], hashes=["h2"], records={"R7-0001": (Version(IDENTITY, STAGES[0]),)}),
        {},
        True,
        Fate.SOURCE_MISSING,
    ),
    "another record under the same id elsewhere": (
        earlier(),
        inbox(paths=["b.xlsx"], hashes=["h2"], records={"R7-0001": (Version(OTHER_IDENTITY, STAGES[3]),)}),
        {},
        True,
        Fate.SOURCE_MISSING,
    ),
    "not current before": (
        earlier(disposition=Disposition.SUPERSEDED),
        inbox(),
        {},
        True,
        Fate.NOT_CURRENT,
    ),
}


@pytest.mark.parametrize(
    ("state", "now", "retired", "has_copy", "expected"), CASES.values(), ids=CASES.keys()
)
def test_the_fate_of_an_earlier_version(state, now, retired, has_copy, expected):
    archived = {state_key(state): Version(IDENTITY, state.stage)} if has_copy else {}
    assert decide_fates([state], now, retired, archived) == [expected]
    looked_up = decide_fates([state], now, retired, {}) != decide_fates([state], now, retired, archived)
    assert not looked_up or wants_archive(state, now, retired)  # the archive is read where it matters


def test_each_version_gets_its_own_fate_in_order():
    gone, replaced = earlier(path="gone.xlsx", sha="g"), earlier(path="a.xlsx")
    retired = {state_key(gone): Retirement("gone.xlsx", 0, "g", "R7-0001", "誤り")}
    now = inbox(paths=["a.xlsx"], hashes=["h9"])
    assert decide_fates([gone, replaced], now, retired, {}) == [Fate.RETIRED, Fate.REPLACED_BY_PATH]
