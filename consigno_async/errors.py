"""
Every exception consigno_async raises, in one tree.

::

    ConsignoError
    ├── WorkflowValidationError (also ValueError)  the builder refused a workflow; .violations
    ├── InvalidArgumentError (also ValueError)     an argument with a wrong value
    │   └── InvalidArgumentTypeError (also TypeError)  an argument of a wrong type
    ├── DocumentError (also ValueError)            a document source that cannot be sent
    ├── StreamConsumedError                        a one-shot stream cannot be resent on retry
    ├── ClientStateError (also RuntimeError)       a closed (or never opened) client was used
    ├── TransportError                             the request did not get an HTTP answer
    │   ├── ConnectError (also ConnectionError)    could not connect, or the connection dropped
    │   └── TimeoutError (also builtins.TimeoutError)
    ├── ApiError                                   the service answered with an error body
    │   ├── BadRequestError         400
    │   ├── AuthenticationError     401
    │   ├── PermissionDeniedError   403
    │   ├── NotFoundError           404, or code 5004 ENTITY_NOT_FOUND
    │   ├── ConflictError           409
    │   ├── RateLimitError          429, with .retry_after
    │   └── ServerError             5xx
    ├── AmbiguousOutcomeError                      a create may or may not have happened
    ├── ResponseFormatError                        HTML, truncated or malformed response body
    └── InvalidWebhookError (also ValueError)      a webhook POST that is not a valid event

Exceptions that stand for bad input also subclass :class:`ValueError`, and transport
failures subclass the matching builtins, so ``except ValueError`` or
``except TimeoutError`` in existing code keeps working.

A bad argument to a public method raises :class:`InvalidArgumentError` (a ``ValueError``)
when its value is wrong, and its subclass :class:`InvalidArgumentTypeError` (also a
``TypeError``) when its type is wrong. ``except InvalidArgumentError`` catches both;
``except TypeError`` catches only wrong types, ``except ValueError`` catches both.

No exception message or repr carries a token, password, client secret or secret answer.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = [
    "AmbiguousOutcomeError",
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ClientStateError",
    "ConflictError",
    "ConnectError",
    "ConsignoError",
    "DocumentError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidWebhookError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseFormatError",
    "ServerError",
    "StreamConsumedError",
    "TimeoutError",
    "TransportError",
    "Violation",
    "WorkflowValidationError",
]


class ConsignoError(Exception):
    """Root of every error raised by consigno_async: ``except ConsignoError`` catches them all."""


@attrs.frozen
class Violation:
    """
    One rule a workflow breaks, as reported by :class:`WorkflowValidationError`.

    Attributes:
        code: a fixed string to match on, e.g. ``"secret_amr_embedded"``.
        path: where the problem is, in the builder's terms, e.g. ``"signer 'bob'.amr"``.
        message: what is wrong and how to fix it.
    """

    code: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


class WorkflowValidationError(ConsignoError, ValueError):
    """
    The builder (or the emulator's equivalent check) refused a workflow.

    ``violations`` lists every problem found, not only the first::

        try:
            spec = builder.build()
        except WorkflowValidationError as exc:
            for v in exc.violations:
                print(v.code, v.path, v.message)
    """

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        count = len(self.violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"workflow is invalid ({count} {noun}):\n{lines}")

    @property
    def codes(self) -> frozenset[str]:
        """The set of violation codes, handy in tests: ``"no_signer" in exc.codes``."""
        return frozenset(v.code for v in self.violations)


class InvalidArgumentError(ConsignoError, ValueError):
    """
    An argument given to a public method has a wrong value (e.g. a negative count, an
    unknown option). Wrong *types* raise the subclass :class:`InvalidArgumentTypeError`.
    The message names the argument; it never quotes a secret::

        try:
            builder.signer("bob", first_name=42)
        except InvalidArgumentError as exc:  # also a TypeError here
            print(exc)  # first_name= takes a string, not int
    """


class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """
    An argument given to a public method has a wrong type, e.g. ``first_name=42``.
    It is an :class:`InvalidArgumentError` (so a ``ValueError`` too) and a ``TypeError``,
    so both ``except InvalidArgumentError`` and ``except TypeError`` catch it.
    """


class DocumentError(ConsignoError, ValueError):
    """A document cannot be sent: not a PDF, unreadable, or of an unsupported source type."""


class StreamConsumedError(ConsignoError):
    """
    A request had to be resent but its body came from a one-shot stream (an async iterator)
    that was already consumed. Pass a path, bytes or a seekable file to allow retries.
    """


class ClientStateError(ConsignoError, RuntimeError):
    """The client was used while closed (or before it was opened when that matters)."""


class TransportError(ConsignoError):
    """The request did not get an HTTP answer (connection refused or dropped, timeout)."""


class ConnectError(TransportError, builtins.ConnectionError):
    """Could not connect to the service, or the connection dropped before an answer came."""


class TimeoutError(TransportError, builtins.TimeoutError):
    """The request took longer than the configured timeout."""


class ApiError(ConsignoError):
    """
    The service answered with an error.

    Attributes:
        status: the HTTP status code.
        code: the service's error code (a string of digits such as ``"5004"``), or None.
        name: the error's name (``"ENTITY_NOT_FOUND"``) taken from the message, or None.
        message: the human text.
        parameters: the ``parameters`` map of the error body (string values).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        name: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.name = name
        self.message = message
        self.parameters: dict[str, Any] = dict(parameters or {})
        super().__init__(status, message)

    def __str__(self) -> str:
        label = " - ".join(part for part in (self.code, self.name) if part)
        prefix = f"HTTP {self.status}" + (f" [{label}]" if label else "")
        return f"{prefix}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"name={self.name!r}, message={self.message!r})"
        )


class BadRequestError(ApiError):
    """400: the request was refused as malformed or against a rule of the service."""


class AuthenticationError(ApiError):
    """401: bad credentials, or a missing, expired or unknown token."""


class PermissionDeniedError(ApiError):
    """403: authenticated, but not allowed (e.g. loginAs not granted to the platform)."""


class NotFoundError(ApiError):
    """404, or error code 5004 (ENTITY_NOT_FOUND): no such workflow or document."""


class ConflictError(ApiError):
    """409: the request conflicts with the resource's state (e.g. a document already used)."""


class RateLimitError(ApiError):
    """
    429: too many requests. ``retry_after`` is the delay in seconds the service asked for
    (from ``Retry-After``), or None.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        name: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, message, code=code, name=name, parameters=parameters)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the service (or a proxy in front of it) failed."""


class AmbiguousOutcomeError(ConsignoError):
    """
    A request that creates something was sent, the connection was lost before the answer,
    and the client could not find out whether the service acted on it.

    Attributes:
        operation: what was attempted, e.g. ``"create_workflow"``.
        known: what the client knows (workflow name, document ids, time window); never secrets.
    """

    def __init__(self, operation: str, message: str, known: Mapping[str, Any] | None = None):
        self.operation = operation
        self.known: dict[str, Any] = dict(known or {})
        super().__init__(f"{operation}: {message}")


class ResponseFormatError(ConsignoError):
    """
    The response could not be decoded: an HTML page from a proxy, a truncated body, or JSON
    that does not have the expected shape.

    Attributes:
        status: the HTTP status, when there was one.
        content_type: the response's content type, when known.
        snippet: the first characters of the body (at most 200), to help diagnose.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        content_type: str | None = None,
        snippet: str = "",
    ) -> None:
        self.status = status
        self.content_type = content_type
        self.snippet = snippet[:200]
        super().__init__(message)


class InvalidWebhookError(ConsignoError, ValueError):
    """
    A webhook request that is not a valid ConsignO event: not JSON, a missing or mistyped
    field, or an ``X-Consigno-Event-Id`` header that contradicts the body. The message says
    which field; it never quotes the whole body.
    """
