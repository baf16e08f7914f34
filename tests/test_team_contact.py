"""Where the bot sends a user to the consultation's team, it says how to reach it
(RECUEIL_TEAM_CONTACT); without an address, it promises no team it cannot put them in
touch with, and says what the bot itself can do."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_referents import AFTER_REFERENTS
from test_vote import published_proposal

from config.settings import Settings
from config.typography import french as fr
from storage.store import Store

TEAM = "consultation@example.org"


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    contact = getattr(request, "param", None)  # None: the default, no address
    team = {"team_contact": contact} if contact is not None else {}
    return Settings(data_dir=tmp_path, admins=("test:admin",), **team)


async def sent_to_the_team(agent_factory, store: Store, clock) -> list[str]:  # type: ignore[no-untyped-def]
    """What bob reads where the bot used to send him to « l’équipe de la consultation »:
    too many wrong invitation codes, his supports not verified, the call for territoires
    référents closed; then the « contact » command."""
    bob = (await published_proposal(agent_factory, store, clock))["bob"]
    for _ in range(10):
        await bob.say("code ZZZZ-9999")
    await bob.say("code ZZZZ-9999")
    replies = [bob.text]
    await bob.say("soutenir P-001")
    await bob.say("mes soutiens")
    replies.append(bob.text)
    clock.now = AFTER_REFERENTS
    await bob.say("volontaire")
    replies.append(bob.text)
    await bob.say("contact")
    replies.append(bob.text)
    return replies


@pytest.mark.parametrize("settings", [TEAM], indirect=True)
async def test_where_the_bot_sends_users_to_the_team_it_gives_its_address(
    agent_factory, store: Store, clock
) -> None:
    """Found in trial A: « demandez à l’équipe de la consultation de vous reconnaître »,
    « l’équipe de la consultation peut vous reconnaître », « écrivez à l’équipe de la
    consultation », and no address nor command to do so."""
    codes, supports, closed, contact = await sent_to_the_team(agent_factory, store, clock)
    assert "Trop de codes erronés" in codes and fr(f"l’équipe de la consultation ({TEAM})") in codes
    assert "non vérifié" in supports and fr(f"l’équipe de la consultation ({TEAM})") in supports
    assert "clos depuis le 30 avril 2027" in closed
    assert fr(f"écrivez à l’équipe de la consultation : {TEAM}") in closed
    assert fr(f"Pour écrire à l’équipe de la consultation : {TEAM}") in contact


async def test_without_a_team_address_no_message_promises_the_team(
    agent_factory, store: Store, clock
) -> None:
    codes, supports, closed, contact = await sent_to_the_team(agent_factory, store, clock)
    for text in (codes, supports, closed):
        assert "l’équipe de la consultation" not in text, text
    assert fr("réessayez demain avec le code envoyé à votre collectivité") in codes
    assert fr("tapez le code d’invitation envoyé à votre collectivité") in supports
    assert fr("« mes engagements » les liste") in closed
    assert "aucune adresse" in contact and fr("« aide »") in contact
