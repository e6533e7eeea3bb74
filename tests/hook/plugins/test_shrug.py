"""shrug through /hook: the label goes on and comes off, with a shrug."""

import pytest

from tests.hook.plugins.conftest import ORG, REPO

pytestmark = pytest.mark.django_db

SHRUG = "¯\\_(ツ)_/¯"


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, comment_on_issue):
    plugins_enabled({f"{ORG}/{REPO}": ["shrug"]})
    fake_github.add_label(ORG, REPO, SHRUG)


def test_shrug_adds_the_label(fake_github, comment_on_issue):
    fake_github.add_issue(ORG, REPO, number=1)
    delivery = comment_on_issue("/shrug")
    assert delivery.plugin_results == {"shrug:generic_comment": "ok"}
    assert fake_github.issue(ORG, REPO, 1).labels == [SHRUG]


def test_shrug_on_a_shrugged_issue_asks_github_nothing(fake_github, comment_on_issue):
    fake_github.add_issue(ORG, REPO, number=1, labels=[SHRUG])
    fake_github.clear_requests()
    comment_on_issue("/shrug", labels=[SHRUG])
    assert [r for r in fake_github.requests() if r.method != "GET"] == []


def test_unshrug_removes_it_with_a_shrug_in_reply(fake_github, comment_on_issue):
    fake_github.add_issue(ORG, REPO, number=1, labels=[SHRUG])
    comment_on_issue("/unshrug", labels=[SHRUG])
    assert fake_github.issue(ORG, REPO, 1).labels == []
    (reply,) = fake_github.comments(ORG, REPO, 1)
    assert reply.body.startswith("@alice: ¯\\\\\\_(ツ)\\_/¯")


def test_unshrug_without_the_label_says_nothing(fake_github, comment_on_issue):
    fake_github.add_issue(ORG, REPO, number=1)
    comment_on_issue("/unshrug")
    assert fake_github.comments(ORG, REPO, 1) == []
