"""A rate limit pauses the credential in every process, not one call; writes
are spaced a second apart per credential; the health page shows a pause."""

import json
import re
import threading
import time
from datetime import datetime

import pytest
import redis
from django.core.cache import cache
from django.db import connection

from prow.celery import app
from prow.github import pause
from prow.github.client import GitHubTransientError, forget_clients
from tests.fakes.github import FakeGitHub
from tests.github.conftest import HEAD
from tests.processes import VENV_BIN, project_env, read_log, running, wait_until

STATUSES = re.compile(r"^/repos/org/repo/statuses/")
COMMENTS = "/repos/org/repo/issues/1/comments"
PULL = "/repos/org/repo/pulls/1"


@pytest.fixture(autouse=True)
def _github_pause():
    """Pauses kept, unlike in the rest of the suite (tests/conftest.py)."""


def test_a_limit_on_one_call_stops_the_next_from_being_sent(fake, gh, waits, settings):
    settings.PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS = 5
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.rate_limit_next(retry_after=30, path_regex=STATUSES.pattern)

    with pytest.raises(GitHubTransientError):
        gh.create_status("org", "repo", HEAD, state="pending", context="unit")
    # Another call, on another path, is not sent while the token is paused:
    # it is left to its task's retry, after the pause.
    with pytest.raises(GitHubTransientError) as raised:
        gh.create_comment("org", "repo", 1, "hello")

    assert 25 <= raised.value.retry_after <= 30
    assert fake.requests("POST", COMMENTS) == []
    assert len(fake.requests("POST", STATUSES)) == 1
    assert waits == []


def test_a_short_pause_is_waited_out_by_the_other_calls(fake, gh, waits):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.rate_limit_next(retry_after=2, path_regex=STATUSES.pattern)

    gh.create_status("org", "repo", HEAD, state="pending", context="unit")
    assert waits == [2.0]
    # The waits are recorded, not slept, so the pause is still on: the read
    # waits for what is left of it before it goes.
    assert gh.get_pull("org", "repo", 1).number == 1

    assert len(waits) == 2
    assert 1.0 < waits[1] <= 2.0
    assert [r.status for r in fake.requests("GET", PULL)] == [200]


def test_the_primary_limit_used_up_pauses_too(fake, gh, waits, settings):
    settings.PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS = 1
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.rate_limit_next(retry_after=120, secondary=False, path_regex=PULL)

    with pytest.raises(GitHubTransientError):
        gh.get_pull("org", "repo", 1)
    with pytest.raises(GitHubTransientError):
        gh.create_comment("org", "repo", 1, "hello")

    assert fake.requests("POST", COMMENTS) == []
    (shown,) = pause.paused_credentials()
    assert shown["reason"] == "primary rate limit"


def test_writes_with_one_token_are_a_second_apart(fake, gh, waits, settings):
    settings.PROW_GITHUB_WRITE_SPACING_SECONDS = 1
    fake.add_pull("org", "repo", 1, "alice", HEAD)

    gh.create_comment("org", "repo", 1, "one")
    gh.get_pull("org", "repo", 1)
    gh.create_comment("org", "repo", 1, "two")

    # The first write and the read go at once; the second write waits out
    # the second since the first (recorded, not slept, so all of it).
    assert len(waits) == 1
    assert 0.9 < waits[0] <= 1.0
    assert [c.body for c in fake.comments("org", "repo", 1)] == ["one", "two"]


def test_graphql_queries_are_not_spaced_but_mutations_are():
    class Request:
        method = "POST"
        path_url = "/graphql"

        def __init__(self, query):
            self.body = json.dumps({"query": query}).encode()

    assert not pause.creates_content(Request("query { viewer { login } }"))
    assert pause.creates_content(Request("mutation { addStar }"))


@pytest.mark.django_db
def test_the_health_page_shows_a_paused_credential(
    client, fake, gh, waits, settings, activate_config
):
    activate_config()
    settings.PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS = 1
    assert "github_paused" not in client.get("/healthz/ready").json()
    fake.rate_limit_next(retry_after=60, path_regex=STATUSES.pattern)
    with pytest.raises(GitHubTransientError):
        gh.create_status("org", "repo", HEAD, state="pending", context="unit")

    body = client.get("/healthz/ready").json()

    (shown,) = body["github_paused"]
    until = datetime.fromisoformat(shown["until"]).timestamp()
    assert 50 < until - time.time() <= 61
    assert shown["reason"] == "secondary rate limit"
    # Only a short hash names the credential; the token never appears.
    assert "first-token" not in str(body)
    assert shown["credential"].startswith("credential ")


# --- two worker processes -----------------------------------------------------


class TimedFakeGitHub(FakeGitHub):
    """The double, noting when each request arrived."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.arrivals: list[tuple[float, str, str, int]] = []
        self._arrivals_lock = threading.Lock()

    def handle(self, method, target, headers, raw):
        arrived = time.time()
        reply = super().handle(method, target, headers, raw)
        with self._arrivals_lock:
            self.arrivals.append((arrived, method, target, reply.status))
        return reply


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def worker_args(name: str) -> list[str]:
    return [
        f"{VENV_BIN}/celery",
        "-A",
        "prow",
        "worker",
        "--pool",
        "solo",
        "--include",
        "tests.github.pause_tasks",
        "-n",
        f"{name}@%h",
        "-l",
        "INFO",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_secondary_limit_seen_by_one_worker_pauses_the_other(tmp_path):
    redis.Redis.from_url(app.conf.broker_url).flushdb()
    forget_clients()
    with TimedFakeGitHub() as fake:
        fake.add_repo("org", "repo")
        fake.set_authenticated_user("prow-bot")
        token = tmp_path / "token"
        token.write_text("worker-token\n")
        env = project_env(
            DATABASE_URL=database_url(),
            PROW_DATA_DIR=tmp_path,
            PROW_GITHUB_ENDPOINT=fake.url,
            PROW_GITHUB_TOKEN_PATH=token,
            PROW_GITHUB_APP_ID=None,
            PROW_GITHUB_WRITE_SPACING_SECONDS=1,
            PROW_GITHUB_MAX_RATE_LIMIT_WAIT_SECONDS=60,
        )
        logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
        with (
            running(worker_args("one"), env, logs[0]),
            running(worker_args("two"), env, logs[1]),
        ):
            # Both workers are up and consuming before any limit is set.
            for context in ("warm-1", "warm-2"):
                app.send_task(
                    "tests.github.pause_tasks.post_status", args=(HEAD, context)
                )
            wait_until(
                lambda: all("ready." in read_log(log) for log in logs),
                timeout=60,
                what="two workers",
            )
            wait_until(
                lambda: len(fake.requests("POST", STATUSES)) == 2,
                timeout=30,
                what="the warm-up statuses",
            )
            time.sleep(1.2)  # past the warm-up's write spacing

            fake.rate_limit_next(retry_after=3, path_regex=STATUSES.pattern)
            app.send_task("tests.github.pause_tasks.post_status", args=(HEAD, "a"))
            wait_until(
                lambda: any(a[3] == 403 for a in fake.arrivals),
                timeout=30,
                what="the rate limit",
            )
            # While the first worker waits out the limit, the second takes
            # these: they must wait too, not go out.
            for context in ("b", "c", "d"):
                app.send_task(
                    "tests.github.pause_tasks.post_status", args=(HEAD, context)
                )
            wait_until(
                lambda: len(fake.statuses("org", "repo", HEAD)) >= 6,
                timeout=60,
                what="every status",
            )
            worker_logs = [read_log(log) for log in logs]

    posts = [a for a in fake.arrivals if a[1] == "POST" and "/statuses/" in a[2]]
    (limited,) = [a for a in posts if a[3] == 403]
    after = [a for a in posts if a[0] > limited[0]]
    # Nothing went out with that token until the three seconds had passed.
    assert all(a[0] >= limited[0] + 2.9 for a in after), posts
    assert [a[3] for a in after] == [201] * 4
    # And after it, one write a second: the limit is not hit again at once.
    times = sorted(a[0] for a in after)
    assert all(b - a >= 0.9 for a, b in zip(times, times[1:], strict=False)), times
    # The pause was seen by one worker and honoured by the other.
    assert any("paused for" in text for text in worker_logs)
    assert any("credential paused" in text for text in worker_logs)


@pytest.mark.django_db
def test_deck_shows_a_paused_credential_and_until_when(client):
    assert "are paused until" not in client.get("/").content.decode()
    pause.pause("deck-test-credential", 30, "secondary rate limit")
    try:
        (paused,) = pause.paused_credentials()
        html = client.get("/").content.decode()
    finally:
        cache.delete_many([pause.INDEX, pause._until_key("deck-test-credential")])
    assert "GitHub asked us to slow down (secondary rate limit)" in html
    assert f"paused until {paused['until']} UTC" in html
