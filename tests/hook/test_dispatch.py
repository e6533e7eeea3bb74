"""Handing a stored delivery to the plugins enabled for its repository.

Deliveries arrive through /hook; the handling step (what the worker task
calls) runs here directly, against the GitHub double over HTTP.
"""

import copy

import pytest

from hook.models import WebhookDelivery
from hook.services import RetryLater, delivery_dispatch
from tests.hook.recording_plugins import create_table, effects
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status
ORG, REPO = "Codertocat", "Hello-World"
SHRUG = "¯\\_(ツ)_/¯"


@pytest.fixture(autouse=True)
def _setup(clean_broker, fake_github, extra_plugins):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_issue(ORG, REPO, number=1, author="Codertocat", title="Spelling")
    fake_github.add_label(ORG, REPO, SHRUG)
    create_table()
    yield


def comment(body, *, user="alice", action="created", guid=None):
    payload = copy.deepcopy(fixture_payload("issue_comment.created"))
    payload["action"] = action
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = user
    payload["sender"]["login"] = user
    return payload


def deliver(post_webhook, event, payload, guid=None):
    response = post_webhook(event, payload, guid=guid)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.latest("received_at")
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def labels(fake):
    return fake.issue(ORG, REPO, 1).labels


def test_a_command_runs_its_plugin(post_webhook, plugins_enabled, fake_github):
    plugins_enabled({f"{ORG}/{REPO}": ["shrug"]})
    delivery = deliver(post_webhook, "issue_comment", comment("/shrug"))
    assert delivery.status == Status.DONE
    assert delivery.plugin_results == {"shrug:generic_comment": "ok"}
    assert labels(fake_github) == [SHRUG]


def test_plugins_are_enabled_per_org_and_per_repo(
    post_webhook, plugins_enabled, fake_github
):
    plugins_enabled({ORG: ["shrug"], f"{ORG}/{REPO}": ["stage"]})
    delivery = deliver(post_webhook, "issue_comment", comment("/shrug\n/stage beta"))
    assert set(delivery.plugin_results) == {
        "shrug:generic_comment",
        "stage:generic_comment",
    }
    assert sorted(labels(fake_github)) == sorted([SHRUG, "stage/beta"])


def test_a_repo_excluded_at_org_level_gets_only_its_own(
    post_webhook, plugins_enabled, fake_github
):
    plugins_enabled(
        {},
        extra_yaml=(
            f"  {ORG}:\n    excluded_repos: [{REPO}]\n    plugins: [shrug]\n"
            f"  {ORG}/{REPO}:\n    plugins: [stage]\n"
        ),
    )
    deliver(post_webhook, "issue_comment", comment("/shrug\n/stage beta"))
    assert labels(fake_github) == ["stage/beta"]


def test_the_bots_own_comment_is_ignored(post_webhook, plugins_enabled, fake_github):
    plugins_enabled({f"{ORG}/{REPO}": ["shrug", "recorder"]})
    fake_github.clear_requests()
    delivery = deliver(
        post_webhook, "issue_comment", comment("/shrug", user="prow-bot")
    )
    assert delivery.status == Status.DONE
    assert labels(fake_github) == []
    assert effects() == []
    assert not fake_github.requests(method="POST")


def test_one_failing_plugin_does_not_stop_the_others(
    post_webhook, plugins_enabled, fake_github, caplog
):
    plugins_enabled({f"{ORG}/{REPO}": ["boom", "shrug"]})
    delivery = deliver(post_webhook, "issue_comment", comment("/shrug"), guid="iso-1")
    assert labels(fake_github) == [SHRUG]
    assert delivery.status == Status.FAILED
    assert delivery.plugin_results["shrug:generic_comment"] == "ok"
    assert "boom" in delivery.plugin_results["boom:generic_comment"]
    assert (
        "boom:generic_comment: RuntimeError: boom: this plugin always fails"
        in delivery.last_error
    )
    crash = [
        r
        for r in caplog.records
        if "plugin boom:generic_comment crashed" in r.getMessage()
    ]
    assert crash and "iso-1" in crash[0].getMessage()


def test_a_failed_delivery_handled_again_reruns_only_what_failed(
    post_webhook, plugins_enabled, fake_github
):
    plugins_enabled({f"{ORG}/{REPO}": ["boom", "recorder"]})
    payload = comment("hello")
    delivery = deliver(post_webhook, "issue_comment", payload, guid="again-1")
    assert delivery.status == Status.FAILED
    assert len(effects()) == 1
    # GitHub's redeliver button: the same GUID again.
    post_webhook("issue_comment", payload, guid="again-1")
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert len(effects()) == 1, "the recorder had finished and must not run twice"


def test_a_transient_github_error_asks_for_a_retry(
    post_webhook, plugins_enabled, fake_github
):
    plugins_enabled({f"{ORG}/{REPO}": ["shrug"]})
    fake_github.fail_next("POST", r"/issues/1/labels$", status=502)
    post_webhook("issue_comment", comment("/shrug"))
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(RetryLater):
        delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    # The write that got a 502 was not resent blindly.
    assert (
        len(
            fake_github.requests(
                method="POST", path=f"/repos/{ORG}/{REPO}/issues/1/labels"
            )
        )
        == 1
    )
    delivery_dispatch(delivery.pk)  # the retry
    delivery.refresh_from_db()
    assert delivery.status == Status.DONE
    assert labels(fake_github) == [SHRUG]


def test_edited_comments_do_not_run_commands(
    post_webhook, plugins_enabled, fake_github
):
    plugins_enabled({f"{ORG}/{REPO}": ["shrug"]})
    delivery = deliver(
        post_webhook, "issue_comment", comment("/shrug", action="edited")
    )
    assert delivery.status == Status.DONE
    assert labels(fake_github) == []


def test_commands_in_code_blocks_are_not_commands(
    post_webhook, plugins_enabled, fake_github
):
    plugins_enabled({f"{ORG}/{REPO}": ["shrug"]})
    deliver(post_webhook, "issue_comment", comment("look:\n```\n/shrug\n```\n"))
    assert labels(fake_github) == []


def test_a_claimed_delivery_is_not_handled_twice(post_webhook, plugins_enabled):
    plugins_enabled({f"{ORG}/{REPO}": ["recorder"]})
    delivery = deliver(post_webhook, "issue_comment", comment("hi"))
    assert delivery.status == Status.DONE
    delivery_dispatch(delivery.pk)  # a duplicate message
    assert len(effects()) == 1


def test_events_no_plugin_handles_are_marked_done(post_webhook, plugins_enabled):
    plugins_enabled({f"{ORG}/{REPO}": ["shrug"]})
    delivery = deliver(post_webhook, "star", fixture_payload("star.created"))
    assert delivery.status == Status.DONE
    assert delivery.plugin_results == {}


def test_unconfigured_repository_is_done_without_work(post_webhook, plugins_enabled):
    plugins_enabled({"someone-else/repo": ["shrug"]})
    delivery = deliver(post_webhook, "issue_comment", comment("/shrug"))
    assert delivery.status == Status.DONE
    assert delivery.plugin_results == {}


def test_pull_request_description_is_a_comment_too(
    post_webhook, plugins_enabled, fake_github
):
    plugins_enabled({f"{ORG}/{REPO}": ["stage"]})
    payload = copy.deepcopy(fixture_payload("pull_request.opened"))
    number = payload["number"]
    payload["pull_request"]["body"] = "Implements the thing.\n/stage alpha\n"
    fake_github.add_pull(ORG, REPO, number, "Codertocat", "a" * 40)
    fake_github.add_label(ORG, REPO, "stage/alpha")
    delivery = deliver(post_webhook, "pull_request", payload)
    assert delivery.status == Status.DONE
    assert fake_github.issue(ORG, REPO, number).labels == ["stage/alpha"]
