"""The API against its own OpenAPI schema.

Schemathesis reads /api/schema/ from the app (in process, over WSGI) and
sends requests generated from it, valid and invalid, to every operation: no
answer may be a 5xx, and every status code, content type and body must be
one the schema documents. Each operation runs once anonymously and once
with a staff token, so the writes run too, and path parameters name rows
that exist half of the time, so more than the 404 branch is exercised.
"""

import uuid

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from jobs.models import ProwJobState, ProwJobType
from tests.factories import (
    ProwJobFactory,
    TideHistoryFactory,
    TidePoolFactory,
    WebhookDeliveryFactory,
    tide_pull,
)
from tide.models import Action

CONFIG = """\
deck:
  rerun_auth_configs:
    "*": {allow_anyone: true}
periodics:
- name: nightly
  interval: 24h
  spec: {containers: [{image: busybox, command: [date]}]}
"""
RUNNING_JOB = uuid.UUID("6f1c2b9e-4d3a-4e8f-9a71-2c5d0e8b7f10")
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

# Loaded once at collection: schemathesis's fixture-based loader does not
# run under pytest 9. Few examples per operation and a fixed seed make a
# regression net that runs in seconds and fails the same way twice.
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json",
    WSGIHandler(),
    config=schemathesis.Config.from_dict(
        {
            "generation": {
                "max-examples": 15,
                "deterministic": True,
                "database": "none",
            },
            # Path parameters name a row that exists half of the time, and
            # are generated freely otherwise.
            "dictionaries": {
                "job": {"values": [str(RUNNING_JOB)]},
                "periodic": {"values": ["nightly"]},
                "delivery": {"values": [DELIVERY]},
            },
            "operations": [
                {
                    "include-path-regex": r"^/api/v1/prowjobs/\{name\}/",
                    "parameters": {
                        "path.name": {"dictionary": "job", "probability": 0.5}
                    },
                },
                {
                    "include-path": "/api/v1/periodics/{name}/run/",
                    "parameters": {
                        "path.name": {"dictionary": "periodic", "probability": 0.5}
                    },
                },
                {
                    "include-path-regex": r"\{guid\}",
                    "parameters": {
                        "path.guid": {"dictionary": "delivery", "probability": 0.5}
                    },
                },
                {
                    # Text that is valid JSON but not a valid Prow config is
                    # refused with 422, which no schema can rule out up front.
                    "include-operation-id": "config_versions_create",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "401", "403", "422"]
                        }
                    },
                },
            ],
        }
    ),
)
quick = settings(deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    """Django closes the database connection around each request, which
    would end the test's transaction; its test client unhooks this for its
    requests, and so must a plain WSGI caller."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def rows(activate_config):
    activate_config(config_yaml=CONFIG)
    ProwJobFactory(detailed=True, pending=True, name=RUNNING_JOB)
    for job_type in ProwJobType:
        ProwJobFactory(detailed=True, type=job_type, state=ProwJobState.SUCCESS)
    WebhookDeliveryFactory(guid=DELIVERY, event="push", payload={"ref": "main"})
    # Tide's lists answer with every part of a pool and a record filled in.
    TidePoolFactory(
        action=Action.TRIGGER_BATCH,
        pending_prs=[tide_pull(2, reason="Not mergeable. Retesting: unit")],
        missing_prs=[tide_pull(3, labels=[], reason="Not mergeable.")],
        batches=[
            {
                "pulls": [tide_pull(1), tide_pull(2)],
                "state": "pending",
                "jobs": [
                    {
                        "name": str(RUNNING_JOB),
                        "job": "batch-unit",
                        "state": "pending",
                        "url": f"http://deck/view/{RUNNING_JOB}",
                    }
                ],
            }
        ],
        blockers=[{"number": 9, "title": "Freeze", "url": "https://gh/9"}],
        error="GitHub said 502",
    )
    TideHistoryFactory()
    TideHistoryFactory(action=Action.ERROR, base_sha="", targets=[], error="boom")


@pytest.fixture
def staff_token(rows) -> str:
    staff = get_user_model().objects.create_user("root", is_staff=True)
    return f"Token {Token.objects.create(user=staff).key}"


@schema.parametrize()
@quick
def test_anonymous_calls_match_the_schema(case, rows):
    case.call_and_validate()


@schema.parametrize()
@quick
def test_staff_calls_match_the_schema(case, staff_token):
    case.call_and_validate(headers={"Authorization": staff_token})
