"""Emulator auth over real HTTP: login modes, token transports, idle expiry, rotation, logout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import jwt
import pytest
import pytest_asyncio
from emulator_support import PDF, body, call, create, login, upload

from consigno_async.emulator import Emulator


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_login_returns_a_jwt_with_the_documented_claims(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "demo"
    assert claims["loginAs"] is False
    assert claims["pv"] == 1
    assert claims["idle"] == 1800
    assert claims["exp"] - claims["iat"] == 12 * 3600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


async def test_login_body_and_bad_credentials(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = f"{consigno_emulator.base_url}/auth/login"
    status, data, headers = await call(
        http, "POST", url, json={"username": "demo", "password": "demo-password", "tenant": "t1"}
    )
    assert status == 200
    assert data == {
        "msg": "OK",
        "parameters": {},
        "response": {"username": "demo", "tenant": "t1", "loginAs": False},
    }
    status, data, headers = await call(
        http, "POST", url, json={"username": "demo", "password": "wrong"}
    )
    assert status == 401
    assert data["code"] == "1001"
    assert data["msg"].startswith("[1001 - AUTHENTICATION_FAILED]")
    assert "X-Auth-Token" not in headers
    assert "wrong" not in str(data)
    status, data, _ = await call(http, "POST", url, json={"username": "demo", "password": 3})
    assert (status, data["code"], data["parameters"]) == (400, "4002", {"field": "password"})
    status, data, _ = await call(http, "POST", url, data=b"not json")
    assert (status, data["code"]) == (400, "4002")
    stats = await consigno_emulator.stats()
    assert stats["logins"] == 1
    assert stats["login_failures"] == 1


async def test_platform_and_login_as(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    creds = consigno_emulator.credentials
    url = f"{consigno_emulator.base_url}/auth/login"
    platform = {"username": creds.client_id, "password": creds.client_secret}
    status, data, headers = await call(http, "POST", url, json=platform)
    assert status == 200
    assert jwt.decode(headers["X-Auth-Token"], options={"verify_signature": False})["sub"] == (
        creds.client_id
    )
    keys = {"X-Client-Id": creds.client_id, "X-Client-Secret": creds.client_secret}
    user = {"username": creds.username, "password": creds.password}
    status, data, headers = await call(http, "POST", url, json=user, headers=keys)
    assert status == 200
    claims = jwt.decode(headers["X-Auth-Token"], options={"verify_signature": False})
    assert claims["loginAs"] is True
    bad_keys = {"X-Client-Id": creds.client_id, "X-Client-Secret": "nope"}
    status, data, _ = await call(http, "POST", url, json=user, headers=bad_keys)
    assert (status, data["code"]) == (401, "1001")
    await consigno_emulator.settings(login_as_allowed=False)
    status, data, _ = await call(http, "POST", url, json=user, headers=keys)
    assert (status, data["code"]) == (403, "1004")


async def test_three_token_transports(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    base = consigno_emulator.base_url
    workflow = await create(
        http, consigno_emulator, token, body([await upload(http, consigno_emulator, token)])
    )
    url = f"{base}/workflows/{workflow['id']}"
    status, data, _ = await call(http, "GET", url, token)
    assert status == 200
    assert data["response"]["id"] == workflow["id"]
    status, data, _ = await call(http, "GET", url, params={"X-Auth-Token": token})
    assert status == 200
    await consigno_emulator.sign(workflow["id"])
    status, _, headers = await call(http, "POST", f"{url}/documents", data={"X-Auth-Token": token})
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    status, data, _ = await call(http, "GET", url)
    assert (status, data["code"]) == (401, "1003")
    status, data, _ = await call(http, "GET", url, "not-a-token")
    assert (status, data["code"]) == (401, "1003")
    forged = jwt.encode(
        {"sub": "demo"}, "another-key-that-is-long-enough-for-hs256", algorithm="HS256"
    )
    status, data, _ = await call(http, "GET", url, forged)
    assert (status, data["code"]) == (401, "1003")


async def test_idle_expiry_slides_with_use(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    url = f"{consigno_emulator.base_url}/workflows"
    await consigno_emulator.advance_clock(1700)
    assert (await call(http, "GET", url, token))[0] == 200
    await consigno_emulator.advance_clock(1700)  # 3400 s since login, 1700 s since last use
    assert (await call(http, "GET", url, token))[0] == 200
    await consigno_emulator.advance_clock(1801)
    status, data, _ = await call(http, "GET", url, token)
    assert (status, data["code"]) == (401, "1002")
    assert data["msg"].startswith("[1002 - TOKEN_EXPIRED]")


async def test_verify_logout_and_forced_expiry(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    base = consigno_emulator.base_url
    token = await login(http, consigno_emulator)
    assert (await call(http, "HEAD", f"{base}/auth", token))[0] == 200
    assert (await call(http, "HEAD", f"{base}/auth"))[0] == 401
    status, data, _ = await call(http, "POST", f"{base}/auth/logout", token)
    assert (status, data["msg"]) == (200, "OK")
    assert (await call(http, "HEAD", f"{base}/auth", token))[0] == 401
    other = await login(http, consigno_emulator)
    assert await consigno_emulator.expire_tokens() == 1
    status, data, _ = await call(http, "GET", f"{base}/workflows", other)
    assert (status, data["code"]) == (401, "1002")


async def test_rotation_gives_a_new_token_and_ends_the_old_after_grace(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = f"{consigno_emulator.base_url}/workflows"
    old = await login(http, consigno_emulator)
    status, _, headers = await call(http, "GET", url, old)
    assert status == 200
    assert "X-Auth-Token" not in headers
    await consigno_emulator.rotate_tokens()
    status, _, headers = await call(http, "GET", url, old)
    assert status == 200
    new = headers["X-Auth-Token"]
    assert new != old
    claims = jwt.decode(new, options={"verify_signature": False})
    assert claims["pv"] == 2
    # Within the grace the old token still works (and points at the same replacement).
    await consigno_emulator.advance_clock(20)
    status, _, headers = await call(http, "GET", url, old)
    assert (status, headers["X-Auth-Token"]) == (200, new)
    status, _, headers = await call(http, "GET", url, new)
    assert status == 200
    assert "X-Auth-Token" not in headers
    await consigno_emulator.advance_clock(11)
    status, data, _ = await call(http, "GET", url, old)
    assert (status, data["code"]) == (401, "1003")
    assert (await call(http, "GET", url, new))[0] == 200
    assert (await consigno_emulator.stats())["tokens_rotated"] == 1


async def test_rotation_header_also_on_errors(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    token = await login(http, consigno_emulator)
    await consigno_emulator.rotate_tokens()
    url = f"{consigno_emulator.base_url}/workflows/{'0' * 24}"
    status, data, headers = await call(http, "GET", url, token)
    assert (status, data["code"]) == (404, "5004")
    assert headers["X-Auth-Token"] != token


@pytest.mark.parametrize("path", ["/workflows", "/documents", "/workflows/" + "a" * 24])
async def test_every_api_route_needs_a_token(
    consigno_emulator: Emulator, http: aiohttp.ClientSession, path: str
) -> None:
    method = "POST" if path == "/documents" else "GET"
    status, data, _ = await call(http, method, consigno_emulator.base_url + path, data=PDF)
    assert (status, data["code"]) == (401, "1003")


async def test_forced_expiry_also_ends_tokens_in_their_rotation_grace(
    consigno_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    url = f"{consigno_emulator.base_url}/workflows"
    old = await login(http, consigno_emulator)
    await consigno_emulator.rotate_tokens()
    _, _, headers = await call(http, "GET", url, old)
    new = headers["X-Auth-Token"]
    await consigno_emulator.expire_tokens()
    for token in (old, new):
        status, data, _ = await call(http, "GET", url, token)
        assert (status, data["code"]) == (401, "1002")
