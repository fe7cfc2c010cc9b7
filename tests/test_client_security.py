"""
Security properties of the client that need their own staging: reprs, error redaction, error
bodies too large to read, TLS verification and argument checks.
"""

from __future__ import annotations

from typing import Any

from client_support import builder

from consigno_async import ConsignoClient
from consigno_async._http import Call
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
        "headers=['X-Client-Id', 'X-Client-Secret']>"
    )
    assert any(call.operation == "create_workflow" for call in calls)
    assert len(texts) > len(calls) + 4  # client, core, token manager, redactor, policy, …
    for text in texts:  # …and no repr shows one
        for secret in (creds.password, creds.client_secret, token[0], SECRET_ANSWER):
            assert secret not in text, text
