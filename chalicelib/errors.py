"""Domain errors with stable codes, and their one mapping to the JSON error shape."""
from __future__ import annotations

import json

from chalicelib.error_codes import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    RATE_LIMITED,
    UNAUTHORIZED,
    VALIDATION_ERROR,
)


class DomainError(Exception):
    status = 400
    code = BAD_REQUEST

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 field: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code
        if status:
            self.status = status
        self.field = field

    def to_body(self) -> dict:
        err = {"code": self.code, "message": self.message}
        if self.field:
            err["field"] = self.field
        err.update(self.details)  # e.g. the tenants a login may choose from
        return {"error": err}


class ValidationFailed(DomainError):
    status = 400
    code = VALIDATION_ERROR


class Unauthorized(DomainError):
    status = 401
    code = UNAUTHORIZED


class Forbidden(DomainError):
    status = 403
    code = FORBIDDEN


class NotFound(DomainError):
    status = 404
    code = NOT_FOUND


class Conflict(DomainError):
    status = 409
    code = CONFLICT


class PayloadTooLarge(DomainError):
    status = 413
    code = PAYLOAD_TOO_LARGE


class RateLimited(DomainError):
    status = 429
    code = RATE_LIMITED


def error_body(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)
