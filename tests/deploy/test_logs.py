"""Log lines name the work they belong to, in plain text or JSON."""

import io
import json
import logging

from celery import signals

from prow.logs import JsonFormatter, WorkFilter


class FakeTask:
    name = "jobs.tasks.sync_prowjob"


def capture(formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.addFilter(WorkFilter())
    logger = logging.getLogger("tests.deploy.logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, out


def test_json_lines_carry_the_task_and_its_job():
    logger, out = capture(JsonFormatter())
    signals.task_prerun.send(
        sender=FakeTask, task_id="t-1", task=FakeTask(), args=[42], kwargs={}
    )
    try:
        logger.info("pod %s created", "p-1", extra={"guid": "g-9"})
    finally:
        signals.task_postrun.send(sender=FakeTask, task_id="t-1", task=FakeTask())
    logger.warning("outside any task")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "pod p-1 created"
    assert first["prowjob_id"] == 42
    assert first["task"] == "jobs.tasks.sync_prowjob"
    assert first["guid"] == "g-9"
    assert first["level"] == "INFO"
    assert "prowjob_id" not in second and second["level"] == "WARNING"


def test_plain_lines_name_the_work_at_their_end():
    logger, out = capture(logging.Formatter("%(levelname)s %(message)s%(work)s"))
    signals.task_prerun.send(
        sender=FakeTask, task_id="t-2", task=FakeTask(), args=[7], kwargs={}
    )
    try:
        logger.info("synced")
    finally:
        signals.task_postrun.send(sender=FakeTask, task_id="t-2", task=FakeTask())
    logger.info("idle")
    assert out.getvalue().splitlines() == [
        "INFO synced [task=jobs.tasks.sync_prowjob task_id=t-2 prowjob_id=7]",
        "INFO idle",
    ]
