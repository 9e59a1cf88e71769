"""The visitor's region from their IP address: an offline table, loaded once per container.

No network at runtime: the table is a CSV file named by ``YUTANG_X_IP_REGIONS`` (a path), one
range a line: ``start_ip,end_ip,region`` (IPv4 or IPv6, inclusive; ``#`` starts a comment). The
``region`` is what store targets name in ``store.region`` (compared case-insensitively). Without
the setting there is no table and region routing is off. docs/livecodes.md says how to build one
from a public database (e.g. DB-IP's IP-to-City Lite, CC BY 4.0).
"""
from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from chalicelib.settings import get_settings

SETTING = "YUTANG_X_IP_REGIONS"


class Table(NamedTuple):
    starts: dict[int, list[int]]  # per IP version: range starts, sorted
    rows: dict[int, list[tuple[int, int, str]]]  # per IP version: (start, end, region), same order

    def lookup(self, ip: str) -> str | None:
        try:
            addr = ipaddress.ip_address(ip.strip())
        except ValueError:
            return None
        starts = self.starts.get(addr.version, [])
        i = bisect.bisect_right(starts, int(addr)) - 1
        if i < 0:
            return None
        start, end, region = self.rows[addr.version][i]
        return region if start <= int(addr) <= end else None


def parse(lines: Iterable[str]) -> Table:
    """A table from CSV lines; ValueError naming the first bad line."""
    rows: dict[int, list[tuple[int, int, str]]] = {4: [], 6: []}
    for n, line in enumerate(lines, start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            start_s, end_s, region = (part.strip() for part in line.split(",", 2))
            start, end = ipaddress.ip_address(start_s), ipaddress.ip_address(end_s)
        except ValueError:
            raise ValueError(f"line {n}: want start_ip,end_ip,region") from None
        if start.version != end.version or int(start) > int(end) or not region:
            raise ValueError(f"line {n}: a range of one IP version, start <= end, and a region")
        rows[start.version].append((int(start), int(end), region))
    for version in rows:
        rows[version].sort()
    return Table({v: [r[0] for r in rs] for v, rs in rows.items()}, rows)


@lru_cache(maxsize=4)
def _load(path: str) -> Table:
    with open(path, encoding="utf-8") as fh:
        return parse(fh)


def region_of(ip: str | None) -> str | None:
    """The region of an address by the configured table (None: unknown, or no table)."""
    path = get_settings().extra.get(SETTING)
    if not ip or not path:
        return None
    return _load(path).lookup(ip)
