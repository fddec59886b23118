"""The OpenAI error envelope with stable codes: {"error": {"message", "type", "param", "code", …}}.

Statuses are the ones the official SDKs map to typed exceptions: 400 BadRequestError,
401 AuthenticationError, 404 NotFoundError, 422 UnprocessableEntityError, 429 RateLimitError,
5xx InternalServerError.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

# OpenAI's `type` for each status family.
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 405: "invalid_request_error", 409: "invalid_request_error",
          413: "invalid_request_error", 415: "invalid_request_error", 422: "invalid_request_error",
          429: "rate_limit_error"}

# Every code this host emits; docs/api.md lists them.
HOST_ERROR_CODES = ("invalid_policy", "invalid_flow", "invalid_request", "no_candidates", "provider_error",
                    "unauthorized", "not_found", "method_not_allowed", "rate_limited", "internal_error")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, param: str | None = None,
                 extra: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def error_type(status: int) -> str:
    if status in _TYPES:
        return _TYPES[status]
    return "server_error" if status == 500 else ("api_error" if status >= 500 else "invalid_request_error")


def envelope(status: int, code: str, message: str, param: str | None = None,
             extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "type": error_type(status), "param": param, "code": code}
    if extra:
        for key, value in extra.items():
            if key not in body:
                body[key] = value
    return {"error": body}


def error_response(status: int, code: str, message: str, param: str | None = None,
                   extra: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(envelope(status, code, message, param, extra)), status_code=status,
                    media_type="application/json", headers=dict(headers or {}))


def api_error_response(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.param, exc.extra, exc.headers)


def from_core_error(exc: Any, status: int = 400) -> ApiError:
    """An UnhardcodedError (admission, strict JSON, requirements) as an API error: `param` is the JSON
    Pointer of the offending node; `rule`, `did_you_mean`, `help`, `node` ride along."""
    code = getattr(exc, "code", None) or "invalid_request"
    path = getattr(exc, "path", None)
    message = getattr(exc, "message", None) or str(exc)
    extra: dict[str, Any] = {"rule": getattr(exc, "rule", None),
                             "did_you_mean": getattr(exc, "did_you_mean", None)}
    for key in ("help", "node"):
        value = getattr(exc, key, None)
        if value is not None:
            extra[key] = value
    return ApiError(status, code, message, param=path if path else None, extra=extra)
