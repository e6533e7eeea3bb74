from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture
def example_texts() -> tuple[str, str]:
    return (
        (EXAMPLES / "config.yaml").read_text(encoding="utf-8"),
        (EXAMPLES / "plugins.yaml").read_text(encoding="utf-8"),
    )
