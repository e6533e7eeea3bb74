import uuid

import pytest
import redis
from django.conf import settings as django_settings

from prow.github import transport
from prow.github.client import forget_clients, github_client
from tests.fakes.github import FakeGitHub

HEAD = "a" * 40


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A key prefix of this test's own in the shared cache.

    Clearing the cache would flush the whole Redis database, which other
    test runs use as their Celery broker at the same time.
    """
    prefix = f"test-github-{uuid.uuid4().hex[:12]}"
    caches = {alias: dict(conf) for alias, conf in django_settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    forget_clients()
    transport.stats.reset()
    yield
    forget_clients()
    conf = caches["default"]
    if conf["BACKEND"].endswith("RedisCache"):
        client = redis.Redis.from_url(conf["LOCATION"])
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def fake(tmp_path, settings):
    with FakeGitHub() as server:
        server.add_repo("org", "repo")
        server.set_authenticated_user("prow-bot")
        token = tmp_path / "token"
        token.write_text("first-token\n")
        settings.PROW_GITHUB_ENDPOINT = server.url
        settings.PROW_GITHUB_TOKEN_PATH = str(token)
        settings.PROW_GITHUB_APP_ID = ""
        settings.PROW_GITHUB_APP_PRIVATE_KEY_PATH = ""
        yield server


@pytest.fixture
def waits(monkeypatch):
    """The transport's waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(transport, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def gh(fake, waits):
    return github_client("org")
