"""Tag normalisation (pure), one rule for every domain that tags: the content library, the audience
and live codes (auto-tags of scanners).

A tag is NFKC-normalised (full-width letters become ASCII), trimmed, inner whitespace collapsed
to one space and case-folded (Latin letters lower-cased; CJK is unchanged). It must be 1-64
characters with no control characters, and may not contain ``,`` (the query separator) or ``#``
(the key separator in index items).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from chalicelib.error_codes import INVALID_TAG, TOO_MANY_TAGS
from chalicelib.errors import ValidationFailed

MAX_TAG_LEN = 64
MAX_TAGS = 50
_SPACE = re.compile(r"\s+")
_FORBIDDEN = set(",#")


def normalize(value: object, field: str = "tags") -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"'{field}' must hold strings", field=field)
    tag = _SPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()
    if not tag:
        raise ValidationFailed(f"'{field}' must not hold empty tags", code=INVALID_TAG, field=field)
    if len(tag) > MAX_TAG_LEN:
        raise ValidationFailed(f"a tag is at most {MAX_TAG_LEN} characters: {tag[:20]!r}...",
                               code=INVALID_TAG, field=field)
    if any(c in _FORBIDDEN or unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co"} for c in tag):
        raise ValidationFailed(f"tag {tag!r} may not contain ',', '#' or control characters",
                               code=INVALID_TAG, field=field)
    return tag


def normalize_all(values: object, field: str = "tags", max_tags: int = MAX_TAGS) -> list[str]:
    """Normalised, de-duplicated tags in first-seen order."""
    if values is None:
        return []
    if not isinstance(values, list):
        raise ValidationFailed(f"'{field}' must be an array of strings", field=field)
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(normalize(value, field), None)
    if len(seen) > max_tags:
        raise ValidationFailed(f"'{field}' may hold at most {max_tags} tags", code=TOO_MANY_TAGS,
                               field=field)
    return list(seen)


def parse_csv(value: str | None, field: str, max_tags: int = MAX_TAGS) -> list[str]:
    """Tags from a query parameter ``a,b,c`` (empty parts are ignored)."""
    if value is None:
        return []
    parts = [p for p in value.split(",") if p.strip()]
    return normalize_all(parts, field, max_tags)


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
