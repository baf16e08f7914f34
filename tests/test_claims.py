"""PostgreSQL, several processes: delivery claims and the scheduler's leader lock.

The two-process test (tests/test_two_processes.py) runs them for real; these pin the rules
one statement at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa
from databases import PG_URL, drop_postgres_schema, fresh_postgres_url

from storage.keys import ConversationKey
from storage.leader import LeaderLock
from storage.models import utcnow
from storage.ops.deliveries import CLAIM_LEASE
from storage.store import Store

KEY = ConversationKey("telegram", "42", "42")


@pytest.fixture
def pg_store() -> Iterator[Store]:
    if not PG_URL:
        pytest.skip("RECUEIL_TEST_DATABASE_URL is not set")  # CI always sets it
    url = fresh_postgres_url()
    store = Store.open(url)
    yield store
    store.close()
    drop_postgres_schema(url)


def queue(store: Store, *texts: str, claimed: bool = False) -> list[int]:
    with store.transaction() as tx:
        rows = tx.queue(
            KEY,
            [{"type": "text", "text": t} for t in texts],
            claimed_at=utcnow() if claimed else None,
        )
    return [row.id for row in rows]


def test_deliveries_claimed_by_one_process_are_not_claimed_by_another(pg_store: Store) -> None:
    first = queue(pg_store, "un", "deux", claimed=True)  # a turn's replies, being sent
    later = queue(pg_store, "trois")  # another process's turn meanwhile
    assert pg_store.claim_deliveries(KEY) is None  # it waits: the earlier ones go first
    for delivery_id in first:
        pg_store.mark_sent(delivery_id)
    assert [d.id for d in pg_store.claim_deliveries(KEY) or []] == later
    assert pg_store.claim_deliveries(KEY) is None  # now its own claim holds
    pg_store.release_deliveries(later)  # not sent (a failure): free for the next turn
    assert [d.id for d in pg_store.claim_deliveries(KEY) or []] == later


def test_a_claim_older_than_the_lease_no_longer_holds(pg_store: Store) -> None:
    [stale] = queue(pg_store, "un")
    with pg_store.engine.begin() as connection:  # claimed by a live process, long ago
        connection.exec_driver_sql(
            "UPDATE delivery SET claimed_at = %(at)s, claimed_by = pg_backend_pid()"
            " WHERE id = %(id)s",
            {"at": utcnow() - CLAIM_LEASE - timedelta(seconds=1), "id": stale},
        )
    assert [d.id for d in pg_store.claim_deliveries(KEY) or []] == [stale]


def test_the_claims_of_a_process_that_died_stop_holding_at_once(pg_store: Store) -> None:
    other = Store.open(pg_store.engine.url.render_as_string(hide_password=False))
    try:
        with other.transaction() as tx:  # the other process's turn: its replies, claimed
            [held] = tx.queue(KEY, [{"type": "text", "text": "un"}], claimed_at=utcnow())
            owner = tx.claim_owner
        assert pg_store.claim_deliveries(KEY) is None  # it lives: its claim holds
    finally:
        other.close()  # it dies: its connections end
    with pg_store.engine.connect() as connection:  # the server notices (its backend exits)
        gone = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        deadline = time.monotonic() + 10
        while connection.execute(gone, {"pid": owner}).scalar() and time.monotonic() < deadline:
            connection.rollback()  # a fresh snapshot of pg_stat_activity
    assert [d.id for d in pg_store.claim_deliveries(KEY) or []] == [held.id]


def test_one_leader_at_a_time_and_the_next_takes_over_when_it_leaves(pg_store: Store) -> None:
    first, second = LeaderLock(pg_store.engine), LeaderLock(pg_store.engine)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert first.still_held()
        first.release()  # as when its process dies: the session ends
        # the server frees the lock once it has handled the end of the session: the next
        # process takes it at one of its next tries
        deadline, took_over = time.monotonic() + 10, False
        while not took_over and time.monotonic() < deadline:
            took_over = second.acquire()
        assert took_over and not first.acquire()
    finally:
        first.release()
        second.release()


def test_a_connection_whose_session_the_server_ended_is_replaced_before_use(
    pg_store: Store,
) -> None:
    """What ``pool_pre_ping`` did, without its round trip: after a server restart, the
    pooled connections are dead; the first work of every caller must not fail on one."""
    backend_pid = sa.text("SELECT pg_backend_pid()")
    idle = [pg_store.engine.connect() for _ in range(pg_store.engine.pool.checkedin())]
    pids = {connection.execute(backend_pid).scalar_one() for connection in idle}
    for connection in idle:
        connection.close()  # back to the pool, idle
    url = pg_store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url.split("?")[0], autocommit=True) as other:  # not from the pool
        other.execute(
            "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (list(pids),)
        )
        deadline = time.monotonic() + 10
        gone = "SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s::int[])"
        while other.execute(gone, (list(pids),)).fetchone():
            assert time.monotonic() < deadline
    with pg_store.transaction() as tx:  # every idle connection of the pool was ended
        assert tx.connection.execute(backend_pid).scalar_one() not in pids
