"""
Logging for consigno_async, and the redaction helpers that keep secrets out of it.

Everything the library logs goes to the stdlib logger ``"consigno_async"`` (children such as
``"consigno_async.client"`` propagate to it). Nothing is configured here: the application
decides handlers and levels, as the stdlib ``logging`` HOWTO asks of libraries::

    import logging
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("consigno_async").setLevel(logging.DEBUG)   # every request and retry

What is never logged, at any level: the token, the password, the platform's client secret and
the signers' secret answers. The client never formats those into a message in the first place
(it logs methods, paths, statuses, timings and ids only); :class:`Redactor` is the second line
of defence for text that comes from outside, such as an error message the service echoes back.

The hot path pays nothing when DEBUG is off: callers guard with ``logger.isEnabledFor`` before
building arguments, and messages are %-formatted lazily by ``logging`` itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "REDACTED",
    "SECRET_KEYS",
    "Redactor",
    "logger",
    "mask_token",
    "redact_headers",
    "redact_mapping",
]

#: The library's root logger. Modules log through children of it.
logger: Final = logging.getLogger("consigno_async")

#: What replaces a secret in any text the library produces.
REDACTED: Final = "«redacted»"

#: Header, form and JSON keys whose values are secrets, compared case-insensitively.
SECRET_KEYS: Final = frozenset(
    {
        "x-auth-token",
        "x-client-secret",
        "authorization",
        "cookie",
        "set-cookie",
        "password",
        "clientsecret",
        "client_secret",
        "secretanswer",
        "secret_answer",
        "token",
    }
)

# Shorter strings are not treated as secrets: replacing every "a" in a message would make it
# unreadable and protect nothing (such a secret is guessable anyway).
_MIN_SECRET_LEN: Final = 4


def mask_token(token: str | None) -> str:
    """
    A printable stand-in for a token: never any part of the token itself.

    >>> mask_token("eyJhbGciOiJIUzI1NiJ9.e30.sig"), mask_token(None)
    ('«redacted»', '<none>')
    """
    return "<none>" if not token else REDACTED


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """
    A copy of ``headers`` with secret values (token, client secret, cookies) replaced.

    >>> redact_headers({"X-Auth-Token": "abc.def.ghi", "Accept": "application/json"})
    {'X-Auth-Token': '«redacted»', 'Accept': 'application/json'}
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: (REDACTED if k.lower() in SECRET_KEYS else v) for k, v in items}


def redact_mapping(data: Any) -> Any:
    """
    A deep copy of a JSON-like value with every secret key's value replaced.

    Used before a request or response body is ever shown (debug logs, error reports)::

        >>> redact_mapping({"signer": {"email": "a@b.c", "secretAnswer": "Rex"}})
        {'signer': {'email': 'a@b.c', 'secretAnswer': '«redacted»'}}
    """
    if isinstance(data, Mapping):
        return {
            k: (REDACTED if str(k).lower() in SECRET_KEYS else redact_mapping(v))
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [redact_mapping(v) for v in data]
    return data


class Redactor:
    """
    Remembers the secret strings a client holds and scrubs them from outside text.

    The client registers its password, client secret, every token it sees and the secret
    answers of the workflows it sends; error messages and parameters that come back from the
    service pass through :meth:`scrub` before they go into an exception. Only error paths call
    it, so the hot path is unaffected.

    >>> r = Redactor(["hunter22"])
    >>> r.scrub("bad password hunter22")
    'bad password «redacted»'
    >>> r
    Redactor(<1 secret>)
    """

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Remember one more secret (ignored when empty or too short to be meaningful)."""
        if secret and len(secret) >= _MIN_SECRET_LEN:
            self._secrets.add(secret)

    def discard(self, secret: str | None) -> None:
        """Forget a secret (e.g. a token after logout), if it was known."""
        if secret:
            self._secrets.discard(secret)

    def add_from_payload(self, payload: Any) -> None:
        """
        Remember the secret answers of a ``POST /workflows`` body (its signers' and contacts').

        Only where the service's body carries them is looked at: the documents (possibly
        megabytes of base64) are not walked.
        """
        if not isinstance(payload, Mapping):
            return
        for action in payload.get("actions") or ():
            if isinstance(action, Mapping):
                self._add_person(action.get("signer"))
        for notification in payload.get("notifications") or ():
            if isinstance(notification, Mapping):
                self._add_person(notification.get("contact"))

    def _add_person(self, person: Any) -> None:
        if isinstance(person, Mapping):
            answer = person.get("secretAnswer")
            if isinstance(answer, str):
                self.add(answer)

    def scrub(self, text: str) -> str:
        """``text`` with every known secret replaced by :data:`REDACTED`."""
        # Longest first, so a secret that contains another is replaced whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def scrub_value(self, value: Any) -> Any:
        """:meth:`scrub` applied to every string inside a JSON-like value."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Mapping):
            return {k: self.scrub_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_value(v) for v in value]
        return value

    def __len__(self) -> int:
        return len(self._secrets)

    def __repr__(self) -> str:
        n = len(self._secrets)
        return f"Redactor(<{n} secret{'s' if n != 1 else ''}>)"
