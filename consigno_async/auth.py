"""
Client-side token management: lazy login, rotation, idle expiry, single-flight re-login.

The service authenticates every call with a JWT sent in ``X-Auth-Token``. Its rules, and what
:class:`TokenManager` does about each:

- **Lazy login.** No token until the first call needs one; then exactly one login, however
  many tasks asked at the same moment.
- **Rotation.** Any response may carry a new token in ``X-Auth-Token``; the new one must be
  used from then on. :meth:`TokenManager.adopt` takes it, unless the token it would replace
  is no longer the current one (a late response must not bring back an older token).
- **Idle expiry.** A token dies after 30 minutes without use (the ``idle`` claim, when the
  token has one, gives the exact limit). The manager remembers when the token was last used
  and logs in again *before* the limit would bite, with a safety margin.
- **Reactive re-login.** If the service still answers 401 for an expired or unknown token,
  the request's caller asks :meth:`TokenManager.refresh` with the *generation* of the token it
  used. Under one lock, the first caller logs in; every other caller that used the same
  (now replaced) generation finds a newer token and simply retries with it. A hundred
  concurrent requests that meet an expired token cause one login.

The JWT is decoded without verifying its signature (the client does not have the key) only to
read the user, the absolute expiry and the idle limit; it is otherwise opaque. The token is
never part of a repr, a log line or an exception.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import jwt

from ._logging import logger

__all__ = ["DEFAULT_IDLE_LIMIT", "TokenClaims", "TokenManager", "decode_claims"]

_log = logger.getChild("auth")

#: The service's documented inactivity limit, used when the token has no ``idle`` claim.
DEFAULT_IDLE_LIMIT: Final = 1800.0

#: Log in again this long before the idle limit or the absolute expiry would bite
#: (the 25-minute rule of the reference Node client, made relative to the limit).
DEFAULT_MARGIN: Final = 300.0

LoginFn = Callable[[], Awaitable[str]]


class TokenClaims:
    """
    What the client reads from a token: the user, the absolute expiry and the idle limit.

    >>> TokenClaims.unknown().idle_limit
    1800.0
    """

    __slots__ = ("expires_at", "idle_limit", "profile_version", "user")

    def __init__(
        self,
        user: str | None,
        expires_at: float | None,
        idle_limit: float,
        profile_version: int | None = None,
    ) -> None:
        self.user = user
        self.expires_at = expires_at
        self.idle_limit = idle_limit
        self.profile_version = profile_version

    @classmethod
    def unknown(cls) -> TokenClaims:
        """Claims of an opaque token: no user, no absolute expiry, the documented idle limit."""
        return cls(None, None, DEFAULT_IDLE_LIMIT)

    def __repr__(self) -> str:
        return (
            f"TokenClaims(user={self.user!r}, expires_at={self.expires_at!r}, "
            f"idle_limit={self.idle_limit!r}, profile_version={self.profile_version!r})"
        )


def decode_claims(token: str) -> TokenClaims:
    """
    Read the claims of a JWT without verifying it; an unreadable token gets default claims.

    Only ``sub``, ``exp``, ``idle`` and ``pv`` are used.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token, options={"verify_signature": False, "verify_exp": False}
        )
    except jwt.PyJWTError:
        return TokenClaims.unknown()
    sub = claims.get("sub")
    exp = claims.get("exp")
    idle = claims.get("idle")
    pv = claims.get("pv")
    return TokenClaims(
        user=sub if isinstance(sub, str) else None,
        expires_at=float(exp) if isinstance(exp, int | float) else None,
        idle_limit=float(idle)
        if isinstance(idle, int | float) and idle > 0
        else DEFAULT_IDLE_LIMIT,
        profile_version=pv if isinstance(pv, int) else None,
    )


class TokenManager:
    """
    Holds the current token and decides when to log in.

    ``login`` is the coroutine function that performs the login call and returns the new
    token; the manager never does I/O itself, which keeps it testable with a fake clock.

    Args:
        clock: monotonic seconds, for the idle limit (injectable for tests).
        wall: epoch seconds, for the token's absolute ``exp``.
        margin: how long before a limit the token is considered stale.
    """

    __slots__ = (
        "_attempts",
        "_claims",
        "_clock",
        "_expiry_threshold",
        "_failure",
        "_failure_attempt",
        "_generation",
        "_held",
        "_idle_threshold",
        "_last_used",
        "_lock",
        "_margin",
        "_token",
        "_wall",
        "logins",
    )

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        self._token: str | None = None
        self._held: tuple[str, int] | None = None
        self._idle_threshold = 0.0
        self._expiry_threshold = math.inf
        self._claims = TokenClaims.unknown()
        self._generation = 0
        self._last_used = 0.0
        self._lock = asyncio.Lock()
        self._clock = clock
        self._wall = wall
        self._margin = margin
        self._attempts = 0
        self._failure: Exception | None = None
        self._failure_attempt = 0
        #: How many logins this manager performed (for diagnostics and tests).
        self.logins = 0

    @property
    def generation(self) -> int:
        """Increases each time the token changes (login, rotation or forget)."""
        return self._generation

    @property
    def user(self) -> str | None:
        """The user the current token was issued to (``sub`` claim), if known."""
        return self._claims.user if self._token else None

    @property
    def has_token(self) -> bool:
        """True while a token is held (it may still be stale)."""
        return self._token is not None

    def current(self) -> tuple[str, int] | None:
        """The token and its generation if it can be used now, else None (log in first)."""
        # is_stale(), with the thresholds computed when the token was installed (every call
        # comes through here).
        held = self._held
        if held is None or self._clock() - self._last_used >= self._idle_threshold:
            return None
        if self._wall() >= self._expiry_threshold:
            return None
        return held

    def peek(self) -> tuple[str, int] | None:
        """The token and its generation even if stale (for logout and verify), or None."""
        return self._held

    def is_stale(self) -> bool:
        """True when the idle limit or the absolute expiry is within the safety margin."""
        claims = self._claims
        margin = min(self._margin, claims.idle_limit / 4)
        if self._clock() - self._last_used >= claims.idle_limit - margin:
            return True
        return claims.expires_at is not None and self._wall() >= claims.expires_at - margin

    async def obtain(self, login: LoginFn) -> tuple[str, int]:
        """
        A usable token and its generation, logging in (single-flight) when there is none or
        the one held is about to expire.
        """
        current = self.current()
        if current is not None:
            return current
        attempts = self._awaited_attempt()
        async with self._lock:
            # Another task may have logged in while this one waited for the lock.
            current = self.current()
            if current is not None:
                return current
            self._raise_failure_since(attempts)
            return await self._login(login, reason="no usable token")

    async def refresh(self, seen_generation: int, login: LoginFn) -> tuple[str, int]:
        """
        Called after a 401 for a token of ``seen_generation``: log in again unless someone
        already replaced that token, and return the token to retry with.
        """
        attempts = self._awaited_attempt()
        async with self._lock:
            token = self._token
            if token is not None and self._generation != seen_generation and not self.is_stale():
                return token, self._generation
            self._raise_failure_since(attempts)
            return await self._login(login, reason="token refused")

    def _awaited_attempt(self) -> int:
        # The login attempt that will answer a caller arriving now: the one in flight, if the
        # lock is held, else the next one.
        return self._attempts if self._lock.locked() else self._attempts + 1

    def _raise_failure_since(self, attempt: int) -> None:
        # The login this task waited for failed (bad credentials, service down): every waiter
        # gets that error, instead of each trying again and hammering the service.
        if self._failure is not None and self._failure_attempt >= attempt:
            raise self._failure

    async def _login(self, login: LoginFn, *, reason: str) -> tuple[str, int]:
        if _log.isEnabledFor(10):
            _log.debug("logging in (%s)", reason)
        self.forget()
        started = self._clock()
        self._attempts += 1
        try:
            token = await login()
        except Exception as exc:
            self._failure, self._failure_attempt = exc, self._attempts
            raise
        self._failure = None
        self.logins += 1
        self._install(token, started)
        if _log.isEnabledFor(20):
            _log.info("logged in as %s", self._claims.user or "<unknown user>")
        return token, self._generation

    def adopt(self, token: str, sent_generation: int) -> bool:
        """
        Take a token a response carried, if it replaces the one the request was sent with.

        Returns True when the token changed. A response to a request sent with an older
        generation is ignored: the current token is newer than the one it rotated.
        """
        if sent_generation != self._generation or token == self._token or not token:
            return False
        self._install(token, self._clock())
        if _log.isEnabledFor(10):
            _log.debug("adopted a rotated token (profile version %s)", self._claims.profile_version)
        return True

    def touch(self, sent_at: float) -> None:
        """Record a use the service accepted; ``sent_at`` is when the request left (monotonic)."""
        if sent_at > self._last_used:
            self._last_used = sent_at

    def forget(self) -> None:
        """Drop the token (logout, close, before a new login)."""
        if self._token is not None:
            self._token = None
            self._held = None
            self._claims = TokenClaims.unknown()
            self._generation += 1

    def now(self) -> float:
        """The manager's monotonic clock (what :meth:`touch` expects)."""
        return self._clock()

    def _install(self, token: str, used_at: float) -> None:
        self._token = token
        claims = self._claims = decode_claims(token)
        self._generation += 1
        self._held = (token, self._generation)
        self._last_used = used_at
        # The same arithmetic as is_stale(), done once per token.
        margin = min(self._margin, claims.idle_limit / 4)
        self._idle_threshold = claims.idle_limit - margin
        expires_at = claims.expires_at
        self._expiry_threshold = math.inf if expires_at is None else expires_at - margin

    def __repr__(self) -> str:
        state = "no token" if self._token is None else f"token «redacted» gen {self._generation}"
        return f"<TokenManager {state}, user={self.user!r}, logins={self.logins}>"
