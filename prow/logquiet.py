"""Routine lines that would otherwise fill the log at INFO and WARNING:
beat sending the config-file check every few seconds and the worker's
receipt of it, and kombu's "No hostname was supplied" from the embedded
broker. They are logged at DEBUG instead, so PROW_LOG_LEVEL=DEBUG still
shows them."""

import logging

ROUTINE = (
    "prow.config.tasks.sync_config_files",
    "No hostname was supplied",
)


class DemoteRoutine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if not any(routine in message for routine in ROUTINE):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)
