"""The README's first command: the whole system on one machine, no services.

Runs `make run` as a newcomer would (SQLite, the embedded broker, web +
worker + beat), with the config files in a temporary folder so the test can
change them and watch the change arrive.
"""

import os
import shutil
import signal
import time

from tests.conftest import EXAMPLES
from tests.processes import (
    free_port,
    http_get,
    project_env,
    read_log,
    running,
    wait_until,
)

NEW_PERIODIC = """
- name: watch-me
  interval: 1h
  spec:
    containers:
    - image: alpine
      command: ["/bin/true"]
"""


def test_make_run_serves_the_system_and_follows_config_files(tmp_path):
    config = tmp_path / "config.yaml"
    plugins = tmp_path / "plugins.yaml"
    shutil.copy(EXAMPLES / "config.yaml", config)
    shutil.copy(EXAMPLES / "plugins.yaml", plugins)
    port = free_port()
    env = project_env(
        DATABASE_URL=None,
        CELERY_BROKER_URL=None,
        PROW_DATA_DIR=tmp_path / "data",
        PROW_CONFIG_PATH=config,
        PROW_PLUGIN_CONFIG_PATH=plugins,
        PROW_CONFIG_WATCH_SECONDS=1,
        PORT=port,
    )
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "run.log"
    with running(["make", "run"], env, log) as process:
        try:
            wait_until(
                lambda: http_get(f"{base}/healthz/ready")[0] == 200,
                timeout=240,
                what="/healthz/ready",
            )
            status, login = http_get(f"{base}/admin/login/")
            assert status == 200
            assert 'name="username"' in login
            status, home = http_get(f"{base}/")
            assert status == 200 and "<table" in home
            status, configured = http_get(f"{base}/jobs")
            assert status == 200
            assert "echo-test" in configured
            assert (tmp_path / "data" / "prow.sqlite3").exists()
            assert (tmp_path / "data" / "admin_password").exists()
            # The embedded broker keeps all its files under the data folder.
            assert (tmp_path / "data" / "broker" / "control").is_dir()

            # beat notices the edited file, a worker imports it, and the web
            # process shows it: three processes, no restart.
            text = config.read_text().replace(
                "periodics:\n", "periodics:" + NEW_PERIODIC, 1
            )
            config.write_text(text)
            wait_until(
                lambda: "watch-me" in http_get(f"{base}/jobs")[1],
                timeout=30,
                what="the edited config to reach the web process",
            )
        except AssertionError:
            raise AssertionError(read_log(log))

        # Ctrl-C stops everything it started.
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        time.sleep(0.5)
        try:
            http_get(f"{base}/healthz", timeout=2)
            still_serving = True
        except OSError:
            still_serving = False
        assert not still_serving, "the web server outlived Ctrl-C"
