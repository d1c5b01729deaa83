"""The one place the agent API turns failures into responses: RFC 9457 problem details.

Every error is `application/problem+json`: `type`, `title` (what kind of failure, the same
for every instance), `status`, `detail` (this failure, written for the agent's author),
plus `code` (a stable word to branch on), `hint` (what to do) and, for a body that does
not fit its schema, `errors` (each with the path of the field at fault).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from otp_bot.store.domain.agents.tokens import Unauthenticated
from otp_bot.store.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

log = logging.getLogger("otp_bot.api")

MEDIA_TYPE = "application/problem+json"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="otp"'}

# Domain error → (status, code, title). The first class an error is an instance of wins.
DOMAIN = (
    (Unauthenticated, 401, "unauthenticated", "Missing or invalid API token"),
    (Forbidden, 403, "forbidden", "Not allowed for this token"),
    (NotFound, 404, "not_found", "Not found"),
    (Conflict, 409, "conflict", "Conflict"),
    (Invalid, 422, "invalid", "Invalid input"),
    (DomainError, 400, "bad_request", "Bad request"),
)
HTTP = {
    400: ("bad_request", "Bad request"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("too_large", "Request too large"),
}


class FieldError(BaseModel):
    path: str  # where in the request: body.values.3.value, query.limit, ...
    message: str


class Problem(BaseModel):
    """An error, as every endpoint reports one (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    code: str
    hint: str | None = None
    errors: list[FieldError] | None = None


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    hint: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, code=code, hint=hint, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def classify(exc: DomainError) -> tuple[int, str, str]:
    """(status, code, title) of a domain error: also what a batch item's error reports."""
    for cls, status, code, title in DOMAIN:
        if isinstance(exc, cls):
            return status, code, title
    raise AssertionError(exc)


def too_large(limit: int) -> JSONResponse:
    return problem(
        413,
        "too_large",
        "Request too large",
        f"the request body is over {limit:,} bytes",
        hint="send fewer values per request (at most 5,000) or a shorter text",
    )


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status, code, title = classify(exc)
    return problem(status, code, title, exc.message, hint=exc.hint, headers=CHALLENGE if status == 401 else None)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        where = broken.get("loc", ("body", 0))[-1]
        reason = (broken.get("ctx") or {}).get("error", "invalid JSON")
        return problem(
            400,
            "malformed_json",
            "Malformed JSON",
            f"the body is not valid JSON: {reason} at character {where}",
            hint="send a JSON document with Content-Type: application/json",
        )
    fields = [FieldError(path=_path(e.get("loc", ())), message=e.get("msg", "invalid")) for e in errors[:50]]
    first = fields[0] if fields else None
    detail = f"{first.path}: {first.message}" if first else "the request does not match its schema"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return problem(
        422,
        "invalid_request",
        "Request does not match the schema",
        detail,
        errors=fields,
        hint="the schema of every request is at /api/v1/openapi.json, readable at /api/v1/docs",
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code, title = HTTP.get(exc.status_code, ("error", "Error"))
    detail = (
        exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed") else None
    )
    if exc.status_code == 404 and detail is None:
        detail, hint = "there is no such endpoint", "the endpoints are listed at /api/v1/docs"
    else:
        hint = None
    return problem(exc.status_code, code, title, detail, hint=hint, headers=dict(exc.headers or {}) or None)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # Logged with its traceback for the operator; the agent learns only that it was not its fault.
    log.error("agent API: unexpected %s", type(exc).__name__, exc_info=exc)
    return problem(
        500,
        "internal",
        "Internal error",
        "something went wrong on the server",
        hint="retry with the same idempotency key; if it keeps failing, tell the operator",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems an endpoint may answer with."""
    described = {
        400: "Malformed JSON",
        401: "Missing, unknown or revoked token",
        403: "The token may not do this",
        404: "No such thing",
        409: "Conflicts with the current state",
        413: "Request body too large",
        422: "Invalid input (the field paths are in `errors`)",
    }
    return {s: {"model": Problem, "description": described[s], "content": {MEDIA_TYPE: {}}} for s in statuses}
