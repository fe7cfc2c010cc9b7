"""The pure retry policy: what is retried for each kind of request, and the waits."""

from __future__ import annotations

import pytest

from consigno_async.retry import Phase, RequestKind, RetryPolicy

IDEMPOTENT, CREATE = RequestKind.IDEMPOTENT, RequestKind.CREATE


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_idempotent_requests_retry_transient_statuses(status: int) -> None:
    assert RetryPolicy().retry_status(IDEMPOTENT, status)


@pytest.mark.parametrize("status", [400, 401, 404, 409, 500])
def test_other_statuses_are_never_retried(status: int) -> None:
    policy = RetryPolicy()
    assert not policy.retry_status(IDEMPOTENT, status)
    assert not policy.retry_status(CREATE, status)


def test_creating_requests_retry_only_when_the_service_surely_did_not_act() -> None:
    policy = RetryPolicy()
    assert policy.retry_status(CREATE, 429)
    assert policy.retry_status(CREATE, 503)
    assert not policy.retry_status(CREATE, 502)
    assert not policy.retry_status(CREATE, 504)
    assert policy.retry_connection(CREATE, Phase.NOT_SENT)
    assert not policy.retry_connection(CREATE, Phase.SENT)
    assert policy.retry_connection(IDEMPOTENT, Phase.SENT)


def test_attempt_budget() -> None:
    policy = RetryPolicy(max_retries=2)
    assert [policy.can_retry(n) for n in range(4)] == [True, True, False, False]
    assert not RetryPolicy(max_retries=0).can_retry(0)


def test_full_jitter_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    top = [policy.delay(n, rand=lambda: 1.0) for n in range(5)]
    assert top == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(3, rand=lambda: 0.0) == 0.0
    draws = {policy.delay(2) for _ in range(50)}
    assert len(draws) > 1
    assert all(0 <= d <= 2.0 for d in draws)


def test_retry_after_wins_and_is_bounded() -> None:
    policy = RetryPolicy(max_retry_after=10.0)
    assert policy.delay(0, retry_after=4.5) == 4.5
    assert policy.honours(None)
    assert policy.honours(10.0)
    assert not policy.honours(30.0)


def test_policy_validates_its_numbers() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
