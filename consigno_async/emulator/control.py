"""
The control side of the emulator: ``/_emulator`` routes (plain JSON, no envelope, no token).

==========================================  ==================================================
route                                       effect and answer
==========================================  ==================================================
``POST /_emulator/reset``                   forget everything; ``{"ok": true}``
``POST /_emulator/workflows/{id}/sign``     body ``{"actionId"?}``: sign that action (it must
                                            be in the current step) or every remaining one;
                                            the workflow JSON
``POST /_emulator/workflows/{id}/decline``  body ``{"actionId"?, "reason"?}``; workflow JSON
``POST /_emulator/clock/advance``           body ``{"seconds": n}``; ``{"now", "offset"}``
``GET /_emulator/clock``                    ``{"now", "offset"}``
``POST /_emulator/tokens/expire``           expire every token; ``{"expired": n}``
``POST /_emulator/tokens/rotate``           rotate at each holder's next request
``POST /_emulator/faults``                  add a fault; 201 ``{"id", "fault"}``
``GET /_emulator/faults``                   ``{"faults": [...]}``
``DELETE /_emulator/faults``                clear every fault
``DELETE /_emulator/faults/{id}``           remove one fault
``GET /_emulator/stats``                    the counters
``GET|POST /_emulator/settings``            ``secondFactorRequired``, ``loginAsAllowed``
==========================================  ==================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from .codes import EmulatorError
from .middleware import CORE, json_response
from .state import iso

if TYPE_CHECKING:  # the server module imports this one: no import at run time
    from .server import Core

__all__ = ["add_control_routes", "apply_settings", "clock_payload", "settings_body"]

PREFIX = "/_emulator"


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EmulatorError("4002", "The request body is not valid JSON", field="body") from exc
    if not isinstance(body, dict):
        raise EmulatorError("4002", "The body must be a JSON object", field="body")
    return body


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise EmulatorError("4002", f"{key} must be a string", field=key)
    return value


def clock_payload(core: Core) -> dict[str, Any]:
    """The emulator clock as the control API reports it."""
    return {"now": iso(core.store.clock.now()), "offset": core.store.clock.offset}


async def reset(request: web.Request) -> web.StreamResponse:
    """POST /_emulator/reset: forget all state but the configuration."""
    request.app[CORE].reset()
    return json_response({"ok": True})


async def sign(request: web.Request) -> web.StreamResponse:
    """POST /_emulator/workflows/{id}/sign: sign one action (actionId) or every remaining one."""
    core = request.app[CORE]
    body = await _body(request)
    record = await core.engine.sign(request.match_info["id"], _optional_text(body, "actionId"))
    return json_response(core.engine.render(record))


async def decline(request: web.Request) -> web.StreamResponse:
    """POST /_emulator/workflows/{id}/decline: decline an action, with an optional reason."""
    core = request.app[CORE]
    body = await _body(request)
    record = await core.engine.decline(
        request.match_info["id"], _optional_text(body, "actionId"), _optional_text(body, "reason")
    )
    return json_response(core.engine.render(record))


async def advance_clock(request: web.Request) -> web.StreamResponse:
    """POST /_emulator/clock/advance: move the emulator clock forward by seconds."""
    core = request.app[CORE]
    seconds = (await _body(request)).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise EmulatorError("4002", "seconds must be a non-negative number", field="seconds")
    core.store.clock.advance(float(seconds))
    return json_response(clock_payload(core))


async def get_clock(request: web.Request) -> web.StreamResponse:
    """GET /_emulator/clock: the emulator clock (now and offset)."""
    return json_response(clock_payload(request.app[CORE]))


async def expire_tokens(request: web.Request) -> web.StreamResponse:
    """POST /_emulator/tokens/expire: expire every live token."""
    return json_response({"expired": request.app[CORE].tokens.expire_all()})


async def rotate_tokens(request: web.Request) -> web.StreamResponse:
    """POST /_emulator/tokens/rotate: rotate every live token (old ones get a grace)."""
    core = request.app[CORE]
    core.tokens.rotate_all()
    return json_response({"ok": True, "live": core.tokens.live_count()})


async def add_fault(request: web.Request) -> web.StreamResponse:
    """POST /_emulator/faults: add a fault rule, answer its id."""
    fault = request.app[CORE].faults.add(await _body(request))
    return json_response({"id": fault.id, "fault": fault.to_json()}, 201)


async def list_faults(request: web.Request) -> web.StreamResponse:
    """GET /_emulator/faults: the active fault rules."""
    faults = request.app[CORE].faults.faults
    return json_response({"faults": [fault.to_json() for fault in faults]})


async def clear_faults(request: web.Request) -> web.StreamResponse:
    """DELETE /_emulator/faults: remove every fault rule."""
    request.app[CORE].faults.clear()
    return json_response({"ok": True})


async def remove_fault(request: web.Request) -> web.StreamResponse:
    """DELETE /_emulator/faults/{id}: remove one fault rule (5004 if unknown)."""
    faults = request.app[CORE].faults
    fault_id = request.match_info["id"]
    before = len(faults.faults)
    faults.faults = [f for f in faults.faults if f.id != fault_id]
    if len(faults.faults) == before:
        raise EmulatorError("5004", f"Fault {fault_id[:40]} not found", id=fault_id[:40])
    return json_response({"ok": True})


async def stats(request: web.Request) -> web.StreamResponse:
    """GET /_emulator/stats: request counts by route and status, and the state counters."""
    core = request.app[CORE]
    core.engine.refresh_expiry()
    return json_response(core.store.stats.snapshot(core.store))


def _settings(core: Core) -> dict[str, Any]:
    return {
        "secondFactorRequired": core.engine.second_factor_required,
        "loginAsAllowed": core.tokens.login_as_allowed,
        "latencyMs": core.latency_ms,
    }


async def get_settings(request: web.Request) -> web.StreamResponse:
    """GET /_emulator/settings: second factor, loginAs and latency settings."""
    return json_response(_settings(request.app[CORE]))


def settings_body(
    *,
    second_factor_required: bool | None = None,
    login_as_allowed: bool | None = None,
    latency_ms: float | None = None,
) -> dict[str, Any]:
    """
    The ``POST /_emulator/settings`` body for the given settings (``None`` leaves one out)::

        >>> settings_body(login_as_allowed=False, latency_ms=5)
        {'loginAsAllowed': False, 'latencyMs': 5}
    """
    given = {
        "secondFactorRequired": second_factor_required,
        "loginAsAllowed": login_as_allowed,
        "latencyMs": latency_ms,
    }
    return {key: value for key, value in given.items() if value is not None}


def apply_settings(core: Core, body: dict[str, Any]) -> None:
    """Check a settings body (see :func:`settings_body`) and apply it to ``core``."""
    for key in body:
        if key not in ("secondFactorRequired", "loginAsAllowed", "latencyMs"):
            raise EmulatorError("4002", f"Unknown setting {key[:40]}", field=key[:40])
    for key in ("secondFactorRequired", "loginAsAllowed"):
        if key in body and not isinstance(body[key], bool):
            raise EmulatorError("4002", f"{key} must be a boolean", field=key)
    if "secondFactorRequired" in body:
        core.engine.second_factor_required = body["secondFactorRequired"]
    if "loginAsAllowed" in body:
        core.tokens.login_as_allowed = body["loginAsAllowed"]
    if "latencyMs" in body:
        latency = body["latencyMs"]
        if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
            message = "latencyMs must be a non-negative number"
            raise EmulatorError("4002", message, field="latencyMs")
        core.latency_ms = float(latency)


async def set_settings(request: web.Request) -> web.StreamResponse:
    """POST /_emulator/settings: change the second factor, loginAs or latency settings."""
    core = request.app[CORE]
    apply_settings(core, await _body(request))
    return json_response(_settings(core))


def add_control_routes(app: web.Application) -> None:
    """Register the ``/_emulator`` routes on ``app``."""
    router = app.router
    router.add_post(f"{PREFIX}/reset", reset)
    router.add_post(f"{PREFIX}/workflows/{{id}}/sign", sign)
    router.add_post(f"{PREFIX}/workflows/{{id}}/decline", decline)
    router.add_post(f"{PREFIX}/clock/advance", advance_clock)
    router.add_get(f"{PREFIX}/clock", get_clock, allow_head=False)
    router.add_post(f"{PREFIX}/tokens/expire", expire_tokens)
    router.add_post(f"{PREFIX}/tokens/rotate", rotate_tokens)
    router.add_post(f"{PREFIX}/faults", add_fault)
    router.add_get(f"{PREFIX}/faults", list_faults, allow_head=False)
    router.add_delete(f"{PREFIX}/faults", clear_faults)
    router.add_delete(f"{PREFIX}/faults/{{id}}", remove_fault)
    router.add_get(f"{PREFIX}/stats", stats, allow_head=False)
    router.add_get(f"{PREFIX}/settings", get_settings, allow_head=False)
    router.add_post(f"{PREFIX}/settings", set_settings)
