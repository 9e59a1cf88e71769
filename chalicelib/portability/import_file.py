"""Reading an import's file as a stream of records: decoded lines from a byte offset (an S3 ranged
GET, so the file is never held in memory) and the CSV or JSON Lines records in them, each with
the line it starts on, or its :class:`~chalicelib.portability.import_rows.RowError`."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from chalicelib.portability import formats
from chalicelib.portability.import_rows import RowError

READ_BYTES = 64 * 1024
Record = tuple[int, dict | RowError, list[str] | None]


class Lines:
    """Decoded lines of the file from a byte offset; ``offset`` and ``line`` count what has been
    handed out, so after a record is parsed they are exactly where the next one starts."""

    def __init__(self, body: Any, offset: int, line: int) -> None:
        self.body, self.offset, self.line = body, offset, line
        self.bad: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        rest = b""
        for chunk in self.body.iter_chunks(READ_BYTES):
            rest += chunk
            parts = rest.split(b"\n")
            rest = parts.pop()
            for raw in parts:
                yield self._emit(raw + b"\n")
        if rest:
            yield self._emit(rest)

    def _emit(self, raw: bytes) -> str:
        first = self.offset == 0
        self.offset += len(raw)
        self.line += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.bad.add(self.line)
            text = raw.decode("utf-8", errors="replace")
        return text.removeprefix(formats.BOM) if first else text


def records(fmt: str, lines: Lines, header: list[str] | None) -> Iterator[Record]:
    """(first line, row or its error, header) per record, after ``lines``' position. A CSV
    file's header comes first as an empty row with the header."""
    if fmt == "jsonl":
        yield from _jsonl(lines)
    else:
        yield from _csv(lines, header)


def _jsonl(lines: Lines) -> Iterator[Record]:
    for text in lines:
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except ValueError as exc:
            yield lines.line, RowError(None, "invalid-json", f"not JSON: {exc}"), None
            continue
        if not isinstance(row, dict):
            yield lines.line, RowError(None, "invalid-json", "a line must be a JSON object"), None
            continue
        yield lines.line, (RowError(None, "invalid-encoding", "not UTF-8 text")
                           if lines.line in lines.bad else row), None


def _csv(lines: Lines, header: list[str] | None) -> Iterator[Record]:
    reader = csv.reader(iter(lines))
    while True:
        start = lines.line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, RowError(None, "invalid-csv", str(exc)), header
            return
        if not any(c.strip() for c in cells):
            continue
        cells = [formats.unguard(c) for c in cells]
        if header is None:
            header = [c.strip().lower() for c in cells]
            yield start, {}, header
            continue
        yield start, _csv_row(lines, start, cells, header), header


def _csv_row(lines: Lines, start: int, cells: list[str], header: list[str]) -> dict | RowError:
    if any(n in lines.bad for n in range(start, lines.line + 1)):
        return RowError(None, "invalid-encoding", "not UTF-8 text")
    if len(cells) > len(header):
        return RowError(None, "too-many-cells", f"{len(cells)} cells for {len(header)} columns")
    return {name: value for name, value in zip(header, cells, strict=False) if value != ""}
