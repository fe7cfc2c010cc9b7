"""
Pure decoding of the service's responses: no I/O, no event loop, testable with plain bytes.

Two functions do the work, in the spirit of gidgethub's ``sansio.decipher_response``:

- :func:`decode_payload` takes a 2xx answer and returns the ``response`` member of the success
  envelope ``{"msg": "OK", "parameters": {}, "response": <payload>}``;
- :func:`error_from_response` takes an error answer and returns (it does not raise) the
  matching :class:`~consigno_async.errors.ApiError` subclass, or a
  :class:`~consigno_async.errors.ResponseFormatError` when the body cannot be read.

Both error shapes seen from the service are understood::

    {"code": "5004", "msg": "[5004 - ENTITY_NOT_FOUND] Workflow … not found", "parameters": {}}
    {"timestamp": "…", "status": 404, "error": "Not Found", "message": "…", "path": "/api/v1/…"}

and so are the bodies nobody planned for: an HTML error page from a proxy, an empty body, or
JSON cut short.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson

from .errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
)

__all__ = [
    "CODE_NOT_FOUND",
    "TOKEN_ERROR_CODES",
    "decode_payload",
    "error_from_response",
    "loads_json",
    "parse_error_message",
    "parse_retry_after",
]

#: The service's code for an unknown entity; it means "not found" whatever the HTTP status.
CODE_NOT_FOUND: Final = "5004"

#: Error codes that mean "this token is no longer good; log in again" (expired, unknown,
#: superseded). ``1001`` (bad credentials) is not among them: logging in again cannot help.
TOKEN_ERROR_CODES: Final = frozenset({"1002", "1003"})

_ERROR_NAME = re.compile(r"^\s*\[\s*(\d+)\s*-\s*([A-Za-z0-9_]+)\s*\]\s*(.*)$", re.DOTALL)

_STATUS_CLASSES: Final[Mapping[int, type[ApiError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}

_SNIPPET = 200


def loads_json(body: bytes, *, status: int | None, content_type: str | None) -> Any:
    """
    Parse a JSON body, turning every failure into :class:`ResponseFormatError`.

    An HTML page (a proxy's error page, a login portal) and a body cut short get a message
    that says so, with the first characters of the body for diagnosis.
    """
    if not body:
        raise ResponseFormatError(
            "empty response body where JSON was expected",
            status=status,
            content_type=content_type,
        )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        snippet = _snippet(body)
        if _looks_like_html(body, content_type):
            message = "the response is an HTML page, not JSON (a proxy or gateway answered?)"
        elif body.lstrip()[:1] in (b"{", b"["):
            message = "the response body is truncated or malformed JSON"
        else:
            message = "the response body is not JSON"
        raise ResponseFormatError(
            message, status=status, content_type=content_type, snippet=snippet
        ) from None


def decode_payload(body: bytes, *, status: int, content_type: str | None) -> Any:
    """
    The payload of a success envelope.

    >>> decode_payload(b'{"msg":"OK","parameters":{},"response":{"id":"1"}}',
    ...                status=200, content_type="application/json")
    {'id': '1'}

    Raises:
        ResponseFormatError: the body is not JSON, or not an envelope with a ``response``.
    """
    data = loads_json(body, status=status, content_type=content_type)
    if type(data) is not dict or "response" not in data:
        raise ResponseFormatError(
            "the response is JSON but not the service's envelope (no 'response' member)",
            status=status,
            content_type=content_type,
            snippet=_snippet(body),
        )
    return data["response"]


def parse_error_message(msg: str) -> tuple[str | None, str | None, str]:
    """
    Split a service message ``"[5004 - ENTITY_NOT_FOUND] text"`` into code, name and text.

    >>> parse_error_message("[5004 - ENTITY_NOT_FOUND] Workflow x not found")
    ('5004', 'ENTITY_NOT_FOUND', 'Workflow x not found')
    >>> parse_error_message("plain text")
    (None, None, 'plain text')
    """
    match = _ERROR_NAME.match(msg)
    if match is None:
        return None, None, msg.strip()
    code, name, text = match.groups()
    return code, name, text.strip() or name


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """
    Seconds to wait from a ``Retry-After`` header: delta-seconds (fractions allowed, as the
    emulator sends them) or an HTTP date. None when absent or unreadable; never negative.

    >>> parse_retry_after("0.25"), parse_retry_after("3"), parse_retry_after("soon")
    (0.25, 3.0, None)
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - now()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)


def error_from_response(
    status: int,
    body: bytes,
    *,
    content_type: str | None,
    retry_after: str | None = None,
    scrub: Callable[[str], str] | None = None,
) -> ApiError | ResponseFormatError:
    """
    The exception for an error answer (status >= 400, or an unexpected status).

    The class is chosen by the service's code first (``5004`` is :class:`NotFoundError`
    whatever the status), then by the HTTP status. ``scrub`` (see
    :class:`~consigno_async._logging.Redactor`) removes known secrets from the message and
    parameters, in case the service echoes one back.

    >>> exc = error_from_response(404, b'{"code":"5004","msg":"[5004 - ENTITY_NOT_FOUND] gone"}',
    ...                           content_type="application/json")
    >>> type(exc).__name__, exc.code, exc.name, exc.message
    ('NotFoundError', '5004', 'ENTITY_NOT_FOUND', 'gone')
    """
    try:
        data = loads_json(body, status=status, content_type=content_type)
    except ResponseFormatError as exc:
        if not body:
            # An empty error body still has a meaningful status (e.g. a bare 401 or 503).
            return _build(status, f"HTTP {status} with an empty body", None, None, {}, retry_after)
        if scrub is not None:
            exc.snippet = scrub(exc.snippet)
        return exc

    if type(data) is not dict:
        return ResponseFormatError(
            "the error body is JSON but neither error shape of the service",
            status=status,
            content_type=content_type,
            snippet=_snippet(body),
        )

    code: str | None
    name: str | None
    parameters: dict[str, Any] = {}
    if "msg" in data or "code" in data:
        # The service's own shape: {code, msg, parameters}.
        raw_code = data.get("code")
        code_from_msg, name, message = parse_error_message(str(data.get("msg") or ""))
        code = str(raw_code) if raw_code not in (None, "") else code_from_msg
        raw_params = data.get("parameters")
        if isinstance(raw_params, Mapping):
            parameters = dict(raw_params)
        if not message:
            message = name or f"HTTP {status}"
    elif "error" in data or "message" in data:
        # The framework's shape: {timestamp, status, error, message, path}.
        code, name = None, None
        message = str(data.get("message") or data.get("error") or f"HTTP {status}")
        for key in ("error", "path", "timestamp"):
            if data.get(key) is not None:
                parameters[key] = data[key]
    else:
        return ResponseFormatError(
            "the error body is JSON but neither error shape of the service",
            status=status,
            content_type=content_type,
            snippet=_snippet(body),
        )

    if scrub is not None:
        message = scrub(message)
        parameters = {k: (scrub(v) if isinstance(v, str) else v) for k, v in parameters.items()}
    return _build(status, message, code, name, parameters, retry_after)


def _build(
    status: int,
    message: str,
    code: str | None,
    name: str | None,
    parameters: dict[str, Any],
    retry_after: str | None,
) -> ApiError:
    if code == CODE_NOT_FOUND:
        cls: type[ApiError] = NotFoundError
    elif status in _STATUS_CLASSES:
        cls = _STATUS_CLASSES[status]
    elif status >= 500:
        cls = ServerError
    elif status >= 400:
        # 405, 413, 415, 422…: the request itself was refused.
        cls = BadRequestError
    else:
        cls = ApiError
    if cls is RateLimitError:
        return RateLimitError(
            status,
            message,
            code=code,
            name=name,
            parameters=parameters,
            retry_after=parse_retry_after(retry_after),
        )
    return cls(status, message, code=code, name=name, parameters=parameters)


def _looks_like_html(body: bytes, content_type: str | None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    head = body.lstrip()[:15].lower()
    return head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<"))


def _snippet(body: bytes) -> str:
    return body[:_SNIPPET].decode("utf-8", "replace")
