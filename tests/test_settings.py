"""Settings come from the environment, with the documented defaults."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from prow import settings as prow_settings
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("rest", "graphql"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
        ("http://127.0.0.1:9999", "http://127.0.0.1:9999/graphql"),
    ],
)
def test_graphql_endpoint_is_derived(monkeypatch, rest, graphql):
    monkeypatch.delenv("PROW_GITHUB_GRAPHQL_ENDPOINT", raising=False)
    assert prow_settings._graphql_endpoint(rest) == graphql


def test_explicit_graphql_endpoint_wins(monkeypatch):
    monkeypatch.setenv("PROW_GITHUB_GRAPHQL_ENDPOINT", "https://gql.example.com/q")
    assert (
        prow_settings._graphql_endpoint("https://api.github.com")
        == "https://gql.example.com/q"
    )


def test_bad_boolean_is_refused_loudly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG must be true or false"):
        prow_settings.env_bool("X_FLAG", False)


def test_defaults_need_nothing_but_python(tmp_path):
    """With no variables set: SQLite and the embedded broker under the data
    folder, only local host names, and a secret key generated once."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'prow.settings'; "
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE']); print(s.CELERY_BROKER_URL); "
        "print(','.join(s.ALLOWED_HOSTS)); print(s.SECRET_KEY)"
    )
    env = {"PATH": "/usr/bin:/bin", "PROW_DATA_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        for _ in range(2)
    ]
    first = runs[0].stdout.splitlines()
    assert runs[0].returncode == 0, runs[0].stderr
    assert first[0] == "django.db.backends.sqlite3"
    assert first[1] == "filesystem://"
    assert first[2] == "localhost,127.0.0.1"
    assert len(first[3]) > 40
    assert runs[1].stdout.splitlines()[3] == first[3]  # kept, not regenerated
    assert (tmp_path / "broker" / "queue").is_dir()
