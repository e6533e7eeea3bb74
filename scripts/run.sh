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
declare -A names=()
stopping=
stop() {
  stopping=1
  trap - INT TERM EXIT
  echo; echo "==> stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

started() { pids+=($!); names[$!]=$1; }
.venv/bin/gunicorn prow.wsgi --bind "$HOST:$PORT" --workers 2 --threads 4 --graceful-timeout 5 \
  --access-logfile - --log-level warning &
started "the web server (gunicorn)"
.venv/bin/celery -A prow worker --loglevel INFO --concurrency 2 &
started "the Celery worker"
.venv/bin/celery -A prow beat --loglevel INFO \
  --schedule "${PROW_DATA_DIR:-data}/celerybeat-schedule" &
started "Celery beat"

echo "==> Prow is running at http://$HOST:$PORT/ (admin: http://$HOST:$PORT/admin/). Ctrl-C stops it."
echo "==> web pid ${pids[0]}, worker pid ${pids[1]}, beat pid ${pids[2]}"
# The three stand or fall together: one gone leaves a system that looks up
# but never answers, so say which one and how it ended, then stop the rest.
status=0
wait -n -p died "${pids[@]}" || status=$?
# After Ctrl-C every process ends by request: nothing to explain.
[ -n "$stopping" ] && exit 0
if [ -n "${died:-}" ]; then
  if [ "$status" -gt 128 ]; then
    how="was killed by signal $(kill -l $((status - 128)) 2>/dev/null || echo $((status - 128)))"
  else
    how="exited with code $status"
  fi
  echo "==> ${names[$died]} (pid $died) $how (its last lines are above); stopping the others" >&2
fi
exit "$status"
