"""The client-side token manager, with a fake clock and a fake login (no network)."""

from __future__ import annotations

import asyncio

import jwt
import pytest

from consigno_async.auth import DEFAULT_IDLE_LIMIT, TokenManager, decode_claims

KEY = "test-key-not-the-emulators-0123456789"


def make_token(**claims: object) -> str:
    base: dict[str, object] = {"sub": "demo", "pv": 1, "iat": 1_000, "exp": 10**10, "idle": 1800}
    base.update(claims)
    return jwt.encode(base, KEY, algorithm="HS256")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Login:
    """A login coroutine that counts its calls and hands out distinct tokens."""

    def __init__(self, delay: float = 0.01) -> None:
        self.calls = 0
        self.delay = delay

    async def __call__(self) -> str:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return make_token(jti=str(self.calls))


def test_decode_claims_reads_user_expiry_and_idle_limit_without_the_key() -> None:
    claims = decode_claims(make_token(sub="alice", exp=2_000, idle=600, pv=3))
    assert (claims.user, claims.expires_at, claims.idle_limit, claims.profile_version) == (
        "alice",
        2000.0,
        600.0,
        3,
    )


def test_an_opaque_token_gets_default_claims() -> None:
    claims = decode_claims("not-a-jwt")
    assert claims.user is None
    assert claims.expires_at is None
    assert claims.idle_limit == DEFAULT_IDLE_LIMIT


async def test_lazy_login_is_single_flight_for_100_concurrent_callers() -> None:
    manager, login = TokenManager(), Login()
    results = await asyncio.gather(*(manager.obtain(login) for _ in range(100)))
    assert login.calls == 1
    assert len({token for token, _ in results}) == 1
    assert manager.user == "demo"


async def test_refresh_after_401_logs_in_once_for_all_holders_of_the_dead_token() -> None:
    manager, login = TokenManager(), Login()
    _, generation = await manager.obtain(login)
    results = await asyncio.gather(*(manager.refresh(generation, login) for _ in range(100)))
    assert login.calls == 2  # the first login, then exactly one re-login
    assert len({gen for _, gen in results}) == 1
    assert results[0][1] != generation


async def test_proactive_relogin_before_the_idle_limit_of_the_claim() -> None:
    clock = Clock()
    manager, login = TokenManager(clock=clock, margin=300), Login()
    token, _ = await manager.obtain(login)
    clock.now += 1400  # idle 1800 s, margin 300 s: still good at 1400 s
    assert manager.current() == (token, manager.generation)
    manager.touch(clock.now)  # a successful use slides the window
    clock.now += 1400
    assert manager.current() is not None
    clock.now += 200  # 1600 s since the last use: within the margin, log in first
    assert manager.current() is None
    new_token, _ = await manager.obtain(login)
    assert new_token != token
    assert login.calls == 2


async def test_short_idle_claim_is_honoured() -> None:
    clock = Clock()
    manager = TokenManager(clock=clock)

    async def login() -> str:
        return make_token(idle=60)

    await manager.obtain(login)
    clock.now += 44  # margin is capped at a quarter of the limit (15 s)
    assert manager.current() is not None
    clock.now += 2
    assert manager.current() is None


async def test_absolute_expiry_forces_a_login() -> None:
    wall = Clock()
    wall.now = 5_000.0
    manager = TokenManager(wall=wall, margin=300)

    async def login() -> str:
        return make_token(exp=wall.now + 1000)

    await manager.obtain(login)
    wall.now += 800
    assert manager.current() is None


async def test_rotation_is_adopted_only_for_the_current_generation() -> None:
    manager, login = TokenManager(), Login()
    token, generation = await manager.obtain(login)
    rotated = make_token(pv=2)
    assert manager.adopt(rotated, generation)
    assert manager.peek() == (rotated, generation + 1)
    # A late response to a request sent with the old token must not bring an old one back.
    assert not manager.adopt(make_token(pv=1, jti="late"), generation)
    assert not manager.adopt(rotated, generation + 1)  # same token: no change
    assert not manager.adopt("", generation + 1)
    assert manager.peek() == (rotated, generation + 1)
    assert token != rotated


async def test_forget_drops_the_token_and_bumps_the_generation() -> None:
    manager, login = TokenManager(), Login()
    _, generation = await manager.obtain(login)
    manager.forget()
    assert manager.peek() is None
    assert not manager.has_token
    assert manager.generation == generation + 1
    assert manager.user is None


async def test_cancelled_login_leaves_the_lock_free_and_no_token() -> None:
    manager, slow = TokenManager(), Login(delay=10)
    task = asyncio.create_task(manager.obtain(slow))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not manager.has_token
    fast = Login()
    await asyncio.wait_for(manager.obtain(fast), 1)
    assert fast.calls == 1


async def test_a_failed_login_propagates_and_the_next_caller_tries_again() -> None:
    manager = TokenManager()

    async def failing() -> str:
        raise RuntimeError("service down")

    with pytest.raises(RuntimeError):
        await manager.obtain(failing)
    await manager.obtain(Login())
    assert manager.has_token


async def test_repr_never_shows_the_token() -> None:
    manager, login = TokenManager(), Login()
    token, _ = await manager.obtain(login)
    assert token not in repr(manager)
    assert "redacted" in repr(manager)


async def test_a_failed_login_is_shared_by_the_callers_that_waited_for_it() -> None:
    manager = TokenManager()
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise PermissionError("bad credentials")

    results = await asyncio.gather(
        *(manager.obtain(failing) for _ in range(100)), return_exceptions=True
    )
    assert calls == 1
    assert all(isinstance(r, PermissionError) for r in results)
    # A later caller (not waiting on that attempt) tries again.
    with pytest.raises(PermissionError):
        await manager.obtain(failing)
    assert calls == 2
