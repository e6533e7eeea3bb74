"""Having a config before any work is done with it.

Until a config version is active, a webhook handled would run no plugin and
be lost; so every process imports the config files as it starts (web,
worker, beat), readiness stays false while no version is active, and
deliveries wait for one (hook.services.delivery_dispatch).
"""

import logging

from celery.signals import beat_init, worker_init
from django.conf import settings
from django.db import DatabaseError, connections

from prow.config.active import active_config, forget_cached_config
from prow.config.services import config_sync_files, read_config_files
from prow.config.validation import validate

logger = logging.getLogger(__name__)

# A rejected config's errors logged each time a probe asks: enough to say
# why, few enough for a probe every few seconds.
SHOWN_ERRORS = 5


def config_missing() -> str | None:
    """Why no config version is active, or None when one is.

    When none is, the files are imported first, so the answer is also the
    earliest moment the config can become active in this process (the web
    process started before the database was migrated, say).
    """
    if active_config().version_id is not None:
        return None
    config_sync_files(
        config_path=settings.PROW_CONFIG_PATH,
        plugins_path=settings.PROW_PLUGIN_CONFIG_PATH,
    )
    # Another process may have imported them a moment ago.
    forget_cached_config()
    if active_config().version_id is not None:
        return None
    return f"no config loaded: {_files_problem()}"


def _files_problem() -> str:
    # Asked again rather than remembered from the import: the files may have
    # been fixed, or broken, by someone else since. The answer is shown to
    # anyone asking the readiness probe, so paths and the config's text stay
    # in the log.
    paths = f"{settings.PROW_CONFIG_PATH} and {settings.PROW_PLUGIN_CONFIG_PATH}"
    try:
        texts = read_config_files(
            settings.PROW_CONFIG_PATH, settings.PROW_PLUGIN_CONFIG_PATH
        )
    except OSError as exc:
        logger.warning("config files %s unreadable: %s", paths, exc)
        return f"config files unreadable: {type(exc).__name__}"
    result = validate(*texts)
    if not result.ok:
        errors = [str(e) for e in result.errors]
        logger.warning(
            "config files %s rejected:\n%s", paths, "\n".join(errors[:SHOWN_ERRORS])
        )
        return f"config files rejected with {len(errors)} error(s), listed in the log"
    return "config files not imported yet"


def config_load_at_start() -> None:
    """Import the config files if they changed; never stops the process from
    starting (readiness reports what is wrong, and the next try fixes it)."""
    try:
        problem = config_missing()
    except DatabaseError as exc:
        logger.warning("config not loaded at start, the database is not ready: %s", exc)
        return
    finally:
        # A worker forks its pool after this: children must not share the
        # parent's connection.
        connections.close_all()
    if problem:
        logger.error("%s", problem)


@worker_init.connect
def _load_in_worker(**kwargs):
    config_load_at_start()


@beat_init.connect
def _load_in_beat(**kwargs):
    config_load_at_start()
