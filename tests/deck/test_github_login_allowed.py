"""Who may log in with GitHub: only the users, org members and team members
the settings name; nobody when none are named; asked again once a session's
last check is older than the bound; and no whenever GitHub cannot answer.
The whole OAuth round trip runs against the GitHub double."""

import time

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.core.cache import cache

from deck.github_access import CHECKED_AT
from tests.deck.test_github_login import (  # noqa: F401 (fixtures)
    browser,
    deployment,
    github,
    log_in_with_github,
    logged_in_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def gh(github, settings):  # noqa: F811 (the fixture imported above)
    settings.PROW_GITHUB_LOGIN_ANYONE = False
    settings.PROW_GITHUB_LOGIN_USERS = []
    settings.PROW_GITHUB_LOGIN_ORGS = []
    settings.PROW_GITHUB_LOGIN_TEAMS = []
    settings.PROW_DECK_PUBLIC = False
    cache.clear()  # membership answers are cached
    return github


def refused(response) -> bool:
    return response.status_code == 403 and b"may not log in here" in response.content


def test_with_nobody_named_no_github_account_gets_in(gh):
    client = browser()
    assert refused(log_in_with_github(client, gh, "anyone"))
    assert not logged_in_user(client).is_authenticated
    assert not get_user_model().objects.exists()
    # The private Deck stays closed to them.
    assert client.get("/").status_code == 302


def test_named_users_get_in_and_others_do_not(gh, settings):
    settings.PROW_GITHUB_LOGIN_USERS = ["Alice"]
    alice = browser()
    assert log_in_with_github(alice, gh, "alice").status_code == 302
    assert logged_in_user(alice).is_authenticated
    assert alice.get("/").status_code == 200

    mallory = browser()
    assert refused(log_in_with_github(mallory, gh, "mallory"))
    assert not SocialAccount.objects.filter(extra_data__login="mallory").exists()


def test_org_and_team_members_get_in(gh, settings):
    settings.PROW_GITHUB_LOGIN_ORGS = ["acme"]
    settings.PROW_GITHUB_LOGIN_TEAMS = ["widgets/maintainers"]
    gh.add_org_member("acme", "olga")
    gh.add_team("widgets", "maintainers", members=["tom"], pending=["pat"])
    gh.add_org_member("elsewhere", "eve")
    for login, allowed in (
        ("olga", True),
        ("tom", True),
        ("pat", False),
        ("eve", False),
    ):
        client = browser()
        response = log_in_with_github(client, gh, login)
        assert logged_in_user(client).is_authenticated is allowed, login
        assert refused(response) is not allowed, login


def test_github_outage_refuses_the_login(gh, settings):
    settings.PROW_GITHUB_LOGIN_ORGS = ["acme"]
    gh.add_org_member("acme", "olga")
    # The bot's API calls fail; the OAuth pages still answer.
    settings.PROW_GITHUB_TOKEN_PATH = "/nonexistent/token"
    settings.PROW_GITHUB_ENDPOINT = "http://127.0.0.1:1"
    client = browser()
    assert refused(log_in_with_github(client, gh, "olga"))
    assert not logged_in_user(client).is_authenticated


def test_leaving_the_org_ends_the_session_once_the_bound_passes(gh, settings):
    settings.PROW_GITHUB_LOGIN_ORGS = ["acme"]
    settings.PROW_GITHUB_LOGIN_RECHECK_SECONDS = 600
    gh.add_org_member("acme", "olga")
    client = browser()
    log_in_with_github(client, gh, "olga")
    assert client.get("/").status_code == 200

    gh.add_org("acme").members.pop("olga")
    cache.clear()
    # Within the bound the session stands without asking GitHub.
    asked = len(gh.requests("GET", "/orgs/acme/members/olga"))
    assert client.get("/").status_code == 200
    assert len(gh.requests("GET", "/orgs/acme/members/olga")) == asked

    session = client.session
    session[CHECKED_AT] = time.time() - 601
    session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not logged_in_user(client).is_authenticated


def test_a_member_still_allowed_keeps_the_session(gh, settings):
    settings.PROW_GITHUB_LOGIN_ORGS = ["acme"]
    gh.add_org_member("acme", "olga")
    client = browser()
    log_in_with_github(client, gh, "olga")
    session = client.session
    session[CHECKED_AT] = time.time() - 10 * 3600
    session.save()
    assert client.get("/").status_code == 200
    assert client.session[CHECKED_AT] > time.time() - 60


def test_accounts_made_by_an_admin_are_not_rechecked(client, settings):
    settings.PROW_DECK_PUBLIC = False
    user = get_user_model().objects.create_user("local", password="pw")
    client.force_login(user)
    assert client.get("/").status_code == 200
    assert client.session[CHECKED_AT] > time.time() - 60
