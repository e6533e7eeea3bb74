"""The floor's table: what /bench/floor (bench/urls.py) writes to.

Created by the benchmark with plain SQL, not by a migration: it exists only
in the benchmark's database. Its body column is compressed as /hook's
payload column is (hook/migrations/0002), so both pay the same for storing
the same bytes.
"""

TABLE = "bench_floor"

CREATE = f"""
    CREATE TABLE IF NOT EXISTS {TABLE} (
        guid varchar(100) PRIMARY KEY,
        body bytea NOT NULL
    )
"""
LZ4_AVAILABLE = (
    "SELECT 1 FROM pg_settings "
    "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
)
USE_LZ4 = f"ALTER TABLE {TABLE} ALTER COLUMN body SET COMPRESSION lz4"

# A row keyed by the delivery's GUID (what any deduplicated store needs)
# holding the body as GitHub sent it.
INSERT = f"INSERT INTO {TABLE} (guid, body) VALUES (%s, %s)"


def create(conn) -> None:
    """Create the table on a psycopg connection in autocommit mode."""
    conn.execute(CREATE)
    if conn.execute(LZ4_AVAILABLE).fetchone() is not None:
        conn.execute(USE_LZ4)
