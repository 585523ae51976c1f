"""The Jinja2 environment of the HTML pages: the yearly publication and the internal monthly state."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from ledger_tools.dates import to_wareki


@cache
def template_environment() -> Environment:
    """Autoescape always on (never per file extension), strict undefined names; templates in
    ``ledger_tools/templates/``."""
    environment = Environment(
        loader=PackageLoader("ledger_tools", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["wareki"] = to_wareki
    return environment


def html_text(text: str) -> str:
    """``text`` escaped for HTML exactly as markupsafe (the templates' autoescape) does it."""
    if "&" in text or "<" in text or ">" in text or "'" in text or '"' in text:
        return (
            text.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    return text
