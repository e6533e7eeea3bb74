"""Caching, rate limits and retries, through real PyGithub over HTTP."""

import pytest
from github import Auth, Github, GithubException

from prow.errors import OutsideError, TransientError
from prow.github import transport
from prow.github.client import (
    GitHubError,
    GitHubTransientError,
    forget_clients,
    github_client,
)
from tests.github.conftest import HEAD

PULL = "/repos/org/repo/pulls/1"
COMMENTS = "/repos/org/repo/issues/1/comments"


def test_second_get_is_answered_from_cache_by_a_free_304(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD, title="Fix it")

    first = gh.get_pull("org", "repo", 1)
    remaining = fake.rate_limit_remaining
    second = gh.get_pull("org", "repo", 1)

    assert (first.title, second.title, second.head_sha) == ("Fix it", "Fix it", HEAD)
    requests = fake.requests("GET", PULL)
    assert [r.status for r in requests] == [200, 304]
    assert "if-none-match" not in requests[0].headers
    # The fake answers 304 only when If-None-Match names its current ETag.
    assert requests[1].headers["if-none-match"].startswith('"')
    # GitHub does not charge a 304 against the rate limit.
    assert fake.rate_limit_remaining == remaining
    assert transport.stats.snapshot()["hits"] == 1
    assert transport.stats.snapshot()["misses"] == 1


def test_changed_resource_is_fetched_again(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD, title="Old")
    gh.get_pull("org", "repo", 1)

    fake.pull("org", "repo", 1).title = "New"

    assert gh.get_pull("org", "repo", 1).title == "New"
    assert [r.status for r in fake.requests("GET", PULL)] == [200, 200]
    assert transport.stats.snapshot()["hits"] == 0


def test_cache_is_shared_by_every_client(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    gh.get_pull("org", "repo", 1)

    # Another process, or a client after a restart, finds the same entry.
    forget_clients()
    github_client("org").get_pull("org", "repo", 1)

    assert [r.status for r in fake.requests("GET", PULL)] == [200, 304]


def test_secondary_rate_limit_waits_retry_after_then_succeeds(fake, gh, waits):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.rate_limit_next(retry_after=1, secondary=True, path_regex=PULL)

    assert gh.get_pull("org", "repo", 1).number == 1

    assert [r.status for r in fake.requests("GET", PULL)] == [403, 200]
    assert waits == [1.0]
    assert transport.stats.snapshot()["rate_limited"] == 1


def test_429_with_retry_after_is_waited_out(fake, gh, waits):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.rate_limit_next(retry_after=1, status=429, path_regex=PULL)

    gh.get_pull("org", "repo", 1)

    assert [r.status for r in fake.requests("GET", PULL)] == [429, 200]
    assert waits == [1.0]


def test_primary_rate_limit_waits_until_the_reset(fake, gh, waits):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.rate_limit_next(retry_after=2, secondary=False, path_regex=PULL)

    gh.get_pull("org", "repo", 1)

    assert [r.status for r in fake.requests("GET", PULL)] == [403, 200]
    # Until X-RateLimit-Reset (two seconds ahead, whole seconds) plus one.
    assert len(waits) == 1
    assert 1.0 <= waits[0] <= 3.0


def test_rate_limited_write_is_sent_again(fake, gh, waits):
    # A rate-limited request was not acted on, so resending it duplicates
    # nothing.
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.rate_limit_next(retry_after=1, path_regex=COMMENTS)

    gh.create_comment("org", "repo", 1, "hello")

    assert [r.status for r in fake.requests("POST", COMMENTS)] == [403, 201]
    assert [c.body for c in fake.comments("org", "repo", 1)] == ["hello"]


def test_wait_longer_than_the_maximum_is_a_transient_error(fake, gh, waits, settings):
    settings.PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS = 5
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.rate_limit_next(retry_after=3600, path_regex=PULL)

    with pytest.raises(GitHubTransientError) as raised:
        gh.get_pull("org", "repo", 1)

    # A task retrying any outside failure sees a transient one, and when.
    assert isinstance(raised.value, TransientError)
    assert raised.value.permanent is False
    assert raised.value.retry_after == 3600
    assert waits == []
    assert len(fake.requests("GET", PULL)) == 1


def test_rate_limit_that_never_lifts_gives_up(fake, gh, waits, settings):
    settings.PROW_GITHUB_MAX_RETRIES = 2
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.rate_limit_next(times=10, retry_after=1, path_regex=PULL)

    with pytest.raises(GitHubError) as raised:
        gh.get_pull("org", "repo", 1)

    assert raised.value.permanent is False
    assert waits == [1.0, 1.0]
    assert len(fake.requests("GET", PULL)) == 3


def test_get_answering_500_is_retried_with_backoff(fake, gh, waits):
    fake.add_pull("org", "repo", 1, "alice", HEAD, title="Fix it")
    fake.fail_next("GET", PULL, 500, times=2)

    assert gh.get_pull("org", "repo", 1).title == "Fix it"

    assert [r.status for r in fake.requests("GET", PULL)] == [500, 500, 200]
    assert waits == [0.5, 1.0]
    assert transport.stats.snapshot()["retries"] == 2


def test_get_failing_every_time_is_a_transient_error(fake, gh, waits):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.fail_next("GET", PULL, 502, times=10)

    with pytest.raises(GitHubError) as raised:
        gh.get_pull("org", "repo", 1)

    assert (raised.value.status, raised.value.permanent) == (502, False)
    # The first try and three retries.
    assert len(fake.requests("GET", PULL)) == 4


def test_post_answering_500_is_not_sent_again(fake, gh, waits):
    # GitHub may have created the comment before failing: a second POST
    # could post it twice.
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.fail_next("POST", COMMENTS, 500)

    with pytest.raises(GitHubError) as raised:
        gh.create_comment("org", "repo", 1, "hello")

    assert (raised.value.status, raised.value.permanent) == (500, False)
    assert len(fake.requests("POST", COMMENTS)) == 1
    assert waits == []


def test_not_found_is_permanent(fake, gh):
    with pytest.raises(GitHubError) as raised:
        gh.get_pull("org", "repo", 404)

    assert (raised.value.status, raised.value.permanent) == (404, True)
    assert isinstance(raised.value, OutsideError)
    assert not isinstance(raised.value, TransientError)


def test_validation_error_is_permanent(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)

    with pytest.raises(GitHubError) as raised:
        gh.create_status("org", "repo", HEAD, state="bogus", context="ci")

    assert (raised.value.status, raised.value.permanent) == (422, True)


def test_unreachable_github_is_a_transient_error(fake, settings, waits):
    url = fake.url
    fake.stop()
    settings.PROW_GITHUB_ENDPOINT = url

    with pytest.raises(GitHubTransientError) as raised:
        github_client("org").get_pull("org", "repo", 1)

    assert raised.value.permanent is False
    # Reads are retried on connection errors too.
    assert len(waits) == 3


def test_plain_pygithub_clients_keep_their_own_behaviour(fake, gh, waits):
    # The transport is switched on for the process, but only clients built
    # by prow.github use it: a plain Github() is neither cached nor retried.
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    gh.get_pull("org", "repo", 1)
    plain = Github(base_url=fake.url, auth=Auth.Token("t"), retry=None)
    fake.fail_next("GET", PULL, 500)

    with pytest.raises(GithubException):
        plain.get_repo("org/repo").get_pull(1)
    pull = plain.get_repo("org/repo").get_pull(1)

    assert pull.number == 1
    requests = fake.requests("GET", PULL)
    assert [r.status for r in requests] == [200, 500, 200]
    assert "if-none-match" not in requests[2].headers
    assert len(fake.requests("GET", "/repos/org/repo")) == 2
    plain.close()
