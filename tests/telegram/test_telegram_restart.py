"""Restart safety: updates pending at a crash are handled after the restart, each once."""

from __future__ import annotations

import asyncio

from fake_bot_records import FakeUser
from telegram_harness import TelegramUser, start_bot

from bot.app.engine import Engine
from bot.core.values import Incoming
from storage.store import Store


async def test_updates_pending_at_a_crash_are_each_handled_once_after_the_restart(
    fake_bot_api, engine, services, store: Store, clock
) -> None:
    api = fake_bot_api
    alice = TelegramUser(api, FakeUser(id=301))
    bruno = TelegramUser(api, FakeUser(id=302))
    # Sent while the bot was away: they come in one batch.
    await api.user_starts(alice.user)
    crash_after = await api.user_sends_text(alice.user, "Villeurbanne")
    await api.user_sends_text(alice.user, "agent")
    await api.user_starts(bruno.user)

    crashed = asyncio.Event()

    async def handle_then_crash(incoming: Incoming) -> None:
        await engine.handle(incoming)
        if incoming.event_id == str(crash_after):
            crashed.set()
            await asyncio.Event().wait()  # hangs here until the process dies

    first = await start_bot(api, engine, store, handle=handle_then_crash)
    await crashed.wait()
    await first.stop()  # the crash: "Villeurbanne" handled and answered, not acknowledged
    assert {u["update_id"] for u in api.pending_updates} >= {crash_after}
    before = len(api.sent_messages(alice.chat_id))
    assert before == 3  # welcome (2 messages) and the profile question

    # The restart, as ``recueil run`` does it: replies queued but unsent go first (the
    # crash may have cut Bruno's welcome short), then the pending updates.
    restarted = Engine(services, store, clock=clock)
    second = await start_bot(api, restarted, store, redeliver=True)
    try:
        await alice.settle()
    finally:
        await second.stop()
        await restarted.close()

    texts = [m.text or "" for m in api.sent_messages(alice.chat_id)]
    assert len(texts) == 4, texts
    assert sum("Quelle est votre collectivité" in t for t in texts) == 1
    assert sum(t.endswith("Vous êtes\u00a0:") for t in texts) == 1
    assert "Quelle est votre fonction" in texts[-1]
    assert (
        sum("Bonjour et bienvenue" in (m.text or "") for m in api.sent_messages(bruno.chat_id)) == 1
    )
    assert len(api.sent_messages(bruno.chat_id)) == 2
    # The profile question, sent just before the crash, kept its buttons through the replay
    # and lost them only when "agent" was typed.
    [profile] = [
        m for m in api.sent_messages(alice.chat_id) if "Vous êtes\u00a0:" in (m.text or "")
    ]
    assert [e.message_id for e in api.edits] == [profile.message_id]
    assert not api.pending_updates
    with store.engine.connect() as connection:
        [(events,)] = connection.exec_driver_sql(
            "SELECT count(*) FROM inbound_event WHERE transport = 'telegram'"
        ).all()
    assert events == 4


async def test_a_bot_api_outage_is_waited_out_and_loses_nothing(
    fake_bot_api, engine, store: Store
) -> None:
    api = fake_bot_api
    api.inject_error("getMe", 502, "Bad Gateway")  # down at startup
    bot = await start_bot(api, engine, store)
    try:
        user = TelegramUser(api, FakeUser(id=303))
        await api.wait_for_long_poll()
        api.inject_error("getUpdates", 502, "Bad Gateway")  # down again: the next poll fails
        await api.user_starts(user.user)
        welcome = await user.settle()
        assert "Bonjour et bienvenue" in user.text_of(welcome)
        assert len(welcome) == 2  # answered once
    finally:
        await bot.stop()
    assert [c.status for c in api.calls_to("getMe")][:2] == [502, 200]
    assert 502 in [c.status for c in api.calls_to("getUpdates")]
