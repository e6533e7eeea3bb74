"""welcome through /hook: a first-time contributor's first pull request is
greeted with the configured message, once."""

import copy

import pytest

from hook.models import WebhookDelivery
from hook.plugins import welcome
from hook.services import RetryLater, delivery_dispatch
from prow.config.validation import validate
from tests.hook.plugins.community import deliver, handle_again, writes
from tests.hook.plugins.conftest import ORG, REPO
from tests.webhooks import fixture_payload

pytestmark = pytest.mark.django_db

AUTHOR = "Codertocat"
SHA = "c" * 40
DEFAULT = f"Welcome @{AUTHOR}! It looks like this is your first PR to {ORG}/{REPO} 🎉"
COMMENTS = f"/repos/{ORG}/{REPO}/issues/2/comments"


@pytest.fixture(autouse=True)
def _enabled(plugins_enabled, fake_github, clean_broker, private_cache):
    plugins_enabled({f"{ORG}/{REPO}": ["welcome"]})
    fake_github.add_repo(ORG, REPO)
    fake_github.add_user(AUTHOR)
    fake_github.add_pull(ORG, REPO, 2, author=AUTHOR, head_sha=SHA)


def opened(action="opened", user_type="User", name=None) -> dict:
    payload = copy.deepcopy(fixture_payload("pull_request.opened"))
    payload["action"] = action
    payload["pull_request"]["body"] = ""
    payload["pull_request"]["user"]["type"] = user_type
    if name is not None:
        payload["pull_request"]["user"]["name"] = name
    return payload


def open_pull(post_webhook, **kwargs):
    return deliver(post_webhook, "pull_request", opened(**kwargs))


def said(fake_github) -> list[str]:
    return [c.body for c in fake_github.comments(ORG, REPO, 2)]


def test_a_first_pull_request_is_welcomed(fake_github, post_webhook):
    open_pull(post_webhook)
    (search,) = fake_github.requests("GET", "/search/issues")
    assert search.query["q"] == f"is:pr repo:{ORG}/{REPO} author:{AUTHOR}"
    (post,) = writes(fake_github)
    assert (post.method, post.path, post.body) == ("POST", COMMENTS, {"body": DEFAULT})


@pytest.mark.parametrize(
    ("case", "setup", "kwargs", "yaml", "welcomed"),
    [
        ("no other pull request", None, {}, "", True),
        ("an earlier pull request", "earlier", {}, "", False),
        ("an earlier pull request, always_post", "earlier", {}, "always", True),
        ("an earlier issue only", "issue", {}, "", True),
        ("a pull request to another repo", "elsewhere", {}, "", True),
        ("an org member", "member", {}, "", False),
        ("a collaborator", "collaborator", {}, "", False),
        ("an org member, always_post", "member", {}, "always", True),
        ("a bot", None, {"user_type": "Bot"}, "", False),
        ("a bot, always_post", None, {"user_type": "Bot"}, "always", False),
        ("not a new pull request", None, {"action": "synchronize"}, "", False),
        ("reopened", None, {"action": "reopened"}, "", False),
    ],
)
def test_who_is_welcomed(
    case, setup, kwargs, yaml, welcomed, fake_github, post_webhook, plugins_enabled
):
    if yaml == "always":
        plugins_enabled(
            {f"{ORG}/{REPO}": ["welcome"]},
            f"welcome:\n- repos: [{ORG}/{REPO}]\n  always_post: true\n",
        )
    if setup == "earlier":
        fake_github.add_pull(ORG, REPO, 1, author=AUTHOR, head_sha="d" * 40)
    elif setup == "issue":
        fake_github.add_issue(ORG, REPO, number=1, author=AUTHOR)
    elif setup == "elsewhere":
        fake_github.add_repo(ORG, "other")
        fake_github.add_pull(ORG, "other", 1, author=AUTHOR, head_sha="d" * 40)
    elif setup == "member":
        fake_github.add_org_member(ORG, AUTHOR)
    elif setup == "collaborator":
        fake_github.add_collaborator(ORG, REPO, AUTHOR)
    open_pull(post_webhook, **kwargs)
    assert said(fake_github) == ([DEFAULT] if welcomed else []), case


def test_the_template_is_rendered_with_its_fields(
    fake_github, post_webhook, plugins_enabled
):
    template = (
        "Hi {{.AuthorName}} ({{ .AuthorLogin }}), thanks for #{{.PullRequestNumber}} "
        "to {{.Org}}/{{.Repo}}!"
    )
    plugins_enabled(
        {f"{ORG}/{REPO}": ["welcome"]},
        f"welcome:\n- repos: [{ORG}]\n  message_template: '{template}'\n",
    )
    open_pull(post_webhook, name="<b>Octo</b> Cat")
    assert said(fake_github) == [
        f"Hi &lt;b&gt;Octo&lt;/b&gt; Cat ({AUTHOR}), thanks for #2 to {ORG}/{REPO}!"
    ]


def test_the_repos_entry_wins_over_the_orgs(fake_github, post_webhook, plugins_enabled):
    plugins_enabled(
        {f"{ORG}/{REPO}": ["welcome"]},
        f"welcome:\n- repos: [{ORG}]\n  message_template: org\n"
        f"- repos: [{ORG}/{REPO}]\n  message_template: repo\n",
    )
    open_pull(post_webhook)
    assert said(fake_github) == ["repo"]


def test_handling_the_same_event_again_welcomes_once(fake_github, post_webhook):
    delivery = open_pull(post_webhook)
    fake_github.clear_requests()
    handle_again(delivery)
    assert writes(fake_github) == []
    assert said(fake_github) == [DEFAULT]


@pytest.mark.parametrize(
    ("case", "method", "path"),
    [
        ("the comment fails", "POST", COMMENTS),
        ("the search fails", "GET", "/search/issues"),
        ("the membership check fails", "GET", f"/orgs/{ORG}/members/"),
    ],
)
def test_a_github_error_ends_with_one_welcome(
    case, method, path, fake_github, post_webhook
):
    # Reads are tried again by the client itself; a write is not.
    times = 4 if method == "GET" else 1
    fake_github.fail_next(method, f"^{path}", status=502, times=times)
    with pytest.raises(RetryLater):
        open_pull(post_webhook)
    assert said(fake_github) == [], case
    delivery = WebhookDelivery.objects.get()
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "done", case
    assert said(fake_github) == [DEFAULT], case


def test_a_rate_limit_ends_with_one_welcome(fake_github, post_webhook):
    fake_github.rate_limit_next(retry_after=3600, path_regex=f"^{COMMENTS}$")
    with pytest.raises(RetryLater):
        open_pull(post_webhook)
    delivery_dispatch(WebhookDelivery.objects.get().pk)
    assert said(fake_github) == [DEFAULT]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Hi {{if .AuthorLogin}}you{{end}}", "is not a field"),
        ("Hi {{.Author}}", "unknown field 'Author'"),
        ("Hi {{.AuthorLogin | printf}}", "is not a field"),
        ("Hi {{.AuthorLogin", "unclosed"),
        ("Hi {{- .AuthorLogin -}}", "is not a field"),
    ],
)
def test_the_section_refuses_templates_it_cannot_render(template, message):
    result = validate(
        "",
        f"welcome:\n- repos: [{ORG}]\n- repos: [{ORG}/{REPO}]\n"
        f"  message_template: {template!r}\n",
    )
    (error,) = result.errors
    assert (error.line, error.path) == (4, "welcome[1].message_template")
    assert message in error.message


def test_the_default_template_renders():
    assert welcome.template_problem(welcome.DEFAULT_MESSAGE) is None
