"""Trust through the real GitHub client, over HTTP, against the fake."""

import re

import pytest

from jobs.trust import (
    NOT_COLLABORATOR,
    NOT_MEMBER,
    NOT_SECONDARY_MEMBER,
    SATISFY,
    trusted_pull_request,
    trusted_user,
)
from prow.config.plugins_schema import TriggerConfig
from prow.github import transport
from prow.github.client import GitHubError, github_client

MEMBERSHIP = re.compile(r"^/orgs/[^/]+/members/|^/repos/[^/]+/[^/]+/collaborators/")

UNTRUSTED = (
    "User is not a member of the org. User is not a collaborator. "
    "Satisfy at least one of these conditions to make the user trusted."
)


@pytest.fixture(autouse=True)
def _own_cache(private_cache, monkeypatch):
    """membership answers are cached: a cache of this test's own, and no real waits."""
    monkeypatch.setattr(transport, "_sleep", lambda seconds: None)


@pytest.fixture
def fake(fake_github):
    fake_github.add_repo("org", "repo")
    fake_github.add_org_member("org", "member")
    fake_github.add_collaborator("org", "repo", "collab")
    fake_github.add_org("trusted")
    fake_github.add_org_member("trusted", "friend")
    fake_github.add_user("stranger")
    return fake_github


@pytest.fixture
def gh(fake):
    return github_client("org")


def membership_requests(fake):
    return fake.requests("GET", MEMBERSHIP)


def trust(gh, login, **trigger):
    return trusted_user(gh, login, "org", "repo", TriggerConfig(**trigger))


# --------------------------------------------------------------- trusted_user


def test_the_bot_itself_is_trusted_without_membership_checks(fake, gh):
    result = trust(gh, "prow-bot")
    assert result.trusted is True
    assert bool(result) is True
    assert result.reason == ""
    assert membership_requests(fake) == []


def test_the_bot_is_recognised_case_insensitively(fake, gh):
    assert trust(gh, "Prow-Bot")
    assert membership_requests(fake) == []


def test_an_org_member_is_trusted_without_asking_about_collaborators(fake, gh):
    assert trust(gh, "member")
    paths = [r.path for r in membership_requests(fake)]
    assert paths == ["/orgs/org/members/member"]


def test_a_collaborator_is_trusted(fake, gh):
    assert trust(gh, "collab")
    paths = [r.path for r in membership_requests(fake)]
    assert paths == ["/orgs/org/members/collab", "/repos/org/repo/collaborators/collab"]


def test_a_collaborator_is_not_trusted_when_only_org_members_count(fake, gh):
    result = trust(gh, "collab", only_org_members=True)
    assert not result
    assert result.reason == (
        "User is not a member of the org. "
        "Satisfy at least one of these conditions to make the user trusted."
    )
    assert fake.requests("GET", "/repos/org/repo/collaborators/collab") == []


def test_a_stranger_is_untrusted_with_the_originals_reason(fake, gh):
    result = trust(gh, "stranger")
    assert result.trusted is False
    assert bool(result) is False
    assert result.reason == UNTRUSTED
    assert result.reason == NOT_MEMBER + NOT_COLLABORATOR + SATISFY


def test_an_unknown_login_is_untrusted(fake, gh):
    assert trust(gh, "nobody-at-all").reason == UNTRUSTED


def test_a_member_of_the_trusted_org_is_trusted(fake, gh):
    assert trust(gh, "friend", trusted_org="trusted")
    assert fake.requests("GET", "/orgs/trusted/members/friend")


def test_a_stranger_fails_the_trusted_org_too_and_is_told_so(fake, gh):
    result = trust(gh, "stranger", trusted_org="trusted")
    assert not result
    assert result.reason == (
        "User is not a member of the org. User is not a collaborator. "
        "User is not a member of the trusted secondary org. "
        "Satisfy at least one of these conditions to make the user trusted."
    )
    assert fake.requests("GET", "/orgs/trusted/members/stranger")


def test_only_org_members_with_a_trusted_org_names_both_orgs(fake, gh):
    result = trust(gh, "stranger", trusted_org="trusted", only_org_members=True)
    assert result.reason == NOT_MEMBER + NOT_SECONDARY_MEMBER + SATISFY


@pytest.mark.parametrize("trusted_org", ["org", "ORG"])
def test_a_trusted_org_equal_to_the_org_is_not_asked_twice(fake, gh, trusted_org):
    result = trust(gh, "stranger", trusted_org=trusted_org)
    assert result.reason == UNTRUSTED
    assert len(fake.requests("GET", re.compile(r"^/orgs/[^/]+/members/"))) == 1


def test_a_trusted_org_is_not_asked_about_org_members(fake, gh):
    # Trusted already: the secondary org costs nothing.
    assert trust(gh, "member", trusted_org="trusted")
    assert fake.requests("GET", re.compile("^/orgs/trusted/")) == []


@pytest.mark.parametrize(
    ("login", "apps", "trusted"),
    [
        ("dependabot[bot]", ["dependabot"], True),
        ("Dependabot[bot]", ["dependabot"], True),
        ("renovate[bot]", ["dependabot", "Renovate"], True),
        ("dependabot[bot]", [], False),
        ("dependabot", ["dependabot"], False),
        ("evil-dependabot[bot]", ["dependabot"], False),
        ("[bot]", [""], False),
    ],
)
def test_trusted_apps_are_bot_users_named_without_the_suffix(
    fake, gh, login, apps, trusted
):
    assert trust(gh, login, trusted_apps=apps).trusted is trusted


def test_an_empty_login_is_untrusted_without_any_request(fake, gh):
    fake.clear_requests()
    result = trust(gh, "")
    assert not result
    assert result.reason == UNTRUSTED
    assert fake.requests() == []


def test_a_second_check_of_the_same_user_makes_no_request(fake, gh):
    assert not trust(gh, "stranger", trusted_org="trusted")
    assert trust(gh, "collab")
    before = len(fake.requests())
    assert not trust(gh, "stranger", trusted_org="trusted")
    assert trust(gh, "collab")
    # Logins are case-insensitive: the cached answer serves both spellings.
    assert trust(gh, "COLLAB")
    assert len(fake.requests()) == before


def test_a_github_failure_is_an_error_not_a_no(fake, gh):
    fake.fail_next("GET", r"^/orgs/org/members/", status=403)
    with pytest.raises(GitHubError) as raised:
        trust(gh, "member")
    assert raised.value.status == 403
    # Nothing was cached from the failure: the next check answers truly.
    assert trust(gh, "member")


# ------------------------------------------------------- trusted_pull_request


def pr_trusted(gh, author, labels, **kwargs):
    number = kwargs.pop("number", None)
    return trusted_pull_request(
        gh, author, "org", "repo", labels, TriggerConfig(**kwargs), number=number
    )


def test_a_trusted_authors_pull_request_is_trusted(fake, gh):
    assert pr_trusted(gh, "member", []) is True


def test_an_untrusted_authors_pull_request_is_not(fake, gh):
    assert pr_trusted(gh, "stranger", ["lgtm"]) is False


@pytest.mark.parametrize(
    "labels",
    [
        ["ok-to-test"],
        ["OK-To-Test", "lgtm"],
        [{"name": "ok-to-test", "color": "ededed"}],
    ],
)
def test_the_ok_to_test_label_trusts_the_pull_request_without_lookups(fake, gh, labels):
    assert pr_trusted(gh, "stranger", labels) is True
    assert membership_requests(fake) == []


def test_a_trusted_app_authors_trusted_pull_requests(fake, gh):
    assert pr_trusted(gh, "dependabot[bot]", [], trusted_apps=["dependabot"])
    assert not pr_trusted(gh, "dependabot[bot]", [])


def test_unknown_labels_are_read_only_when_the_author_is_untrusted(fake, gh):
    fake.add_pull("org", "repo", 7, "stranger", "a" * 40, labels=["ok-to-test"])
    fake.add_pull("org", "repo", 8, "member", "b" * 40)
    fake.add_pull("org", "repo", 9, "stranger", "c" * 40)
    assert pr_trusted(gh, "member", None, number=8) is True
    assert fake.requests("GET", "/repos/org/repo/issues/8/labels") == []
    assert pr_trusted(gh, "stranger", None, number=7) is True
    assert fake.requests("GET", "/repos/org/repo/issues/7/labels")
    assert pr_trusted(gh, "stranger", None, number=9) is False


def test_without_labels_or_a_number_only_the_author_counts(fake, gh):
    assert pr_trusted(gh, "stranger", None) is False
    assert pr_trusted(gh, "member", None) is True
