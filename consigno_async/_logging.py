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
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

__all__ = [
    "REDACTED",
    "SECRET_KEYS",
    "TOKEN_GRACE_SECONDS",
    "Redactor",
    "logger",
    "payload_secrets",
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

#: How long a replaced token stays on the redaction list (seconds, monotonic). The service
#: keeps accepting, and may still echo, a rotated token for a 30-second grace.
TOKEN_GRACE_SECONDS: Final = 60.0

# At most this many replaced tokens are remembered, whatever the clock says.
_MAX_RETIRED: Final = 16

# Shorter secrets ("Rex", "42") are replaced only where they stand alone as a word (or are a
# whole parameter value): replacing every "42" inside "1042" would mangle messages.
_WORD_MIN: Final = 4


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

    Used on an error's ``parameters`` before they go into an exception::

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


def payload_secrets(payload: Any) -> tuple[str, ...]:
    """
    The secret answers a ``POST /workflows`` body carries (its signers' and contacts').

    Only where the service's body carries them is looked at: the documents (possibly
    megabytes of base64) are not walked. The client passes them with that one request, so
    an error answering it is scrubbed of them, and forgets them afterwards.

    >>> payload_secrets({"actions": [{"signer": {"secretAnswer": "Rex"}}], "documents": []})
    ('Rex',)
    """
    if not isinstance(payload, Mapping):
        return ()
    found: list[str] = []
    people = [a.get("signer") for a in payload.get("actions") or () if isinstance(a, Mapping)]
    people += [
        n.get("contact") for n in payload.get("notifications") or () if isinstance(n, Mapping)
    ]
    for person in people:
        if isinstance(person, Mapping):
            answer = person.get("secretAnswer")
            if isinstance(answer, str) and answer and answer not in found:
                found.append(answer)
    return tuple(found)


class Redactor:
    """
    Knows the secret strings a client holds and scrubs them from text that comes from outside.

    It holds the password and client secret for the client's lifetime, the token in use, and
    each replaced token for :data:`TOKEN_GRACE_SECONDS` only (at most 16 of them): the set stays
    small however long the client lives. Secret answers are not kept: each request passes its
    own (``extra``) to :meth:`scrub` and :meth:`scrub_parameters`. Error messages and parameters
    pass through them before they go into an exception; only error paths call them.

    >>> r = Redactor(["hunter22"])
    >>> r.scrub("bad password hunter22")
    'bad password «redacted»'
    >>> r.scrub("answer Rex is wrong (Rexford kept)", extra=["Rex"])
    'answer «redacted» is wrong (Rexford kept)'
    >>> r
    Redactor(<1 secret>)
    """

    __slots__ = ("_clock", "_fixed", "_grace", "_retired", "_token")

    def __init__(
        self,
        secrets: Iterable[str | None] = (),
        *,
        grace: float = TOKEN_GRACE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fixed: set[str] = {secret for secret in secrets if secret}
        self._token: str | None = None
        self._retired: dict[str, float] = {}
        self._grace = grace
        self._clock = clock

    def add(self, secret: str | None) -> None:
        """Remember a secret for the client's lifetime (a credential). Empty ones are ignored."""
        if secret:
            self._fixed.add(secret)

    def discard(self, secret: str | None) -> None:
        """Forget a secret at once, if it was known."""
        if secret:
            self._fixed.discard(secret)
            self._retired.pop(secret, None)
            if self._token == secret:
                self._token = None

    def add_token(self, token: str) -> None:
        """The token now in use; the one it replaces is kept for the grace period only."""
        if token and token != self._token:
            self.retire_token()
            self._token = token
            self._retired.pop(token, None)

    def retire_token(self) -> None:
        """The token is no longer held (logout): keep it for the grace period, then forget it."""
        if self._token is not None:
            self._retired[self._token] = self._clock()
            self._token = None
        self._prune()

    def _prune(self) -> None:
        retired = self._retired
        if not retired:
            return
        horizon = self._clock() - self._grace
        for token, since in list(retired.items()):
            if since < horizon:
                del retired[token]
        while len(retired) > _MAX_RETIRED:
            del retired[next(iter(retired))]  # the oldest (insertion order)

    def secrets(self, extra: Iterable[str] = ()) -> set[str]:
        """Every secret that applies now: the lasting ones, the tokens, and ``extra``."""
        self._prune()
        found = set(self._fixed)
        found.update(self._retired)
        if self._token is not None:
            found.add(self._token)
        found.update(secret for secret in extra if secret)
        return found

    def scrub(self, text: str, extra: Iterable[str] = ()) -> str:
        """
        ``text`` with every known secret (and each of ``extra``) replaced by :data:`REDACTED`.

        Secrets of four characters or more are replaced wherever they occur; shorter ones only
        where they stand alone as a word.
        """
        # Longest first, so a secret that contains another is replaced whole.
        for secret in sorted(self.secrets(extra), key=len, reverse=True):
            if secret not in text:
                continue
            if len(secret) >= _WORD_MIN:
                text = text.replace(secret, REDACTED)
            else:
                text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", REDACTED, text)
        return text

    def scrubber(self, extra: Iterable[str] = ()) -> Callable[[str], str]:
        """:meth:`scrub` bound to one request's own secrets (``extra``)."""
        extra = tuple(extra)
        return lambda text: self.scrub(text, extra)

    def scrub_parameters(self, parameters: Any, extra: Iterable[str] = ()) -> Any:
        """
        An error's ``parameters`` made safe: the value of a secret key (``password``,
        ``secretAnswer``, ``token``…) replaced whatever it is, a value equal to a secret
        replaced however short, and every other string scrubbed as by :meth:`scrub`.

        >>> Redactor().scrub_parameters({"secretAnswer": "x", "field": "42", "n": 1}, ["42"])
        {'secretAnswer': '«redacted»', 'field': '«redacted»', 'n': 1}
        """
        secrets = self.secrets(extra)

        def clean(value: Any) -> Any:
            if isinstance(value, str):
                return REDACTED if value in secrets else self.scrub(value, secrets)
            if isinstance(value, Mapping):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [clean(v) for v in value]
            return value

        return clean(redact_mapping(parameters))

    def __len__(self) -> int:
        return len(self.secrets())

    def __repr__(self) -> str:
        n = len(self)
        return f"Redactor(<{n} secret{'s' if n != 1 else ''}>)"
