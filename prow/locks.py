"""PostgreSQL advisory locks, under one naming scheme.

A lock is named by a string, "<component>:<what>" ("plank:job:unit",
"sinker:sweep"), turned into PostgreSQL's 64-bit key by lock_key, the one
hash every caller uses: two components can only meet on a lock they both
name, and a test or an operator can compute the key a component holds.

On SQLite (the zero-setup `make run`) every function is a no-op that
reports the lock as taken: SQLite lets one writer at a time in, which
serialises the same decisions by itself.
"""

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection
from django.db.transaction import TransactionManagementError

logger = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """The advisory lock key of name: the first 8 bytes of its BLAKE2b
    digest, as PostgreSQL's signed bigint. (hashtext() is 32-bit, so
    collides sooner, and is not promised to stay the same across
    PostgreSQL versions.)"""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _enabled() -> bool:
    return connection.vendor == "postgresql"


def transaction_lock(name: str, *, wait: bool = True) -> bool:
    """Hold the lock name until the current transaction ends.

    With wait (the default), block until it is free and return True; without,
    return at once whether it was taken. Must run inside transaction.atomic():
    outside one, the lock would go with the statement that took it.
    """
    if not _enabled():
        return True
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            f"the advisory lock {name!r} needs a transaction to live in"
        )
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [lock_key(name)])
        row = cursor.fetchone()
    return True if wait else bool(row[0])


@contextmanager
def session_try_lock(name: str) -> Iterator[bool]:
    """Try to take the lock name for this connection; yield whether it was
    taken, and release it on leaving.

    For work that commits as it goes and must hold the lock across its
    transactions. Never waits: a caller that finds the lock taken knows
    the holder is doing the same work.
    """
    if not _enabled():
        yield True
        return
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            _unlock(name, key)


@contextmanager
def session_lock(name: str) -> Iterator[None]:
    """Wait for the lock name and hold it for this connection until leaving.

    For work that talks to another system while it holds the lock: unlike
    transaction_lock it keeps no transaction open, so no row locks or
    snapshot are held while the other side answers.
    """
    if not _enabled():
        yield
        return
    key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        _unlock(name, key)


def _unlock(name: str, key: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except DatabaseError:
        # The connection broke or its transaction failed; the first case
        # releases the lock by itself, and raising here would hide the
        # error that got us here.
        logger.exception("advisory lock %s not released", name)
