import pytest

from prow.github import transport
from prow.github.client import forget_clients, github_client
from tests.fakes.github import FakeGitHub

HEAD = "a" * 40


@pytest.fixture(autouse=True)
def _own_cache(private_cache):
    """A cache of this test's own, and clients and counters built afresh."""
    forget_clients()
    transport.stats.reset()
    yield
    forget_clients()


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
