"""prow.locks: one key scheme, a transaction lock and a session try-lock,
checked against a second connection to the same database."""

import psycopg
import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from prow.locks import lock_key, session_try_lock, transaction_lock


def other_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    keep = ("host", "port", "user", "password", "dbname")
    return psycopg.connect(
        **{k: v for k, v in params.items() if k in keep}, autocommit=True
    )


def taken_elsewhere(name: str) -> bool:
    """Whether another session holds name (it could not take it itself)."""
    with other_connection() as other:
        got = other.execute(
            "SELECT pg_try_advisory_lock(%s)", [lock_key(name)]
        ).fetchone()[0]
        if got:
            other.execute("SELECT pg_advisory_unlock(%s)", [lock_key(name)])
    return not got


def test_the_key_is_a_stable_bigint_per_name():
    assert lock_key("sinker:sweep") == lock_key("sinker:sweep")
    assert lock_key("sinker:sweep") != lock_key("sinker:sweeps")
    assert -(2**63) <= lock_key("plank:global") < 2**63


@pytest.mark.django_db(transaction=True)
def test_a_transaction_lock_lasts_until_commit():
    with transaction.atomic():
        assert transaction_lock("test:xact") is True
        assert taken_elsewhere("test:xact")
    assert not taken_elsewhere("test:xact")


@pytest.mark.django_db(transaction=True)
def test_a_transaction_try_lock_reports_a_lock_held_elsewhere():
    with other_connection() as other:
        other.execute("SELECT pg_advisory_lock(%s)", [lock_key("test:busy")])
        with transaction.atomic():
            assert transaction_lock("test:busy", wait=False) is False
        other.execute("SELECT pg_advisory_unlock(%s)", [lock_key("test:busy")])
    with transaction.atomic():
        assert transaction_lock("test:busy", wait=False) is True


@pytest.mark.django_db(transaction=True)
def test_a_transaction_lock_outside_a_transaction_is_refused():
    with pytest.raises(TransactionManagementError):
        transaction_lock("test:nowhere")


@pytest.mark.django_db(transaction=True)
def test_a_session_lock_spans_commits_and_is_released_on_leaving():
    with session_try_lock("test:session") as acquired:
        assert acquired is True
        with transaction.atomic():
            pass  # a commit does not release it
        assert taken_elsewhere("test:session")
        with session_try_lock("test:session") as again:
            # PostgreSQL session locks are re-entrant for their holder.
            assert again is True
    assert not taken_elsewhere("test:session")


@pytest.mark.django_db(transaction=True)
def test_a_session_lock_held_elsewhere_is_not_taken():
    with other_connection() as other:
        other.execute("SELECT pg_advisory_lock(%s)", [lock_key("test:held")])
        with session_try_lock("test:held") as acquired:
            assert acquired is False
        # Not taken, so not released: the holder still has it.
        assert taken_elsewhere("test:held")
        other.execute("SELECT pg_advisory_unlock(%s)", [lock_key("test:held")])


def test_on_sqlite_every_lock_is_granted(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert transaction_lock("test:sqlite") is True
    with session_try_lock("test:sqlite") as acquired:
        assert acquired is True
