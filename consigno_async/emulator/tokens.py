"""
Credentials, login, and the emulator's tokens: HS256 JWTs with idle expiry and rotation.

A token carries ``sub`` (user), ``tenant``, ``loginAs``, ``pv`` (the mutable profile version),
``jti``, ``iat``, ``exp`` (iat + 12 h) and ``idle`` (1800 s). It stays valid while used at
least every 30 minutes of the emulator's clock. After a rotation (``POST
/_emulator/tokens/rotate``) the next response to each holder carries a new token in
``X-Auth-Token``; the old one keeps working for a 30-second grace, then answers 401.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import jwt

from .codes import EmulatorError
from .state import Clock, Stats

__all__ = ["Credentials", "Session", "TokenService"]

IDLE_SECONDS = 1800
LIFETIME_SECONDS = 12 * 3600
ROTATION_GRACE_SECONDS = 30.0

#: Called with every token any emulator in this process issues (login or rotation). Empty by
#: default; the test suite registers here to check that no token ever reaches a log line.
TOKEN_OBSERVERS: list[Callable[[str], None]] = []


@attrs.frozen
class Credentials:
    """
    The emulator's accounts: a user (``username``/``password``, optional ``tenant``) and a
    platform key (``client_id``/``client_secret``) allowed to use loginAs.

    Platform login sends the key as username and the secret as password; user login sends the
    user's name and password, and loginAs adds the ``X-Client-Id``/``X-Client-Secret`` headers.
    The repr hides the password and the client secret::

        >>> Credentials()
        Credentials(username='demo', tenant=None, client_id='demo-platform')
    """

    username: str = "demo"
    password: str = attrs.field(default="demo-password", repr=False)
    tenant: str | None = None
    client_id: str = "demo-platform"
    client_secret: str = attrs.field(default="demo-platform-secret", repr=False)


@attrs.define
class Session:
    """What the emulator remembers of one issued token."""

    jti: str
    user: str
    tenant: str | None
    login_as: bool
    pv: int
    issued: float
    last_used: float
    expired: bool = False
    revoked: bool = False
    superseded_at: float | None = None
    replacement: str | None = attrs.field(default=None, repr=False)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class TokenService:
    """Issues, checks, rotates and expires tokens on the emulator's clock."""

    def __init__(self, credentials: Credentials, clock: Clock, stats: Stats) -> None:
        self.credentials = credentials
        self.clock = clock
        self.stats = stats
        self.key = secrets.token_bytes(32)
        self.login_as_allowed = True
        self.sessions: dict[str, Session] = {}
        self.profile_versions: dict[str, int] = {}

    def reset(self, clock: Clock, stats: Stats) -> None:
        """Forget every token (after a store reset)."""
        self.clock = clock
        self.stats = stats
        self.sessions.clear()
        self.profile_versions.clear()
        self.login_as_allowed = True

    # -- login -------------------------------------------------------------------------------

    def login(
        self, username: str, password: str, tenant: str | None, headers: Mapping[str, str]
    ) -> tuple[str, Session]:
        """Check credentials and issue a token; raises :class:`EmulatorError` 1001 or 1004."""
        creds = self.credentials
        client_id = headers.get("X-Client-Id")
        client_secret = headers.get("X-Client-Secret")
        if creds.tenant is not None and tenant is not None and tenant != creds.tenant:
            self.stats.counters["login_failures"] += 1
            raise EmulatorError("1001", "Bad credentials")
        if client_id is not None or client_secret is not None:
            if not (
                client_id is not None
                and client_secret is not None
                and _same(client_id, creds.client_id)
                and _same(client_secret, creds.client_secret)
            ):
                self.stats.counters["login_failures"] += 1
                raise EmulatorError("1001", "Bad credentials")
            if not self.login_as_allowed:
                raise EmulatorError("1004", "This platform is not authorized to use loginAs")
            login_as = True
        else:
            login_as = False
        if _same(username, creds.username) and _same(password, creds.password):
            user = creds.username
        elif (
            not login_as
            and _same(username, creds.client_id)
            and _same(password, creds.client_secret)
        ):
            user = creds.client_id
        else:
            self.stats.counters["login_failures"] += 1
            raise EmulatorError("1001", "Bad credentials")
        self.stats.counters["logins"] += 1
        return self.issue(user, tenant if tenant is not None else creds.tenant, login_as)

    def issue(self, user: str, tenant: str | None, login_as: bool) -> tuple[str, Session]:
        """Sign a new JWT for ``user`` and remember its session."""
        now = self.clock.now()
        pv = self.profile_versions.setdefault(user, 1)
        jti = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "sub": user,
            "tenant": tenant,
            "loginAs": login_as,
            "pv": pv,
            "jti": jti,
            "iat": int(now),
            "exp": int(now) + LIFETIME_SECONDS,
            "idle": IDLE_SECONDS,
        }
        token = jwt.encode(claims, self.key, algorithm="HS256")
        session = Session(jti, user, tenant, login_as, pv, now, now)
        self.sessions[token] = session
        self.stats.counters["tokens_issued"] += 1
        for observer in TOKEN_OBSERVERS:
            observer(token)
        return token, session

    # -- checking ----------------------------------------------------------------------------

    def authenticate(self, token: str | None) -> tuple[Session, str | None]:
        """
        Check a token; return its session and, when the holder must switch, the new token.

        Raises :class:`EmulatorError` 1003 (missing, unknown, logged out, superseded past its
        grace) or 1002 (idle too long, past ``exp``, or expired by control).
        """
        if not token:
            raise EmulatorError("1003", "Missing X-Auth-Token")
        session = self.sessions.get(token)
        if session is None:
            self._check_signature(token)
            raise EmulatorError("1003", "Unknown token")
        now = self.clock.now()
        if session.revoked:
            raise EmulatorError("1003", "The token was logged out")
        if session.expired:
            raise EmulatorError("1002", "The token expired")
        if session.superseded_at is not None:
            if now > session.superseded_at + ROTATION_GRACE_SECONDS:
                raise EmulatorError("1003", "The token was replaced by a newer one")
            return session, session.replacement
        if now - session.last_used > IDLE_SECONDS or now > session.issued + LIFETIME_SECONDS:
            session.expired = True
            raise EmulatorError("1002", "The token expired")
        session.last_used = now
        current = self.profile_versions.get(session.user, session.pv)
        if current != session.pv:
            return session, self._rotate(token, session, now)
        return session, None

    def _check_signature(self, token: str) -> None:
        try:
            jwt.decode(
                token,
                self.key,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise EmulatorError("1003", "Invalid token") from exc

    def _rotate(self, token: str, session: Session, now: float) -> str:
        new_token, new_session = self.issue(session.user, session.tenant, session.login_as)
        new_session.last_used = now
        session.superseded_at = now
        session.replacement = new_token
        self.stats.counters["tokens_rotated"] += 1
        return new_token

    def valid(self, token: str | None) -> bool:
        """True when ``token`` would be accepted (used by ``HEAD /auth``; slides idle time)."""
        try:
            self.authenticate(token)
        except EmulatorError:
            return False
        return True

    # -- control -----------------------------------------------------------------------------

    def logout(self, token: str) -> None:
        """Invalidate ``token`` (and the replacement it was rotated to, if any)."""
        session = self.sessions.get(token)
        if session is not None:
            session.revoked = True

    def expire_all(self) -> int:
        """Expire every token now; return how many were live."""
        count = 0
        for session in self.sessions.values():
            if not (session.expired or session.revoked):
                count += 1
            session.expired = True
        return count

    def rotate_all(self) -> None:
        """Change every user's profile version: each holder's next response rotates its token."""
        users = {session.user for session in self.sessions.values()}
        for user in users | set(self.profile_versions):
            self.profile_versions[user] = self.profile_versions.get(user, 1) + 1

    def live_count(self) -> int:
        """How many sessions are neither expired, revoked nor superseded."""
        return sum(
            1
            for s in self.sessions.values()
            if not (s.expired or s.revoked or s.superseded_at is not None)
        )
