"""Outputs rendered in a second process are the bytes the renderers give, whatever happens to it."""

from __future__ import annotations

import os

import pytest

from ledger_tools.ledger.aside import RenderedAside


def test_outputs_rendered_aside_are_those_rendered_here() -> None:
    renderers = {"a.html": lambda: "月次状況".encode(), "b.xlsx": lambda: bytes(range(256)) * 1000}
    aside = RenderedAside(renderers, ahead=list(renderers))
    assert aside.get("b.xlsx") == renderers["b.xlsx"]()
    assert aside.get("a.html") == renderers["a.html"]()


def test_an_output_not_rendered_ahead_is_rendered_when_asked() -> None:
    calls: list[str] = []

    def here() -> bytes:
        calls.append("here")
        return b"x"

    aside = RenderedAside({"a": here, "b": lambda: b"y"}, ahead=["b"])
    assert aside.get("a") == b"x" and aside.get("b") == b"y"
    assert calls == ["here"]  # in this process: it was not sent ahead


def test_a_child_that_dies_leaves_the_output_to_this_process() -> None:
    parent = os.getpid()

    def dies_in_the_child() -> bytes:
        if os.getpid() != parent:
            os._exit(3)
        return b"rendered here"

    aside = RenderedAside({"a": dies_in_the_child}, ahead=["a"])
    assert aside.get("a") == b"rendered here"


def test_a_renderer_that_fails_fails_here_as_it_would_without_a_child() -> None:
    def broken() -> bytes:
        raise ValueError("壊れた状態")

    aside = RenderedAside({"a": broken}, ahead=["a"])
    with pytest.raises(ValueError, match="壊れた状態"):
        aside.get("a")
    aside.close()
