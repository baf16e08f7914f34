"""The hot statements sent to psycopg directly (PostgreSQL) behave as through SQLAlchemy.

Run on every backend: on SQLite the same verbs go through SQLAlchemy, so each assertion
holds for both paths.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.core.values import ConversationKey
from storage import driver
from storage import statements as sql
from storage.models import utcnow
from storage.store import Store

KEY = ConversationKey("test", "room", "camille")


def test_a_broken_constraint_is_the_error_sqlalchemy_raises(store: Store) -> None:
    """The callers catch SQLAlchemy's exceptions (a conflict, a lost connection)."""
    with store.transaction() as tx:
        agent = tx.ensure_agent("test", "camille")
    row = {"text": "Ouverture du vote"}
    with store.transaction() as tx:
        tx.queue(KEY, [row], agent_id=agent.id, campaign="vote-ouverture")
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.queue(KEY, [row], agent_id=agent.id, campaign="vote-ouverture")  # same agent, campaign
    with store.transaction() as tx:
        assert [d.payload for d in tx.pending_for(KEY)] == [row]  # the failed one left nothing


def test_rows_have_the_columns_names_and_json_comes_back_as_written(store: Store) -> None:
    state = {"mode": "form", "answers": {"title": "Guichet « unique » 🏛️", "n": [1, 2.5, None]}}
    with store.transaction() as tx:
        conversation = tx.lock_conversation(KEY)
        tx.save_conversation(conversation, state)
        queued = tx.queue(KEY, [{"text": "un"}, {"text": "deux", "emoji": "✅"}], agent_id=None)
    with store.transaction() as tx:
        again = tx.lock_conversation(KEY)
        row = tx.execute(
            sql.SELECT_CONVERSATION, {"transport": "test", "chat_id": "room", "user_id": "camille"}
        ).one()
    assert again.state == state and again.turns == 1 and again.has_pending
    assert (row.id, row.turns, row.state) == (conversation.id, 1, state)
    assert [d.payload for d in queued] == [{"text": "un"}, {"text": "deux", "emoji": "✅"}]
    assert queued[0].id < queued[1].id


def test_queued_datetimes_are_stored_as_sqlalchemy_stores_them(store: Store) -> None:
    """SQLite's replies go to sqlite3 directly (``driver.RowInsert``): their times must
    read back, and compare in SQL, as those SQLAlchemy writes."""
    at = datetime(2027, 2, 16, 9, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Paris"))
    with store.transaction() as tx:
        [queued] = tx.queue(KEY, [{"text": "un"}], claimed_at=at)
    deliveries = sql.deliveries
    with store.transaction() as tx:
        claimed_at = tx.connection.execute(
            sa.select(deliveries.c.claimed_at).where(deliveries.c.id == queued.id)
        ).scalar_one()
        earlier = tx.connection.execute(
            sa.select(sa.func.count()).where(
                deliveries.c.claimed_at < at + timedelta(microseconds=1),
                deliveries.c.claimed_at > at - timedelta(microseconds=1),
            )
        ).scalar_one()
    assert claimed_at == at and claimed_at.tzinfo is not None
    assert earlier == 1


def test_what_psycopg_cannot_take_as_it_is_goes_through_sqlalchemy(store: Store) -> None:
    """An IN list expanded at each call, an INSERT whose columns are those given."""
    assert driver.compiled(sql.RELEASE_CLAIMS) is None
    assert driver.compiled(sql.INSERT_AUDIT) is None
    assert driver.compiled(sql.SELECT_CONVERSATION) is not None
    with store.transaction() as tx:
        tx.audit("admin", "test.action", subject="P-001", note="é")
        [claimed] = tx.queue(KEY, [{"text": "un"}], claimed_at=utcnow())
        tx.execute(sql.RELEASE_CLAIMS, {"ids": [claimed.id]})
        claimed_at = sa.select(sql.deliveries.c.claimed_at)
        assert tx.connection.execute(claimed_at).scalar_one() is None
        assert [e.details for e in tx.audit_entries(subject="P-001")] == [{"note": "é"}]
