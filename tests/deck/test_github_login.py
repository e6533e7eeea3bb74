"""Log in with GitHub, end to end: Deck's login page, django-allauth's
GitHub provider and the GitHub double's OAuth pages (authorize, code for
token, /user), then Deck's rerun rules for the GitHub login the account is
linked to.

The Django test client plays the browser on our side; `requests` plays it on
GitHub's side, so every hop is a real redirect followed by hand."""

import html
import json
import os
import re
import subprocess
import sys
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from deck.permissions import github_login
from jobs.models import ProwJob
from tests.conftest import ROOT
from tests.factories import ProwJobFactory

pytestmark = pytest.mark.django_db

CLIENT_ID = "Iv1.deckdeckdeck"
CLIENT_SECRET = "oauth-app-secret"
CALLBACK = "http://testserver/accounts/github/login/callback/"
# The GitHub Enterprise address the deployment below is configured with;
# each test swaps in its own double's address.
WEB_URL = "https://github.example.com"
ADAPTER_URLS = (
    "web_url",
    "api_url",
    "authorize_url",
    "access_token_url",
    "profile_url",
    "emails_url",
)
CONFIG = """\
deck:
  rerun_auth_configs:
    "*":
      github_users: [alice]
"""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> dict:
    """SOCIALACCOUNT_PROVIDERS and allauth's GitHub URLs as a deployment gets
    them: a fresh interpreter loads prow.settings with the OAuth variables
    set, then imports the provider (whose URLs are fixed at import)."""
    folder = tmp_path_factory.mktemp("deployment")
    secret = folder / "client-secret"
    secret.write_text(f"{CLIENT_SECRET}\n")
    code = (
        "import django, json, os; "
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'prow.settings'; django.setup(); "
        "from django.conf import settings; "
        "from allauth.socialaccount.providers.github.views import "
        "GitHubOAuth2Adapter as A; "
        "print(json.dumps({'providers': settings.SOCIALACCOUNT_PROVIDERS, "
        f"'adapter': {{n: getattr(A, n) for n in {ADAPTER_URLS!r}}}}}))"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PROW_DATA_DIR": str(folder / "data"),
        "PROW_GITHUB_OAUTH_CLIENT_ID": CLIENT_ID,
        "PROW_GITHUB_OAUTH_CLIENT_SECRET_FILE": str(secret),
        "PROW_GITHUB_WEB_URL": WEB_URL,
    }
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def github(fake_github, deployment, settings, monkeypatch):
    """The GitHub double with our OAuth app, and Deck configured for it as
    the deployment above is, at the double's address."""
    fake_github.set_oauth_app(CLIENT_ID, CLIENT_SECRET, callback_url=CALLBACK)
    # Who may log in is tested in test_github_login_allowed.py.
    settings.PROW_GITHUB_LOGIN_ANYONE = True
    providers = json.dumps(deployment["providers"]).replace(WEB_URL, fake_github.url)
    settings.SOCIALACCOUNT_PROVIDERS = json.loads(providers)
    # allauth computes these class attributes from the settings once, when
    # this process first imports the provider; a deployment sets them through
    # PROW_GITHUB_WEB_URL (see `deployment`), a test has to point them at its
    # own double.
    for name, url in deployment["adapter"].items():
        monkeypatch.setattr(
            GitHubOAuth2Adapter, name, url.replace(WEB_URL, fake_github.url)
        )
    return fake_github


@pytest.fixture
def job(activate_config):
    activate_config(config_yaml=CONFIG)
    # A postsubmit of acme/app.
    return ProwJobFactory(postsubmit=True, job="post", state="failure")


# ------------------------------------------------------------------ helpers


def browser() -> Client:
    # CSRF is enforced: the GitHub button is a form posted from our page.
    return Client(enforce_csrf_checks=True)


def form_on(response, button: str) -> tuple[str, dict[str, str]]:
    """The action and CSRF field of the form whose button reads `button`."""
    found = re.search(
        r'<form method="post" action="([^"]*)">\s*'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]*)">\s*'
        rf"<button[^>]*>{re.escape(button)}</button>",
        response.content.decode(),
    )
    assert found, f"no {button!r} form on the page"
    return html.unescape(found.group(1)), {"csrfmiddlewaretoken": found.group(2)}


def press_github_button(client: Client, next_url: str = "") -> str:
    """Open our login page and press "Log in with GitHub": where we send the
    browser."""
    page = client.get("/accounts/login/" + (f"?next={next_url}" if next_url else ""))
    action, fields = form_on(page, "Log in with GitHub")
    response = client.post(action, fields)
    assert response.status_code == 302
    return response["Location"]


def github_sends_back(authorize_url: str) -> str:
    """Open GitHub's authorize page: where GitHub sends the browser back."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def open_callback(client: Client, url: str):
    split = urlsplit(url)
    assert f"{split.scheme}://{split.netloc}{split.path}" == CALLBACK
    return client.get(f"{split.path}?{split.query}")


def query(url: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}


def log_in_with_github(client: Client, fake, login: str, next_url: str = ""):
    """The whole round trip as `login`, checking each hop; the callback's
    response."""
    fake.authorize_as(login)
    authorize_url = press_github_button(client, next_url)
    assert authorize_url.startswith(f"{fake.url}/login/oauth/authorize?")
    asked = query(authorize_url)
    assert asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == CALLBACK
    assert asked["response_type"] == "code"
    assert asked["scope"] == "read:org"
    assert asked["state"]

    back = github_sends_back(authorize_url)
    answered = query(back)
    assert answered["state"] == asked["state"]
    assert answered["code"]

    exchanges = len(fake.requests("POST", "/login/oauth/access_token"))
    response = open_callback(client, back)
    exchange = fake.requests("POST", "/login/oauth/access_token")[exchanges:]
    assert len(exchange) == 1
    assert exchange[0].body["client_id"] == CLIENT_ID
    assert exchange[0].body["client_secret"] == CLIENT_SECRET
    assert exchange[0].body["code"] == answered["code"]
    return response


def logged_in_user(client: Client):
    return auth.get_user(client)


def link_github_account(username: str, fake, login: str, extra_data: dict):
    """A local user whose GitHub account is linked already, as after an
    earlier login (or linked by an admin)."""
    user = get_user_model().objects.create_user(username=username)
    SocialAccount.objects.create(
        user=user,
        provider="github",
        uid=str(fake.add_user(login).id),
        extra_data=extra_data,
    )
    return user


def rerun(client: Client, job: ProwJob):
    """Press Rerun on the job's page."""
    page = client.get(f"/view/{job.name}")
    action, fields = form_on(page, "Rerun")
    return client.post(action, fields)


# -------------------------------------------------------------------- tests


def test_a_deployment_configures_the_app_and_the_enterprise_urls(deployment):
    github = deployment["providers"]["github"]
    assert github["APPS"] == [
        {"client_id": CLIENT_ID, "secret": CLIENT_SECRET, "key": ""}
    ]
    assert github["GITHUB_URL"] == WEB_URL
    assert deployment["adapter"]["authorize_url"] == f"{WEB_URL}/login/oauth/authorize"
    assert (
        deployment["adapter"]["access_token_url"]
        == f"{WEB_URL}/login/oauth/access_token"
    )
    assert deployment["adapter"]["profile_url"] == f"{WEB_URL}/api/v3/user"


def test_login_page_offers_github_when_the_app_is_configured(github, settings):
    page = browser().get("/accounts/login/")
    assert "Log in with GitHub" in page.content.decode()
    action, _ = form_on(page, "Log in with GitHub")
    assert urlsplit(action).path == "/accounts/github/login/"

    settings.SOCIALACCOUNT_PROVIDERS = {"github": {"SCOPE": ["read:org"]}}
    assert (
        "Log in with GitHub" not in browser().get("/accounts/login/").content.decode()
    )


def test_the_double_trades_each_code_once_and_only_for_the_secret(github):
    github.authorize_as("alice")
    params = {"client_id": CLIENT_ID, "redirect_uri": CALLBACK, "state": "s"}
    back = github_sends_back(f"{github.url}/login/oauth/authorize?{urlencode(params)}")
    code = query(back)["code"]

    def exchange(secret: str) -> dict[str, str]:
        form = {"client_id": CLIENT_ID, "client_secret": secret, "code": code}
        response = requests.post(
            f"{github.url}/login/oauth/access_token", data=form, timeout=10
        )
        return query("?" + response.text)

    assert exchange("wrong")["error"] == "incorrect_client_credentials"
    token = exchange(CLIENT_SECRET)["access_token"]
    assert exchange(CLIENT_SECRET)["error"] == "bad_verification_code"
    me = requests.get(
        f"{github.url}/api/v3/user",
        headers={"Authorization": f"token {token}"},
        timeout=10,
    )
    assert me.json()["login"] == "alice"
    assert [issued.login for issued in github.oauth_tokens()] == ["alice"]


def test_first_github_login_creates_a_linked_account(github, job):
    client = browser()
    response = log_in_with_github(client, github, "alice")

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = logged_in_user(client)
    assert user.is_authenticated
    account = SocialAccount.objects.get(user=user, provider="github")
    assert account.uid == str(github.add_user("alice").id)
    assert account.extra_data["login"] == "alice"
    assert github_login(user) == "alice"
    # Only GitHub lets this account in: it has no password of its own.
    assert not user.has_usable_password()
    # Its token read the profile, under the enterprise API path.
    (token,) = github.oauth_tokens("alice")
    profile = github.requests("GET", "/api/v3/user")[-1]
    assert profile.headers["authorization"] == f"token {token.token}"
    assert rerun(client, job).status_code == 302


def test_a_github_login_never_takes_over_a_local_account_of_that_name(github):
    local = get_user_model().objects.create_user(username="alice", password="pw")
    client = browser()

    log_in_with_github(client, github, "alice")

    user = logged_in_user(client)
    assert user.is_authenticated
    assert user.pk != local.pk
    assert github_login(user) == "alice"
    assert not SocialAccount.objects.filter(user=local).exists()


def test_returning_github_user_logs_in_to_their_account(github):
    # GitHub logins can be renamed; the account follows GitHub's user id.
    user = link_github_account("local-alice", github, "alice", {"login": "old"})
    users = get_user_model().objects.count()
    client = browser()

    response = log_in_with_github(client, github, "alice")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user(client) == user
    assert get_user_model().objects.count() == users
    user.refresh_from_db()
    assert github_login(user) == "alice"
    (token,) = github.oauth_tokens("alice")
    profile = github.requests("GET", "/api/v3/user")[-1]
    assert profile.headers["authorization"] == f"token {token.token}"


def test_rerun_is_allowed_to_the_listed_github_login_only(github, job):
    # Local usernames that are not the GitHub logins: only the logins the
    # OAuth round trip brings back make alice alice.
    alice = link_github_account("local-alice", github, "alice", {})
    link_github_account("local-bob", github, "bob", {})
    assert github_login(alice) == "local-alice"
    here = f"/view/{job.name}"

    client = browser()
    response = rerun(client, job)
    assert response.status_code == 302
    to_login = urlsplit(response["Location"])
    assert to_login.path == "/accounts/login/"
    assert query(response["Location"])["next"] == here
    response = log_in_with_github(client, github, "alice", next_url=here)
    assert response["Location"] == here
    response = rerun(client, job)
    assert response.status_code == 302
    new = ProwJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == f"/view/{new.name}"

    other = browser()
    log_in_with_github(other, github, "bob")
    assert github_login(logged_in_user(other)) == "bob"
    assert rerun(other, job).status_code == 403
    assert ProwJob.objects.count() == 2


def start_elsewhere(fake, client: Client) -> dict[str, str]:
    """Start a login in `client`, get GitHub's answer, but do not return to
    us yet: the callback's query."""
    fake.authorize_as("alice")
    return query(github_sends_back(press_github_button(client)))


def assert_refused(client: Client, response) -> None:
    assert response.status_code == 401
    assert "Third-Party Login Failure" in response.content.decode()
    assert not logged_in_user(client).is_authenticated


def test_a_replayed_code_is_refused(github):
    link_github_account("local-alice", github, "alice", {})
    first = browser()
    start = start_elsewhere(github, first)
    first.get(f"{CALLBACK}?{urlencode(start)}")
    assert logged_in_user(first).is_authenticated

    # Another browser, with a state of its own, brings the used code.
    second = browser()
    own_state = start_elsewhere(github, second)["state"]
    callback = {"code": start["code"], "state": own_state}
    response = second.get(f"{CALLBACK}?{urlencode(callback)}")

    assert_refused(second, response)
    replayed = github.requests("POST", "/login/oauth/access_token")[-1]
    assert replayed.body["code"] == start["code"]
    assert len(github.oauth_tokens()) == 1


def test_a_wrong_code_is_refused(github):
    client = browser()
    state = start_elsewhere(github, client)["state"]
    response = client.get(f"{CALLBACK}?{urlencode({'code': 'f' * 20, 'state': state})}")
    assert_refused(client, response)
    assert github.requests("POST", "/login/oauth/access_token")[-1].body["code"] == (
        "f" * 20
    )
    assert github.oauth_tokens() == []


def test_a_forged_state_is_refused_before_the_code_is_used(github):
    client = browser()
    code = start_elsewhere(github, client)["code"]
    response = client.get(f"{CALLBACK}?{urlencode({'code': code, 'state': 'forged'})}")
    assert_refused(client, response)
    assert github.requests("POST", "/login/oauth/access_token") == []


def test_a_callback_started_in_another_browser_is_refused(github):
    # Login CSRF: the attacker's code and state, opened in the victim's browser.
    attacker = browser()
    callback = start_elsewhere(github, attacker)
    victim = browser()
    response = victim.get(f"{CALLBACK}?{urlencode(callback)}")
    assert_refused(victim, response)
    assert github.requests("POST", "/login/oauth/access_token") == []


def test_a_wrong_client_secret_gets_no_token(github, settings):
    settings.SOCIALACCOUNT_PROVIDERS["github"]["APPS"][0]["secret"] = "stale"
    client = browser()
    response = client.get(f"{CALLBACK}?{urlencode(start_elsewhere(github, client))}")
    assert_refused(client, response)
    exchange = github.requests("POST", "/login/oauth/access_token")[-1]
    assert exchange.body["client_secret"] == "stale"
    assert github.oauth_tokens() == []


def test_cancelling_on_github_logs_nobody_in(github):
    github.authorize_as("alice", approve=False)
    client = browser()
    back = github_sends_back(press_github_button(client))
    assert query(back)["error"] == "access_denied"
    response = open_callback(client, back)
    assert response.status_code == 302
    assert response["Location"] == reverse("socialaccount_login_cancelled")
    assert not logged_in_user(client).is_authenticated
    assert github.requests("POST", "/login/oauth/access_token") == []
