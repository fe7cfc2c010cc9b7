"""
The emulator's core: every piece of state and service one running emulator holds, shared by
the API routes, the control routes and the :class:`~consigno_async.emulator.Emulator` object.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from .faults import FaultSet
from .lifecycle import Engine
from .state import Store
from .tokens import Credentials, TokenService
from .webhooks import WebhookSender

__all__ = ["CORE", "Core"]


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


#: Where the :class:`Core` lives in the aiohttp application.
CORE: web.AppKey[Core] = web.AppKey("consigno_core", Core)
