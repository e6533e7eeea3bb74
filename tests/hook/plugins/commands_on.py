"""Commands written on issues and pull requests, delivered through /hook.

`items` gives a test issues or pull request (seeded on the GitHub
double) and sends it comments, or opens it with a description, as GitHub
would: a signed webhook to /hook, then handled as the worker does.
"""

import copy
from dataclasses import dataclass, field

from hook.models import WebhookDelivery
from hook.services import delivery_dispatch
from tests.hook.plugins.conftest import ORG, REPO
from tests.webhooks import fixture_payload

BOT = "prow-bot"


def writes(fake_github):
    """Every request that changed something on GitHub."""
    return [r for r in fake_github.requests() if r.method != "GET"]


def bot_comments(fake_github, number: int) -> list[str]:
    return [c.body for c in fake_github.comments(ORG, REPO, number) if c.author == BOT]


def handle(delivery: WebhookDelivery) -> WebhookDelivery:
    """What a worker does with a delivery (again, for a retry)."""
    delivery_dispatch(delivery.pk)
    delivery.refresh_from_db()
    return delivery


@dataclass
class Item:
    """One issue or pull request and the webhooks about it."""

    fake: object
    post: object
    number: int
    is_pr: bool
    author: str
    sent: list = field(default_factory=list)

    def _state(self):
        issue = self.fake.issue(ORG, REPO, self.number)
        return issue.state, list(issue.labels), list(issue.assignees)

    def _issue_payload(self, raw: dict) -> dict:
        state, labels, assignees = self._state()
        kind = "pull" if self.is_pr else "issues"
        raw.update(
            number=self.number,
            state=state,
            html_url=f"https://github.com/{ORG}/{REPO}/{kind}/{self.number}",
            labels=[{"name": name} for name in labels],
            assignees=[{"login": login} for login in assignees],
        )
        raw["user"] = {**raw["user"], "login": self.author}
        return raw

    def comment(
        self,
        body: str,
        *,
        user: str = "alice",
        handled: bool = True,
        action: str = "created",
    ):
        """user comments body; the event carries the item as it is now."""
        payload = copy.deepcopy(fixture_payload("issue_comment.created"))
        payload["action"] = action
        issue = self._issue_payload(payload["issue"])
        if self.is_pr:
            issue["pull_request"] = {"url": "x"}
        else:
            issue.pop("pull_request", None)
        payload["comment"]["body"] = body
        payload["comment"]["user"]["login"] = user
        payload["comment"]["id"] = 5000 + len(self.sent)
        payload["comment"]["html_url"] = (
            f"{issue['html_url']}#issuecomment-{5000 + len(self.sent)}"
        )
        payload["sender"]["login"] = user
        return self._send("issue_comment", payload, handled)

    def opened(self, body: str, *, handled: bool = True):
        """The item is opened with body as its description."""
        kind = "pull_request" if self.is_pr else "issues"
        payload = copy.deepcopy(fixture_payload(f"{kind}.opened"))
        key = "pull_request" if self.is_pr else "issue"
        raw = self._issue_payload(payload[key])
        raw["body"] = body
        payload["sender"]["login"] = self.author
        return self._send(kind, payload, handled)

    def labeled(self, label: str, *, handled: bool = True):
        payload = copy.deepcopy(fixture_payload("pull_request.labeled"))
        self._issue_payload(payload["pull_request"])
        payload["label"]["name"] = label
        return self._send("pull_request", payload, handled)

    def _send(self, event: str, payload: dict, handled: bool):
        response = self.post(event, payload)
        assert response.status_code == 200
        delivery = WebhookDelivery.objects.latest("received_at")
        self.sent.append(delivery)
        return handle(delivery) if handled else delivery


def items(post_webhook, fake_github):
    """A maker of items: make(pr=False, number=1, author=..., labels=...,
    state=...) is an issue (or pull request) on the double, and what is
    said on it. Test modules wrap it in their own `on_item` fixture."""
    fake_github.add_repo(ORG, REPO)

    def make(
        *,
        pr: bool = False,
        number: int = 1,
        author: str = "Codertocat",
        labels=(),
        state: str = "open",
        assignees=(),
    ) -> Item:
        if pr:
            fake_github.add_pull(
                ORG, REPO, number, author, head_sha="a" * 40, labels=labels, state=state
            )
            fake_github.issue(ORG, REPO, number).assignees = list(assignees)
        else:
            fake_github.add_issue(
                ORG,
                REPO,
                number=number,
                author=author,
                labels=labels,
                state=state,
                assignees=assignees,
            )
        return Item(fake_github, post_webhook, number, pr, author)

    return make
