"""stage through /hook: the three stage labels exclude each other."""

import pytest

from tests.hook.plugins.conftest import ORG, REPO

pytestmark = pytest.mark.django_db

STAGES = ["stage/alpha", "stage/beta", "stage/stable"]


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, comment_on_issue):
    plugins_enabled({f"{ORG}/{REPO}": ["stage"]})
    for label in STAGES:
        fake_github.add_label(ORG, REPO, label)


def test_a_new_stage_replaces_the_old_one(fake_github, comment_on_issue):
    fake_github.add_issue(ORG, REPO, number=1, labels=["stage/alpha"])
    comment_on_issue("/stage beta", labels=["stage/alpha"])
    assert fake_github.issue(ORG, REPO, 1).labels == ["stage/beta"]


def test_commands_apply_in_order(fake_github, comment_on_issue):
    fake_github.add_issue(ORG, REPO, number=1)
    comment_on_issue("/stage alpha\n/stage stable\n/remove-stage alpha")
    assert fake_github.issue(ORG, REPO, 1).labels == ["stage/stable"]


def test_remove_stage_takes_only_that_label(fake_github, comment_on_issue):
    fake_github.add_issue(ORG, REPO, number=1, labels=["stage/beta"])
    comment_on_issue("/remove-stage alpha", labels=["stage/beta"])
    assert fake_github.issue(ORG, REPO, 1).labels == ["stage/beta"]
    comment_on_issue("/remove-stage beta", labels=["stage/beta"])
    assert fake_github.issue(ORG, REPO, 1).labels == []


def test_an_unknown_stage_is_not_a_command(fake_github, comment_on_issue):
    fake_github.add_issue(ORG, REPO, number=1)
    fake_github.clear_requests()
    comment_on_issue("/stage gamma")
    assert [r for r in fake_github.requests() if r.method != "GET"] == []
