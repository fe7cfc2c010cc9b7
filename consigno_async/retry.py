"""
The retry policy: which failures are retried, and how long to wait. Pure, no I/O.

Two kinds of request are told apart, because resending is not equally safe for both:

- :attr:`RequestKind.IDEMPOTENT` (GET, HEAD, DELETE, downloads, login): resending cannot do
  harm, so they are retried on 429, 502, 503, 504 and on any connection failure or timeout.
- :attr:`RequestKind.CREATE` (``POST /documents``, ``POST /workflows``, launching a draft):
  resent only when the service **surely did not act**: it answered 429 or 503 (it refused
  the request), or the connection failed before the request was sent. A connection lost
  after the request went out is *ambiguous*; the caller decides (the client reconciles a
  workflow creation instead of blindly resending it).

The wait follows the "full jitter" scheme (a uniform draw in ``[0, min(cap, base·2^n)]``), so
many clients retrying at once spread out; a ``Retry-After`` from the service wins over it, up to
:attr:`RetryPolicy.max_retry_after` (a longer demand is not retried: the error is raised so the
caller can decide, as openai-python does beyond 60 s).

>>> policy = RetryPolicy(max_retries=3, base_delay=0.5, max_delay=8.0)
>>> policy.retry_status(RequestKind.CREATE, 502), policy.retry_status(RequestKind.IDEMPOTENT, 502)
(False, True)
>>> policy.delay(2, rand=lambda: 1.0), policy.delay(2, retry_after=1.5)
(2.0, 1.5)
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from typing import Final

import attrs

__all__ = [
    "ATTEMPT_STATUSES",
    "NOT_ACTED_STATUSES",
    "RETRY_STATUSES",
    "Phase",
    "RequestKind",
    "RetryPolicy",
]

#: Statuses that a safe-to-repeat request is retried on.
RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})

#: Statuses that prove the service did not act on the request (it refused it up front).
NOT_ACTED_STATUSES: Final = frozenset({429, 503})

#: Every status some kind of request may be retried on (a quick pre-check on the hot path).
ATTEMPT_STATUSES: Final = RETRY_STATUSES | NOT_ACTED_STATUSES


class RequestKind(enum.Enum):
    """How safe it is to send a request again."""

    #: Reading, deleting, downloading, logging in: resending cannot create anything twice.
    IDEMPOTENT = "idempotent"
    #: Creates or changes something (upload, create, launch): resent only if surely not acted on.
    CREATE = "create"


class Phase(enum.Enum):
    """Where a request stood when its connection failed."""

    #: The connection could not be made: the service never saw the request.
    NOT_SENT = "not_sent"
    #: The request was (or may have been) sent, and no complete answer came back.
    SENT = "sent"


@attrs.frozen
class RetryPolicy:
    """
    How many times, on what, and how long to wait between attempts.

    Attributes:
        max_retries: retries after the first attempt (0 disables retrying).
        base_delay: the first backoff ceiling, in seconds; doubles at each retry.
        max_delay: the cap on a computed backoff, in seconds.
        max_retry_after: the longest ``Retry-After`` honoured; a longer one is not retried.
    """

    max_retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    base_delay: float = attrs.field(default=0.25, validator=attrs.validators.ge(0))
    max_delay: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    max_retry_after: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))

    def can_retry(self, attempt: int) -> bool:
        """True while ``attempt`` (0 for the first try) leaves room for another one."""
        return attempt < self.max_retries

    def retry_status(self, kind: RequestKind, status: int) -> bool:
        """Whether an answer with this status may be retried, for this kind of request."""
        if kind is RequestKind.IDEMPOTENT:
            return status in RETRY_STATUSES
        return status in NOT_ACTED_STATUSES

    def retry_connection(self, kind: RequestKind, phase: Phase) -> bool:
        """
        Whether a connection failure (or timeout) may be retried.

        A creating request is retried only when the request never left
        (:attr:`Phase.NOT_SENT`); otherwise the outcome is ambiguous.
        """
        return kind is RequestKind.IDEMPOTENT or phase is Phase.NOT_SENT

    def honours(self, retry_after: float | None) -> bool:
        """False when the service asks for a longer wait than this policy accepts."""
        return retry_after is None or retry_after <= self.max_retry_after

    def delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        *,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """
        Seconds to wait before retry number ``attempt + 1``.

        ``Retry-After`` (already parsed to seconds) is honoured as given; otherwise full
        jitter over an exponentially growing, capped ceiling.
        """
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2.0**attempt))
        return ceiling * rand()
