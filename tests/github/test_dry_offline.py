"""Dry mode (no token, no App) still reads from GitHub. Without a network
a read fails at once, saying so, rather than after retries."""

import time

import pytest

from prow.github import transport
from prow.github.client import GitHubTransientError, github_client
from tests.processes import free_port


@pytest.fixture
def unreachable(settings):
    # Nothing listens there: every connection is refused.
    settings.PROW_GITHUB_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    return settings


def test_a_dry_read_without_github_fails_at_once_and_says_why(unreachable):
    unreachable.PROW_GITHUB_TOKEN_PATH = ""
    unreachable.PROW_GITHUB_APP_ID = ""
    client = github_client("org")
    assert client.dry_run
    started = time.monotonic()
    with pytest.raises(GitHubTransientError) as failed:
        client.get_pull("org", "repo", 1)
    assert time.monotonic() - started < 2
    message = str(failed.value)
    assert f"GitHub unreachable at {unreachable.PROW_GITHUB_ENDPOINT}" in message
    assert "Dry mode" in message and "still reads from GitHub" in message
    assert transport.stats.snapshot()["retries"] == 0


def test_with_a_token_reads_are_still_retried(unreachable, tmp_path, waits):
    token = tmp_path / "token"
    token.write_text("t\n")
    unreachable.PROW_GITHUB_TOKEN_PATH = str(token)
    unreachable.PROW_GITHUB_APP_ID = ""
    with pytest.raises(GitHubTransientError) as failed:
        github_client("org").get_pull("org", "repo", 1)
    assert "Dry mode" not in str(failed.value)
    assert transport.stats.snapshot()["retries"] == 3
