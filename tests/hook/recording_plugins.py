"""Plugins for tests, loaded through PROW_EXTRA_PLUGINS like a deployment's
own plugins would be.

recorder writes a row per event it handles into hook_test_effect, a table
the tests create; it sleeps a little first so a test can kill a worker while
it holds deliveries. boom always raises.
"""

import os
import time

from django.db import connection

from hook.events import GENERIC_COMMENT
from hook.plugins.base import Plugin

TABLE = "hook_test_effect"
EVENTS = ("issue_comment", "issues", "pull_request", "push", "status")


def create_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(id serial PRIMARY KEY, guid text NOT NULL, plugin text NOT NULL)"
        )
        cursor.execute(f"TRUNCATE {TABLE}")


def effects() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT guid, plugin FROM {TABLE} ORDER BY id")
        return list(cursor.fetchall())


def record(ctx, event) -> None:
    time.sleep(float(os.environ.get("RECORDER_SLEEP", "0")))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (guid, plugin) VALUES (%s, %s)",
            [ctx.guid, "recorder"],
        )


def explode(ctx, event) -> None:
    raise RuntimeError("boom: this plugin always fails")


recorder = Plugin(
    name="recorder",
    description="Records every event it sees (tests only).",
    handlers=dict.fromkeys(EVENTS, record),
)
boom = Plugin(
    name="boom",
    description="Always fails (tests only).",
    handlers={GENERIC_COMMENT: explode, "pull_request": explode},
)
