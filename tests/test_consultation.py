"""A whole consultation on the test clock, through the engine and its collecting transport.

300 collectivités of the referential, 600 agents and élus (a few partners among them):
collecte → proposals → publication and notices → vote (text and polls, two agents of one
collectivité, withdrawals, partners refused, unverified then vouched) → close → results →
laureates → référents → follow-up. The invariants are checked at the end against the
database and what each agent received.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fake_transport import FakeTransport, SimulatedAgent
from test_intake import DESCRIPTION

from bot.app import announcer
from bot.app.engine import Engine
from bot.core.values import IncomingPollAnswer, OutPoll
from config.window import SendingWindow
from storage.referential import CollectiviteRef
from storage.store import Store

PARIS = ZoneInfo("Europe/Paris")
COLLECTIVITES = 300
CONTRIBUTORS = 150
PROPOSALS = 15
WINDOW = SendingWindow.parse("1-5", "09:00-18:00", PARIS)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def communes(services, count: int) -> list[CollectiviteRef]:  # type: ignore[no-untyped-def]
    """Communes that their INSEE code names without ambiguity."""
    found = []
    for ref in services.referential.all("commune"):
        if len(found) == count:
            break
        if [r.code for r in services.referential.search(ref.code, limit=2)] == [ref.code]:
            found.append(ref)
    return found


@pytest.fixture
def sqlite_store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    store = Store.open(f"sqlite:///{tmp_path / 'consultation.sqlite3'}")
    yield store  # type: ignore[misc]
    store.close()


class People:
    def __init__(self, engine: Engine, transport: FakeTransport) -> None:
        self.engine, self.transport = engine, transport
        self.agents: dict[str, SimulatedAgent] = {}
        self.town: dict[str, CollectiviteRef] = {}
        self.profile: dict[str, str] = {}

    async def register(self, name: str, ref: CollectiviteRef, profile: str) -> SimulatedAgent:
        agent = SimulatedAgent(self.engine, self.transport, name)
        await agent.start()
        if "Quelle est votre collectivité" not in agent.text:  # an administrator: none asked
            await agent.say("profil")
        await agent.say(ref.code)
        await agent.press(profile)
        await agent.say("Secrétaire de mairie")
        await agent.say("passer")
        assert "profil est enregistré" in agent.text, agent.text
        self.agents[name], self.town[name], self.profile[name] = agent, ref, profile
        return agent

    def received(self, name: str, fragment: str) -> int:
        key = self.agents[name].key
        return sum(fragment in getattr(m, "text", "") for m in self.transport.sent[key])


def rows(store: Store, query: str) -> list[tuple]:  # type: ignore[type-arg]
    with store.transaction() as tx:
        return [tuple(row) for row in tx.connection.execute(sa.text(query))]


async def test_a_whole_consultation(services, sqlite_store: Store, clock) -> None:
    store = sqlite_store
    clock.now = at(2026, 12, 1, 10, 0)
    engine = Engine(services, store, clock=clock, window=WINDOW)
    transport = FakeTransport()
    engine.register(transport)
    people = People(engine, transport)
    towns = communes(services, COLLECTIVITES)
    assert len(towns) == COLLECTIVITES

    # -- collecte: two people per collectivité, a few partners; half of the towns contribute
    for index, ref in enumerate(towns):
        await people.register(f"a{index}", ref, "agent")
        await people.register(f"e{index}", ref, "elu" if index % 30 else "partenaire")
    for index in range(CONTRIBUTORS):
        agent = people.agents[f"a{index}"]
        await agent.say("Décrire un besoin")
        await agent.say(f"Besoin numéro {index} des communes")
        await agent.say(DESCRIPTION)
        await agent.say("1")
        await agent.say("passer")
        await agent.say("1")
        await agent.say("autre")
        await agent.say("Envoyer")
        assert "B-" in agent.text, agent.text
    await people.agents["e1"].say("stop")  # opts out of the announcements

    # -- triage: an administrator groups the needs into proposals and publishes them
    admin = await people.register("admin", towns[0], "agent")
    assert services.settings.is_admin("test", "admin")
    for number in range(PROPOSALS):
        references = " ".join(f"B-{n + 1:04d}" for n in range(number * 10, number * 10 + 10))
        await admin.say(f"!creer {references} : Proposition {number + 1}")
        assert f"P-{number + 1:03d}" in admin.text, admin.text
    await admin.say("!publier")
    await engine.drain()
    for index in range(CONTRIBUTORS):
        assert people.received(f"a{index}", "Proposition") == 1, index  # told once

    # -- the vote opens: élus and agents hear it, partners and the opted-out do not
    clock.now = at(2027, 2, 13, 11, 0)  # a Saturday: nothing leaves outside the window
    assert await announcer.tick(engine) == []
    clock.now = at(2027, 2, 15, 10, 0)
    assert "vote-ouverture" in await announcer.tick(engine)
    opening = "Le vote est ouvert jusqu’au"
    for name in people.agents:
        expected = people.profile[name] != "partenaire" and name != "e1"
        assert people.received(name, opening) == (1 if expected else 0), name
    assert await announcer.tick(engine) == []  # never twice

    # -- supports: by text and by poll; a colleague; withdrawals; partners refused
    for index in range(0, 200):
        agent = people.agents[f"a{index}"]
        await agent.say(f"soutenir P-{index % PROPOSALS + 1:03d}")
        assert "votre collectivité soutient" in agent.text, agent.text
    colleague = people.agents["e3"]
    await colleague.say("soutenir P-004")
    assert "soutient déjà P-004" in colleague.text
    for index in range(0, 20):
        await people.agents[f"a{index}"].say(f"retirer P-{index % PROPOSALS + 1:03d}")
    partner = people.agents["e0"]
    await partner.say("soutenir P-001")
    assert "Seules les collectivités votent" in partner.text.replace("\u202f", " ")
    voter = people.agents["e250"]
    await voter.say("propositions")
    polls = [m for m in voter.last if isinstance(m, OutPoll)]
    assert polls
    chosen = tuple(option.id for option in polls[0].options[:2])
    for options in (chosen, chosen[:1]):  # gives two, then takes one back
        await engine.handle(
            IncomingPollAnswer(
                key=voter.key, event_id=voter._event(), poll_id=polls[0].poll_id, option_ids=options
            )
        )
    with store.transaction() as tx:
        tx.vouch_agent("test:admin", 2, people_collectivite(tx, 2), "admin")  # a0 is vouched

    # -- the vote closes: results, laureates
    clock.now = at(2027, 3, 16, 10, 0)
    assert "vote-cloture" in await announcer.tick(engine)
    await admin.say("!resultats")
    assert "Résultats du vote" in admin.text
    await admin.say("!retenir P-001 P-002")
    assert "P-001, P-002" in admin.text

    # -- référents: the laureates' calls, a volunteer
    clock.now = at(2027, 4, 1, 10, 0)
    queued = await announcer.tick(engine)
    assert "referents-appel-P-001" in queued, queued
    volunteer = people.agents["a0"]
    await volunteer.say("volontaire")
    assert volunteer.question is not None

    # -- follow-up: news to the followers of a laureate
    clock.now = at(2027, 6, 1, 10, 0)
    await announcer.tick(engine)
    await admin.say("!nouvelles P-001 Premier atelier le 15 juin")
    await admin.say("oui")
    await engine.drain()

    # -- invariants
    standing = rows(
        store,
        "SELECT proposal_id, collectivite_id FROM support WHERE withdrawn_at IS NULL",
    )
    assert len(standing) == len(set(standing))  # one per collectivité and proposal
    replay: dict[tuple[str, int], bool] = {}
    for action, subject, details in rows(
        store,
        "SELECT action, subject, details FROM audit_log"
        " WHERE action IN ('support.added', 'support.withdrawn') ORDER BY id",
    ):
        collectivite = details_of(details)["collectivite"]
        replay[(subject, collectivite)] = action == "support.added"
    references = dict(rows(store, "SELECT id, reference FROM proposal"))
    from_audit = sorted((ref, c) for (ref, c), on in replay.items() if on)
    assert from_audit == sorted((references[p], c) for p, c in standing)
    per_agent = Counter(
        rows(
            store,
            "SELECT campaign, agent_id FROM delivery WHERE campaign IS NOT NULL",
        )
    )
    assert max(per_agent.values()) == 1  # every campaign's message once per agent
    opted_out = rows(
        store,
        "SELECT count(*) FROM delivery d JOIN agent a ON a.id = d.agent_id"
        " WHERE a.opted_out_at IS NOT NULL AND d.campaign LIKE 'vote-%'",
    )
    assert opted_out == [(0,)]
    assert rows(store, "SELECT count(*) FROM delivery WHERE status = 'pending'") == [(0,)]
    await engine.close()


def people_collectivite(tx, agent_id: int) -> int:  # type: ignore[no-untyped-def]
    found = tx.agent_collectivite(agent_id)
    assert found is not None
    return int(found[1])


def details_of(details: object) -> dict:  # type: ignore[type-arg]
    return details if isinstance(details, dict) else json.loads(str(details))
