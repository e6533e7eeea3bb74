"""Fixtures for tests that receive webhooks and talk to the GitHub double."""

import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest
import redis

from prow.celery import app
from prow.github.client import forget_clients
from tests.fakes.github import FakeGitHub

SECRET = "the-webhook-secret"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "webhooks"
EXTRA = (
    "recorder=tests.hook.recording_plugins:recorder,"
    "boom=tests.hook.recording_plugins:boom"
)


def sign(body: bytes, secret: str = SECRET, algorithm=hashlib.sha256) -> str:
    prefix = "sha256=" if algorithm is hashlib.sha256 else "sha1="
    return prefix + hmac.new(secret.encode(), body, algorithm).hexdigest()


def fixture_payload(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def secret_file(tmp_path, settings):
    path = tmp_path / "hmac"
    path.write_text(SECRET + "\n")
    settings.PROW_HMAC_SECRET_FILE = str(path)
    return path


@pytest.fixture
def post_webhook(client, secret_file):
    """POST a payload to /hook as GitHub would: signed, with its headers."""

    def post(event, payload, *, guid=None, secret=SECRET, headers=None, raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        all_headers = {
            "HTTP_X_GITHUB_EVENT": event,
            "HTTP_X_GITHUB_DELIVERY": guid or str(uuid.uuid4()),
            "HTTP_X_HUB_SIGNATURE_256": sign(body, secret),
        }
        all_headers.update(headers or {})
        return client.post(
            "/hook", data=body, content_type="application/json", **all_headers
        )

    return post


@pytest.fixture
def extra_plugins(monkeypatch):
    monkeypatch.setenv("PROW_EXTRA_PLUGINS", EXTRA)


@pytest.fixture
def fake_github(tmp_path, settings):
    fake = FakeGitHub().start()
    token = tmp_path / "token"
    token.write_text("bot-token\n")
    settings.PROW_GITHUB_ENDPOINT = fake.url
    settings.PROW_GITHUB_GRAPHQL_ENDPOINT = f"{fake.url}/graphql"
    settings.PROW_GITHUB_TOKEN_PATH = str(token)
    settings.PROW_GITHUB_APP_ID = ""
    fake.set_authenticated_user("prow-bot")
    forget_clients()
    yield fake
    fake.stop()
    forget_clients()


@pytest.fixture
def plugins_enabled(activate_config):
    """Make a plugins.yaml active: plugins_enabled({"org/repo": [...]})."""

    def enable(mapping: dict[str, list[str]], extra_yaml: str = ""):
        lines = ["plugins:"]
        for key, names in mapping.items():
            lines.append(f"  {json.dumps(key)}: {json.dumps(names)}")
        return activate_config(plugins_yaml="\n".join(lines) + "\n" + extra_yaml)

    return enable


@pytest.fixture
def clean_broker():
    """Nothing left in the test broker from earlier tests."""
    redis.Redis.from_url(app.conf.broker_url).flushdb()
    yield


@pytest.fixture
def private_cache(settings):
    """A key prefix of this test's own in the shared cache, removed after.

    Clearing the cache would flush the whole Redis database, which other
    test runs use as their Celery broker at the same time.
    """
    from django.conf import settings as django_settings

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    caches = {alias: dict(conf) for alias, conf in django_settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    yield prefix
    conf = caches["default"]
    if conf["BACKEND"].endswith("RedisCache"):
        client = redis.Redis.from_url(conf["LOCATION"])
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
