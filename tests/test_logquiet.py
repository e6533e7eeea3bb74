"""Routine lines (the config-file check every few seconds, kombu's missing
hostname) are logged at DEBUG, not INFO or WARNING."""

import logging

import pytest

from prow.logquiet import DemoteRoutine


@pytest.fixture
def captured():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    root = logging.getLogger()
    root.addHandler(handler)
    yield records
    root.removeHandler(handler)


def test_routine_lines_are_dropped_at_info_and_kept_at_debug(captured):
    beat = logging.getLogger("celery.beat")
    assert any(isinstance(f, DemoteRoutine) for f in beat.filters)
    kombu = logging.getLogger("kombu.connection")
    root = logging.getLogger()
    level = root.level
    try:
        root.setLevel(logging.INFO)
        beat.info(
            "Scheduler: Sending due task %s (%s)",
            "config",
            "prow.config.tasks.sync_config_files",
        )
        kombu.warning("No hostname was supplied. Reverting to default 'localhost'")
        beat.info(
            "Scheduler: Sending due task %s (%s)", "plank", "jobs.tasks.plank_resync"
        )
        assert [r.getMessage() for r in captured] == [
            "Scheduler: Sending due task plank (jobs.tasks.plank_resync)"
        ]
        root.setLevel(logging.DEBUG)
        kombu.warning("No hostname was supplied. Reverting to default 'localhost'")
        assert captured[-1].levelname == "DEBUG"
    finally:
        root.setLevel(level)
