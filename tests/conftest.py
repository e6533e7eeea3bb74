from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The GitHub double and webhook fixtures, for every test folder.
pytest_plugins = ["tests.webhooks"]
EXAMPLES = ROOT / "examples"


def pytest_configure(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(
            "the tests run against PostgreSQL: set DATABASE_URL (make test does)",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def _fresh_active_config():
    # Each test starts with no cached config, so no test sees another's.
    from prow.config import active, services

    active._cache.current = None
    active._cache.checked_at = 0.0
    services._last_rejected_hash = None
    yield
    active._cache.current = None


@pytest.fixture(autouse=True)
def _unspaced_github_writes(settings):
    # GitHub's second between writes would make every test that posts a few
    # comments seconds slower; the tests of that spacing turn it back on.
    settings.PROW_GITHUB_WRITE_SPACING_SECONDS = 0


@pytest.fixture(autouse=True)
def _github_pause(monkeypatch):
    """A test that runs a rate-limited task again at once stands for its
    retry after the wait, when the credential's pause is over; so in this
    process a pause lasts no longer than the call that met the limit.
    tests/github/test_pause.py overrides this fixture to keep pauses."""
    from prow.github import pause

    monkeypatch.setattr(pause, "paused_for", lambda key: 0.0)


@pytest.fixture(autouse=True)
def _fresh_job_names():
    # Deck caches the set of job names; each test has its own jobs.
    from deck.queries import forget_job_names

    forget_job_names()
    yield
    forget_job_names()


@pytest.fixture
def activate_config(db):
    """Store a config and make it the active one, as an import or the admin
    would: `activate_config(config_yaml=..., plugins_yaml=...)` returns the
    new ConfigVersion; calling it again replaces it with another."""
    from prow.config.models import ConfigVersion
    from prow.config.services import config_version_create

    def activate(
        config_yaml: str = "",
        plugins_yaml: str = "",
        *,
        source: str = ConfigVersion.Source.API,
        comment: str = "",
    ) -> ConfigVersion:
        return config_version_create(
            config_yaml=config_yaml,
            plugins_yaml=plugins_yaml,
            source=source,
            comment=comment,
        )

    return activate


@pytest.fixture
def example_texts() -> tuple[str, str]:
    return (
        (EXAMPLES / "config.yaml").read_text(encoding="utf-8"),
        (EXAMPLES / "plugins.yaml").read_text(encoding="utf-8"),
    )


@pytest.fixture(scope="session")
def rsa_key_pair() -> tuple[str, str]:
    """A GitHub App's private key and the public key GitHub checks its JWTs
    with, both PEM; made once, as 2048-bit keys are slow to generate."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


@pytest.fixture
def celery_worker_thread(transactional_db):
    """A real Celery worker in a thread, consuming the test Redis broker; it
    needs committed data, hence transactional_db."""
    from celery.contrib.testing.worker import start_worker

    from prow.celery import app

    app.loader.import_default_modules()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


def reset_celery_connections() -> None:
    """Make the Celery app reconnect using the broker URL in effect now
    (it keeps a connection and a producer pool per process)."""
    from prow.celery import app

    # Only dropped, not closed: kombu keeps one pool per broker URL for the
    # whole process and hands the same one out again.
    app._pool = None
    app.amqp._producer_pool = None
