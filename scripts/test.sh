#!/usr/bin/env bash
# Runs the whole test suite: lint, then pytest against a real PostgreSQL and
# Redis (started here when they are installed but not running).
set -euo pipefail
source "$(dirname "$0")/venv.sh" requirements-dev.txt

export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
export CELERY_BROKER_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
export PROW_DATA_DIR=${PROW_DATA_DIR:-$PWD/data/test}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

if ! pg_up && command -v pg_ctlcluster >/dev/null; then
  echo "==> starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 30); do pg_up && break; sleep 1; done
fi
if ! redis_up && command -v redis-server >/dev/null; then
  echo "==> starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis_up && break; sleep 1; done
fi
# Deck's browser tests drive Debian's Chromium (PROW_TEST_CHROMIUM elsewhere).
export PROW_TEST_CHROMIUM=${PROW_TEST_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$PROW_TEST_CHROMIUM" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "==> installing Chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x "$PROW_TEST_CHROMIUM" ] || { echo "Chromium is needed at $PROW_TEST_CHROMIUM for the browser tests" >&2; exit 1; }

# The Kubernetes manifests are rendered with kubectl's own kustomize.
if ! command -v kubectl >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "==> installing kubectl (Debian's kubernetes-client) for the manifest tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null
fi

pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
redis_up || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> import-linter (layers: deck -> tide -> hook -> jobs -> prow)"
.venv/bin/lint-imports --no-cache
echo "==> pytest"
.venv/bin/pytest "$@"
