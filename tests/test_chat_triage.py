"""The triage in chat, by an administrator through the fake transport: every command says
what changed and how to undo it, and the undo it gives restores the state; long lists go
page by page with « !suite »; a refused change writes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_intake import register
from triage_seed import seed

from bot.consultation.export import TRIAGE_COLUMNS
from bot.consultation.spreadsheet import read_table
from bot.consultation.triage_store import stored_triage
from bot.core.values import OutFile
from storage.store import Store


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def snapshot(store: Store) -> dict[str, Any]:
    """Every contribution's triage and every proposal's text and status."""
    with store.transaction() as tx:
        state = stored_triage(tx).state
        proposals = {r.reference: r for r in tx.proposals(merged=True)}
    return {"contributions": dict(state.contributions), "proposals": proposals}


def undo_commands(text: str) -> list[str]:
    """The commands an answer gives after « Pour annuler »."""
    tail = plain(text).split("Pour annuler :", 1)[1]
    return re.findall(r"« (![^»]*?) »", tail)


@pytest.fixture
async def admin(agent_factory, store: Store):  # type: ignore[no-untyped-def]
    seed(store, 40)
    admin = agent_factory("admin")
    await register(admin, "Lyon")
    return admin


async def say(agent, text: str) -> str:  # type: ignore[no-untyped-def]
    await agent.say(text)
    return plain(agent.text)


async def test_each_change_says_what_changed_and_its_undo_restores_it(admin, store: Store) -> None:  # type: ignore[no-untyped-def]
    assert "Aucune proposition pour l’instant" in await say(admin, "!triage")
    answer = await say(admin, "!creer B-0001 B-0002 : Réserver les salles communales")
    assert "Proposition P-001 créée : « Réserver les salles communales », 2 contributions" in answer
    assert undo_commands(answer) == ["!enlever P-001 B-0001 B-0002"]
    await say(admin, "!creer B-0004 : Cantine")

    steps = [
        ("!ajouter P-001 B-0003 B-0004", "Ajoutées : B-0003 et B-0004. B-0004 venait de P-002"),
        ("!enlever P-001 B-0002", "retirée de P-001"),
        ("!fusionner P-001 P-002", "P-002 a rejoint P-001"),
        (
            "!renommer P-001 Réserver en ligne les salles, le matériel et les équipements sportifs",
            "devient « Réserver en ligne les salles, le matériel",
        ),
        ("!decrire P-001 Un agenda partagé que les habitants consultent.", "Description de P-001"),
        ("!reorienter B-0005 Le guichet national le fait déjà. https://www.service-public.fr", ""),
        ("!rejeter B-0006 Hors du champ de la consultation.", "B-0006 rejetée"),
        ("!statut P-001 publiee", "1 proposition publiée : P-001"),
    ]
    for command, said in steps:
        before = snapshot(store)
        answer = await say(admin, command)
        assert said in answer, answer
        assert snapshot(store) != before, command
        undo = undo_commands(answer)
        assert undo, answer
        for line in undo:
            await say(admin, line)
        assert snapshot(store) == before, (command, undo, admin.text)
        await say(admin, command)  # and done again, for the next step

    answer = await say(admin, "!rouvrir B-0006")
    assert "B-0006 est de nouveau soumise (elle était « rejetée »)" in answer
    assert undo_commands(answer) == ["!rejeter B-0006 Hors du champ de la consultation."]
    answer = await say(admin, "!fiche P-001")
    assert "P-001 « Réserver en ligne les salles" in answer and "(publiée, " in answer
    # typed as agents type it (found in a terminal trial: « suivre p1 » worked, not this)
    assert await say(admin, "!fiche p1") == answer
    assert "Description : Un agenda partagé" in answer
    with store.transaction() as tx:
        detail = tx.proposal("P-001")
    assert detail is not None and len(detail.members) == 3
    for member in detail.members:
        assert (
            f"• {member.reference} ({member.kind}) « {member.title} » : {member.collectivite_name}"
            in answer
        )


async def test_a_refused_change_is_explained_and_writes_nothing(admin, store: Store) -> None:  # type: ignore[no-untyped-def]
    await say(admin, "!creer B-0001 : Salles")
    before = snapshot(store)
    refusals = [
        ("!ajouter P-009 B-0002", "Aucune proposition ne porte la référence « P-009 »."),
        ("!creer B-0001 : Encore", "B-0001 est déjà dans la proposition P-001."),
        ("!rejeter B-0001 Hors champ", "B-0001 est dans une proposition : retirez-la d’abord."),
        ("!enlever P-001 B-0003", "B-0003 n’est pas dans la proposition P-001."),
        ("!renommer P-001 " + "x" * 121, "Le titre fait 121 caractères ; la limite est de 120."),
        ("!fusionner P-001 P-001", "On ne fusionne pas la proposition P-001 avec elle-même."),
        ("!creer B-0002", "Usage : « !creer B-0001 B-0002 : Titre de la proposition »"),
        ("!statut P-001 archivee", "Usage : « !statut P-001 brouillon »"),
        ("!fiche", "Usage : « !fiche P-001 »"),
        # statuses and numbers as they read (found in a terminal trial: « non_retenue »)
        ("!statut P-001 fusionnee", "est « brouillon » : elle ne peut pas passer à « fusionnée »"),
        ("!decrire P-001 " + "x" * 4001, "la limite est de 4 000"),
    ]
    for command, said in refusals:
        assert said in await say(admin, command), command
    assert snapshot(store) == before


async def test_long_lists_go_page_by_page_with_suite(admin, store: Store) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as tx:
        for n in range(20):
            tx.create_proposal(
                "test:admin",
                title=f"Proposition {n:02d}",
                contributions=[f"B-{n + 1:04d}"],
                thematique="citoyennete",
            )
    answer = await say(admin, "!triage")
    assert "Propositions par thématique (20) :" in answer
    assert "(citoyennete) : 20" in answer
    answer = await say(admin, "!triage Citoyenneté")
    assert ": 20 propositions" in answer
    assert "P-001 « Proposition 00 » : 1 contribution, 1 collectivité, brouillon" in answer
    assert "P-015" in answer and "P-016" not in answer
    assert "… 5 lignes de plus : « !suite »." in answer
    answer = await say(admin, "!suite")
    assert "P-016" in answer and "P-020" in answer and "P-015" not in answer
    assert "!suite" not in answer
    assert "Il n’y a plus rien à afficher." in await say(admin, "!suite")
    assert "Je ne connais pas la thématique « jardinage »" in await say(admin, "!triage jardinage")


async def test_an_agent_cannot_triage(agent_factory, store: Store) -> None:  # type: ignore[no-untyped-def]
    seed(store, 4)
    alice = agent_factory("alice")
    await register(alice)
    before = snapshot(store)
    for command in ("!creer B-0001 : Salles", "!publier", "!rejeter B-0002 non"):
        assert "réservée aux administrateurs" in await say(alice, command)
    assert snapshot(store) == before


async def test_the_export_in_chat_says_what_triage_made_of_each_contribution(admin) -> None:  # type: ignore[no-untyped-def]
    """The administrator triages with the chat commands, then « !export »: the spreadsheet
    answers « qu’est devenue cette contribution ? » without a look at « !fiche »."""
    await say(admin, "!creer B-0001 B-0002 : Réserver les salles communales")
    await say(admin, "!rejeter B-0003 Hors du champ de la consultation.")
    await say(
        admin, "!reorienter B-0005 Le guichet national le fait déjà. https://www.service-public.fr"
    )
    await admin.say("!export")
    [file] = [m for m in admin.last if isinstance(m, OutFile)]
    rows = {r.get("reference"): r for r in read_table(file.content).rows}

    def triage(reference: str) -> tuple[str, ...]:
        return tuple(rows[reference].get(c) for c in ("statut", *TRIAGE_COLUMNS))

    grouped = ("regroupée", "P-001", "Réserver les salles communales", "brouillon", "", "")
    assert triage("B-0001") == triage("B-0002") == grouped
    assert triage("B-0003") == ("rejetée", "", "", "", "Hors du champ de la consultation.", "")
    assert triage("B-0005") == (  # statuses in words, as a spreadsheet shows them
        "réorientée",
        "",
        "",
        "",
        "Le guichet national le fait déjà.",
        "https://www.service-public.fr",
    )
    assert triage("B-0004") == ("soumise", "", "", "", "", "")
