from django.conf import settings

from prow.config.active import active_config
from prow.config.services import config_sync_files
from prow.tasks import prow_task


@prow_task(name="prow.config.tasks.sync_config_files", max_retries=0)
def sync_config_files() -> None:
    config_sync_files(
        config_path=settings.PROW_CONFIG_PATH,
        plugins_path=settings.PROW_PLUGIN_CONFIG_PATH,
    )


@prow_task(name="prow.config.tasks.active_version", ignore_result=False)
def active_version() -> int | None:
    """The config version this worker acts on: for operators checking that
    a change has reached the workers (`celery call`), and for tests."""
    return active_config().version_id
