"""Work done in a second process gives what it gives done here, whatever happens to the process."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from ledger_tools.aside import Aside


def test_a_result_made_aside_is_the_one_made_here() -> None:
    def outputs() -> tuple[int, dict[str, bytes]]:
        return 5, {"月次状況.html": "月次状況".encode(), "a.xlsx": bytes(range(256)) * 4000}

    assert Aside(outputs).result() == outputs()


def test_a_child_that_dies_leaves_the_work_to_this_process() -> None:
    parent = os.getpid()

    def dies_in_the_child() -> bytes:
        if os.getpid() != parent:
            os._exit(3)
        return b"made here"

    assert Aside(dies_in_the_child).result() == b"made here"


def test_work_that_fails_fails_here_as_it_would_without_a_child() -> None:
    calls = []

    def broken() -> bytes:
        calls.append(os.getpid())
        raise ValueError("壊れた状態")

    with pytest.raises(ValueError, match="壊れた状態"):
        Aside(broken).result()
    assert os.getpid() in calls  # raised by this process's own attempt


def test_a_result_never_asked_for_leaves_no_process_behind() -> None:
    aside = Aside(lambda: b"x")
    child = aside._pid
    aside.close()  # a run that failed before asking
    if child is not None:
        with pytest.raises(ProcessLookupError):  # killed and reaped: no zombie left
            os.kill(child, 0)
    assert aside.result() == b"x"  # still answers, made here


def _aside_in_a_daemon(conn) -> None:
    parent = os.getpid()
    conn.send(Aside(lambda: os.getpid() != parent).result())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork: the work is done in turn")
def test_a_daemon_worker_process_can_put_work_aside() -> None:
    """A worker of check.isolation is a daemon process, which multiprocessing forbids children."""
    ctx = multiprocessing.get_context("fork")
    here, there = ctx.Pipe()
    worker = ctx.Process(target=_aside_in_a_daemon, args=(there,), daemon=True)
    worker.start()
    made_in_a_child = here.recv()
    worker.join()
    assert made_in_a_child is (os.uname().sysname == "Linux")
