"""
:class:`EmulatorControl`: drive an emulator running elsewhere (another process, a CI service)
through its ``/_emulator`` control API, with the same method names as
:class:`~consigno_async.emulator.Emulator`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp
import orjson

from .codes import CODES, EmulatorError
from .control import settings_body

__all__ = ["EmulatorControl"]

_CAMEL = {"retry_after": "retryAfter", "latency_ms": "latencyMs"}


class EmulatorControl:
    """
    The control API of an emulator at ``root_url`` (``http://host:port``, without ``/api/v1``)::

        async with EmulatorControl("http://127.0.0.1:8080") as control:
            await control.add_fault(status=503, rate=0.2, retry_after=0.5)
            await control.sign(workflow_id)
            print(await control.stats())

    Give ``session`` to reuse an ``aiohttp.ClientSession`` (it is then not closed here).
    An error answer raises :class:`~consigno_async.emulator.EmulatorError`.
    """

    def __init__(self, root_url: str, session: aiohttp.ClientSession | None = None) -> None:
        root = root_url.rstrip("/")
        if root.endswith("/api/v1"):
            root = root[: -len("/api/v1")]
        self.root_url = root
        self._session = session
        self._owns_session = session is None

    def __repr__(self) -> str:
        return f"<EmulatorControl {self.root_url}>"

    async def __aenter__(self) -> EmulatorControl:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this object opened it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        data = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        url = f"{self.root_url}/_emulator{path}"
        async with self._session.request(method, url, data=data, headers=headers) as response:
            raw = await response.read()
            payload = orjson.loads(raw) if raw else {}
            if response.status >= 400:
                code = str(payload.get("code", "")) if isinstance(payload, dict) else ""
                if code in CODES:
                    message = str(payload.get("msg", "")).partition("] ")[2]
                    raise EmulatorError(code, message, **payload.get("parameters", {}))
                raise EmulatorError("4002", f"control call answered {response.status}")
            return payload

    async def reset(self) -> None:
        """Forget every document, workflow, token, fault and counter."""
        await self._call("POST", "/reset")

    async def sign(self, workflow_id: str, action_id: str | None = None) -> dict[str, Any]:
        """Sign ``action_id`` (in the current step) or every remaining action; the workflow."""
        body = {"actionId": action_id} if action_id is not None else {}
        result: dict[str, Any] = await self._call("POST", f"/workflows/{workflow_id}/sign", body)
        return result

    async def decline(
        self, workflow_id: str, action_id: str | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        """Decline ``action_id`` (default: the first started one); the workflow."""
        body: dict[str, Any] = {}
        if action_id is not None:
            body["actionId"] = action_id
        if reason is not None:
            body["reason"] = reason
        result: dict[str, Any] = await self._call("POST", f"/workflows/{workflow_id}/decline", body)
        return result

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the emulator's clock forward (token idle time, ``expiresOn``)."""
        result: dict[str, Any] = await self._call("POST", "/clock/advance", {"seconds": seconds})
        return result

    async def expire_tokens(self) -> int:
        """Expire every token now; returns how many were live."""
        return int((await self._call("POST", "/tokens/expire"))["expired"])

    async def rotate_tokens(self) -> None:
        """Make the next response to each token holder carry a rotated token."""
        await self._call("POST", "/tokens/rotate")

    async def add_fault(self, **spec: Any) -> str:
        """Inject a fault (snake_case or camelCase keys); returns its id."""
        body = {_CAMEL.get(key, key): value for key, value in spec.items()}
        return str((await self._call("POST", "/faults", body))["id"])

    async def clear_faults(self) -> None:
        """Remove every injected fault."""
        await self._call("DELETE", "/faults")

    async def stats(self) -> dict[str, Any]:
        """The emulator's counters."""
        result: dict[str, Any] = await self._call("GET", "/stats")
        return result

    async def settings(
        self,
        *,
        second_factor_required: bool | None = None,
        login_as_allowed: bool | None = None,
        latency_ms: float | None = None,
    ) -> None:
        """Change the emulated organisation's settings (``None`` leaves one as it is)."""
        body = settings_body(
            second_factor_required=second_factor_required,
            login_as_allowed=login_as_allowed,
            latency_ms=latency_ms,
        )
        await self._call("POST", "/settings", body)
