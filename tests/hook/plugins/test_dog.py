"""dog through /hook: `/woof` and `/bark` answer with a checked dog picture
from the dog service, the "this is fine" commands with their pictures; once,
and politely when the service fails."""

import pytest

from hook.models import WebhookDelivery
from hook.plugins import dog
from hook.services import RetryLater, delivery_dispatch
from tests.hook.plugins.community import (
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
DOWN = "@alice: https://random.dog appears to be down"


@pytest.fixture
def image(service):
    return service.route("/dog.jpg", image_answer(717987, "image/jpeg"))


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, clean_broker, settings, service, image):
    plugins_enabled({f"{ORG}/{REPO}": ["dog"]})
    fake_github.add_repo(ORG, REPO)
    fake_github.add_issue(ORG, REPO, number=1)
    settings.PROW_DOG_API_URL = service.route("/woof.json", json_answer({"url": image}))


def woof(post_webhook, body="/woof", **kwargs):
    return deliver(post_webhook, "issue_comment", comment_payload(body, **kwargs))


@pytest.mark.parametrize(
    ("case", "body", "action", "is_pr", "picture"),
    [
        ("ignore edited comment", "/woof", "edited", False, None),
        ("leave dog on pr", "/woof", "created", True, "random"),
        ("leave dog on issue", "/woof", "created", False, "random"),
        ("leave dog on issue, trailing space", "/woof \r", "created", False, "random"),
        ("bark", "/bark", "created", False, "random"),
        ("this is fine", "/this-is-fine", "created", False, "this_is_fine.png"),
        (
            "this is not fine",
            "/this-is-not-fine",
            "created",
            False,
            "this_is_not_fine.png",
        ),
        (
            "this is unbearable",
            "/this-is-unbearable",
            "created",
            False,
            "this_is_unbearable.jpg",
        ),
        ("not a command", "/woofwoof", "created", False, None),
    ],
)
def test_when_a_dog_is_posted(
    case, body, action, is_pr, picture, fake_github, post_webhook, service, image
):
    number = 2 if is_pr else 1
    if is_pr:
        fake_github.add_pull(ORG, REPO, 2, author="bob", head_sha="a" * 40)
    woof(post_webhook, body, action=action, is_pr=is_pr, number=number)
    if picture is None:
        assert bodies(fake_github, number) == [], case
        return
    url = image if picture == "random" else dog.FINE_IMAGES + picture
    (posted,) = bodies(fake_github, number)
    assert posted.startswith(f"@alice: [![dog image]({url})]({url})\n\n"), case
    if picture != "random":
        # The well-known pictures are ours: no service is asked.
        assert service.seen == [], case


@pytest.mark.parametrize(
    ("case", "answer", "picture", "tries"),
    [
        ("a video", None, ("/dog.mp4", image_answer(100, "video/mp4")), 3),
        ("image too big", None, ("/big.jpg", image_answer(12647753)), 3),
        ("not really an image", None, ("/page.png", image_answer(10, "text/html")), 3),
        ("empty url", json_answer({"url": ""}), None, 3),
        ("no url", json_answer({"message": "woof"}), None, 3),
        ("bad url", json_answer({"url": "http://still a bad url.jpg"}), None, 3),
        ("not JSON", Answer(200, b"woof woof"), None, 3),
        ("a server error", Answer(502, b""), None, 1),
        ("slow", Answer(200, b"{}", delay=1), None, 1),
    ],
)
def test_a_bad_answer_is_tried_again_then_gets_a_polite_reply(
    case, answer, picture, tries, fake_github, post_webhook, service, settings
):
    if picture is not None:
        path, served = picture
        answer = json_answer({"url": service.route(path, served)})
    settings.PROW_DOG_API_URL = service.route("/bad", answer)
    delivery = woof(post_webhook)
    assert delivery.status == "done", case
    (body,) = bodies(fake_github)
    assert body.startswith(DOWN), case
    assert "![" not in body, case
    assert len(service.requests("GET", "/bad")) == tries, case


def test_a_video_then_a_picture_posts_the_picture(
    fake_github, post_webhook, service, settings, image
):
    video = service.route("/dog.mp4", image_answer(100, "video/mp4"))
    settings.PROW_DOG_API_URL = service.route(
        "/flaky", json_answer({"url": video}), json_answer({"url": image})
    )
    woof(post_webhook)
    (body,) = bodies(fake_github)
    assert f"[![dog image]({image})]({image})" in body
    # The video was refused by its name, without asking its host.
    assert service.requests(path="/dog.mp4") == []


def test_a_service_that_is_down_gets_a_polite_reply(
    fake_github, post_webhook, settings
):
    settings.PROW_DOG_API_URL = down_url()
    assert woof(post_webhook).status == "done"
    assert bodies(fake_github)[0].startswith(DOWN)


def test_handling_the_same_comment_again_posts_no_second_dog(
    fake_github, post_webhook, service
):
    delivery = woof(post_webhook)
    first = bodies(fake_github)
    fake_github.clear_requests()
    handle_again(delivery)
    assert bodies(fake_github) == first
    assert writes(fake_github) == []
    assert len(service.requests("GET", "/woof.json")) == 1


def test_a_github_error_on_the_reply_is_retried_and_posts_one_dog(
    fake_github, post_webhook
):
    fake_github.fail_next("POST", f"^{COMMENTS}$", status=502)
    with pytest.raises(RetryLater):
        woof(post_webhook, "/this-is-fine")
    assert bodies(fake_github) == []
    delivery = WebhookDelivery.objects.get()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "done"
    (body,) = bodies(fake_github)
    assert "this_is_fine.png" in body
