"""
A ConsignO Cloud emulator: a real ``aiohttp.web`` server on loopback that behaves like the
service (wire protocol, tokens, workflows, downloads, webhooks) and injects the faults real
integrations meet. ::

    from consigno_async.emulator import Emulator

    async with Emulator() as emu:
        ...  # a client pointed at emu.base_url, logging in with emu.credentials

From a shell: ``python -m consigno_async.emulator --port 8080``. In pytest: the
``consigno_emulator`` fixture (installed with the package). Reach an emulator in another
process with :class:`EmulatorControl`. The error codes are in
:mod:`consigno_async.emulator.codes`.
"""

from __future__ import annotations

from .codes import CODES, EmulatorError
from .remote import EmulatorControl
from .server import Emulator
from .tokens import Credentials

__all__ = ["CODES", "Credentials", "Emulator", "EmulatorControl", "EmulatorError"]
