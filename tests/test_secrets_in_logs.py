"""
A whole client session logged at DEBUG (every logger: the client's, aiohttp's, the
emulator's): no token, password, client secret or secret answer appears in any log line, and
none in the reprs and messages of the errors raised on the way.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from client_support import PDF, builder, login_as_client, make_client, spec

from consigno_async import (
    AmbiguousOutcomeError,
    AuthenticationError,
    ConflictError,
    ConsignoClient,
    NotFoundError,
)
from consigno_async.emulator import Emulator

SECRET_ANSWER = "Rex-the-first-dog"


async def test_no_secret_in_debug_logs(
    consigno_emulator: Emulator, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    emu = consigno_emulator
    creds = emu.credentials
    tokens: set[str] = set()
    errors: list[BaseException] = []

    def remember(client: ConsignoClient) -> None:
        held = client._auth.peek()
        if held is not None:
            tokens.add(held[0])

    async with login_as_client(emu) as client:
        wf = await client.launch(builder("Secret", secret_answer=SECRET_ANSWER))
        remember(client)
        await emu.rotate_tokens()
        await client.get_workflow(wf.id)
        remember(client)
        await emu.expire_tokens()
        await client.get_workflow(wf.id)  # 401, single-flight re-login, replay
        remember(client)
        async for _ in client.list_workflows():
            pass
        try:
            await client.download_audit_trail(wf.id, tmp_path / "audit.pdf")
        except ConflictError as exc:
            errors.append(exc)
        try:
            await client.get_workflow("0123456789abcdef01234567")
        except NotFoundError as exc:
            errors.append(exc)
        await emu.sign(wf.id)
        await client.download_documents(wf.id, tmp_path / "docs.pdf")
        await client.download_audit_trail(wf.id, tmp_path / "audit.pdf")
        remember(client)
        await client.verify_token()
        await client.logout()

    async with make_client(emu) as client:
        await emu.add_fault(drop="after_commit", paths=["/api/v1/workflows"], methods=["POST"])
        await emu.add_fault(
            status=503, retryAfter=0.01, paths=["/api/v1/workflows"], methods=["GET"]
        )
        meta = await client.upload_document(PDF, file_name="nda.pdf")
        remember(client)
        try:
            await client.create_workflow(
                spec("Lost", secret_answer=SECRET_ANSWER), document_ids={"nda.pdf": meta.id}
            )
        except AmbiguousOutcomeError as exc:
            errors.append(exc)
        remember(client)

    async with ConsignoClient(emu.base_url, username="demo", password="not-the-password") as bad:
        try:
            await bad.list_workflow_page()
        except AuthenticationError as exc:
            errors.append(exc)

    assert len(errors) == 4
    assert len(tokens) >= 3  # first, rotated, after re-login (and the second client's)
    secrets = {creds.password, creds.client_secret, SECRET_ANSWER, "not-the-password", *tokens}
    records = caplog.records
    assert any(r.name.startswith("consigno_async.") for r in records)
    assert any(r.levelno == logging.DEBUG for r in records)
    texts = [caplog.text]
    texts += [r.getMessage() for r in records]
    texts += [
        f"{e!s} {e!r} {getattr(e, 'known', '')} {getattr(e, '__notes__', '')}" for e in errors
    ]
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"a secret leaked into: {text[:200]!r}"


def test_redaction_helpers() -> None:
    from consigno_async._logging import (
        REDACTED,
        Redactor,
        payload_secrets,
        redact_headers,
        redact_mapping,
    )

    headers = redact_headers(
        {"X-Auth-Token": "t0k3n", "x-client-secret": "s3cr3t", "Accept": "*/*"}
    )
    assert headers == {"X-Auth-Token": REDACTED, "x-client-secret": REDACTED, "Accept": "*/*"}
    body = {"username": "u", "password": "pw", "actions": [{"signer": {"secretAnswer": "Rex"}}]}
    assert redact_mapping(body) == {
        "username": "u",
        "password": REDACTED,
        "actions": [{"signer": {"secretAnswer": REDACTED}}],
    }
    answers = payload_secrets(
        {
            "documents": [{"data": "JVBERi0x" * 1000}],
            "actions": [{"signer": {"secretAnswer": "Rex the dog"}}, {"signer": {}}],
            "notifications": [{"contact": {"secretAnswer": "Blue sky"}}],
        }
    )
    assert answers == ("Rex the dog", "Blue sky")
    redactor = Redactor(["hunter22", None, "abc"])  # short credentials count too
    assert len(redactor) == 2
    text = "hunter22 / Rex the dog / Blue sky / abc / abcd"
    assert redactor.scrub(text, answers) == (
        f"{REDACTED} / {REDACTED} / {REDACTED} / {REDACTED} / abcd"
    )
    assert len(redactor) == 2  # the answers were used for that call only, not kept
    assert redactor.scrub("Rex the dog") == "Rex the dog"
    redactor.discard("hunter22")
    assert "hunter22" in redactor.scrub("hunter22")
    assert "hunter22" not in repr(redactor)
