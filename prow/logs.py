"""Log lines: one per event, plain or JSON (PROW_LOG_FORMAT=json), each
naming the work it belongs to.

While a Celery task runs, every line it logs carries the task and the
delivery or ProwJob it works on, so one webhook's or one job's lines can be
found among all the workers' output. Settings wire this in (LOGGING).
"""

import json
import logging
from contextvars import ContextVar

from celery import signals

_work: ContextVar[dict | None] = ContextVar("prow_log_work", default=None)

# Which argument of a task names its delivery or job.
_SUBJECTS = {
    "hook.tasks.handle_delivery": "delivery_id",
    "hook.tasks.handle_deliveries": "delivery_ids",
    "jobs.tasks.sync_prowjob": "prowjob_id",
    "jobs.tasks.sync_prowjobs": "prowjob_ids",
    "jobs.tasks.report_prowjob": "prowjob_id",
}
# Standard LogRecord attributes; anything else on a record was passed with
# `extra` (or a LoggerAdapter) and belongs in the JSON line.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "work"}


def work_fields() -> dict:
    return dict(_work.get() or {})


class WorkFilter(logging.Filter):
    """Adds the current work's fields to each record, and `work`, their
    plain-text form (empty outside any task)."""

    def filter(self, record):
        fields = _work.get() or {}
        for key, value in fields.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        record.work = (
            " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
            if fields
            else ""
        )
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                plain = isinstance(value, int | float | bool)
                line[key] = value if plain else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


@signals.task_prerun.connect
def _task_started(task_id=None, task=None, args=None, **kwargs):
    fields = {"task": getattr(task, "name", ""), "task_id": task_id}
    subject = _SUBJECTS.get(fields["task"])
    if subject and args:
        first = args[0]
        fields[subject] = (
            ",".join(map(str, first)) if isinstance(first, list | tuple) else first
        )
    _work.set(fields)


@signals.task_postrun.connect
def _task_finished(**kwargs):
    _work.set(None)
