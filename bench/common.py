"""What the benchmarks share: a database and broker of their own."""

import os
from pathlib import Path


def use_own_database(
    name: str, redis_db: int, workdir: Path, *, keep: bool = False
) -> None:
    """Point Django at a fresh database `name` (dropped first if it exists;
    with `keep`, an existing one is kept) and at Redis db `redis_db`, before
    Django is set up. BENCH_DATABASE_URL and BENCH_REDIS_URL override both."""
    import psycopg

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prow.settings")
    url = os.environ.get(
        "BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{name}"
    )
    os.environ["DATABASE_URL"] = url
    os.environ["CELERY_BROKER_URL"] = os.environ.get(
        "BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{redis_db}"
    )
    os.environ["PROW_DATA_DIR"] = str(workdir)
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        if keep:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [database]
            ).fetchone()
            if exists:
                return
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def drop_own_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"
