"""One retry policy for every task (prow.tasks.prow_task): a TransientError
is retried, after the delay the other side asked for or an exponential
backoff with jitter, up to max_retries; anything else fails at once."""

import json
from datetime import datetime

import pytest
import redis
from celery.exceptions import Retry
from django.utils import timezone

from jobs.executors.base import ExecutorError, ExecutorTransientError
from prow.celery import Queue, app
from prow.errors import OutsideError, TransientError
from prow.tasks import prow_task

calls: list[str] = []


@prow_task(name="tests.retry.fails", max_retries=2)
def fails(error: str) -> None:
    calls.append(error)
    raise {
        "transient": TransientError("try later"),
        "rate-limited": TransientError("slow down", retry_after=90),
        "permanent": OutsideError("refused"),
        "bug": ZeroDivisionError("bug"),
    }[error]


@prow_task(name="tests.retry.flaky", max_retries=3)
def flaky() -> str:
    calls.append("flaky")
    if len(calls) < 3:
        raise TransientError("not yet")
    return "done"


@pytest.fixture(autouse=True)
def eager():
    calls.clear()
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_transient_error_is_retried_until_max_retries():
    result = fails.apply(("transient",))
    assert calls == ["transient"] * 3  # the first run and two retries
    assert isinstance(result.result, TransientError)


def test_a_task_that_recovers_succeeds():
    assert flaky.apply().result == "done"
    assert calls == ["flaky"] * 3


@pytest.mark.parametrize("error", ["permanent", "bug"])
def test_permanent_errors_and_bugs_are_not_retried(error):
    result = fails.apply((error,))
    assert calls == [error]
    assert result.failed()


def test_called_as_a_function_the_error_is_raised():
    with pytest.raises(TransientError):
        fails("transient")
    assert calls == ["transient"]


def test_retry_after_is_the_countdown():
    fails.push_request(retries=4)
    try:
        assert fails.retry_countdown(TransientError(retry_after=42)) == 42
    finally:
        fails.pop_request()


@pytest.mark.parametrize(("retries", "ceiling"), [(0, 10), (3, 80), (9, 300)])
def test_the_backoff_grows_with_jitter_up_to_a_cap(retries, ceiling):
    fails.push_request(retries=retries)
    try:
        countdowns = {fails.retry_countdown(TransientError()) for _ in range(200)}
    finally:
        fails.pop_request()
    assert all(0 <= c <= ceiling for c in countdowns)
    # Jittered: workers that failed together do not come back together.
    assert len(countdowns) > 1


def test_a_worker_retry_is_sent_back_with_its_countdown(clean_broker):
    app.conf.task_always_eager = False
    # What the worker sets up before it runs a message.
    fails.push_request(id="retry-me", args=("rate-limited",), retries=0)
    fails.request.called_directly = False
    before = timezone.now()
    try:
        with pytest.raises(Retry) as raised:
            fails("rate-limited")
    finally:
        fails.pop_request()
    assert raised.value.when == 90
    broker = redis.Redis.from_url(app.conf.broker_url)
    messages = [json.loads(raw) for raw in broker.lrange(Queue.DEFAULT, 0, -1)]
    again = [m for m in messages if m["headers"]["task"] == "tests.retry.fails"]
    assert len(again) == 1
    assert again[0]["headers"]["retries"] == 1
    eta = datetime.fromisoformat(again[0]["headers"]["eta"])
    assert 89 <= (eta - before).total_seconds() <= 91


def test_executor_errors_share_the_common_bases():
    transient = ExecutorTransientError("cluster unreachable")
    refused = ExecutorError("spec refused")
    assert isinstance(transient, ExecutorError)
    assert isinstance(transient, TransientError)
    assert (transient.permanent, refused.permanent) == (False, True)
    assert isinstance(refused, OutsideError)
    assert not isinstance(refused, TransientError)
