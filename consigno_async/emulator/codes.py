"""
The emulator's error codes: the one table every error answer comes from.

ConsignO Cloud documents a single error code, ``5004 ENTITY_NOT_FOUND``; every other code below
is the emulator's own (clearly numbered apart), chosen so a client can tell the cases apart.
An error answer has the service's shape::

    {"code": "5004", "msg": "[5004 - ENTITY_NOT_FOUND] Workflow 5f0c… not found",
     "parameters": {"id": "5f0c…"}}

Besides these, the emulator can answer (through injected faults) with a framework-shaped body
``{"timestamp", "status", "error", "message", "path"}`` or an HTML page, as a proxy or the
service's web framework would.

=====  ==========================  ======  ==================================================
code   name                        status  when
=====  ==========================  ======  ==================================================
1001   AUTHENTICATION_FAILED       401     bad user name, password, tenant or client key/secret
1002   TOKEN_EXPIRED               401     the token was idle 30 minutes, or expired by control
1003   TOKEN_INVALID               401     missing, unknown, logged out, or superseded token
1004   LOGIN_AS_FORBIDDEN          403     loginAs asked while the platform may not use it
4000   VALIDATION_FAILED           400     a service rule is broken; parameters rule and path
4001   NOT_PDF                     415     an uploaded file is not a PDF (no ``%PDF-``)
4002   MALFORMED_REQUEST           400     unreadable JSON, a wrong type or value; parameter field
4090   DOCUMENT_ALREADY_USED       409     a document id already belongs to another workflow
4091   WORKFLOW_NOT_COMPLETED      409     an audit trail asked before completion
4092   INVALID_STATE               409     an operation the workflow's status does not allow
4290   TOO_MANY_REQUESTS           429     rate limited (injected); ``Retry-After`` in seconds
5004   ENTITY_NOT_FOUND            404     unknown (or malformed) workflow, document or action id
5030   SERVICE_UNAVAILABLE         503     unavailable (injected); ``Retry-After`` in seconds
=====  ==========================  ======  ==================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["CODES", "EmulatorError", "ErrorCode", "error_payload", "framework_payload", "html_page"]


@attrs.frozen
class ErrorCode:
    """One row of the error table: numeric code (a string on the wire), name and HTTP status."""

    code: str
    name: str
    status: int
    meaning: str


_TABLE = (
    ErrorCode("1001", "AUTHENTICATION_FAILED", 401, "bad credentials"),
    ErrorCode("1002", "TOKEN_EXPIRED", 401, "token idle for 30 minutes, or expired by control"),
    ErrorCode("1003", "TOKEN_INVALID", 401, "missing, unknown, logged out or superseded token"),
    ErrorCode("1004", "LOGIN_AS_FORBIDDEN", 403, "the platform may not use loginAs"),
    ErrorCode("4000", "VALIDATION_FAILED", 400, "a service rule is broken (rule, path)"),
    ErrorCode("4001", "NOT_PDF", 415, "the uploaded file is not a PDF"),
    ErrorCode("4002", "MALFORMED_REQUEST", 400, "unreadable body, wrong type or value (field)"),
    ErrorCode("4090", "DOCUMENT_ALREADY_USED", 409, "a document belongs to one workflow only"),
    ErrorCode("4091", "WORKFLOW_NOT_COMPLETED", 409, "the audit trail exists once completed"),
    ErrorCode("4092", "INVALID_STATE", 409, "the workflow's status does not allow this"),
    ErrorCode("4290", "TOO_MANY_REQUESTS", 429, "rate limited; Retry-After header"),
    ErrorCode("5004", "ENTITY_NOT_FOUND", 404, "unknown or malformed id"),
    ErrorCode("5030", "SERVICE_UNAVAILABLE", 503, "temporarily unavailable; Retry-After header"),
)

#: Every error code the emulator answers with, by its numeric string.
CODES: Mapping[str, ErrorCode] = {row.code: row for row in _TABLE}


class EmulatorError(Exception):
    """
    Raised inside a handler to answer with an error body from :data:`CODES`.

    ``message`` is the human text after the ``[code - NAME]`` prefix; it must never contain a
    secret. ``parameters`` values are turned into strings, as the service sends them.

    >>> err = EmulatorError("5004", "Workflow abc not found", id="abc")
    >>> err.status, err.payload()["msg"]
    (404, '[5004 - ENTITY_NOT_FOUND] Workflow abc not found')
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **parameters: Any,
    ) -> None:
        super().__init__(message)
        self.entry = CODES[code]
        self.message = message
        self.headers = dict(headers or {})
        self.parameters = {key: str(value) for key, value in parameters.items()}

    @property
    def status(self) -> int:
        """The HTTP status of this error."""
        return self.entry.status

    def payload(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return error_payload(self.entry.code, self.message, self.parameters)


def error_payload(code: str, message: str, parameters: Mapping[str, str]) -> dict[str, Any]:
    """Return the service-shaped error body for ``code``."""
    entry = CODES[code]
    return {
        "code": entry.code,
        "msg": f"[{entry.code} - {entry.name}] {message}",
        "parameters": dict(parameters),
    }


_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def framework_payload(status: int, path: str, timestamp: str, message: str) -> dict[str, Any]:
    """Return a framework-shaped error body (``timestamp``, ``status``, ``error``...)."""
    return {
        "timestamp": timestamp,
        "status": status,
        "error": _REASONS.get(status, "Error"),
        "message": message,
        "path": path,
    }


def html_page(status: int) -> str:
    """Return the HTML error page a reverse proxy would send for ``status``."""
    reason = _REASONS.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
