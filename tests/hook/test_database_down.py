"""With the database down the webhook cannot be stored: GitHub is told so
(503), and the delivery can be redelivered from GitHub once it is back."""

import json
import urllib.error
import urllib.request

from tests.processes import (
    VENV_BIN,
    free_port,
    http_get,
    project_env,
    running,
    wait_until,
)
from tests.webhooks import SECRET, fixture_payload, sign


def test_database_down_gives_503(tmp_path):
    secret = tmp_path / "hmac"
    secret.write_text(SECRET)
    port = free_port()
    env = project_env(
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing",
        PROW_HMAC_SECRET_FILE=secret,
        PROW_DATA_DIR=tmp_path,
    )
    args = [f"{VENV_BIN}/gunicorn", "prow.wsgi", "-b", f"127.0.0.1:{port}"]
    body = json.dumps(fixture_payload("issues.opened")).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/hook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": "db-down-1",
            "X-Hub-Signature-256": sign(body),
        },
    )
    with running(args, env, tmp_path / "web.log"):
        wait_until(
            lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200,
            30,
            what="web",
        )
        try:
            urllib.request.urlopen(request, timeout=30)
            status, text = 200, ""
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode()
    assert status == 503
    assert "could not be stored" in text
    assert "Traceback" not in text
