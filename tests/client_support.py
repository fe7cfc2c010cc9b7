"""Helpers shared by the client tests (not a test file)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from consigno_async import Amr, ConsignoClient, WorkflowSpec
from consigno_async.builder import WorkflowBuilder
from consigno_async.emulator import Emulator
from consigno_async.pdfgen import Page, TextLine, make_pdf

PDF = make_pdf(
    [Page(lines=[TextLine("Agreement", 72, 72, 16), TextLine("Sign: {{sig}}", 72, 600)])]
)
PDF2 = make_pdf([Page(lines=["Annex"])])


def make_client(emu: Emulator, **kwargs: Any) -> ConsignoClient:
    """A client for ``emu`` with its demo credentials and fast retries."""
    creds = emu.credentials
    kwargs.setdefault("max_retries", 3)
    client = ConsignoClient(
        emu.base_url, username=creds.username, password=creds.password, **kwargs
    )
    # Tests must not sleep seconds between retries: keep the policy, shrink the waits.
    client._core.retry = client._core.retry.__class__(
        max_retries=kwargs["max_retries"], base_delay=0.001, max_delay=0.01
    )
    return client


def login_as_client(emu: Emulator, **kwargs: Any) -> ConsignoClient:
    """
    A client for ``emu`` that logs in as the demo user through the demo platform key
    (``client_id``/``client_secret``: loginAs); the client's own retry policy.
    """
    creds = emu.credentials
    return ConsignoClient(
        emu.base_url,
        username=creds.username,
        password=creds.password,
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        **kwargs,
    )


def builder(
    name: str = "NDA",
    *,
    documents: tuple[tuple[str, Any], ...] = (("nda.pdf", PDF),),
    email: str = "alice@example.com",
    secret_answer: str | None = None,
) -> WorkflowBuilder:
    """A valid one-signer builder over ``documents`` (key, source)."""
    b = WorkflowBuilder(name)
    for key, source in documents:
        b.document(source, key=key, file_name=key)
    amr = [Amr.LINK, Amr.SECRET] if secret_answer else [Amr.LINK, Amr.SMS]
    extra: dict[str, Any] = (
        {"secret_question": "First pet?", "secret_answer": secret_answer}
        if secret_answer
        else {"phone": "+15145550100"}
    )
    b.signer("alice", first_name="Alice", last_name="Martin", email=email, amr=amr, **extra)
    for key, _ in documents:
        b.field("alice", document=key, page=1, x=72, y=650)
    return b


def spec(
    name: str = "NDA", *, launch: bool = True, inline: bool = False, **kw: Any
) -> WorkflowSpec:
    """A built spec (see :func:`builder`)."""
    b = builder(name, **kw)
    if inline:
        b.inline_documents()
    return b.build(launch=launch)


async def chunks(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    """An async iterator of bytes (a one-shot stream)."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def request_count(stats: dict[str, Any], route: str, status: int | str | None = None) -> int:
    """How many requests the emulator saw on ``route`` (optionally with one status)."""
    by_status = stats["requests"].get(route, {})
    if status is not None:
        return int(by_status.get(str(status), 0))
    return sum(int(n) for n in by_status.values())


@contextlib.asynccontextmanager
async def serve(app: web.Application, **site: Any) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port); yields the API root URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        tcp = web.TCPSite(runner, "127.0.0.1", 0, **site)
        await tcp.start()
        port = runner.addresses[0][1]
        scheme = "https" if site.get("ssl_context") else "http"
        yield f"{scheme}://127.0.0.1:{port}/api/v1"
    finally:
        await runner.cleanup()
