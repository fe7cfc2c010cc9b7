"""
TLS verification is on unless the user turns it off: the emulator served over HTTPS with a
self-signed certificate (made with the ``openssl`` command line in ``tmp_path``).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from client_support import serve

from consigno_async import ConnectError, ConsignoClient
from consigno_async.emulator.app import build_app
from consigno_async.emulator.server import Core
from consigno_async.emulator.tokens import Credentials

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-nodes", "-days", "1",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", str(key), "-out", str(cert),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


class TlsEmulator:
    """The emulator's application served over HTTPS."""

    def __init__(self, base_url: str, core: Core, cert: Path) -> None:
        self.base_url = base_url
        self.core = core
        self.cert = cert

    def logins(self) -> int:
        return int(self.core.store.stats.counters["logins"])


@pytest_asyncio.fixture
async def tls_emulator(tmp_path: Path) -> AsyncIterator[TlsEmulator]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    core = Core(Credentials(), tmp_path / "data")
    async with serve(build_app(core), ssl_context=context) as base:
        core.root_url = base.removesuffix("/api/v1")
        yield TlsEmulator(base, core, cert)


def _client(emu: TlsEmulator, **kwargs: Any) -> ConsignoClient:
    creds = Credentials()
    return ConsignoClient(emu.base_url, username=creds.username, password=creds.password, **kwargs)


async def test_a_self_signed_certificate_is_refused_by_default_without_retrying(
    tls_emulator: TlsEmulator,
) -> None:
    retries: list[Any] = []
    sleeps: list[float] = []

    async def no_sleep(delay: float) -> None:
        sleeps.append(delay)

    client = _client(tls_emulator, max_retries=5, on_retry=retries.append)
    client._core.sleep = no_sleep
    async with client:
        assert client._core.ssl is True
        with pytest.raises(ConnectError) as info:
            await client.list_workflow_page()
        with pytest.raises(ConnectError):  # the next call too: nothing was relaxed
            await client.get_workflow("0123456789abcdef01234567")
    assert "certificate" in str(info.value).lower()
    assert retries == []  # a certificate that fails will fail again: no retry storm
    assert sleeps == []
    assert tls_emulator.logins() == 0  # the password never went out


async def test_verification_turned_off_accepts_it(tls_emulator: TlsEmulator) -> None:
    async with _client(tls_emulator, ssl=False) as client:
        page = await client.list_workflow_page()
        assert await client.verify_token()
    assert page.total == 0
    assert tls_emulator.logins() == 1


async def test_a_context_trusting_the_certificate_accepts_it(tls_emulator: TlsEmulator) -> None:
    context = ssl.create_default_context(cafile=str(tls_emulator.cert))
    async with _client(tls_emulator, ssl=context) as client:
        page = await client.list_workflow_page()
    assert page.workflows == ()
    assert tls_emulator.logins() == 1
