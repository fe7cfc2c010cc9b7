"""
The pytest plugin (entry point ``pytest11``): a ``consigno_emulator`` fixture, so any test
suite that installs consigno_async can run against the emulator. ::

    async def test_launch(consigno_emulator):
        async with ConsignoClient(consigno_emulator.base_url,
                                  username=consigno_emulator.credentials.username,
                                  password=consigno_emulator.credentials.password) as client:
            ...

The fixture is function-scoped: every test gets a fresh emulator on a free port of 127.0.0.1,
stopped (and its temporary data removed) at the end of the test. It needs pytest-asyncio;
without it the plugin defines nothing (so installing the package never breaks a pytest run).
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator

from .server import Emulator

# Only what is defined is exported: without pytest-asyncio there is no fixture to name.
__all__: list[str] = []

if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    __all__ += ["consigno_emulator"]

    @pytest_asyncio.fixture
    async def consigno_emulator() -> AsyncIterator[Emulator]:
        """A started :class:`~consigno_async.emulator.Emulator` on 127.0.0.1 (a free port)."""
        async with Emulator() as emulator:
            yield emulator
