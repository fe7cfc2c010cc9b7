"""
The emulator's middlewares, outermost first:

1. :func:`stats_middleware` counts every request (but control calls) by route template and status
   (``"GET /api/v1/workflows/{id}": {"200": 3}``); a dropped connection counts as ``"drop"``.
2. :func:`fault_middleware` applies the base latency and the injected faults
   (:mod:`consigno_async.emulator.faults`) to ``/api/v1`` requests.
3. :func:`error_middleware` turns :class:`~consigno_async.emulator.codes.EmulatorError` into
   the service's error body, unknown routes into a framework-shaped body, and adds a rotated
   token to the ``X-Auth-Token`` header of any response, error or not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from .codes import EmulatorError, error_payload, framework_payload, html_page
from .state import iso

if TYPE_CHECKING:  # the server module builds the app from this one: no import at run time
    from .server import Core

__all__ = [
    "API_PREFIX",
    "CORE",
    "TRUNCATE",
    "drop_connection",
    "error_middleware",
    "fault_middleware",
    "json_response",
    "stats_middleware",
]

#: Where the emulator's :class:`~consigno_async.emulator.server.Core` lives in the aiohttp
#: application: ``request.app[CORE]``.
CORE: web.AppKey[Core] = web.AppKey("consigno_core")

log = logging.getLogger("consigno_async.emulator")

API_PREFIX = "/api/v1"
CONTROL_PREFIX = "/_emulator"
#: Set on a request whose response body must be cut short (a ``truncate`` fault).
TRUNCATE: web.RequestKey[bool] = web.RequestKey("consigno_truncate", bool)
#: Set on a request whose connection must drop after the change is applied.
DROP_AFTER: web.RequestKey[bool] = web.RequestKey("consigno_drop_after", bool)
#: A rotated token for the ``X-Auth-Token`` response header.
NEW_TOKEN: web.RequestKey[str] = web.RequestKey("consigno_new_token", str)
#: Set once the connection was cut on purpose.
DROPPED: web.RequestKey[bool] = web.RequestKey("consigno_dropped", bool)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(payload: object, status: int = 200) -> web.Response:
    """A JSON response serialised with orjson."""
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")


def drop_connection(request: web.Request) -> web.Response:
    """Cut the connection now: the client sees it closed without an answer."""
    request[DROPPED] = True
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=499)


def _route_key(request: web.Request) -> str:
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else "(unmatched)"
    return f"{request.method} {template}"


@web.middleware
async def stats_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count an API request under its route template and final status (control calls aside)."""
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    core = request.app[CORE]
    key = _route_key(request)
    try:
        response = await handler(request)
    except asyncio.CancelledError:
        core.store.stats.requests[key]["cancelled"] += 1
        raise
    status = "drop" if request.get(DROPPED) else str(response.status)
    core.store.stats.requests[key][status] += 1
    return response


async def _drain(request: web.Request) -> None:
    while await request.content.readany():
        pass


def _rate_limited(status: int, retry_after: float) -> web.Response:
    seconds = f"{retry_after:g}"
    if status in (429, 503):
        code = "4290" if status == 429 else "5030"
        text = "Too many requests" if status == 429 else "Service temporarily unavailable"
        payload = error_payload(code, f"{text}, retry after {seconds} s", {"retryAfter": seconds})
    else:
        payload = {}
    response = json_response(payload, status)
    response.headers["Retry-After"] = seconds
    return response


async def _truncated(request: web.Request, response: web.Response) -> web.StreamResponse:
    body = response.body if isinstance(response.body, bytes) else b""
    cut = web.StreamResponse(status=response.status, headers=response.headers)
    cut.content_length = len(body)
    await cut.prepare(request)
    await cut.write(body[: len(body) // 2])
    request[DROPPED] = True
    if request.transport is not None:
        request.transport.close()
    return cut


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply base latency and injected faults to API requests."""
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    core = request.app[CORE]
    decision = core.faults.decide(request.method, request.path)
    latency = core.latency_ms + decision.latency_ms
    if latency > 0:
        await asyncio.sleep(latency / 1000)
    fault = decision.fault
    if fault is None:
        return await handler(request)
    core.store.stats.counters["faults_injected"] += 1
    kind = fault.kind
    if kind == "status":
        assert fault.status is not None
        if fault.status not in (429, 503):
            now = core.store.clock.now()
            payload = framework_payload(fault.status, request.path, iso(now), "Injected fault")
            response = json_response(payload, fault.status)
            response.headers["Retry-After"] = f"{fault.retry_after:g}"
            return response
        return _rate_limited(fault.status, fault.retry_after)
    if kind == "html":
        assert fault.html is not None
        return web.Response(text=html_page(fault.html), status=fault.html, content_type="text/html")
    if kind == "drop" and fault.drop == "before_commit":
        await _drain(request)
        return drop_connection(request)
    if kind == "drop":
        request[DROP_AFTER] = True
        committed = await handler(request)
        if request.get(DROPPED):
            return committed
        return drop_connection(request)
    request[TRUNCATE] = True
    answered = await handler(request)
    if isinstance(answered, web.Response) and not answered.prepared:
        return await _truncated(request, answered)
    return answered


def _not_found_body(request: web.Request, status: int, now: float) -> web.Response:
    messages = {404: "No handler found", 405: "Request method not supported"}
    payload = framework_payload(status, request.path, iso(now), messages.get(status, "Error"))
    payload["error"] = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
    return json_response(payload, status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Shape errors as the service does and attach a rotated token to any response."""
    core = request.app[CORE]
    try:
        response = await handler(request)
    except EmulatorError as exc:
        response = json_response(exc.payload(), exc.status)
        response.headers.update(exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _not_found_body(request, exc.status, core.store.clock.now())
    except ConnectionError:
        # The client went away mid-request (e.g. a cancelled upload): nothing to answer.
        log.debug("client closed the connection during %s", _route_key(request))
        return web.Response(status=499)
    except Exception:
        log.exception("emulator handler failed on %s %s", request.method, _route_key(request))
        now = core.store.clock.now()
        payload = framework_payload(500, request.path, iso(now), "Internal error")
        response = json_response(payload, 500)
    token = request.get(NEW_TOKEN)
    if token and not response.prepared:
        response.headers["X-Auth-Token"] = token
    return response
