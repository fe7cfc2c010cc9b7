"""
The :class:`Emulator`: start the server on loopback, and drive it from Python; and its
:class:`Core`, every piece of state and service one running emulator holds, shared by the API
routes, the control routes and the :class:`Emulator` object.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from .app import build_app
from .control import apply_settings, clock_payload, settings_body
from .faults import FaultSet
from .lifecycle import Engine
from .state import Store
from .tokens import Credentials, TokenService
from .webhooks import WebhookSender

__all__ = ["Core", "Emulator"]

log = logging.getLogger("consigno_async.emulator")


class Core:
    """
    One emulator's state: the store (clock, ids, counters, documents, workflows), tokens,
    faults, the workflow engine and the webhook sender.

    ``reset()`` forgets everything but the configuration (credentials, latency, seed, data
    directory), as ``POST /_emulator/reset`` does.
    """

    def __init__(
        self,
        credentials: Credentials,
        data_dir: Path,
        *,
        latency_ms: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.credentials = credentials
        self.data_dir = data_dir
        self.latency_ms = latency_ms
        self.seed = seed
        self.store = Store(seed)
        self.tokens = TokenService(credentials, self.store.clock, self.store.stats)
        self.faults = FaultSet(seed)
        self.webhooks = WebhookSender(self.store.stats)
        self.engine = Engine(self.store, self.webhooks, data_dir)

    @property
    def root_url(self) -> str:
        """``http://host:port`` of the running server (set when it starts)."""
        return self.engine.root_url

    @root_url.setter
    def root_url(self, value: str) -> None:
        self.engine.root_url = value

    def reset(self) -> None:
        """Forget documents, workflows, tokens, faults, counters and the clock offset."""
        self.store.reset()
        self.tokens.reset(self.store.clock, self.store.stats)
        self.faults.reset()
        self.webhooks.stats = self.store.stats
        self.engine.second_factor_required = True


class Emulator:
    """
    A ConsignO Cloud emulator: a real ``aiohttp.web`` server on loopback that speaks the
    service's wire protocol, keeps state, and lets a test sign, decline, move the clock,
    expire or rotate tokens and inject faults. ::

        async with Emulator() as emu:
            print(emu.base_url)            # http://127.0.0.1:PORT/api/v1
            creds = emu.credentials        # username "demo", password "demo-password", ...
            ...                            # point your client at emu.base_url
            await emu.sign(workflow_id)    # every remaining signer signs
            await emu.add_fault(status=429, rate=0.3, retry_after=0.2)
            print(await emu.stats())

    ``port=0`` picks a free port. ``latency_ms`` delays every API answer. ``seed`` makes ids
    and fault dice repeatable. Document bytes above 256 KiB are kept in files under
    ``data_dir`` (a temporary directory, removed on close, when not given). The control
    methods are the same as :class:`~consigno_async.emulator.EmulatorControl`'s, which reaches
    an emulator in another process over HTTP. Errors are raised as
    :class:`~consigno_async.emulator.EmulatorError`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_ms: float = 0,
        seed: int | None = None,
        data_dir: str | Path | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.host = host
        self._port = port
        self._latency_ms = float(latency_ms)
        self._seed = seed
        self._given_dir = Path(data_dir) if data_dir is not None else None
        self._temp_dir: str | None = None
        self.credentials = credentials or Credentials()
        self._core: Core | None = None
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        state = self.root_url if self._runner is not None else "stopped"
        return f"<Emulator {state}>"

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Emulator:
        """Start serving; returns ``self``."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        if self._given_dir is not None:
            data_dir = self._given_dir
            data_dir.mkdir(parents=True, exist_ok=True)
        else:
            self._temp_dir = tempfile.mkdtemp(prefix="consigno-emulator-")
            data_dir = Path(self._temp_dir)
        core = Core(self.credentials, data_dir, latency_ms=self._latency_ms, seed=self._seed)
        runner = web.AppRunner(
            build_app(core), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            self._remove_temp_dir()
            raise
        address = runner.addresses[0]
        self._port = int(address[1])
        host = self.host if ":" not in self.host else f"[{self.host}]"
        core.root_url = f"http://{host}:{self._port}"
        self._core, self._runner = core, runner
        log.info("emulator listening on %s", core.root_url)
        return self

    async def close(self) -> None:
        """Stop serving, cancel webhook deliveries, and remove the temporary data directory."""
        runner, core = self._runner, self._core
        self._runner = None
        if core is not None:
            await core.webhooks.close()
        if runner is not None:
            await runner.cleanup()
        self._remove_temp_dir()

    def _remove_temp_dir(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def core(self) -> Core:
        """The running emulator's state (for advanced tests)."""
        if self._core is None:
            raise RuntimeError("the emulator is not started")
        return self._core

    @property
    def port(self) -> int:
        """The TCP port (the real one once started with ``port=0``)."""
        return self._port

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``: the control API is under ``/_emulator``."""
        return self.core.root_url

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/v1``: what a ConsignO client is given."""
        return f"{self.root_url}/api/v1"

    # -- control -----------------------------------------------------------------------------

    async def reset(self) -> None:
        """Forget every document, workflow, token, fault and counter."""
        self.core.reset()

    async def sign(self, workflow_id: str, action_id: str | None = None) -> dict[str, Any]:
        """Sign ``action_id`` (in the current step) or every remaining action; the workflow."""
        engine = self.core.engine
        return engine.render(await engine.sign(workflow_id, action_id))

    async def decline(
        self, workflow_id: str, action_id: str | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        """Decline ``action_id`` (default: the first started one); the workflow."""
        engine = self.core.engine
        return engine.render(await engine.decline(workflow_id, action_id, reason))

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the emulator's clock forward (token idle time, ``expiresOn``)."""
        self.core.store.clock.advance(seconds)
        return clock_payload(self.core)

    async def expire_tokens(self) -> int:
        """Expire every token now; returns how many were live."""
        return self.core.tokens.expire_all()

    async def rotate_tokens(self) -> None:
        """Make the next response to each token holder carry a rotated token."""
        self.core.tokens.rotate_all()

    async def add_fault(self, **spec: Any) -> str:
        """Inject a fault (see :mod:`consigno_async.emulator.faults`); returns its id."""
        return self.core.faults.add(spec).id

    async def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.core.faults.clear()

    async def stats(self) -> dict[str, Any]:
        """The counters of ``GET /_emulator/stats``."""
        core = self.core
        core.engine.refresh_expiry()
        return core.store.stats.snapshot(core.store)

    async def settings(
        self,
        *,
        second_factor_required: bool | None = None,
        login_as_allowed: bool | None = None,
        latency_ms: float | None = None,
    ) -> None:
        """
        Change the emulated organisation's settings (``None`` leaves one as it is); checked as
        ``POST /_emulator/settings`` checks them.
        """
        body = settings_body(
            second_factor_required=second_factor_required,
            login_as_allowed=login_as_allowed,
            latency_ms=latency_ms,
        )
        apply_settings(self.core, body)

    async def wait_webhooks(self, timeout: float = 5.0) -> None:
        """Wait until the webhook deliveries in flight are done (or ``timeout`` passes)."""
        await self.core.webhooks.drain(timeout)
