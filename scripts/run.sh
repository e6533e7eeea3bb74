#!/usr/bin/env bash
# Runs the whole system on this machine with nothing but Python: SQLite and
# an embedded broker under ./data, the example config, and web + worker +
# beat together. Ctrl-C stops all of it.
set -euo pipefail
source "$(dirname "$0")/venv.sh" requirements.txt
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

$PY manage.py migrate --no-input -v 0
# Bad files are reported and the last good config stays active: still start.
$PY manage.py prow_config sync || echo "==> config files not loaded (see above); running with the active version"
$PY manage.py ensure_admin

# Each process keeps its metrics in files here; a new run counts afresh.
rm -rf "${PROW_DATA_DIR:-data}/metrics"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "==> stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

.venv/bin/gunicorn prow.wsgi --bind "$HOST:$PORT" --workers 2 --threads 4 --graceful-timeout 5 \
  --access-logfile - --log-level warning &
pids+=($!)
.venv/bin/celery -A prow worker --loglevel INFO --concurrency 2 &
pids+=($!)
.venv/bin/celery -A prow beat --loglevel INFO \
  --schedule "${PROW_DATA_DIR:-data}/celerybeat-schedule" &
pids+=($!)

echo "==> Prow is running at http://$HOST:$PORT/ (admin: http://$HOST:$PORT/admin/). Ctrl-C stops it."
wait -n "${pids[@]}"
