"""yuks through /hook: `/joke` answers with an escaped joke from the joke
service, once, and politely when the service fails."""

import pytest

from hook.models import WebhookDelivery
from hook.plugins.images import escape_markdown
from hook.services import RetryLater, delivery_dispatch
from tests.hook.plugins.community import (
    COMMENT_URL,
    bodies,
    comment_payload,
    deliver,
    handle_again,
    writes,
)
from tests.hook.plugins.conftest import ORG, REPO
from tests.hook.plugins.service_double import Answer, down_url, json_answer

pytestmark = pytest.mark.django_db

JOKE = "What do you get when you cross a joke with a rhetorical question?"
COMMENTS = f"/repos/{ORG}/{REPO}/issues/1/comments"


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, clean_broker, settings, service):
    plugins_enabled({f"{ORG}/{REPO}": ["yuks"]})
    fake_github.add_repo(ORG, REPO)
    fake_github.add_issue(ORG, REPO, number=1)
    settings.PROW_JOKE_API_URL = service.route("/", json_answer({"joke": JOKE}))


def joke(post_webhook, body="/joke", **kwargs):
    return deliver(post_webhook, "issue_comment", comment_payload(body, **kwargs))


@pytest.mark.parametrize(
    ("case", "body", "action", "is_pr", "comments"),
    [
        ("ignore edited comment", "/joke", "edited", False, 0),
        ("leave joke on pr", "/joke", "created", True, 1),
        ("leave joke on issue", "/joke", "created", False, 1),
        ("leave joke on issue, trailing space", "/joke \r", "created", False, 1),
        ("not a command mid-line", "tell me a /joke", "created", False, 0),
        ("in a code block", "```\n/joke\n```", "created", False, 0),
    ],
)
def test_when_a_joke_is_told(
    case, body, action, is_pr, comments, fake_github, post_webhook
):
    if is_pr:
        fake_github.add_pull(ORG, REPO, 2, author="bob", head_sha="a" * 40)
    number = 2 if is_pr else 1
    joke(post_webhook, body, action=action, is_pr=is_pr, number=number)
    assert len(bodies(fake_github, number)) == comments, case


def test_the_joke_is_posted_as_a_reply(fake_github, post_webhook, service):
    joke(post_webhook)
    (post,) = writes(fake_github)
    assert (post.method, post.path) == ("POST", COMMENTS)
    assert post.body["body"].startswith(f"@alice: {escape_markdown(JOKE)}\n\n")
    assert f"In response to [this]({COMMENT_URL})" in post.body["body"]
    (asked,) = service.requests("GET")
    assert asked.headers["Accept"] == "application/json"


@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("simple characters, all allowed", "this? that.", "this? that."),
        ("markdown url", "[hello](url)", "&#91;hello&#93;&#40;url&#41;"),
        (
            "bold move",
            "I made a <b>bold</b> move today: **move**",
            "I made a &#60;b&#62;bold&#60;&#47;b&#62; move today&#58; "
            "&#42;&#42;move&#42;&#42;",
        ),
        ("helm symbol", "⎈", "&#9096;"),
        (
            "xss attempt",
            "<img src=404 onerror=alert('k8s')>",
            "&#60;img src&#61;404 onerror&#61;alert&#40;'k8s'&#41;&#62;",
        ),
        ("empty joke", "", ""),
        (
            "longcat is long",
            "longcat is\n\n\n\n\n\n\nlong",
            "longcat is&#10;&#10;&#10;&#10;&#10;&#10;&#10;long",
        ),
        # Unlike the original, underscores are escaped too: _this_ is italic.
        ("underscores", "_snake_case_", "&#95;snake&#95;case&#95;"),
        ("a mention", "@kubernetes/maintainers", "&#64;kubernetes&#47;maintainers"),
    ],
)
def test_jokes_are_escaped(case, text, expected):
    assert escape_markdown(text) == expected, case


def test_a_joke_with_markup_reaches_the_comment_escaped(
    fake_github, post_webhook, settings, service
):
    settings.PROW_JOKE_API_URL = service.route(
        "/markup", json_answer({"joke": "<img src=x onerror=alert(1)> [a](b)"})
    )
    joke(post_webhook)
    (body,) = bodies(fake_github)
    assert "<img" not in body and "[a](b)" not in body
    assert "&#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62; &#91;a&#93;" in body


@pytest.mark.parametrize(
    ("case", "answers", "asked"),
    [
        ("not JSON", [Answer(200, b"<html>ha ha</html>")], 3),
        ("no joke in the answer", [json_answer({"id": "x"})], 3),
        ("an empty joke", [json_answer({"joke": ""})], 3),
        ("a list instead of an object", [json_answer(["a joke"])], 3),
        ("a joke far too long", [json_answer({"joke": "ha" * 1000})], 3),
        ("a server error", [Answer(500, b"oops")], 1),
        ("rate limited", [Answer(429, b"", {"Retry-After": "60"})], 1),
        ("slow", [Answer(200, b'{"joke": "late"}', delay=1)], 1),
    ],
)
def test_a_failing_service_gets_a_polite_reply_and_no_retry(
    case, answers, asked, fake_github, post_webhook, settings, service
):
    settings.PROW_JOKE_API_URL = service.route("/bad", *answers)
    delivery = joke(post_webhook)
    assert delivery.status == "done", case
    (body,) = bodies(fake_github)
    assert body.startswith("@alice: https://icanhazdadjoke.com appears to be down")
    assert len(service.requests("GET", "/bad")) == asked, case


def test_a_bad_answer_then_a_good_one_tells_the_good_one(
    fake_github, post_webhook, settings, service
):
    settings.PROW_JOKE_API_URL = service.route(
        "/flaky", Answer(200, b"garbage"), json_answer({"joke": "Knock knock."})
    )
    joke(post_webhook)
    (body,) = bodies(fake_github)
    assert body.startswith("@alice: Knock knock.")


def test_a_service_that_is_down_gets_a_polite_reply(
    fake_github, post_webhook, settings
):
    settings.PROW_JOKE_API_URL = down_url()
    delivery = joke(post_webhook)
    assert delivery.status == "done"
    (body,) = bodies(fake_github)
    assert "appears to be down" in body


def test_handling_the_same_comment_again_tells_no_second_joke(
    fake_github, post_webhook, service
):
    delivery = joke(post_webhook)
    assert len(bodies(fake_github)) == 1
    fake_github.clear_requests()
    handle_again(delivery)
    assert bodies(fake_github) == [bodies(fake_github)[0]]
    assert writes(fake_github) == []
    assert len(service.requests("GET")) == 1, "the service was not asked again"


def test_a_github_error_on_the_reply_is_retried_and_tells_the_joke_once(
    fake_github, post_webhook
):
    fake_github.fail_next("POST", f"^{COMMENTS}$", status=502)
    with pytest.raises(RetryLater):
        joke(post_webhook)
    assert bodies(fake_github) == []
    delivery = WebhookDelivery.objects.get()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "done"
    assert len(bodies(fake_github)) == 1
    assert len(fake_github.requests("POST", COMMENTS)) == 2


def test_a_github_rate_limit_is_waited_out_and_tells_the_joke_once(
    fake_github, post_webhook
):
    fake_github.rate_limit_next(retry_after=3600, path_regex=f"^{COMMENTS}$")
    with pytest.raises(RetryLater) as raised:
        joke(post_webhook)
    assert raised.value.retry_after >= 3000
    delivery_dispatch(WebhookDelivery.objects.get().pk)
    assert len(bodies(fake_github)) == 1
