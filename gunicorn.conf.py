"""gunicorn settings, read when `gunicorn prow.wsgi` starts in this folder.

Threads let one worker serve other requests while a webhook waits for the
database; a few workers use every core. Both are environment variables.
"""

import multiprocessing
import os

bind = os.environ.get("PROW_WEB_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(
    os.environ.get("PROW_WEB_WORKERS", min(2 * multiprocessing.cpu_count(), 8))
)
threads = int(os.environ.get("PROW_WEB_THREADS", 2))
keepalive = 5
graceful_timeout = 10
# Webhooks up to GitHub's 25 MB arrive in one request line plus body; the
# default limits on headers are fine, the body is read by the view.
accesslog = "-"
