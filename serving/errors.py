"""Map domain errors to HTTP, once. Every error body is {"error": {code, message, details}}."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from candor.models.errors import (
    AuditUnavailableError,
    AuthenticationError,
    CandorError,
    ConflictError,
    ContractError,
    DataValidationError,
    ErrorDetail,
    InputValidationError,
    ModelIncompatibleError,
    ModelNotAvailableError,
    NotFoundError,
    PermissionDeniedError,
    summarise,
)
from candor.serving.rate_limit import RateLimitedError

STATUS_BY_ERROR: dict[type[CandorError], int] = {
    InputValidationError: 422,
    DataValidationError: 422,
    ContractError: 422,
    ModelIncompatibleError: 409,
    ModelNotAvailableError: 503,
    NotFoundError: 404,
    ConflictError: 409,
    AuditUnavailableError: 503,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "details": details or []}},
        headers=headers,
    )


def detail_at(loc: tuple[Any, ...], message: str) -> ErrorDetail:
    """Turn a pydantic location such as ('body', 'leads', 3, 'specialty') into index + field."""
    parts = [p for p in loc if p != "body"]
    if len(parts) >= 2 and parts[0] == "leads" and isinstance(parts[1], int):
        return ErrorDetail(".".join(str(p) for p in parts[2:]) or "leads", message, parts[1])
    return ErrorDetail(".".join(str(p) for p in parts) or "body", message)


def json_kind(value: Any) -> str:
    """What a submitted value is, in JSON's words, without the value itself."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"a string of {len(value)} character{'s' if len(value) != 1 else ''}"
    if isinstance(value, bytes | bytearray):
        return f"{len(value)} bytes"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} items"
    return "a value of another type"


def validation_details(errors: list[Any]) -> list[ErrorDetail]:
    """pydantic's errors as offending fields, each with what was wrong."""
    out = []
    for err in errors:
        message = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":  # loc holds a character offset, not a field
            offset = err.get("loc", ("body", "?"))[-1]
            out.append(ErrorDetail("body", f"{message} at character {offset}"))
            continue
        if "input" in err and err.get("type") != "missing":
            # the kind of value, never the value: a field may hold a lead's personal data
            message = f"{message}; got {json_kind(err['input'])}"
        out.append(detail_at(tuple(err.get("loc", ())), message))
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CandorError)
    async def _domain(_: Request, exc: CandorError) -> JSONResponse:
        status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(exc, t)), 400)
        # RFC 9110: a 401 names the scheme that would have been accepted
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        details = [d.to_dict() for d in exc.details]
        return error_response(status, exc.code, exc.message, details, headers=headers)

    @app.exception_handler(RateLimitedError)
    async def _rate_limited(_: Request, exc: RateLimitedError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)}
        return error_response(429, exc.code, exc.message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(list(exc.errors()))
        return error_response(
            422, "input_invalid", summarise(details), [d.to_dict() for d in details]
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "body_too_large" if exc.status_code == 413 else f"http_{exc.status_code}"
        # kept: a 405's Allow (RFC 9110 requires it) and any other header the raiser set
        return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # never leak internals (or a lead's data) in a 500
        return error_response(500, "internal_error", "internal error; see the service log")
