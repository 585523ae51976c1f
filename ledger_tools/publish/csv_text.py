"""CSV of text cells, for the large files of a publication."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence


def text_csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str | int]]) -> bytes:
    """``outputs.csv_bytes`` for rows whose cells are text already safe for a spreadsheet
    (``outputs.neutralise_formula``) or numbers: the same bytes, without converting each of a large
    year's cells one by one."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
