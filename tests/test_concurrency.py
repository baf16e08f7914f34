"""Many agents at once: no cross-talk, nothing lost, references unique."""

from __future__ import annotations

import asyncio

from fake_transport import SimulatedAgent
from sqlmodel import select

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
    ):
        await agent.say(answer)
    assert f"• Titre : {title}" in agent.text, agent.text
    await agent.say("Envoyer")
    assert "B-" in agent.text


async def test_200_conversations_interleaved(agent_factory, store) -> None:
    agents = [agent_factory(f"agent{n}") for n in range(AGENTS)]
    await asyncio.gather(*(full_intake(agent, n) for n, agent in enumerate(agents)))
    with store.transaction() as tx:
        rows = tx.session.exec(select(Contribution, Agent).join(Agent)).all()
    assert len(rows) == AGENTS
    assert len({c.reference for c, _ in rows}) == AGENTS
    for contribution, author in rows:
        number = author.user_id.removeprefix("agent")
        assert contribution.title == f"Besoin numéro {number}"
        assert author.fonction == f"Fonction {number}"
