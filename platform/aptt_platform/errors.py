"""Domain errors. Services raise them; the web layer maps each to RFC 9457 problem details."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the domain refuses. `code` is stable and machine-readable."""

    status = 422
    code = "invalid"
    title = "The request breaks a rule"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflicts with the current state"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload-too-large"
    title = "The upload is too large"


class RateLimited(DomainError):
    """`retry_after` (seconds), when given, becomes the Retry-After header and a field of
    the problem."""

    status = 429
    code = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int | None = None, **extra: Any) -> None:
        self.retry_after = max(1, retry_after) if retry_after is not None else None
        if self.retry_after is not None:
            extra["retry_after"] = self.retry_after
        super().__init__(detail, **extra)
