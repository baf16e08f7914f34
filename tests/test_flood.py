"""Flood control: one agent sending hundreds of messages at once is told once, then ignored
for a while, and the others are still answered. Assertions on replies, never on timings."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from test_intake import register

from bot.app.engine import Engine
from bot.app.services import flood_gate
from bot.core.flood import FloodGate, Verdict
from bot.core.values import ConversationKey, IncomingText, OutChoices, OutText
from config.catalogue import default_catalogue
from config.settings import Settings
from storage.store import Store


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_a_burst_through_then_notices_once_then_drops() -> None:
    ticks = Ticks()
    gate = FloodGate[str](burst=3, rate=0.5, clock=ticks)
    assert [gate.check("a") for _ in range(6)] == [Verdict.PASS] * 3 + [
        Verdict.NOTICE,
        Verdict.DROP,
        Verdict.DROP,
    ]
    assert gate.check("b") is Verdict.PASS, "another key has its own bucket"
    ticks.now = 2.0  # one token back
    assert [gate.check("a") for _ in range(3)] == [Verdict.PASS, Verdict.NOTICE, Verdict.DROP], (
        "a new flood is announced again"
    )


def test_full_buckets_are_forgotten_when_there_are_too_many_keys() -> None:
    ticks = Ticks()
    gate = FloodGate[int](burst=2, rate=1.0, clock=ticks, max_keys=10)
    for key in range(10):
        gate.check(key)
    ticks.now = 5.0
    gate.check(99)
    assert len(gate._buckets) == 1


async def test_one_agent_flooding_gets_one_notice_and_the_others_are_answered(
    engine: Engine, transport, agent_factory, store: Store
) -> None:
    alice, bob = agent_factory("alice"), agent_factory("bob")
    await register(alice)
    await register(bob, "Lyon")
    with store.transaction() as tx:
        before = tx.connection.execute(sa.text("SELECT count(*) FROM delivery")).scalar_one()
    burst = 5
    engine.flood = FloodGate[ConversationKey](burst=burst, rate=1e-9)  # no refill in the test

    flood = [  # one word each: not a need that the menu would start (two words could be one)
        engine.handle(IncomingText(key=alice.key, event_id=f"flood-{i}", text=f"message{i}"))
        for i in range(300)
    ]
    await asyncio.gather(*flood[:150], bob.say("aide"), *flood[150:])

    notice = default_catalogue().t("input.flood")
    replies = transport.pop(alice.key)
    assert sum(isinstance(r, OutText) and r.text == notice for r in replies) == 1
    questions = [r for r in replies if isinstance(r, OutChoices)]
    assert 1 <= len(questions) <= burst, "at most one question per turn let through"
    assert "Commandes utilisables à tout moment" in bob.text, "bob is answered"
    with store.transaction() as tx:
        after = tx.connection.execute(sa.text("SELECT count(*) FROM delivery")).scalar_one()
    assert after - before <= 3 * burst + 3, "the ignored messages wrote nothing"

    more = await bob.say("mes contributions")
    assert more, "bob still talks"
    await alice.say("encore un")
    assert alice.last == [], "alice is still ignored, and not told again"


async def test_an_administrator_pasting_twenty_commands_is_not_throttled(
    engine: Engine, agent_factory, settings: Settings
) -> None:
    """Found in a trial: twenty administrator commands in a row got « Vous envoyez beaucoup
    de messages » and the following ones were dropped. The running bot's gate
    (``flood_gate``) lets an administrator through; an agent is still throttled."""
    engine.flood = flood_gate(settings.model_copy(update={"flood_burst": 5, "flood_rate": 1e-9}))
    notice = default_catalogue().t("input.flood")
    admin, alice = agent_factory("admin"), agent_factory("alice")
    for i in range(20):
        replies = await admin.say("!triage")
        assert "Aucune proposition pour l’instant" in admin.text, (i, admin.text)
        assert notice not in admin.text
    told = []
    for _ in range(8):
        await alice.say("aide")
        told.append(alice.text == notice if alice.last else None)
    assert told == [False] * 5 + [True, None, None], "an agent is still throttled"
    assert replies
