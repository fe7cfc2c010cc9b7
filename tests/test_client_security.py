"""
Security properties of the client that need their own staging: reprs, error redaction, error
bodies too large to read, TLS verification and argument checks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from client_support import builder, make_client, serve, spec

from consigno_async import (
    BadRequestError,
    ConsignoClient,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    NotFoundError,
    ResponseFormatError,
)
from consigno_async._http import MAX_ERROR_BODY, Call
from consigno_async._logging import REDACTED, TOKEN_GRACE_SECONDS, Redactor
from consigno_async.emulator import Emulator

SECRET_ANSWER = "Rex-the-s3cret-dog"


def _library_objects(root: object, depth: int = 3) -> list[object]:
    """``root`` and every consigno_async object reachable through its attributes."""
    found: list[object] = []
    seen: set[int] = set()

    def walk(obj: object, level: int) -> None:
        if id(obj) in seen or not type(obj).__module__.startswith("consigno_async"):
            return
        seen.add(id(obj))
        found.append(obj)
        if level == 0:
            return
        names = list(getattr(obj, "__dict__", {}))
        for cls in type(obj).__mro__:
            names += list(getattr(cls, "__slots__", ()))
        for name in names:
            value = getattr(obj, name, None)
            for item in value if isinstance(value, list | tuple) else (value,):
                walk(item, level - 1)

    walk(root, depth)
    return found


async def test_no_repr_of_a_login_call_or_of_any_client_object_shows_a_secret(
    consigno_emulator: Emulator,
) -> None:
    emu = consigno_emulator
    creds = emu.credentials
    calls: list[Call] = []
    client = ConsignoClient(
        emu.base_url,
        username=creds.username,
        password=creds.password,
        client_id=creds.client_id,
        client_secret=creds.client_secret,
    )
    send = client._core.send

    async def recording_send(call: Call, handler: Any) -> Any:
        calls.append(call)
        return await send(call, handler)

    client._core.send = recording_send  # type: ignore[method-assign]
    async with client:
        workflow = await client.launch(builder("Repr", secret_answer=SECRET_ANSWER))
        await client.get_workflow(workflow.id)
        token = client._auth.peek()
        assert token is not None
        texts = [repr(obj) for obj in _library_objects(client)]
        texts += [repr(call) for call in calls]
    login = next(call for call in calls if call.operation == "login")
    assert login.json is not None
    assert creds.password.encode() in login.json  # the call does carry the secrets…
    assert login.headers is not None
    assert login.headers["X-Client-Secret"] == creds.client_secret
    assert repr(login) == (
        f"<Call POST /auth/login operation='login' json=<{len(login.json)} bytes> "
        f"headers={{'X-Client-Id': '{creds.client_id}', 'X-Client-Secret': '«redacted»'}}>"
    )
    assert any(call.operation == "create_workflow" for call in calls)
    assert len(texts) > len(calls) + 4  # client, core, token manager, redactor, policy, …
    for text in texts:  # …and no repr shows one
        for secret in (creds.password, creds.client_secret, token[0], SECRET_ANSWER):
            assert secret not in text, text


async def _login(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"msg": "OK", "response": {}}, headers={"X-Auth-Token": "tok-1.a.b"})


def test_short_secrets_are_scrubbed_as_words_and_exact_parameter_values() -> None:
    redactor = Redactor(["pw"])
    answers = ("Rex", "42")
    text = "answer Rex (not Rexford), code 42 of 1042; pw=pw, pwd"
    assert redactor.scrub(text, answers) == (
        f"answer {REDACTED} (not Rexford), code {REDACTED} of 1042; {REDACTED}={REDACTED}, pwd"
    )
    parameters = {
        "rule": "secret_answer",
        "given": "42",
        "secretAnswer": "anything at all",
        "Password": "",
        "nested": [{"value": "Rex"}, {"path": "actions[0].signer.email"}],
        "count": 42,
    }
    assert redactor.scrub_parameters(parameters, answers) == {
        "rule": "secret_answer",
        "given": REDACTED,
        "secretAnswer": REDACTED,
        "Password": REDACTED,
        "nested": [{"value": REDACTED}, {"path": "actions[0].signer.email"}],
        "count": 42,
    }


def test_replaced_tokens_are_dropped_after_the_grace_period() -> None:
    now = [1000.0]
    redactor = Redactor(["password", "client-secret"], clock=lambda: now[0])
    for n in range(100):  # a long-lived client: a rotation every 5 seconds
        redactor.add_token(f"token-{n:03d}")
        now[0] += 5
    assert len(redactor) == 2 + 1 + int(TOKEN_GRACE_SECONDS // 5)  # bounded, however long
    assert redactor.scrub("token-099 token-090") == f"{REDACTED} {REDACTED}"
    assert redactor.scrub("token-050") == "token-050"  # long superseded: forgotten
    for n in range(100, 200):  # a burst faster than the clock: bounded by count too
        redactor.add_token(f"token-{n:03d}")
    assert len(redactor) == 2 + 1 + 16
    redactor.retire_token()  # logout: the last token is kept for the grace only
    assert redactor.scrub("token-199") == REDACTED
    now[0] += TOKEN_GRACE_SECONDS + 1
    assert len(redactor) == 2
    assert redactor.scrub("token-199") == "token-199"


async def test_a_rotating_client_keeps_a_bounded_redaction_set(
    consigno_emulator: Emulator,
) -> None:
    emu = consigno_emulator
    now = [0.0]
    async with make_client(emu) as client:
        client._redactor._clock = lambda: now[0]
        workflow = await client.create_workflow(spec("Rotating", inline=True))
        seen = set()
        for _ in range(20):
            await emu.rotate_tokens()
            await client.get_workflow(workflow.id)
            held = client._auth.peek()
            assert held is not None
            seen.add(held[0])
            now[0] += 1
        assert len(seen) == 20  # every answer carried a new token, adopted each time
        assert len(client._redactor) == 1 + 1 + 16  # password, current token, 16 replaced
        now[0] += TOKEN_GRACE_SECONDS + 1
        assert len(client._redactor) == 2
        assert client._redactor.scrub(held[0]) == REDACTED


async def test_an_echoed_short_secret_answer_is_scrubbed_from_the_error() -> None:
    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        answer = body["actions"][0]["signer"]["secretAnswer"]
        return web.json_response(
            {
                "code": "4000",
                "msg": f"[4000 - VALIDATION_FAILED] answer {answer} is too short (Rexford ok)",
                "parameters": {
                    "rule": "secret_answer_length",
                    "value": answer,
                    "secretAnswer": answer,
                    "hint": f"'{answer}' has 3 letters",
                },
            },
            status=400,
        )

    app = web.Application()
    app.router.add_post("/api/v1/auth/login", _login)
    app.router.add_post("/api/v1/workflows", create)
    async with (
        serve(app) as base,
        ConsignoClient(base, username="u", password="p4ss") as client,
    ):
        with pytest.raises(BadRequestError) as info:
            await client.create_workflow(spec("Short", secret_answer="Rex", inline=True))
    error = info.value
    assert error.message == f"answer {REDACTED} is too short (Rexford ok)"
    assert error.parameters == {
        "rule": "secret_answer_length",
        "value": REDACTED,
        "secretAnswer": REDACTED,
        "hint": f"'{REDACTED}' has 3 letters",
    }
    text = f"{error!s} {error!r} {error.args}"
    assert "Rex " not in text
    assert "'Rex'" not in text
    assert client._redactor.secrets() == {"p4ss", "tok-1.a.b"}  # answers are not kept


async def test_a_huge_error_body_is_read_up_to_64_kib_and_the_connection_let_go() -> None:
    page = b"<!DOCTYPE html><html><body><h1>500 Internal Server Error</h1>" + b"x" * 1000
    endless: dict[str, Any] = {"written": 0, "disconnected": False}
    workflow_id = "0123456789abcdef01234567"

    async def endless_html(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=500, headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        try:
            await resp.write(page)
            for _ in range(100_000):  # 6.4 GB: a client reading it all would time out
                await resp.write(b"y" * 65536)
                endless["written"] += 65536
        except (ConnectionError, RuntimeError):
            endless["disconnected"] = True
        return resp

    async def big_with_length(request: web.Request) -> web.Response:
        return web.Response(status=503, body=page + b"z" * 4_000_000, content_type="text/html")

    async def json_at_the_limit(request: web.Request) -> web.Response:
        head = b'{"code":"5004","msg":"[5004 - ENTITY_NOT_FOUND] gone","parameters":{"pad":"'
        tail = b'"}}'
        body = head + b"p" * (MAX_ERROR_BODY - len(head) - len(tail)) + tail
        assert len(body) == MAX_ERROR_BODY
        return web.Response(status=404, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/api/v1/auth/login", _login)
    app.router.add_get(f"/api/v1/workflows/{workflow_id}", endless_html)
    app.router.add_delete(f"/api/v1/workflows/{workflow_id}", big_with_length)
    app.router.add_get("/api/v1/workflows/ffffffffffffffffffffffff", json_at_the_limit)
    retries: list[Any] = []
    async with (
        serve(app) as base,
        ConsignoClient(base, username="u", password="p", max_retries=0) as client,
    ):
        client._core.on_retry = retries.append
        async with asyncio.timeout(20):
            with pytest.raises(ResponseFormatError) as info:
                await client.get_workflow(workflow_id)
            for _ in range(100):  # the server sees the connection go within moments
                if endless["disconnected"]:
                    break
                await asyncio.sleep(0.02)
            with pytest.raises(ResponseFormatError) as announced:
                await client.delete_workflow(workflow_id)
            # At the limit exactly, the body is whole: the service's error, decoded.
            with pytest.raises(NotFoundError) as whole:
                await client.get_workflow("ffffffffffffffffffffffff")
    error = info.value
    assert error.status == 500
    assert f"over {MAX_ERROR_BODY} bytes" in str(error)
    assert error.snippet.startswith("<!DOCTYPE html>")
    assert len(error.snippet) <= 200
    assert endless["disconnected"]
    assert endless["written"] < 64 * 65536  # the client stopped reading near 64 KiB
    assert announced.value.status == 503
    assert f"over {MAX_ERROR_BODY} bytes" in str(announced.value)
    assert whole.value.message == "gone"
    assert len(whole.value.parameters["pad"]) > 60_000
    assert retries == []


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"concurrency": 0}, InvalidArgumentError, "concurrency= takes an int of at least 1"),
        ({"concurrency": "8"}, InvalidArgumentTypeError, "concurrency= takes an int"),
        ({"max_retries": -1}, InvalidArgumentError, "max_retries= takes an int of at least 0"),
        ({"max_retries": 1.5}, InvalidArgumentTypeError, "max_retries="),
        ({"timeout": 0}, InvalidArgumentError, "timeout= takes a positive number"),
        ({"timeout": "30"}, InvalidArgumentError, "timeout="),
        ({"client_id": "platform"}, InvalidArgumentError, "pass both or neither"),
        ({"client_secret": "cs-s3cret-value"}, InvalidArgumentError, "pass both or neither"),
    ],
)
def test_constructor_arguments_raise_a_typed_error_without_secrets(
    kwargs: dict[str, Any], error: type[Exception], needle: str
) -> None:
    with pytest.raises(error) as info:
        ConsignoClient(
            "http://127.0.0.1:9/api/v1", username="u", password="pw-s3cret-value", **kwargs
        )
    assert isinstance(info.value, ValueError)  # InvalidArgumentError is a ValueError
    assert needle in str(info.value)
    assert "s3cret" not in f"{info.value!s} {info.value!r}"


async def test_bad_ids_raise_a_typed_error_before_any_request(
    consigno_emulator: Emulator,
) -> None:
    async with make_client(consigno_emulator) as client:
        for bad in ("../../auth/logout", "0123456789ABCDEF01234567", "s3cret-id" * 3, ""):
            with pytest.raises(InvalidArgumentError) as info:
                await client.get_workflow(bad)
            assert "24 lowercase hexadecimal characters" in str(info.value)
            assert f"got {len(bad)} characters" in str(info.value)
            if bad:
                assert bad not in str(info.value)
        with pytest.raises(InvalidArgumentTypeError, match="must be a str, not NoneType"):
            await client.delete_workflow(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError):  # also a TypeError
            await client.download_documents(42, "out/")  # type: ignore[arg-type]
    stats = await consigno_emulator.stats()
    assert stats["requests"] == {}
