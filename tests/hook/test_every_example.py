"""Every vendored GitHub webhook example, signed and posted to /hook, goes
through the real stack (Redis, a Celery worker, the plugins) and is handled
without an error."""

import json
import uuid

from hook.models import WebhookDelivery
from tests.hook.recording_plugins import EVENTS, create_table, effects
from tests.processes import wait_until
from tests.webhooks import FIXTURES


def test_every_example_is_accepted_and_handled(
    celery_worker_thread, post_webhook, plugins_enabled, fake_github, extra_plugins
):
    create_table()
    examples = sorted(FIXTURES.glob("*.json"))
    assert len(examples) > 150
    repos = set()
    for path in examples:
        repository = json.loads(path.read_text()).get("repository") or {}
        if repository.get("full_name"):
            repos.add(repository["full_name"])
    plugins_enabled({repo: ["shrug", "stage", "recorder"] for repo in sorted(repos)})

    posted = {}
    for path in examples:
        event = path.name.split(".")[0]
        guid = str(uuid.uuid4())
        response = post_webhook(event, json.loads(path.read_text()), guid=guid)
        assert response.status_code == 200, (path.name, response.content)
        posted[guid] = (path.name, event)

    def all_finished():
        return not WebhookDelivery.objects.filter(
            status__in=[
                WebhookDelivery.Status.PENDING,
                WebhookDelivery.Status.PROCESSING,
            ]
        ).exists()

    wait_until(all_finished, timeout=120, what="every delivery to be handled")
    failed = list(
        WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DONE).values_list(
            "guid", "last_error"
        )
    )
    assert failed == [], [(posted[g][0], e) for g, e in failed]
    assert WebhookDelivery.objects.count() == len(examples)

    # The recorder saw each event of its kinds exactly once, and nothing else.
    expected = sorted(
        guid
        for guid, (name, event) in posted.items()
        if event in EVENTS
        and (json.loads((FIXTURES / name).read_text()).get("repository") or {}).get(
            "full_name"
        )
    )
    assert sorted(guid for guid, _ in effects()) == expected
