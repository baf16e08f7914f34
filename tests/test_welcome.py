"""What a newcomer and a returning agent are told first, whatever the phase (trial A)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from test_intake import register

from config.typography import french as fr

PARIS = ZoneInfo("Europe/Paris")
DESCRIBE = "Décrivez-moi en cinq minutes environ un besoin"


@pytest.mark.parametrize(
    ("now", "said"),
    [
        (datetime(2026, 10, 20, 10, 0, tzinfo=PARIS), "ouvrira le 2 novembre 2026"),
        (datetime(2026, 12, 1, 10, 0, tzinfo=PARIS), DESCRIBE),
        (
            datetime(2027, 2, 5, 10, 0, tzinfo=PARIS),
            "Prochaine étape : vote, à partir du 15 février 2027.",
        ),
        (datetime(2027, 2, 20, 10, 0, tzinfo=PARIS), "Le vote est ouvert jusqu’au 15 mars 2027"),
        (
            datetime(2027, 4, 10, 10, 0, tzinfo=PARIS),
            "L’appel aux territoires référents est ouvert jusqu’au 30 avril 2027",
        ),
        (
            datetime(2027, 7, 1, 10, 0, tzinfo=PARIS),
            "en cours de construction avec les territoires référents",
        ),
        (datetime(2028, 2, 1, 10, 0, tzinfo=PARIS), "La consultation est terminée"),
    ],
    ids=["before", "collecte", "after-collecte", "vote", "referents", "deploiement", "after"],
)
async def test_the_welcome_fits_the_phase(agent_factory, clock, now: datetime, said: str) -> None:
    """Trial A, item 3: a newcomer during the vote was asked to describe a need, though the
    collecte was closed and the menu then offered only the vote."""
    clock.now = now
    frank = agent_factory("frank")
    await frank.start()
    assert "bienvenue" in frank.text
    assert fr(said) in frank.text
    if said != DESCRIBE:
        assert DESCRIBE not in frank.text
    assert "Quelle est votre collectivité" in frank.text  # the profile comes next, as always


@pytest.mark.parametrize("opening", ["start", "bonjour"])
async def test_a_returning_agent_is_greeted_before_being_told_the_draft_was_dropped(
    agent_factory, clock, opening: str
) -> None:
    """Trial A, item 15: on coming back after the collecte, the notice that the draft was
    dropped came before « Bonjour ! Ravi de vous retrouver. »."""
    eve = agent_factory("eve")
    await register(eve)
    await eve.say("1")
    await eve.say("Réserver les salles en ligne")
    clock.now = datetime(2027, 2, 1, 10, 0, tzinfo=PARIS)  # the collecte closed on 31 Jan.
    if opening == "start":
        await eve.start()
    else:
        await eve.say("Bonjour !")
    text = eve.text
    hello = text.find(fr("Bonjour !"))
    dropped = text.find("ne peut plus être envoyée")
    assert 0 <= hello < dropped, text
    assert "Réserver les salles en ligne" in text  # what was typed, shown back
    assert "Que souhaitez-vous faire" in text or "Prochaine étape" in text  # then the menu
