"""branchcleaner through /hook: a merged pull request's own-repo branch is
deleted on the GitHub double, unless it is to be kept."""

import copy
import textwrap
import uuid
from dataclasses import dataclass, field

import pytest

from hook.models import WebhookDelivery
from hook.plugins.branchcleaner import SECTION
from hook.services import RetryLater, delivery_dispatch
from prow.config.validation import validate
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

ORG, REPO = "my-org", "repo"
SHA = "f" * 40
REF_PATH = f"/repos/{ORG}/{REPO}/git/refs/heads"


@pytest.fixture(autouse=True)
def _world(fake_github, clean_broker):
    fake_github.add_repo(ORG, REPO, default_branch="master")


def enable(plugins_enabled, preserved: dict[str, list[str]] | None = None) -> None:
    extra = ""
    if preserved:
        lines = ["branch_cleaner:", "  preserved_branches:"]
        lines += [f"    {key}: {list(names)!r}" for key, names in preserved.items()]
        extra = "\n".join(lines) + "\n"
    plugins_enabled({ORG: ["branchcleaner"]}, extra_yaml=extra)


def deliver(
    post_webhook,
    branch: str,
    *,
    action: str = "closed",
    merged: bool = True,
    head_repo: str | None = f"{ORG}/{REPO}",
    guid: str | None = None,
) -> WebhookDelivery:
    payload = copy.deepcopy(fixture_payload("pull_request.closed"))
    payload["action"] = action
    payload["repository"].update(name=REPO, full_name=f"{ORG}/{REPO}")
    payload["repository"]["owner"]["login"] = ORG
    pr = payload["pull_request"]
    pr["merged"] = merged
    pr["base"]["ref"] = "master"
    pr["base"]["repo"].update(name=REPO, full_name=f"{ORG}/{REPO}")
    pr["head"]["ref"] = branch
    if head_repo is None:
        pr["head"]["repo"] = None
    else:
        pr["head"]["repo"]["full_name"] = head_repo
    response = post_webhook("pull_request", payload, guid=guid or str(uuid.uuid4()))
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.latest("received_at")
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def deletes(fake_github) -> list[str]:
    return [r.path for r in fake_github.requests("DELETE")]


@dataclass
class Case:
    name: str
    branch: str
    action: str = "closed"
    merged: bool = True
    head_repo: str | None = f"{ORG}/{REPO}"
    preserved: dict[str, list[str]] = field(default_factory=dict)
    deleted: bool = False


# The original's table, and what this one adds.
CASES = [
    Case("opened PR: nothing to do", "my-feature1", action="opened", merged=False),
    Case("closed unmerged PR: nothing to do", "my-feature2", merged=False),
    Case("PR from another repo", "my-fix1", head_repo="different-org/repo"),
    Case(
        "preserved by the org",
        "betatest",
        preserved={ORG: ["release", "betatest"]},
    ),
    Case(
        "preserved by an org regex",
        "betatest-1",
        preserved={ORG: ["release", "betatest-.*"]},
    ),
    Case(
        "not matching the org regex",
        "betatest1",
        preserved={ORG: ["release", "betatest-.*"]},
        deleted=True,
    ),
    Case(
        "preserved by the repo",
        "betatest",
        preserved={f"{ORG}/{REPO}": ["release", "betatest"]},
    ),
    Case(
        "preserved for another repo only",
        "release",
        preserved={f"{ORG}/other-repo": ["release", "betatest"]},
        deleted=True,
    ),
    Case("nothing preserved", "release", deleted=True),
    Case("a branch with a slash", "feature/x-1", deleted=True),
    Case(
        "regexes are unanchored, as Go's MatchString",
        "hotfix-release-2",
        preserved={ORG: ["release"]},
    ),
    Case(
        "an entry that is no regex keeps its exact name",
        "feat[",
        preserved={ORG: ["feat["]},
    ),
    Case("the head repository is gone", "orphan", head_repo=None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_branchcleaner(case, fake_github, plugins_enabled, post_webhook):
    enable(plugins_enabled, case.preserved)
    fake_github.add_branch(ORG, REPO, case.branch, SHA)
    delivery = deliver(
        post_webhook,
        case.branch,
        action=case.action,
        merged=case.merged,
        head_repo=case.head_repo,
    )
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.last_error
    gone = case.branch not in fake_github.repo(ORG, REPO).branches
    assert gone is case.deleted
    expected = [f"{REF_PATH}/{case.branch}"] if case.deleted else []
    assert deletes(fake_github) == expected


def test_the_delete_is_asked_after_the_protection(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled)
    fake_github.add_branch(ORG, REPO, "feature", SHA)
    fake_github.clear_requests()
    deliver(post_webhook, "feature")
    calls = [(r.method, r.path, r.status) for r in fake_github.requests()]
    assert (
        "GET",
        f"/repos/{ORG}/{REPO}/branches/feature",
        200,
    ) in calls
    assert calls[-1] == ("DELETE", f"{REF_PATH}/feature", 204)


def test_a_protected_branch_is_kept_without_asking_to_delete(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled)
    fake_github.add_branch(ORG, REPO, "release-1.0", SHA, protected=True)
    delivery = deliver(post_webhook, "release-1.0")
    assert delivery.status == WebhookDelivery.Status.DONE
    assert "release-1.0" in fake_github.repo(ORG, REPO).branches
    assert deletes(fake_github) == []


def test_the_default_branch_is_kept(fake_github, plugins_enabled, post_webhook):
    enable(plugins_enabled)
    deliver(post_webhook, "master")
    assert "master" in fake_github.repo(ORG, REPO).branches
    assert deletes(fake_github) == []


def test_githubs_refusal_keeps_the_branch_and_is_no_failure(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled)
    fake_github.add_branch(ORG, REPO, "feature", SHA)
    fake_github.fail_next(
        "DELETE",
        f"^{REF_PATH}/feature$",
        422,
        body={"message": "Cannot delete this protected branch"},
    )
    delivery = deliver(post_webhook, "feature")
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.last_error
    assert "feature" in fake_github.repo(ORG, REPO).branches


def test_a_branch_already_gone_asks_nothing_more(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled)
    delivery = deliver(post_webhook, "deleted-by-hand")
    assert delivery.status == WebhookDelivery.Status.DONE
    assert deletes(fake_github) == []


def test_handling_the_same_event_again_changes_nothing(
    fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled)
    fake_github.add_branch(ORG, REPO, "feature", SHA)
    delivery = deliver(post_webhook, "feature")
    assert deletes(fake_github) == [f"{REF_PATH}/feature"]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, plugin_results={}
    )
    fake_github.clear_requests()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DONE
    assert deletes(fake_github) == []
    # The same GUID again is GitHub's "Redeliver": already done.
    deliver(post_webhook, "feature", guid=delivery.guid)
    assert fake_github.requests("DELETE") == []


@pytest.mark.parametrize(
    "fail",
    [
        pytest.param(
            lambda fake: fake.fail_next("DELETE", f"^{REF_PATH}/feature$", 502),
            id="the delete answers 502",
        ),
        pytest.param(
            lambda fake: fake.rate_limit_next(retry_after=600, path_regex="/branches/"),
            id="the protection read is rate limited",
        ),
    ],
)
def test_a_failure_is_finished_once_by_the_retry(
    fail, fake_github, plugins_enabled, post_webhook
):
    enable(plugins_enabled)
    fake_github.add_branch(ORG, REPO, "feature", SHA)
    fail(fake_github)
    with pytest.raises(RetryLater):
        deliver(post_webhook, "feature")
    delivery = WebhookDelivery.objects.latest("received_at")
    assert "feature" in fake_github.repo(ORG, REPO).branches
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DONE, delivery.last_error
    assert "feature" not in fake_github.repo(ORG, REPO).branches
    succeeded = [r for r in fake_github.requests("DELETE") if r.status == 204]
    assert len(succeeded) == 1


def test_an_entry_that_is_no_regex_is_a_warning_with_its_line():
    result = validate(
        "",
        textwrap.dedent(
            """\
            branch_cleaner:
              preserved_branches:
                my-org: [main, "feat["]
            """
        ),
    )
    assert result.ok
    (warning,) = result.warnings
    assert warning.line == 3
    assert "exactly that name" in warning.message
    assert SECTION.default().preserved_branches == {}
