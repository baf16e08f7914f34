"""The storage suite: SQLite always, PostgreSQL when RECUEIL_TEST_DATABASE_URL is set."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.core.values import Choice, ConversationKey, OutChoices, OutFile, OutText, outgoing_to_dict
from storage.db import SchemaOutOfDate, create_db_engine, ensure_schema, migrate
from storage.models import Agent, Proposal, Support, utcnow
from storage.records import NewContribution
from storage.referential import default_referential
from storage.store import Store

KEY = ConversationKey("test", "room", "user")


def profiled_agent(store: Store, user: str = "user", commune: str = "Villeurbanne"):  # type: ignore[no-untyped-def]
    ref = default_referential().search(commune)[0]
    with store.transaction() as tx:
        agent = tx.ensure_agent("test", user)
        return tx.save_profile(agent, collectivite=ref, profile="agent", fonction="DGS", email=None)


def test_migrations_build_exactly_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_a_platform_event_is_claimed_once(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.claim_event("matrix", "$event") is True
        assert tx.claim_event("matrix", "$event") is False
        assert tx.claim_event("telegram", "$event") is True  # ids of two platforms may collide
    with store.transaction() as tx:
        assert tx.claim_event("matrix", "$event") is False


def test_a_failed_turn_claims_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.claim_event("matrix", "$lost")
        raise RuntimeError("crash in the middle of a turn")
    with store.transaction() as tx:
        assert tx.claim_event("matrix", "$lost") is True  # handled again after the crash


def test_conversation_state_round_trips(store: Store) -> None:
    with store.transaction() as tx:
        row = tx.lock_conversation(KEY)
        assert row.state == {} and row.turns == 0
        tx.save_conversation(row, {"mode": "menu", "accents": "é à « »"})
    with store.transaction() as tx:
        row = tx.lock_conversation(KEY)
        assert row.state == {"mode": "menu", "accents": "é à « »"}
        assert row.turns == 1


def test_references_are_unique_under_concurrent_writers(store: Store) -> None:
    agent = profiled_agent(store)

    def add(number: int) -> str:
        with store.transaction() as tx:
            return tx.add_contribution(
                agent,
                kind="besoin",
                title=f"T{number}",
                description="D" * 20,
                answers={},
                thematique="citoyennete",
                confidence=0.5,
                thematique_source="agent",
            )[1]

    with ThreadPoolExecutor(max_workers=8) as pool:
        references = list(pool.map(add, range(40)))
    assert sorted(references) == [f"B-{n:04d}" for n in range(1, 41)]
    with store.transaction() as tx:
        assert tx.next_reference("service") == "S-0001"


def test_many_contributions_stored_at_once_keep_their_order_and_references(
    store: Store,
) -> None:
    """The import's verbs: given references kept (the counter moves past them), the others
    reserved after them, each row's id and reference in order; links and collectivités set
    for many rows in a few statements."""
    agent = profiled_agent(store)
    communes = default_referential().all("commune")[:3]
    sent = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def row(kind: str, reference: str | None, collectivite_id: int) -> NewContribution:
        return NewContribution(
            agent.id,
            collectivite_id,
            kind,
            f"{kind} {reference}",
            "D" * 20,
            {"usage": "payer"},
            "citoyennete",
            0.5,
            "import",
            created_at=sent,
            reference=reference,
        )

    with store.transaction() as tx:
        places = tx.upsert_collectivites([*communes, communes[0]])
        assert places == tx.upsert_collectivites(communes)  # found, not created twice
        ids = [places[("commune", c.code)] for c in communes]
        stored = tx.add_contributions(
            [
                row("besoin", "B-0007", ids[0]),
                row("service", None, ids[1]),
                row("besoin", None, ids[2]),
            ]
        )
        assert [reference for _, reference in stored] == ["B-0007", "S-0001", "B-0008"]
        tx.set_same_as_many([(stored[2][0], stored[0][0])])
    with store.transaction() as tx:
        assert (
            tx.add_contribution(
                agent,
                kind="besoin",
                title="T",
                description="D" * 20,
                answers={},
                thematique="citoyennete",
                confidence=None,
                thematique_source="agent",
            )[1]
            == "B-0009"
        )
        assert tx.same_as_links("besoin")[stored[2][0]] == (stored[0][0], ids[2])
    views = {v.contribution.reference: v for v in store.contributions()}
    assert views["B-0007"].contribution.created_at == sent
    assert views["S-0001"].collectivite.code == communes[1].code


def test_profile_links_the_collectivite_once(store: Store) -> None:
    first = profiled_agent(store, "a")
    second = profiled_agent(store, "b")
    assert first.collectivite_id == second.collectivite_id
    with store.transaction() as tx:
        collectivite = tx.collectivite(first.collectivite_id)  # type: ignore[arg-type]
    assert collectivite is not None and (collectivite.kind, collectivite.code) == (
        "commune",
        "69266",
    )


def test_deliveries_are_kept_in_order_until_sent(store: Store) -> None:
    messages = [
        OutText("un"),
        OutChoices("deux", (Choice("a", "A"),), "3"),
        OutFile("f.csv", b"\x00\xff", "text/csv", "trois"),
    ]
    with store.transaction() as tx:
        tx.queue(KEY, [outgoing_to_dict(m) for m in messages])
    pending = store.pending_deliveries(key=KEY)
    assert [p.payload["type"] for p in pending] == ["text", "choices", "file"]
    store.mark_sent(pending[0].id)
    store.mark_failed(pending[1].id, "réseau", final=False)
    left = store.pending_deliveries(key=KEY)
    assert [p.id for p in left] == [pending[1].id, pending[2].id]
    assert left[0].attempts == 1
    store.mark_failed(pending[1].id, "réseau", final=True)
    assert [p.id for p in store.pending_deliveries()] == [pending[2].id]


def test_a_push_is_queued_once_per_agent_and_campaign(store: Store) -> None:
    agent = profiled_agent(store)
    opening = [outgoing_to_dict(OutText("Le vote est ouvert"))]
    with store.transaction() as tx:
        assert tx.queue_push(KEY, agent.id, opening, "vote") == 1
    with store.transaction() as tx:
        assert tx.queue_push(KEY, agent.id, opening, "vote") == 0
    assert len(store.pending_deliveries(key=KEY)) == 1


def test_a_blocked_user_is_no_longer_sent_to(store: Store) -> None:
    record = profiled_agent(store)
    with store.transaction() as tx:
        tx.queue(KEY, [outgoing_to_dict(OutText("a")), outgoing_to_dict(OutText("b"))])
    store.mark_blocked(store.pending_deliveries(key=KEY)[0])
    assert store.pending_deliveries(key=KEY) == []
    with store.transaction() as tx:
        agent = tx.session.get(Agent, record.id)
        assert agent is not None and agent.blocked_at is not None


def test_one_support_per_collectivite_per_proposal(store: Store) -> None:
    first = profiled_agent(store, "a")
    colleague = profiled_agent(store, "b")  # same collectivité
    with store.transaction() as tx:
        proposal = Proposal(
            reference="P-001",
            title="Réservation de salles",
            description="…",
            thematique="patrimoine_equipements",
        )
        tx.session.add(proposal)
        tx.session.flush()
        tx.session.add(
            Support(
                proposal_id=proposal.id,
                collectivite_id=first.collectivite_id,
                agent_id=first.id,
                created_at=utcnow(),
            )
        )
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.session.add(
            Support(
                proposal_id=proposal.id,
                collectivite_id=colleague.collectivite_id,
                agent_id=colleague.id,
                created_at=utcnow(),
            )
        )


def test_an_old_schema_is_refused_without_auto_migration(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        with pytest.raises(SchemaOutOfDate, match="recueil db upgrade"):
            ensure_schema(engine, auto_migrate=False)
        ensure_schema(engine, auto_migrate=True)
        ensure_schema(engine, auto_migrate=False)  # up to date: nothing to say
    finally:
        engine.dispose()


def test_contribution_views_join_collectivite_and_author(store: Store) -> None:
    agent = profiled_agent(store)
    with store.transaction() as tx:
        tx.add_contribution(
            agent,
            kind="service",
            title="Portail",
            description="Un portail.",
            answers={"url": "https://x.fr"},
            thematique="citoyennete",
            confidence=None,
            thematique_source="agent",
        )
    [view] = store.contributions()
    assert view.contribution.reference == "S-0001"
    assert view.collectivite.name == "Villeurbanne"
    assert view.author.fonction == "DGS"


def test_the_sent_marks_connection_is_never_lent_to_another_thread(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # It used to go back to the pool while still in use: two threads then shared one SQLite
    # connection, and `recueil run` crashed (segfault) when a transport wrote as it stopped.
    store = Store.open(f"sqlite:///{tmp_path / 'marks.sqlite3'}")
    try:
        gc.collect()
        lent = [store.engine.raw_connection() for _ in range(3)]
        assert all(c.driver_connection is not store._raw_sqlite for c in lent)
        for connection in lent:
            connection.close()
    finally:
        store.close()


def test_a_migration_rebuilds_a_table_other_rows_point_to(database_url: str) -> None:
    # 0005 adds a constraint to `proposal`, which SQLite does by rebuilding the table; with a
    # support pointing at a proposal, the upgrade failed on a foreign key (sqlite) until
    # foreign keys were checked at the end of the migration instead of row by row.
    engine = create_db_engine(database_url)
    try:
        migrate(engine, lambda config: command.upgrade(config, "0004"))
        with engine.begin() as connection:
            for statement in (
                "INSERT INTO collectivite (kind, code, name, created_at)"
                " VALUES ('commune', '03310', 'Vichy', CURRENT_TIMESTAMP)",
                "INSERT INTO agent (transport, user_id, created_at, updated_at)"
                " VALUES ('test', 'lea', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO proposal (reference, title, description, thematique, status,"
                " created_at) VALUES ('P-001', 'T', 'D', 'x', 'brouillon', CURRENT_TIMESTAMP)",
                "INSERT INTO support (proposal_id, collectivite_id, agent_id, created_at)"
                " VALUES (1, 1, 1, CURRENT_TIMESTAMP)",
            ):
                connection.exec_driver_sql(statement)
        ensure_schema(engine, auto_migrate=True)
        with engine.begin() as connection:
            assert connection.exec_driver_sql("SELECT verified FROM support").all() == [(False,)]
        # foreign keys are enforced again afterwards
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.exec_driver_sql("UPDATE support SET proposal_id = 99")
        migrate(engine, lambda config: command.downgrade(config, "0004"))
        ensure_schema(engine, auto_migrate=True)
    finally:
        engine.dispose()
