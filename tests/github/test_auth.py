"""Credentials: the token file, and GitHub App installations."""

from datetime import timedelta

import pytest

from prow.github import auth
from prow.github.auth import FileToken, TokenFileMissing
from prow.github.client import GitHubError, github_client
from tests.github.conftest import HEAD

APP_ID = 4242
COMMENTS = "/repos/org/repo/issues/1/comments"


def test_file_token_keeps_the_last_good_token_while_the_file_is_away(tmp_path):
    path = tmp_path / "token"
    path.write_text("good\n")
    token = FileToken(str(path))

    path.unlink()
    assert token.token == "good"
    path.write_text("   \n")
    assert token.token == "good"
    path.write_text("newer")
    assert token.token == "newer"


def test_file_token_needs_a_token_to_start_with(tmp_path):
    with pytest.raises(TokenFileMissing):
        FileToken(str(tmp_path / "absent"))
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(TokenFileMissing):
        FileToken(str(tmp_path / "empty"))


@pytest.fixture
def app(fake, settings, tmp_path, rsa_key_pair, waits):
    """The bot as a GitHub App installed in org; no token file."""
    private, public = rsa_key_pair
    key_path = tmp_path / "app.pem"
    key_path.write_text(private)
    settings.PROW_GITHUB_TOKEN_PATH = ""
    settings.PROW_GITHUB_APP_ID = str(APP_ID)
    settings.PROW_GITHUB_APP_PRIVATE_KEY_PATH = str(key_path)
    # The fake checks each JWT's signature against the public key.
    fake.set_app(APP_ID, slug="prow-app", public_key=public)
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    return fake.add_installation("org")


def test_app_acts_with_its_installation_token(fake, app):
    gh = github_client("org")

    gh.create_comment("org", "repo", 1, "hello")

    (issued,) = fake.installation_tokens(app.id)
    post = fake.requests("POST", COMMENTS)[0]
    assert post.headers["authorization"] == f"token {issued.token}"
    assert post.installation == app.id
    assert fake.comments("org", "repo", 1)[0].author == "prow-app[bot]"
    # The installation was found, and its token minted, as the App (JWT).
    lookup = fake.requests("GET", "/orgs/org/installation")[0]
    mint = fake.requests("POST", f"/app/installations/{app.id}/access_tokens")[0]
    for request in (lookup, mint):
        assert request.headers["authorization"].startswith("Bearer ")
        assert request.jwt_claims["iss"] == str(APP_ID)


def test_installation_token_is_reused_while_valid(fake, app):
    gh = github_client("org")

    gh.create_comment("org", "repo", 1, "one")
    gh.add_labels("org", "repo", 1, "lgtm")
    github_client("org").create_comment("org", "repo", 1, "two")

    assert len(fake.installation_tokens()) == 1
    assert len(fake.requests("GET", "/orgs/org/installation")) == 1


def test_token_close_to_expiry_is_replaced_before_use(fake, app):
    # Two minutes left is less than the refresh margin: a rate limit wait
    # could outlast it.
    fake.installation_token_ttl = 120
    gh = github_client("org")

    gh.create_comment("org", "repo", 1, "one")
    gh.create_comment("org", "repo", 1, "two")

    first, second = fake.installation_tokens(app.id)
    assert first.token != second.token
    posts = fake.requests("POST", COMMENTS)
    assert [p.headers["authorization"] for p in posts] == [
        f"token {first.token}",
        f"token {second.token}",
    ]
    assert [p.status for p in posts] == [201, 201]


def test_expired_token_is_replaced_before_use(fake, app, monkeypatch):
    gh = github_client("org")
    gh.create_comment("org", "repo", 1, "one")
    later = auth._now() + timedelta(hours=1, minutes=1)
    monkeypatch.setattr(auth, "_now", lambda: later)

    gh.create_comment("org", "repo", 1, "two")

    first, second = fake.installation_tokens(app.id)
    post = fake.requests("POST", COMMENTS)[-1]
    assert post.headers["authorization"] == f"token {second.token}"
    assert post.status == 201


def test_app_bot_login_comes_from_the_app(fake, app):
    gh = github_client("org")

    assert gh.bot_login == "prow-app[bot]"
    assert gh.is_bot("prow-app[bot]") is True
    # An installation token may not read /user.
    assert fake.requests("GET", "/user") == []
    assert fake.requests("GET", "/app")[0].jwt_claims["iss"] == str(APP_ID)


def test_each_org_gets_its_own_installation(fake, app):
    other = fake.add_installation("other-org")
    fake.add_repo("other-org", "tools")
    fake.add_issue("other-org", "tools", 5)

    github_client("org").create_comment("org", "repo", 1, "here")
    github_client("other-org").create_comment("other-org", "tools", 5, "there")

    posts = fake.requests("POST")
    comment_posts = [p for p in posts if p.path.endswith("/comments")]
    assert [p.installation for p in comment_posts] == [app.id, other.id]


def test_org_without_the_app_is_a_permanent_error(fake, app):
    with pytest.raises(GitHubError) as raised:
        github_client("stranger")

    assert (raised.value.status, raised.value.permanent) == (404, True)


def test_app_needs_an_org(fake, app):
    with pytest.raises(GitHubError) as raised:
        github_client()

    assert raised.value.permanent is True


def test_missing_private_key_is_dry_mode(fake, app, settings, tmp_path, caplog):
    settings.PROW_GITHUB_APP_PRIVATE_KEY_PATH = str(tmp_path / "absent.pem")

    gh = github_client("org")
    gh.create_comment("org", "repo", 1, "hello")

    assert gh.dry_run is True
    assert fake.requests("POST") == []
    assert "private key" in caplog.text


def test_installation_on_a_user_account_is_found(fake, app):
    fake.add_user("someone")
    installation = fake.add_installation("someone")

    gh = github_client("someone")

    assert gh.dry_run is False
    assert gh.gh.requester.auth.installation_id == installation.id
    assert [r.status for r in fake.requests("GET", "/orgs/someone/installation")] == [
        404
    ]
    assert len(fake.requests("GET", "/users/someone/installation")) == 1
