"""cat through /hook: `/meow` and `/meowvie` answer with a checked cat
image from the cat service, once, and politely when the service fails."""

import logging

import pytest

from hook.models import WebhookDelivery
from hook.plugins import cat
from hook.services import RetryLater, delivery_dispatch
from prow.config.validation import validate
from tests.hook.plugins.community import (
    COMMENT_URL,
    bodies,
    comment_payload,
    deliver,
    handle_again,
    writes,
)
from tests.hook.plugins.conftest import ORG, REPO
from tests.hook.plugins.service_double import (
    Answer,
    down_url,
    image_answer,
    json_answer,
)

pytestmark = pytest.mark.django_db

COMMENTS = f"/repos/{ORG}/{REPO}/issues/1/comments"
KEY = "s3cret-cat-key"


@pytest.fixture
def image(service):
    return service.route("/cat.jpg", image_answer(717987, "image/jpeg"))


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, clean_broker, settings, service, image):
    plugins_enabled({f"{ORG}/{REPO}": ["cat"]})
    fake_github.add_repo(ORG, REPO)
    fake_github.add_issue(ORG, REPO, number=1)
    settings.PROW_CAT_API_URL = service.route(
        "/v1/images/search", json_answer([{"id": "valid", "url": image}])
    )


def meow(post_webhook, body="/meow", **kwargs):
    return deliver(post_webhook, "issue_comment", comment_payload(body, **kwargs))


def asked(service) -> list:
    return service.requests("GET", "/v1/images/search")


@pytest.mark.parametrize(
    ("case", "body", "action", "is_pr", "query"),
    [
        ("ignore edited comment", "/meow", "edited", False, None),
        ("leave cat on pr", "/meow", "created", True, {}),
        ("leave cat on issue", "/meow", "created", False, {}),
        ("leave cat on issue, trailing space", "/meow \r", "created", False, {}),
        ("categorical cat", "/meow clothes", "created", False, {"category": "clothes"}),
        ("movie cat", "/meowvie", "created", False, {"mime_types": "gif"}),
        (
            "categorical movie cat",
            "/meowvie space",
            "created",
            False,
            {"category": "space", "mime_types": "gif"},
        ),
        ("not at the start of a line", "say /meow", "created", False, None),
    ],
)
def test_when_a_cat_is_posted_and_what_is_asked_for(
    case, body, action, is_pr, query, fake_github, post_webhook, service, image
):
    number = 2 if is_pr else 1
    if is_pr:
        fake_github.add_pull(ORG, REPO, 2, author="bob", head_sha="a" * 40)
    meow(post_webhook, body, action=action, is_pr=is_pr, number=number)
    if query is None:
        assert bodies(fake_github, number) == [], case
        assert service.seen == [], case
        return
    (body_posted,) = bodies(fake_github, number)
    assert body_posted.startswith(f"@alice: ![cat image]({image})\n\n"), case
    (request,) = asked(service)
    sent = {name: values[0] for name, values in request.query.items()}
    assert sent == {"format": "json", "results_per_page": "1", **query}, case
    # The image was checked with a HEAD, never fetched whole.
    assert [r.method for r in service.requests(path="/cat.jpg")] == ["HEAD"]


@pytest.mark.parametrize("word", ["no", "grumpy", "Grumpy"])
def test_grumpy_cat_needs_no_service(word, fake_github, post_webhook, service):
    meow(post_webhook, f"/meow {word}")
    (body,) = bodies(fake_github)
    assert body.startswith(f"@alice: ![cat image]({cat.GRUMPY_IMAGE})")
    assert service.seen == []


def test_the_api_key_travels_in_a_header_and_is_never_logged(
    fake_github, post_webhook, plugins_enabled, service, tmp_path, caplog
):
    key_file = tmp_path / "cat-key"
    key_file.write_text(f"{KEY}\n")
    plugins_enabled({f"{ORG}/{REPO}": ["cat"]}, f"cat:\n  key_path: {key_file}\n")
    caplog.set_level(logging.DEBUG)
    meow(post_webhook, "/meow clothes")
    (request,) = asked(service)
    assert request.headers["x-api-key"] == KEY
    assert all(
        KEY not in value for values in request.query.values() for value in values
    )
    assert KEY not in caplog.text
    assert len(bodies(fake_github)) == 1


def test_an_unreadable_key_file_still_brings_a_cat(
    fake_github, post_webhook, plugins_enabled, service, tmp_path, caplog
):
    missing = tmp_path / "nowhere"
    plugins_enabled({f"{ORG}/{REPO}": ["cat"]}, f"cat:\n  key_path: {missing}\n")
    meow(post_webhook)
    (request,) = asked(service)
    assert "x-api-key" not in {name.lower() for name in request.headers}
    assert "cannot read the cat API key file" in caplog.text
    assert "![cat image]" in bodies(fake_github)[0]


@pytest.mark.parametrize(
    ("case", "answer", "picture", "tries"),
    [
        ("image too big", None, image_answer(12647753, "image/jpeg"), 3),
        ("not an image", None, image_answer(100, "text/html"), 3),
        ("image missing", None, Answer(404, b""), 3),
        ("return-406", Answer(406, b"<html>Not Acceptable</html>"), None, 3),
        ("no-cats-in-json", json_answer([]), None, 3),
        ("no-image-in-json", json_answer([{}]), None, 3),
        ("not JSON", Answer(200, b"<html>meow</html>"), None, 3),
        (
            "a url that is not http",
            json_answer([{"url": "javascript:alert(1)"}]),
            None,
            3,
        ),
        ("a server error", Answer(503, b"down"), None, 1),
        ("slow", Answer(200, b"[]", delay=1), None, 1),
    ],
)
def test_a_bad_answer_is_tried_again_then_gets_a_polite_reply(
    case, answer, picture, tries, fake_github, post_webhook, service, settings
):
    if picture is not None:
        url = service.route("/big.jpg", picture)
        answer = json_answer([{"url": url}])
    settings.PROW_CAT_API_URL = service.route("/bad", answer)
    delivery = meow(post_webhook)
    assert delivery.status == "done", case
    (body,) = bodies(fake_github)
    assert body.startswith("@alice: https://thecatapi.com appears to be down"), case
    assert "![" not in body, case
    assert len(service.requests("GET", "/bad")) == tries, case


def test_a_failure_with_a_category_blames_the_category(
    fake_github, post_webhook, settings, service
):
    settings.PROW_CAT_API_URL = service.route("/bad", json_answer([]))
    meow(post_webhook, "/meow nosuchthing")
    (body,) = bodies(fake_github)
    assert body.startswith(
        "@alice: Bad category. Please see https://api.thecatapi.com/api/categories/list"
    )


def test_a_service_that_is_down_gets_a_polite_reply(
    fake_github, post_webhook, settings
):
    settings.PROW_CAT_API_URL = down_url()
    assert meow(post_webhook).status == "done"
    assert "appears to be down" in bodies(fake_github)[0]


def test_a_bad_image_then_a_good_one_posts_the_good_one(
    fake_github, post_webhook, settings, service, image
):
    big = service.route("/big.jpg", image_answer(20_000_000))
    settings.PROW_CAT_API_URL = service.route(
        "/flaky", json_answer([{"url": big}]), json_answer([{"url": image}])
    )
    meow(post_webhook)
    (body,) = bodies(fake_github)
    assert f"![cat image]({image})" in body and "big.jpg" not in body


def test_an_image_address_cannot_break_out_of_the_markdown(
    fake_github, post_webhook, settings, service
):
    sneaky = service.url + '/cat.jpg?x=1)<img src="x" onerror=alert(1)>'
    service.route("/cat.jpg", image_answer(100))
    settings.PROW_CAT_API_URL = service.route("/sneaky", json_answer([{"url": sneaky}]))
    meow(post_webhook)
    (body,) = bodies(fake_github)
    line = body.splitlines()[0]
    assert line == (
        f"@alice: ![cat image]({service.url}/cat.jpg"
        "?x=1%29%3Cimg%20src=%22x%22%20onerror=alert%281%29%3E)"
    )


def test_handling_the_same_comment_again_posts_no_second_cat(
    fake_github, post_webhook, service
):
    delivery = meow(post_webhook)
    first = bodies(fake_github)
    fake_github.clear_requests()
    handle_again(delivery)
    assert bodies(fake_github) == first
    assert writes(fake_github) == []
    assert len(asked(service)) == 1


def test_a_github_error_on_the_reply_is_retried_and_posts_one_cat(
    fake_github, post_webhook
):
    fake_github.fail_next("POST", f"^{COMMENTS}$", status=502)
    with pytest.raises(RetryLater):
        meow(post_webhook)
    assert bodies(fake_github) == []
    delivery = WebhookDelivery.objects.get()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "done"
    (body,) = bodies(fake_github)
    assert f"In response to [this]({COMMENT_URL})" in body


def test_a_github_rate_limit_asks_for_a_retry_and_posts_one_cat(
    fake_github, post_webhook
):
    fake_github.rate_limit_next(retry_after=3600, path_regex=f"^{COMMENTS}$")
    with pytest.raises(RetryLater):
        meow(post_webhook)
    delivery_dispatch(WebhookDelivery.objects.get().pk)
    assert len(bodies(fake_github)) == 1


def test_the_section_takes_an_absolute_key_path_only():
    assert validate("", "cat:\n  key_path: /etc/cat-api/api-key\n").ok
    result = validate("", "plugins:\n  octo: [cat]\ncat:\n  key_path: cat-key\n")
    (error,) = result.errors
    assert (error.line, error.path) == (4, "cat.key_path")
    assert "absolute" in error.message
