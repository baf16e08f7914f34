"""Many agents at once: no cross-talk, nothing lost, references unique."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from fake_transport import FakeTransport, SimulatedAgent
from sqlmodel import select

from bot.app.engine import Engine
from bot.app.services import similarity_index
from storage.models import Agent, Contribution

AGENTS = 200


async def full_intake(agent: SimulatedAgent, number: int) -> None:
    title = f"Besoin numéro {number}"
    await agent.start()
    for answer in (
        "Villeurbanne",
        "2",
        f"Fonction {number}",
        "passer",
        "1",
        title,
        f"Description détaillée du besoin numéro {number} pour les habitants",
        "1",
        "passer",
        "1",
        "2",  # usage: reports from residents
    ):
        await agent.say(answer)
    assert f"• Titre\u00a0: {title}" in agent.text, agent.text
    await agent.say("Envoyer")
    assert "B-" in agent.text


async def test_200_conversations_interleaved(services, store, clock) -> None:
    # with the same-need index, shared by the database threads on PostgreSQL
    engine = Engine(replace(services, similar=similarity_index(store)), store, clock=clock)
    transport = FakeTransport()
    engine.register(transport)
    agents = [SimulatedAgent(engine, transport, f"agent{n}") for n in range(AGENTS)]
    await asyncio.gather(*(full_intake(agent, n) for n, agent in enumerate(agents)))
    await engine.close()
    with store.transaction() as tx:
        rows = tx.session.exec(select(Contribution, Agent).join(Agent)).all()
    assert len(rows) == AGENTS
    assert len({c.reference for c, _ in rows}) == AGENTS
    for contribution, author in rows:
        number = author.user_id.removeprefix("agent")
        assert contribution.title == f"Besoin numéro {number}"
        assert author.fonction == f"Fonction {number}"
