"""Tokens against the emulator: lazy login, idle expiry, forced expiry, rotation, loginAs."""

from __future__ import annotations

import asyncio

import pytest
from client_support import login_as_client, make_client, request_count, spec

from consigno_async import (
    AuthenticationError,
    ConsignoClient,
    PermissionDeniedError,
    Workflow,
)
from consigno_async.emulator import Emulator

GET_ONE = "GET /api/v1/workflows/{id}"


async def _one_workflow(client: ConsignoClient) -> Workflow:
    return await client.create_workflow(spec("Tokens", inline=True))


async def test_login_is_lazy_and_happens_once(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        assert (await consigno_emulator.stats())["logins"] == 0
        await asyncio.gather(*(client.list_workflow_page() for _ in range(20)))
    assert (await consigno_emulator.stats())["logins"] == 1


async def test_idle_expiry_on_the_server_clock_causes_one_relogin_and_a_replay(
    consigno_emulator: Emulator,
) -> None:
    async with make_client(consigno_emulator) as client:
        wf = await _one_workflow(client)
        await consigno_emulator.advance_clock(31 * 60)  # the token died of inactivity
        assert (await client.get_workflow(wf.id)).id == wf.id
    stats = await consigno_emulator.stats()
    assert stats["logins"] == 2
    assert request_count(stats, GET_ONE, 401) == 1
    assert request_count(stats, GET_ONE, 200) == 1


async def test_proactive_relogin_before_the_idle_limit(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        wf = await _one_workflow(client)
        # 26 minutes pass for both sides: the token is still valid on the server, but the
        # client is inside its safety margin and logs in again before using it.
        clock = client._auth._clock
        client._auth._clock = lambda: clock() + 26 * 60
        await consigno_emulator.advance_clock(26 * 60)
        await client.get_workflow(wf.id)
    stats = await consigno_emulator.stats()
    assert stats["logins"] == 2
    assert request_count(stats, GET_ONE, 401) == 0


async def test_forced_expiry_under_100_concurrent_calls_causes_exactly_one_login(
    consigno_emulator: Emulator,
) -> None:
    async with make_client(consigno_emulator, concurrency=16) as client:
        wf = await _one_workflow(client)
        await consigno_emulator.expire_tokens()
        results = await asyncio.gather(*(client.get_workflow(wf.id) for _ in range(100)))
    assert all(r.id == wf.id for r in results)
    stats = await consigno_emulator.stats()
    assert stats["logins"] == 2  # the first one, and exactly one after the expiry
    assert request_count(stats, GET_ONE, 200) == 100


async def test_rotated_token_is_adopted_and_survives_the_old_ones_end(
    consigno_emulator: Emulator,
) -> None:
    async with make_client(consigno_emulator) as client:
        wf = await _one_workflow(client)
        first = client._auth.peek()
        await consigno_emulator.rotate_tokens()
        await client.get_workflow(wf.id)  # this answer carries the rotated token
        second = client._auth.peek()
        assert first is not None
        assert second is not None
        assert second[0] != first[0]
        await consigno_emulator.advance_clock(60)  # past the old token's 30 s grace
        await client.get_workflow(wf.id)
    stats = await consigno_emulator.stats()
    assert stats["logins"] == 1
    assert stats["tokens_rotated"] >= 1
    assert request_count(stats, GET_ONE, 401) == 0


async def test_exit_and_logout_forget_the_token(consigno_emulator: Emulator) -> None:
    client = make_client(consigno_emulator)
    async with client:
        await client.list_workflow_page()
        assert client._auth.peek() is not None
    assert client._auth.peek() is None
    assert client.user is None


async def test_bad_credentials_raise_authentication_error_without_the_password(
    consigno_emulator: Emulator,
) -> None:
    password = "wrong-password-xyz"
    async with ConsignoClient(
        consigno_emulator.base_url, username="demo", password=password
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.list_workflow_page()
    assert info.value.code == "1001"
    assert password not in str(info.value)
    assert password not in repr(info.value)
    assert password not in repr(client)
    stats = await consigno_emulator.stats()
    assert request_count(stats, "POST /api/v1/auth/login") == 1  # not retried


async def test_login_as_with_the_platform_key(consigno_emulator: Emulator) -> None:
    creds = consigno_emulator.credentials
    async with login_as_client(consigno_emulator) as client:
        await client.list_workflow_page()
        assert client.user == creds.username
        assert creds.client_secret not in repr(client)
    await consigno_emulator.settings(login_as_allowed=False)
    async with login_as_client(consigno_emulator) as client:
        with pytest.raises(PermissionDeniedError) as info:
            await client.list_workflow_page()
    assert info.value.code == "1004"


def test_client_id_and_secret_go_together() -> None:
    with pytest.raises(ValueError, match="together"):
        ConsignoClient("http://127.0.0.1:1/api/v1", username="u", password="p", client_id="x")


async def test_bad_credentials_under_concurrency_cause_one_login_attempt(
    consigno_emulator: Emulator,
) -> None:
    async with ConsignoClient(consigno_emulator.base_url, username="demo", password="nope") as c:
        results = await asyncio.gather(
            *(c.list_workflow_page() for _ in range(20)), return_exceptions=True
        )
    assert all(isinstance(r, AuthenticationError) for r in results)
    stats = await consigno_emulator.stats()
    assert request_count(stats, "POST /api/v1/auth/login") == 1


async def test_logout_of_a_dead_token_still_forgets_it(consigno_emulator: Emulator) -> None:
    async with make_client(consigno_emulator) as client:
        await client.list_workflow_page()
        await consigno_emulator.expire_tokens()
        await client.logout()  # the service answers 401: logged out all the same
        assert client._auth.peek() is None
