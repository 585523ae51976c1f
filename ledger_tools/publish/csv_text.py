"""CSV of text cells, for the large files of a publication."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence


def text_csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str | int]]) -> bytes:
    """``outputs.csv_bytes`` for rows whose cells are text already safe for a spreadsheet
    (``outputs.neutralise_formula``) or numbers: the same bytes, without converting each of a large
    year's cells one by one, encoded as written (never the whole text and its bytes at once)."""
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")  # utf-8-sig: the BOM first
    writer = csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    text.flush()
    text.detach()  # leaves raw open
    return raw.getvalue()
