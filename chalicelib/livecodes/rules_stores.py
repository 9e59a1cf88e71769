"""Store targets (门店活码) of a live code (pure): distance, radius and region.

A target with ``store: {lat, lng, radius_m, region?}`` is a store's staff or group. A visitor who
shares their location goes to the nearest eligible store whose radius holds them; else (no location,
or none in reach) to an eligible store of their region, the region coming from an offline IP table
(:mod:`chalicelib.livecodes.ipregions`); else routing goes on without the stores (the code's other
targets, then its fallback). Store targets are only reached through a location or a region.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from chalicelib.error_codes import INVALID_LOCATION, INVALID_STORE
from chalicelib.errors import ValidationFailed

EARTH_RADIUS_M = 6_371_008.8
MAX_RADIUS_M = 500_000
_REGION_MAX = 64


class Store(NamedTuple):
    lat: float
    lng: float
    radius_m: int
    region: str | None = None


class Point(NamedTuple):
    lat: float
    lng: float


def distance_m(a: Point | Store, b: Point | Store) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lng - a.lng)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def nearest(candidates: Sequence[tuple[str, Store]], point: Point) -> list[str]:
    """Ids of the stores whose radius holds ``point``, nearest first (ties: list order)."""
    reach = [(distance_m(store, point), i, tid) for i, (tid, store) in enumerate(candidates)
             if distance_m(store, point) <= store.radius_m]
    return [tid for _, _, tid in sorted(reach)]


def in_region(candidates: Sequence[tuple[str, Store]], region: str | None) -> list[str]:
    if not region:
        return []
    wanted = region.casefold()
    return [tid for tid, store in candidates if store.region and store.region.casefold() == wanted]


def from_stored(raw: dict | None) -> Store | None:
    if not raw:
        return None
    return Store(float(raw["lat"]), float(raw["lng"]), int(raw["radius_m"]), raw.get("region"))


def parse_point(lat: Any, lng: Any, field: str = "lat") -> Point:
    """A visitor's position (numbers or numeric strings); ValidationFailed ``invalid-location``."""
    try:
        point = Point(float(lat), float(lng))
    except (TypeError, ValueError):
        raise ValidationFailed("'lat' and 'lng' must be numbers", code=INVALID_LOCATION,
                               field=field) from None
    if not (-90 <= point.lat <= 90 and -180 <= point.lng <= 180) or math.isnan(point.lat + point.lng):
        raise ValidationFailed("'lat' must be -90..90 and 'lng' -180..180", code=INVALID_LOCATION,
                               field=field)
    return point


def parse(raw: Any, where: str = "store") -> dict | None:
    """A target's ``store`` input: ``{lat, lng, radius_m, region?}`` (null: not a store)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"lat", "lng", "radius_m", "region"}:
        raise _bad(f"'{where}' must be {{lat, lng, radius_m, region?}}", where)
    if any(isinstance(raw.get(k), bool) or not isinstance(raw.get(k), (int, float))
           for k in ("lat", "lng")):
        raise _bad(f"'{where}.lat' and '{where}.lng' must be numbers", f"{where}.lat")
    try:
        point = parse_point(raw["lat"], raw["lng"], f"{where}.lat")
    except ValidationFailed as exc:
        raise _bad(exc.message, f"{where}.lat") from None
    radius = raw.get("radius_m")
    if not isinstance(radius, int) or isinstance(radius, bool) or not 1 <= radius <= MAX_RADIUS_M:
        raise _bad(f"'{where}.radius_m' must be an integer 1-{MAX_RADIUS_M} (metres)",
                   f"{where}.radius_m")
    clean: dict[str, Any] = {"lat": point.lat, "lng": point.lng, "radius_m": radius}
    region = raw.get("region")
    if region is not None:
        if not isinstance(region, str) or not 1 <= len(region.strip()) <= _REGION_MAX:
            raise _bad(f"'{where}.region' must be 1-{_REGION_MAX} characters", f"{where}.region")
        clean["region"] = region.strip()
    return clean


def _bad(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, code=INVALID_STORE, field=field)
