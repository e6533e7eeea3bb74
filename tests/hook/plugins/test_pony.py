"""pony through /hook: `/pony [tags]` answers with checked pony pictures
from the pony service, at most five per comment, once, and politely when
the service fails."""

import pytest

from hook.models import WebhookDelivery
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
NOT_FOUND = "@alice: Couldn't find a pony matching given tag(s)."
DOWN = "@alice: https://theponyapi.com appears to be down"


def pony_answer(service, name: str = "pony"):
    small = service.route(f"/{name}-small.png", image_answer(1000))
    full = service.route(f"/{name}-full.png", image_answer(50_000_000))
    answer = json_answer({"pony": {"representations": {"small": small, "full": full}}})
    return answer, f"[![pony image]({small})]({full})"


@pytest.fixture
def picture(service, settings):
    answer, markdown = pony_answer(service)
    settings.PROW_PONY_API_URL = service.route("/api/v1/pony/random", answer)
    return markdown


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, clean_broker, picture):
    plugins_enabled({f"{ORG}/{REPO}": ["pony"]})
    fake_github.add_repo(ORG, REPO)
    fake_github.add_issue(ORG, REPO, number=1)


def pony(post_webhook, body="/pony", **kwargs):
    return deliver(post_webhook, "issue_comment", comment_payload(body, **kwargs))


def asked(service) -> list[str]:
    return [r.query["q"][0] for r in service.requests("GET", "/api/v1/pony/random")]


@pytest.mark.parametrize(
    ("case", "body", "action", "tags"),
    [
        ("ignore edited comment", "/pony", "edited", []),
        ("leave pony on issue", "/pony", "created", [""]),
        ("leave pony on issue, trailing space", "/pony \r", "created", [""]),
        ("a named pony", "/pony Twilight Sparkle", "created", ["Twilight Sparkle"]),
        ("two ponies", "/pony\n/pony Rarity", "created", ["", "Rarity"]),
        ("no more than five", "\n".join(["/pony"] * 7), "created", [""] * 5),
        ("not a command", "/ponyfication", "created", []),
    ],
)
def test_which_ponies_are_asked_for_and_posted(
    case, body, action, tags, fake_github, post_webhook, service, picture
):
    pony(post_webhook, body, action=action)
    assert asked(service) == tags, case
    if not tags:
        assert bodies(fake_github) == [], case
        return
    (posted,) = bodies(fake_github)
    assert posted.startswith("@alice: " + f"{picture}\n" * len(tags)), case
    # Only the small picture goes in the comment, so only it is checked.
    assert service.requests(path="/pony-full.png") == []


def test_a_pony_on_a_pull_request(fake_github, post_webhook, picture):
    fake_github.add_pull(ORG, REPO, 2, author="bob", head_sha="a" * 40)
    pony(post_webhook, is_pr=True, number=2)
    (posted,) = bodies(fake_github, 2)
    assert picture in posted


@pytest.mark.parametrize(
    ("case", "body", "answer", "reply", "tries"),
    [
        ("no such pony", "/pony Nobody", Answer(404, b"{}"), NOT_FOUND, 2),
        ("not JSON", "/pony", Answer(200, b"neigh"), DOWN, 2),
        ("no pictures", "/pony", json_answer({"pony": {}}), DOWN, 2),
        ("a server error", "/pony", Answer(500, b""), DOWN, 1),
        ("slow", "/pony", Answer(200, b"{}", delay=1), DOWN, 1),
        (
            "a picture that is not http",
            "/pony",
            json_answer(
                {"pony": {"representations": {"small": "file:///x", "full": "x"}}}
            ),
            DOWN,
            2,
        ),
    ],
)
def test_a_bad_answer_gets_a_polite_reply(
    case, body, answer, reply, tries, fake_github, post_webhook, service, settings
):
    settings.PROW_PONY_API_URL = service.route("/bad", answer)
    delivery = pony(post_webhook, body)
    assert delivery.status == "done", case
    (posted,) = bodies(fake_github)
    assert posted.startswith(reply), case
    assert "![" not in posted, case
    assert len(service.requests("GET", "/bad")) == tries, case


def test_a_pony_too_big_to_show_is_not_posted(
    fake_github, post_webhook, service, settings
):
    small = service.route("/huge.png", image_answer(10_000_001))
    settings.PROW_PONY_API_URL = service.route(
        "/big",
        json_answer({"pony": {"representations": {"small": small, "full": small}}}),
    )
    pony(post_webhook, "/pony Celestia")
    (posted,) = bodies(fake_github)
    assert posted.startswith(NOT_FOUND)


def test_found_ponies_are_posted_even_when_others_are_not(
    fake_github, post_webhook, service, settings, picture
):
    answer, _ = pony_answer(service)
    settings.PROW_PONY_API_URL = service.route(
        "/mixed", answer, Answer(404, b""), Answer(404, b"")
    )
    pony(post_webhook, "/pony\n/pony Nobody")
    (posted,) = bodies(fake_github)
    assert posted.startswith(f"@alice: {picture}\n\n")


def test_a_service_that_is_down_is_asked_once(fake_github, post_webhook, settings):
    settings.PROW_PONY_API_URL = down_url()
    assert pony(post_webhook, "\n".join(["/pony"] * 5)).status == "done"
    (posted,) = bodies(fake_github)
    assert posted.startswith(DOWN)


def test_handling_the_same_comment_again_posts_no_second_pony(
    fake_github, post_webhook, service
):
    delivery = pony(post_webhook)
    first = bodies(fake_github)
    fake_github.clear_requests()
    handle_again(delivery)
    assert bodies(fake_github) == first
    assert writes(fake_github) == []
    assert len(asked(service)) == 1


def test_a_github_error_on_the_reply_is_retried_and_posts_the_ponies_once(
    fake_github, post_webhook, picture
):
    fake_github.fail_next("POST", f"^{COMMENTS}$", status=502)
    with pytest.raises(RetryLater):
        pony(post_webhook, "/pony\n/pony Applejack")
    delivery = WebhookDelivery.objects.get()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "done"
    (posted,) = bodies(fake_github)
    assert posted.count(picture) == 2
