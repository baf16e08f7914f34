"""The vote over real HTTP: a native poll answered, changed and retracted, then closed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fake_bot_records import FakeUser
from telegram_harness import TelegramUser, start_bot

from storage.store import Store

PARIS = ZoneInfo("Europe/Paris")


def publish_two_proposals(store: Store, services) -> None:  # type: ignore[no-untyped-def]
    """Two needs of another collectivité, published as P-001 and P-002 (a native poll needs
    two options at least)."""
    with store.transaction() as tx:
        author = tx.ensure_agent("test", "lyon")
        ref = services.referential.search("Lyon", limit=1)[0]
        author = tx.save_profile(
            author, collectivite=ref, profile="agent", fonction="DGS", email=None
        )
        for title in ("Réserver les salles en ligne", "Louer le matériel sportif"):
            _, reference = tx.add_contribution(
                author,
                kind="besoin",
                title=title,
                description="Les associations appellent la mairie chaque semaine pour cela.",
                answers={"usage": "reserver"},
                thematique="culture_sport_tourisme",
                confidence=0.9,
                thematique_source="agent",
            )
            tx.create_proposal("test:admin", title=title, contributions=[reference])
        tx.publish_proposals("test:admin")


def standing_supports(store: Store) -> int:
    with store.transaction() as tx:
        return tx.connection.execute(
            sa.text("SELECT count(*) FROM support WHERE withdrawn_at IS NULL")
        ).scalar_one()


async def test_a_native_poll_gives_changes_and_retracts_a_support_then_closes(
    fake_bot_api, engine, store: Store, services, clock
) -> None:
    publish_two_proposals(store, services)
    bot = await start_bot(fake_bot_api, engine, store)
    try:
        agent = TelegramUser(fake_bot_api, FakeUser(id=41))
        await agent.start()
        await agent.say("Villeurbanne")
        await agent.press("Agent")
        await agent.say("Secrétaire de mairie")
        await agent.say("passer")
        clock.now = datetime(2027, 2, 16, 11, 0, tzinfo=PARIS)
        shown = await agent.say("/propositions")
        [poll_message] = [m for m in shown if m.kind == "poll"]
        native = fake_bot_api.polls[poll_message.poll_id or ""]
        assert native.allows_multiple_answers and not native.is_anonymous
        assert native.options[0].startswith("P-001")

        await fake_bot_api.user_answers_poll(native.id, agent.user, [0])
        answered = agent.text_of(await agent.settle())
        assert "votre collectivité soutient P-001" in answered
        assert standing_supports(store) == 1
        await fake_bot_api.user_answers_poll(native.id, agent.user, [])
        assert "Soutien retiré pour P-001" in agent.text_of(await agent.settle())
        assert standing_supports(store) == 0
        await fake_bot_api.user_answers_poll(native.id, agent.user, [0])
        await agent.settle()
        assert standing_supports(store) == 1

        clock.now = datetime(2027, 3, 16, 10, 0, tzinfo=PARIS)
        assert await engine.close_polls("vote-") == 1
        assert native.is_closed
        assert await engine.close_polls("vote-") == 0  # once
        assert standing_supports(store) == 1  # the database keeps what was given
    finally:
        await bot.stop()
