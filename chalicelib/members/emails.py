"""Email addresses of team members, as login and invitation read them: trimmed, lower-cased and
checked once (pure)."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.error_codes import INVALID_EMAIL
from chalicelib.errors import ValidationFailed

EMAIL = re.compile(r"^[^@\s,;<>\"]{1,64}@[^@\s,;<>\"]+\.[^@\s,;<>\".]{2,}$")


def normalize_email(value: Any, field: str = "email") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"'{field}' is required", field=field, code=INVALID_EMAIL)
    email = value.strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise ValidationFailed(f"'{field}' is not an email address", field=field, code=INVALID_EMAIL)
    return email
