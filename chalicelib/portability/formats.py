"""File formats of exports and imports (pure): CSV (UTF-8 with a BOM, so Excel reads Chinese
text right) and JSON Lines.

CSV cells: lists (tags) are joined with ``,`` (a tag cannot hold one), booleans are ``true`` /
``false``, nothing is an empty cell. A text cell that a spreadsheet would run as a formula (one
starting with ``= + - @``, a tab or a carriage return, after any ``'``) gets a leading ``'``,
which :func:`unguard` removes again when the file is imported, so an export re-imports unchanged.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

FORMATS = ("csv", "jsonl")
BOM = "\ufeff"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        value = ",".join(str(x) for x in value)
    text = str(value)
    return "'" + text if text.lstrip("'").startswith(_FORMULA) else text


def unguard(text: str) -> str:
    """The cell as it was before :func:`csv_cell` guarded it (one ``'`` fewer)."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(_FORMULA) else text


class Encoder:
    """Rows to text, buffered: ``write`` rows, ``take`` the encoded bytes so far."""

    def __init__(self, fmt: str, columns: list[str]) -> None:
        self.fmt, self.columns = fmt, columns
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, lineterminator="\r\n") if fmt == "csv" else None

    def header(self) -> None:
        if self._csv is not None:
            self._text.write(BOM)
            self._csv.writerow(self.columns)

    def write(self, row: dict) -> None:
        if self._csv is not None:
            self._csv.writerow([csv_cell(row.get(c)) for c in self.columns])
        else:
            self._text.write(json.dumps({c: row.get(c) for c in self.columns}, ensure_ascii=False,
                                        separators=(",", ":")))
            self._text.write("\n")

    def pending(self) -> int:
        return self._text.tell()

    def take(self) -> bytes:
        data = self._text.getvalue().encode("utf-8")
        self._text.seek(0)
        self._text.truncate()
        return data


def split_list(value: Any) -> list[str]:
    """A list cell: a JSON list, or a comma-separated string (CSV)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    raise TypeError("a list or a comma-separated string")


def csv_records(lines: Iterable[str]) -> Iterable[tuple[int, list[str]]]:
    """(first line number, cells) of each CSV record; a quoted cell may span lines."""
    reader = csv.reader(lines)
    start = 1
    for cells in reader:
        yield start, [unguard(c) for c in cells]
        start = reader.line_num + 1
