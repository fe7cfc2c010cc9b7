"""
The request engine under :class:`~consigno_async.ConsignoClient`: one aiohttp session, the
token, retries, the in-flight bound and the observability hooks.

Every call goes through :meth:`HttpCore.send`, which loops over attempts:

1. obtain a usable token (lazy, single-flight login; proactive re-login near the idle limit);
2. inside the concurrency semaphore, send the request and, for a 2xx, hand the open response
   to the caller's *handler* (decode JSON, or stream a download to disk);
3. adopt any ``X-Auth-Token`` the response carries, whatever its status;
4. on a 401 for a dead token, re-login once (single-flight) and replay;
5. on a retryable failure (see :mod:`consigno_async.retry`), wait and try again;
6. otherwise raise the decoded error. A creating request whose fate is unknown (connection
   lost after sending, or a gateway's 502/504) raises
   :class:`~consigno_async.errors.AmbiguousOutcomeError`; the client reconciles from there.

Redirects are never followed (the token must not travel to another host) and URLs never
carry the token: downloads send it as a urlencoded form field.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import quote

import aiohttp
import attrs
import orjson
from aiohttp import hdrs

from ._logging import Redactor, logger, redact_headers
from ._slots import Slots
from .auth import TokenManager
from .decoding import TOKEN_ERROR_CODES, decode_payload, error_from_response, parse_retry_after
from .errors import (
    AmbiguousOutcomeError,
    ApiError,
    AuthenticationError,
    ConnectError,
    ResponseFormatError,
    StreamConsumedError,
    TimeoutError,
)
from .responses import Workflow, structure
from .retry import ATTEMPT_STATUSES, Phase, RequestKind, RetryPolicy
from .uploads import UploadSource

__all__ = [
    "Call",
    "HttpCore",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "drain_true",
    "read_payload",
    "read_workflow",
]

_log = logger.getChild("http")
_T = TypeVar("_T")

TOKEN_HEADER: Final = "X-Auth-Token"
_JSON_HEADERS: Final[dict[str, str]] = {
    "Accept": "application/json",
    "Content-Type": "application/json",
}
_FORM_TYPE: Final = "application/x-www-form-urlencoded"
# 502/504 come from a gateway: the service behind it may have acted on a creating request.
_GATEWAY_STATUSES: Final = frozenset({502, 504})
#: The most of an error body the client reads. Its start says what went wrong; a proxy's
#: multi-megabyte page is neither kept in memory nor waited for (the connection is closed).
MAX_ERROR_BODY: Final = 64 * 1024


@attrs.frozen(slots=True)
class RequestEvent:
    """Passed to ``on_request`` before each attempt. ``path`` never carries a secret."""

    method: str
    path: str
    attempt: int


@attrs.frozen(slots=True)
class ResponseEvent:
    """Passed to ``on_response`` after each answer (any status); ``elapsed`` in seconds."""

    method: str
    path: str
    attempt: int
    status: int
    elapsed: float


@attrs.frozen(slots=True)
class RetryEvent:
    """Passed to ``on_retry`` before waiting ``delay`` seconds for attempt ``attempt + 1``."""

    method: str
    path: str
    attempt: int
    delay: float
    reason: str


Hook = Callable[[Any], Awaitable[None] | None]


@attrs.define(slots=True, repr=False)
class Call:
    """
    One logical request: what to send and how safe it is to resend.

    Its repr shows the method, path and operation, never the body (a login's JSON holds the
    password) nor header values (``X-Client-Secret``)::

        >>> Call("POST", "/auth/login", json=b'{"password":"pw"}', headers={"X-Client-Secret": "x"})
        <Call POST /auth/login json=<17 bytes> headers={'X-Client-Secret': '«redacted»'}>
    """

    method: str
    path: str
    kind: RequestKind = RequestKind.IDEMPOTENT
    operation: str = ""
    params: Mapping[str, str] | None = None
    json: bytes | None = None
    upload: UploadSource | None = None
    upload_data: dict[str, Any] | None = None
    form_token: bool = False
    auth: bool = True
    #: False: use the token held as is (no login, no re-login on 401): verify and logout.
    relogin: bool = True
    headers: Mapping[str, str] | None = None
    #: This request's own secrets (the secret answers of a workflow it creates): scrubbed
    #: from an error that answers it, never kept by the client.
    secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        parts = [self.method, self.path]
        if self.operation:
            parts.append(f"operation={self.operation!r}")
        if self.json is not None:
            parts.append(f"json=<{len(self.json)} bytes>")
        if self.upload is not None:
            parts.append(f"upload={self.upload.file_name!r}")
        if self.form_token:
            parts.append("form_token")
        if self.headers:
            parts.append(f"headers={redact_headers(self.headers)!r}")
        return f"<Call {' '.join(parts)}>"


def quote_id(value: str) -> str:
    """Quote a (validated) id for use as a path segment."""
    return quote(value, safe="")


class HttpCore:
    """The engine. Not public: the client owns one and exposes the API on top of it."""

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None,
        timeout: aiohttp.ClientTimeout,
        transfer_timeout: aiohttp.ClientTimeout,
        retry: RetryPolicy,
        concurrency: int,
        ssl: bool | ssl_module.SSLContext,
        auth: TokenManager,
        login: Callable[[], Awaitable[str]],
        redactor: Redactor,
        on_request: Hook | None,
        on_response: Hook | None,
        on_retry: Hook | None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.timeout = timeout
        self.transfer_timeout = transfer_timeout
        self.retry = retry
        self.semaphore = Slots(concurrency)
        self.ssl = ssl
        self.auth = auth
        self.login = login
        self.redactor = redactor
        self.on_request = on_request
        self.on_response = on_response
        self.on_retry = on_retry
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        # Headers of the usual calls for the token last used (aiohttp copies them, so one
        # dict serves every request): rebuilt only when the token changes.
        self._headers_token: str | None = None
        self._plain_headers: dict[str, str] = {}
        self._json_headers: dict[str, str] = {}

    async def send(
        self, call: Call, handler: Callable[[aiohttp.ClientResponse], Awaitable[_T]]
    ) -> _T:
        """Perform ``call`` with retries and token handling; ``handler`` reads a 2xx answer."""
        session = self.session
        assert session is not None
        url = self.base_url + call.path
        policy = self.retry
        auth = self.auth
        attempt = 0
        replayed_401 = False
        last_error: BaseException | None = None
        while True:
            token = ""
            generation = -1
            if call.auth:
                if call.relogin:
                    # Fast path without a coroutine: the token held is good (the usual case).
                    current = auth.current()
                    if current is None:
                        current = await auth.obtain(self.login)
                    token, generation = current
                else:
                    held = auth.peek()
                    if held is None:
                        raise AuthenticationError(401, "no token is held (not logged in)")
                    token, generation = held
            status = 0
            body = b""
            truncated = False
            retry_after: str | None = None
            content_type: str | None = None
            phase: Phase | None = None
            failure: BaseException | None = None
            closer: Callable[[], None] | None = None
            sent_at = 0.0
            try:
                async with self.semaphore:
                    if (
                        call.headers is None
                        and call.upload is None
                        and call.auth
                        and not call.form_token
                    ):
                        # The usual call: the headers for this token, built once per token.
                        if token is not self._headers_token:
                            self._headers_token = token
                            self._plain_headers = {hdrs.ACCEPT: "application/json"}
                            self._plain_headers[TOKEN_HEADER] = token
                            self._json_headers = {**_JSON_HEADERS, TOKEN_HEADER: token}
                        data = call.json
                        headers = self._plain_headers if data is None else self._json_headers
                    else:
                        # Built only once a slot is free: a queued upload holds no open file.
                        headers, data = self._build(call, token, last_error)
                        if isinstance(data, tuple):
                            data, closer = data
                    if self.on_request is not None:
                        await _fire(self.on_request, RequestEvent(call.method, call.path, attempt))
                    sent_at = auth.now()
                    async with session.request(
                        call.method,
                        url,
                        params=call.params,
                        data=data,
                        headers=headers,
                        allow_redirects=False,
                        timeout=(
                            self.timeout
                            if call.upload is None and not call.form_token
                            else self.transfer_timeout
                        ),
                        ssl=self.ssl,
                    ) as resp:
                        status = resp.status
                        new_token = resp.headers.get(TOKEN_HEADER)
                        if new_token and call.auth and auth.adopt(new_token, generation):
                            self.redactor.add_token(new_token)
                        if status != 401 and call.auth:
                            auth.touch(sent_at)
                        if status < 300:
                            result = await handler(resp)
                            if self.on_response is not None or _log.isEnabledFor(10):
                                await self._answered(call, attempt, status, sent_at)
                            return result
                        content_type = resp.headers.get(hdrs.CONTENT_TYPE)
                        retry_after = resp.headers.get(hdrs.RETRY_AFTER)
                        body, truncated = await _read_error_body(resp)
                        if truncated:
                            resp.close()  # the rest is not read: the connection is not reused
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                phase, failure = Phase.NOT_SENT, exc
            except (aiohttp.ClientError, builtins.TimeoutError) as exc:
                # Sent (or maybe sent) and no complete answer: dropped, reset, truncated, slow.
                phase, failure = Phase.SENT, exc
            finally:
                if closer is not None:
                    closer()

            if phase is not None:
                assert failure is not None
                last_error = failure
                # A certificate that does not verify will not verify on the next attempt.
                retryable = not isinstance(failure, aiohttp.ClientSSLError)
                if (
                    retryable
                    and policy.retry_connection(call.kind, phase)
                    and policy.can_retry(attempt)
                ):
                    await self._wait(call, attempt, None, _describe(failure))
                    attempt += 1
                    continue
                raise self._transport_error(call, phase, failure) from failure

            await self._answered(call, attempt, status, sent_at)
            error = error_from_response(
                status,
                body,
                content_type=content_type,
                retry_after=retry_after,
                scrub=self.redactor.scrubber(call.secrets),
            )
            if isinstance(error, ApiError) and error.parameters:
                # By key (a "password" or "secretAnswer" parameter) and by value, however short.
                error.parameters = self.redactor.scrub_parameters(error.parameters, call.secrets)
            if truncated and isinstance(error, ResponseFormatError):
                error = ResponseFormatError(
                    f"{error} (the error body is over {MAX_ERROR_BODY} bytes; the rest was "
                    "not read)",
                    status=status,
                    content_type=content_type,
                    snippet=error.snippet,
                )
            last_error = error
            if (
                status == 401
                and call.relogin
                and call.auth
                and not replayed_401
                and _token_refused(error)
            ):
                # The token died (idle, expired, superseded): one single-flight login, replay.
                replayed_401 = True
                await auth.refresh(generation, self.login)
                continue
            if status in ATTEMPT_STATUSES and policy.retry_status(call.kind, status):
                delay = parse_retry_after(retry_after)
                if policy.can_retry(attempt) and policy.honours(delay):
                    await self._wait(call, attempt, delay, f"HTTP {status}")
                    attempt += 1
                    continue
            if call.kind is RequestKind.CREATE and status in _GATEWAY_STATUSES:
                raise self._ambiguous(call, f"a gateway answered HTTP {status}") from error
            if 300 <= status < 400:
                raise ApiError(
                    status, "the service answered with a redirect; redirects are not followed"
                )
            raise error

    def _build(
        self, call: Call, token: str, last_error: BaseException | None
    ) -> tuple[dict[str, str], Any]:
        headers: dict[str, str]
        data: Any = None
        if call.json is not None:
            headers = dict(_JSON_HEADERS)
            data = call.json
        elif call.upload is not None:
            headers = {hdrs.ACCEPT: "application/json"}
            try:
                data = call.upload.open(call.upload_data or {})
            except StreamConsumedError as exc:
                if last_error is not None:
                    raise exc from last_error
                raise
        elif call.form_token:
            headers = {hdrs.CONTENT_TYPE: _FORM_TYPE}
            data = b"X-Auth-Token=" + quote(token, safe="").encode("ascii")
        else:
            headers = {hdrs.ACCEPT: "application/json"}
        if call.auth and not call.form_token:
            headers[TOKEN_HEADER] = token
        if call.headers:
            headers.update(call.headers)
        return headers, data

    async def _answered(self, call: Call, attempt: int, status: int, sent_at: float) -> None:
        if self.on_response is not None or _log.isEnabledFor(10):
            elapsed = self.auth.now() - sent_at
            if _log.isEnabledFor(10):
                _log.debug("%s %s -> %d (%.1f ms)", call.method, call.path, status, elapsed * 1e3)
            if self.on_response is not None:
                event = ResponseEvent(call.method, call.path, attempt, status, elapsed)
                await _fire(self.on_response, event)

    async def _wait(self, call: Call, attempt: int, retry_after: float | None, reason: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        if _log.isEnabledFor(20):
            _log.info(
                "retrying %s %s in %.2f s (%s; attempt %d of %d)",
                call.method,
                call.path,
                delay,
                reason,
                attempt + 2,
                self.retry.max_retries + 1,
            )
        if self.on_retry is not None:
            await _fire(self.on_retry, RetryEvent(call.method, call.path, attempt, delay, reason))
        await self.sleep(delay)

    def _transport_error(self, call: Call, phase: Phase, failure: BaseException) -> Exception:
        if call.kind is RequestKind.CREATE and phase is Phase.SENT:
            return self._ambiguous(
                call, f"the connection was lost after sending ({_describe(failure)})"
            )
        if isinstance(failure, aiohttp.ClientPayloadError):
            return ResponseFormatError(
                f"the response body was truncated ({_describe(failure)})",
            )
        if isinstance(failure, builtins.TimeoutError):
            return TimeoutError(f"{call.method} {call.path} timed out")
        return ConnectError(f"{call.method} {call.path} failed: {_describe(failure)}")

    def _ambiguous(self, call: Call, why: str) -> AmbiguousOutcomeError:
        known: dict[str, Any] = {"method": call.method, "path": call.path}
        if call.upload is not None:
            known["file_name"] = call.upload.file_name
        return AmbiguousOutcomeError(
            call.operation or f"{call.method} {call.path}",
            f"the service may or may not have acted: {why}",
            known,
        )


async def _read_error_body(resp: aiohttp.ClientResponse) -> tuple[bytes, bool]:
    """At most :data:`MAX_ERROR_BODY` bytes of an error body, and whether more was left."""
    length = resp.content_length
    if length is not None and length <= MAX_ERROR_BODY:
        return await resp.read(), False
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_ERROR_BODY:
        chunk = await resp.content.read(MAX_ERROR_BODY + 1 - size)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:MAX_ERROR_BODY], True


def _token_refused(error: Exception) -> bool:
    # Bad credentials (1001) or a forbidden loginAs are not cured by logging in again.
    if not isinstance(error, AuthenticationError):
        return False
    return error.code is None or error.code in TOKEN_ERROR_CODES


def _describe(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


async def _fire(hook: Hook, event: Any) -> None:
    result = hook(event)
    if inspect.isawaitable(result):
        await result


# Response handlers shared by the client's methods.


async def read_payload(resp: aiohttp.ClientResponse) -> Any:
    """Handler: the ``response`` payload of a success envelope."""
    body = await resp.read()
    return decode_payload(body, status=resp.status, content_type=resp.headers.get("Content-Type"))


async def read_workflow(resp: aiohttp.ClientResponse) -> Workflow:
    """Handler: a success envelope holding a workflow, as a typed :class:`Workflow`."""
    body = await resp.read()
    # The usual answer, read in one pass; anything else takes decode_payload's careful path
    # (and its error messages).
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if type(data) is dict and "response" in data:
        payload = data["response"]
    else:
        payload = decode_payload(
            body, status=resp.status, content_type=resp.headers.get("Content-Type")
        )
    return structure(payload, Workflow, status=resp.status)


async def drain_true(resp: aiohttp.ClientResponse) -> bool:
    """Handler: read and drop the body (the connection is reused), answer True."""
    await resp.read()
    return True
