"""The vote: one support per collectivité per proposal, in the vote phase, by élus and agents."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from test_intake import describe_need, register

from bot.app import announcer
from bot.app.cli import build_parser
from bot.consultation.results import results_records
from bot.core.values import IncomingPollAnswer, OutChoices, OutPoll, OutText
from config.taxonomy import Taxonomy
from config.typography import french as fr
from storage import campaigns as stored_campaigns
from storage.ops.supports import SupportOutcome
from storage.store import Store

PARIS = ZoneInfo("Europe/Paris")
DURING_VOTE = datetime(2027, 2, 16, 11, 0, tzinfo=PARIS)


async def published_proposal(agent_factory, store: Store, clock) -> dict:  # type: ignore[no-untyped-def]
    """Two collectivités describe a need during the collecte; it becomes P-001, published."""
    alice, bob = agent_factory("alice"), agent_factory("bob")
    await register(alice, "Villeurbanne")
    await register(bob, "Lyon")
    for agent in (alice, bob):
        await describe_need(agent)
        if agent.question is not None and "Envoyer" not in agent.text:
            await agent.press(agent.option("Non"))
        await agent.say("Envoyer")
    with store.transaction() as tx:
        proposal = tx.create_proposal(
            "test:admin", title="Réserver une salle en ligne", contributions=["B-0001", "B-0002"]
        )
        tx.publish_proposals("test:admin", [proposal.reference])
    clock.now = DURING_VOTE
    return {"alice": alice, "bob": bob, "thematique": proposal.thematique}


def supports(store: Store) -> list[tuple[int, int, bool]]:
    with store.transaction() as tx:
        rows = tx.connection.execute(
            sa.text(
                "SELECT proposal_id, collectivite_id, withdrawn_at IS NULL FROM support ORDER BY id"
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_one_support_per_collectivite_and_only_its_author_withdraws(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    alice = people["alice"]
    await alice.say("soutenir P-001")
    assert "votre collectivité soutient P-001" in alice.text
    colleague = agent_factory("alice2")
    await register(colleague, "Villeurbanne")
    await colleague.say("soutenir P-1")
    assert "soutient déjà P-001" in colleague.text
    await colleague.say("retirer P-001")
    assert "seul son auteur peut le retirer" in colleague.text
    await colleague.say("mes soutiens")
    assert "P-001" in colleague.text and "par votre collègue" in colleague.text
    assert [s[2] for s in supports(store)] == [True]
    await alice.say("retirer P-001")
    assert "Soutien retiré pour P-001" in alice.text
    await colleague.say("soutenir P-001")
    assert "votre collectivité soutient P-001" in colleague.text
    assert len(supports(store)) == 1 and supports(store)[0][2]  # the row is reused


async def test_a_soutenir_line_longer_than_64_characters_is_understood(
    agent_factory, store: Store, clock
) -> None:
    """Found in trial 1: « soutenir » with 10 references (68 characters) got « Je n’ai pas
    compris votre choix » and nothing was recorded: lines over 64 characters were answers."""
    alice = (await published_proposal(agent_factory, store, clock))["alice"]
    line = "soutenir " + ", ".join(["P-001"] * 70)  # every proposal of a vote, on one line
    assert len(line) > 400
    await alice.say(line)
    assert "votre collectivité soutient P-001" in alice.text
    assert "Je n’ai pas compris" not in alice.text
    assert [s[2] for s in supports(store)] == [True]


async def test_menu_after_the_collecte_does_not_say_the_collecte_is_closed(
    agent_factory, store: Store, clock
) -> None:
    """Found in trial 1: every « menu » of the vote began with « La collecte des
    contributions est close… », which only « nouvelle » (asking to contribute) calls for."""
    alice = (await published_proposal(agent_factory, store, clock))["alice"]
    closed = "La collecte des contributions est close"
    await alice.say("menu")
    assert closed not in alice.text and "Le vote est ouvert" in alice.text
    await alice.say("profil")
    await alice.say("menu")
    assert closed not in alice.text and "Le vote est ouvert" in alice.text
    await alice.say("nouvelle")
    assert closed in alice.text


async def test_a_reply_and_the_menu_after_it_arrive_as_one_message(
    agent_factory, store: Store, clock
) -> None:
    alice = (await published_proposal(agent_factory, store, clock))["alice"]
    await alice.say("soutenir P-001")
    [message] = alice.last  # one notification on the agent's phone, not two
    assert isinstance(message, OutChoices)
    assert "votre collectivité soutient P-001" in message.text.split("\n\n")[0]
    assert "Voir les propositions et voter" in [c.label for c in message.choices]


async def test_two_colleagues_supporting_again_at_once_count_once(
    agent_factory, store: Store, clock
) -> None:
    """The support withdrawn, then given again by two agents of the collectivité at the
    same moment: the second renewal, made while the first is not yet committed, waits for it
    and then changes nothing (SQLite serialises the two transactions instead)."""
    await published_proposal(agent_factory, store, clock)
    await register(agent_factory("alice2"), "Villeurbanne")
    with store.transaction() as tx:
        rows = tx.connection.execute(
            sa.text(
                "SELECT id, collectivite_id FROM agent"
                " WHERE user_id IN ('alice', 'alice2') ORDER BY user_id"
            )
        ).all()
    ids, commune = [row[0] for row in rows], rows[0][1]
    assert rows[1][1] == commune
    with store.transaction() as tx:
        assert tx.support("a", ids[0], commune, "P-001") == SupportOutcome.ADDED
        assert tx.withdraw_support("a", ids[0], commune, "P-001") == SupportOutcome.WITHDRAWN
    first = store.transaction()
    tx = first.__enter__()
    assert tx.support("a", ids[0], commune, "P-001") == SupportOutcome.ADDED
    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(_support_in_own_transaction, store, ids[1], commune)
        if store.engine.dialect.name == "postgresql":
            _until_a_statement_waits_on_a_lock(store)  # the second's renewal, on the row
        first.__exit__(None, None, None)  # the first commits: the second goes on
        assert second.result(timeout=30) == SupportOutcome.ALREADY
    assert [row[1:] for row in supports(store)] == [(commune, True)]  # standing, once
    with store.transaction() as tx:
        added = tx.connection.execute(
            sa.text("SELECT count(*) FROM audit_log WHERE action = 'support.added'")
        ).scalar_one()
    assert added == 2  # the first support and its renewal: the refused one wrote nothing


async def test_a_support_withdrawn_twice_at_once_is_withdrawn_once(
    agent_factory, store: Store, clock
) -> None:
    """Its author and an administrator withdraw it at the same moment: the second, blocked
    on the first's row, finds it withdrawn already; one withdrawal in the audit log."""
    await published_proposal(agent_factory, store, clock)
    with store.transaction() as tx:
        alice, commune = tx.connection.execute(
            sa.text("SELECT id, collectivite_id FROM agent WHERE user_id = 'alice'")
        ).one()
        assert tx.support("a", alice, commune, "P-001") == SupportOutcome.ADDED
    first = store.transaction()
    tx = first.__enter__()
    assert tx.withdraw_support("a", alice, commune, "P-001") == SupportOutcome.WITHDRAWN
    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(_withdraw_as_administrator, store, commune)
        if store.engine.dialect.name == "postgresql":
            _until_a_statement_waits_on_a_lock(store)
        first.__exit__(None, None, None)
        assert second.result(timeout=30) == SupportOutcome.NOT_SUPPORTED
    assert [row[2] for row in supports(store)] == [False]
    with store.transaction() as tx:
        withdrawn = tx.connection.execute(
            sa.text("SELECT count(*) FROM audit_log WHERE action = 'support.withdrawn'")
        ).scalar_one()
    assert withdrawn == 1


def _withdraw_as_administrator(store: Store, commune: int) -> SupportOutcome:
    with store.transaction() as tx:
        return tx.withdraw_support("test:admin", None, commune, "P-001")


def _until_a_statement_waits_on_a_lock(store: Store) -> None:
    deadline = time.monotonic() + 30
    with store.engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).scalar_one()
            connection.rollback()  # a fresh snapshot of the activity each time
            if waiting:
                return
    raise AssertionError("the second transaction never waited for the first")


def _support_in_own_transaction(store: Store, agent_id: int, commune: int) -> SupportOutcome:
    with store.transaction() as tx:
        return tx.support("b", agent_id, commune, "P-001")


async def test_voir_says_how_to_support_only_while_it_can_be(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    alice, bob = people["alice"], people["bob"]
    await alice.say("soutenir P-001")
    await alice.say("voir P-001")
    assert "Réserver une salle en ligne" in alice.text
    assert fr("Votre collectivité la soutient ; « retirer P-001 »") in alice.text
    assert "Pour la soutenir" not in alice.text
    await bob.say("voir P-001")
    assert fr("Pour la soutenir : « soutenir P-001 »") in bob.text
    clock.now = datetime(2027, 3, 20, 10, 0, tzinfo=PARIS)  # the vote has closed
    await bob.say("voir P-001")
    assert "Réserver une salle en ligne" in bob.text and "Pour la soutenir" not in bob.text


async def test_the_vote_is_refused_outside_its_phase_and_to_partners(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    alice = people["alice"]
    clock.now = datetime(2027, 2, 10, 11, 0, tzinfo=PARIS)
    await alice.say("soutenir P-001")
    assert "il ouvrira le 15 février 2027" in alice.text
    clock.now = datetime(2027, 3, 20, 11, 0, tzinfo=PARIS)
    await alice.say("soutenir P-001")
    assert "Le vote est clos depuis le 15 mars 2027" in alice.text
    clock.now = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
    partner = agent_factory("paul")
    await partner.start()
    await partner.say("Grenoble")
    await partner.press(partner.option("Partenaire"))
    await partner.say("Prestataire")
    await partner.say("passer")
    clock.now = DURING_VOTE
    await partner.say("soutenir P-001")
    assert fr("Seules les collectivités votent") in partner.text
    assert supports(store) == []
    # the menu offers a partner what they may do: read the proposals, not vote
    assert partner.question is not None
    labels = [c.label for c in partner.question.choices]
    assert "Lire les propositions" in labels
    assert "Voir les propositions et voter" not in labels
    assert "Les soutiens de ma collectivité" not in labels
    assert "votre collectivité peut soutenir" not in partner.question.text
    await partner.press("propositions")
    assert "P-001" in partner.text and supports(store) == []
    await partner.say("mes soutiens")  # not « votre collectivité ne soutient encore aucune »
    assert fr("Seules les collectivités votent") in partner.text


async def test_a_poll_answer_gives_changes_and_retracts_supports(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    bob = people["bob"]
    await bob.say("propositions")
    polls = [m for m in bob.last if isinstance(m, OutPoll)]
    assert len(polls) == 1 and [o.id for o in polls[0].options] == ["P-001"]
    poll_id = polls[0].poll_id

    async def vote(*options: str) -> None:
        await bob.engine.handle(
            IncomingPollAnswer(
                key=bob.key, event_id=bob._event(), poll_id=poll_id, option_ids=options
            )
        )
        bob.last = bob.transport.pop(bob.key)

    await vote("P-001")
    assert "votre collectivité soutient P-001" in bob.text
    assert [s[2] for s in supports(store)] == [True]
    await vote()  # retracted
    assert "Soutien retiré pour P-001" in bob.text
    assert [s[2] for s in supports(store)] == [False]
    await vote("P-001", "P-999")  # an option the poll never offered is ignored
    assert [s[2] for s in supports(store)] == [True]


async def test_a_poll_answer_no_longer_withdraws_a_support_given_by_text(
    agent_factory, store: Store, clock
) -> None:
    """Regression: a poll answer was taken as the whole choice in its thématique, so ticking
    P-001 withdrew P-002, which the agent had supported by text and the poll never showed
    ticked. A poll answer withdraws only what it had ticked before."""
    people = await published_proposal(agent_factory, store, clock)
    bob = people["bob"]
    with store.transaction() as tx:
        alice = people["alice"].key
        author = tx.ensure_agent(alice.transport, alice.user)
        _, reference = tx.add_contribution(
            author,
            kind="besoin",
            title="Louer le matériel de la salle des fêtes",
            description="Les associations empruntent tables et chaises chaque semaine.",
            answers={"usage": "reserver"},
            thematique=people["thematique"],
            confidence=0.9,
            thematique_source="agent",
        )
        tx.create_proposal("test:admin", title="Louer le matériel", contributions=[reference])
        tx.publish_proposals("test:admin")
    await bob.say("soutenir P-002")
    await bob.say("propositions")
    [poll] = [m for m in bob.last if isinstance(m, OutPoll)]
    assert [o.id for o in poll.options] == ["P-001", "P-002"]

    async def vote(*options: str) -> None:
        await bob.engine.handle(
            IncomingPollAnswer(
                key=bob.key, event_id=bob._event(), poll_id=poll.poll_id, option_ids=options
            )
        )
        bob.last = bob.transport.pop(bob.key)

    await vote("P-001")
    assert "votre collectivité soutient P-001" in bob.text and "P-002" not in bob.text
    assert [s[2] for s in supports(store)] == [True, True]
    await vote()  # retracted: what the poll gave goes, the support by text stays
    assert "Soutien retiré pour P-001" in bob.text and "P-002" not in bob.text
    assert [s[2] for s in supports(store)] == [True, False]
    await vote("P-002")  # ticked: already supported, nothing counted twice
    assert "Rien n’a changé" in bob.text
    await vote()  # unticked: the poll had it, the poll withdraws it
    assert "Soutien retiré pour P-002" in bob.text
    assert [s[2] for s in supports(store)] == [False, False]


async def test_the_menu_follows_the_phase(agent_factory, store: Store, clock) -> None:
    people = await published_proposal(agent_factory, store, clock)
    alice = people["alice"]
    await alice.say("nouvelle")
    assert "Le vote est ouvert jusqu’au 15 mars 2027" in alice.text
    assert alice.question is not None
    assert "Voir les propositions et voter" in [c.label for c in alice.question.choices]
    assert "Décrire un besoin" not in [c.label for c in alice.question.choices]
    await alice.press("propositions")
    assert any(isinstance(m, OutPoll) for m in alice.last)
    await alice.say("nouvelle")  # a new contribution, once the collecte has closed: why not
    assert "La collecte des contributions est close depuis le 31 janvier 2027" in alice.text

    clock.now = datetime(2027, 3, 20, 10, 0, tzinfo=PARIS)  # between the vote and the call
    await alice.say("menu")
    assert fr("Le vote est clos depuis le 15 mars 2027.") in alice.text
    assert fr("Prochaine étape : appel aux territoires référents, à partir du 1er avril 2027.") in (
        alice.text
    )
    clock.now = datetime(2027, 6, 10, 10, 0, tzinfo=PARIS)  # the déploiement
    await alice.say("menu")
    assert "en cours de construction avec les territoires référents" in alice.text
    assert "suivre" not in alice.text  # nothing was retained: no news to follow
    clock.now = datetime(2028, 1, 5, 10, 0, tzinfo=PARIS)  # after the consultation
    await alice.say("menu")
    assert fr("La consultation est terminée depuis le 31 décembre 2027.") in alice.text
    assert "Prochaine étape" not in alice.text


async def test_results_laureates_and_polls_closed_at_the_end(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    alice, bob = people["alice"], people["bob"]
    await alice.say("soutenir P-001")
    await bob.say("propositions")  # a poll shown to bob
    admin = agent_factory("admin")
    await register_late(admin, clock)
    clock.now = datetime(2027, 1, 10, 10, 0, tzinfo=PARIS)  # the collecte
    await admin.say("!resultats")  # found in a terminal trial: « vote en cours » in January
    assert fr("Le vote ouvrira le 15 février 2027 : pas encore de résultats.") in admin.text
    clock.now = DURING_VOTE
    await admin.say("!retenir P-001")
    assert "se choisissent après" in admin.text  # not during the vote
    await admin.say("!resultats")
    assert "Résultats provisoires" in admin.text and "P-001" in admin.text
    assert "0 vérifié, 1 en tout" in admin.text
    clock.now = datetime(2027, 3, 16, 10, 0, tzinfo=PARIS)  # the day after the vote
    await admin.say("!retenir P-001")
    assert fr("Retenues : P-001") in admin.text
    with store.transaction() as tx:
        assert tx.proposal("P-001").proposal.status == "retenue"  # type: ignore[union-attr]
    await admin.say("!resultats")  # found in a terminal trial: the decision was not shown
    assert "Résultats du vote" in admin.text
    assert fr("P-001 — Réserver une salle en ligne") in admin.text
    assert fr("1 en tout — retenue") in admin.text
    # what the « … et N autres » line points to: « recueil export --what resultats »
    with store.transaction() as tx:
        rows = results_records(tx.support_tallies(), Taxonomy.load())
    assert [(r["reference"], r["soutiens"], r["decision"]) for r in rows] == [
        ("P-001", 1, "retenue")
    ]
    assert build_parser().parse_args(["export", "--what", "resultats"]).what == "resultats"
    await alice.say("soutenir P-001")
    assert "Le vote est clos" in alice.text


async def register_late(agent, clock) -> None:  # type: ignore[no-untyped-def]
    """Register an agent while the collecte is open, then come back to the present."""
    now = clock.now
    clock.now = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
    await register(agent, "Lyon")
    clock.now = now


async def test_an_admin_announces_to_an_audience_after_a_preview(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    admin = agent_factory("admin")
    await register_late(admin, clock)
    await admin.say("!annoncer nimporte Bonjour")
    assert fr("Public « nimporte » inconnu. Publics :") in admin.text
    # found in a trial: « tous » got only the usage, and the draft answered « non » spent
    # M-0001, so that the first message sent was annonce-M-0002
    await admin.say("!annoncer tous Bonjour")
    assert fr("Public « tous » inconnu ; vouliez-vous dire « agents » ? Publics : agents,") in (
        admin.text
    )
    await admin.say("!annoncer votant Bonjour")
    assert fr("vouliez-vous dire « votants » ?") in admin.text
    await admin.say("!annoncer votants Le vote ferme vendredi")
    assert (
        fr("Message pour les élus et les agents des collectivités, 3 destinataires :") in admin.text
    )
    await admin.say("non")
    assert "rien n’a été envoyé" in admin.text
    long_text = "Le vote ferme vendredi. " + "Pensez à soutenir les propositions. " * 5
    await admin.say(f"!annoncer votants {long_text}")
    await admin.say("oui")
    assert "mis en file pour 3 destinataires" in admin.text
    with store.transaction() as tx:  # the draft answered « non » spent no number
        assert [p.id for p in stored_campaigns.progress(tx)] == ["annonce-M-0001"]
    await admin.engine.drain()  # the pushes the turn queued
    alice_inbox = [m.text for m in people["alice"].transport.sent[people["alice"].key]]  # type: ignore[union-attr]
    assert sum("Le vote ferme vendredi" in t for t in alice_inbox) == 1
    await admin.say("!envois")
    # the two others have it; the admin's own copy goes out after this very turn
    assert "3 destinataires, 2 envoyés, 1 en attente" in admin.text
    own = [getattr(m, "text", "") for m in admin.transport.sent[admin.key]]
    assert sum(t.startswith("Le vote ferme vendredi") for t in own) == 1

    # found in a terminal trial: an audience of nobody was previewed and spent a reference;
    # the text the administrator typed went out with ordinary spaces before « ! » and « : »
    await admin.say("!annoncer volontaires Merci")
    assert fr("Personne n’est concerné pour l’instant (les collectivités volontaires)") in (
        admin.text
    )
    await admin.say("!annoncer votants Dernier jour : votez vite ! Pensez à « soutenir ».")
    assert fr("Dernier jour : votez vite ! Pensez à « soutenir ».") in admin.text
    assert "annonce-M-0003" not in admin.text  # the reference skipped nothing


async def test_where_polls_are_text_the_poll_says_to_type_soutenir(
    agent_factory, store: Store, clock
) -> None:
    """Regression: the numbered fallback said « répondez par un numéro », but a number then
    answered the menu that follows, never the poll."""
    from bot.core.transport import render_poll
    from config.catalogue import default_catalogue

    people = await published_proposal(agent_factory, store, clock)
    await people["bob"].say("propositions")
    [poll] = [m for m in people["bob"].last if isinstance(m, OutPoll)]
    shown = render_poll(poll, default_catalogue())
    assert fr("par exemple « soutenir P-001 »") in shown
    assert "numéro" not in shown
    assert "\n• P-001" in shown and "1. P-001" not in shown  # a number would answer the menu


async def test_a_support_typed_before_the_profile_points_to_the_questions_asked(
    agent_factory, store: Store, clock
) -> None:
    """Found in a terminal trial: « tapez « profil » » to a newcomer already in the profile
    questions, where « profil » only answered « Vous êtes en train de remplir votre profil »."""
    await published_proposal(agent_factory, store, clock)
    clock.now = DURING_VOTE
    newcomer = agent_factory("newcomer")
    await newcomer.start()
    await newcomer.say("soutenir P-001")
    assert "répondez d’abord aux questions ci-dessous" in newcomer.text
    assert "tapez « profil »" not in newcomer.text.replace("\u00a0", " ")
    assert "Quelle est votre collectivité" in newcomer.text  # the questions, right below


async def test_a_colleague_withdraws_a_support_whose_author_left_the_collectivite(
    agent_factory, store: Store, clock
) -> None:
    """Found in a terminal trial: an agent supported P-001 for Villeurbanne, then changed her
    profile to another collectivité; Villeurbanne's support could no longer be withdrawn by
    anyone there (« seul son auteur peut le retirer »), nor by her (« ne soutient pas »)."""
    people = await published_proposal(agent_factory, store, clock)
    alice = people["alice"]
    await alice.say("soutenir P-001")
    colleague = agent_factory("alice2")
    await register(colleague, "Villeurbanne")
    await colleague.say("retirer P-001")
    assert "seul son auteur peut le retirer" in colleague.text  # alice still speaks for it
    with store.transaction() as tx:  # alice's profile now says Lyon (bob's collectivité)
        tx.connection.execute(
            sa.text(
                "UPDATE agent SET collectivite_id ="
                " (SELECT collectivite_id FROM agent WHERE user_id = :bob) WHERE user_id = :alice"
            ),
            {"bob": people["bob"].key.user, "alice": alice.key.user},
        )
    await colleague.say("mes soutiens")  # not theirs to verify: no « Vos soutiens … »
    # alice no longer speaks for Villeurbanne: no longer named as a colleague
    assert "P-001" in colleague.text and "par un ou une collègue, non vérifié" in colleague.text
    assert "Vos soutiens sont comptés" not in colleague.text
    assert "donnés par un ou une collègue que rien ne reconnaît" in colleague.text
    await colleague.say("retirer P-001")
    assert "Soutien retiré pour P-001" in colleague.text
    assert [standing for *_, standing in supports(store)] == [False]


async def test_a_supported_proposal_keeps_a_contribution_and_is_decided_after_the_vote(
    agent_factory, store: Store, clock
) -> None:
    """Found in a terminal trial: « !enlever » emptied a supported proposal during the vote
    (« Collectivités à l’origine : » then blank), and « !statut P-001 retenue » decided it
    in the collecte, where « !retenir » says the laureates are chosen after the vote."""
    people = await published_proposal(agent_factory, store, clock)
    await people["alice"].say("soutenir P-001")
    admin = agent_factory("admin")
    await register_late(admin, clock)
    await admin.say("!enlever P-001 B-0001 B-0002")
    assert fr("P-001 a déjà 1 soutien : elle doit garder au moins une contribution") in admin.text
    await admin.say("!enlever P-001 B-0002")
    assert "il en reste 1" in admin.text
    await admin.say("!statut P-001 retenue")
    assert "se choisissent après" in admin.text
    with store.transaction() as tx:
        assert tx.proposal("P-001").proposal.status == "publiee"  # type: ignore[union-attr]


async def test_statut_brouillon_is_refused_for_a_supported_proposal_and_voir_still_finds_it(
    agent_factory, store: Store, clock
) -> None:
    """Found in a trial: « !statut P-001 brouillon » during the vote hid a supported proposal
    (its supports gone from « !resultats »), and « voir P-001 » said it did not exist while
    « mes soutiens » listed it."""
    people = await published_proposal(agent_factory, store, clock)
    alice, bob = people["alice"], people["bob"]
    await alice.say("soutenir P-001")
    admin = agent_factory("admin")
    await register_late(admin, clock)
    await admin.say("!statut P-001 brouillon")
    assert fr("La proposition P-001 a 1 soutien de collectivités : elle reste soumise au vote") in (
        admin.text
    )
    assert "Rien n’a changé" in admin.text
    with store.transaction() as tx:
        assert tx.proposal("P-001").proposal.status == "publiee"  # type: ignore[union-attr]
    # a proposal unpublished before this refusal existed: its supporters still find it
    with store.transaction() as tx:
        tx.connection.execute(sa.text("UPDATE proposal SET status = 'brouillon'"))
    await alice.say("mes soutiens")
    assert "P-001" in alice.text
    await alice.say("voir P-001")
    assert "Je ne trouve pas" not in alice.text
    assert fr("P-001 — Réserver une salle en ligne") in alice.text
    assert "n’est plus soumise au vote" in alice.text
    await bob.say("voir P-001")  # Lyon supports nothing: a draft stays unknown to it
    assert "Je ne trouve pas de proposition P-001" in bob.text


@pytest.mark.parametrize("chosen", [True, False], ids=["laureates_chosen", "not_yet"])
async def test_the_vote_closing_says_whether_the_laureates_are_chosen(
    agent_factory, store: Store, clock, engine, transport, chosen: bool
) -> None:
    """Found in a trial: the closing listed P-001 « — retenue » and went on « L’équipe choisit
    maintenant les services retenus »."""
    people = await published_proposal(agent_factory, store, clock)
    alice = people["alice"]
    await alice.say("soutenir P-001")
    clock.now = datetime(2027, 3, 16, 10, 0, tzinfo=PARIS)  # a Tuesday, the day after
    if chosen:
        admin = agent_factory("admin")
        await register_late(admin, clock)
        await admin.say("!retenir P-001")
    transport.pop(alice.key)
    assert "vote-cloture" in await announcer.tick(engine)
    (closing,) = [
        m.text for m in transport.pop(alice.key) if isinstance(m, OutText) and "clos" in m.text
    ]
    if chosen:
        assert fr("1 en tout — retenue") in closing
        assert fr("Service retenu : P-001 ; prochaine étape : appel aux territoires") in closing
        assert "choisit maintenant" not in closing
    else:
        assert "retenue" not in closing
        assert fr("services retenus. Elle les choisit maintenant ; prochaine") in closing


@pytest.mark.parametrize("command", ["!retenir P-001", "!statut P-001 retenue"])
async def test_a_vote_closing_still_queued_names_the_laureates_chosen_since(
    agent_factory, store: Store, clock, engine, transport, command: str
) -> None:
    """Found in review: the closing's text was frozen when it was queued. Queued the day
    after the vote, before « !retenir », it reached an agent whose messaging was down with
    « L’équipe choisit maintenant les services retenus » although P-001 had been chosen.
    What waits is written again when the laureates change; what went out is not sent again."""
    people = await published_proposal(agent_factory, store, clock)
    alice, bob = people["alice"], people["bob"]
    await alice.say("soutenir P-001")
    await bob.say("soutenir P-001")
    admin = agent_factory("admin")
    await register_late(admin, clock)
    clock.now = datetime(2027, 3, 16, 10, 0, tzinfo=PARIS)  # a Tuesday, the day after
    transport.pop(alice.key), transport.pop(bob.key)
    transport.down.add(alice.key)  # Alice's messaging is down: her closing waits
    assert "vote-cloture" in await announcer.tick(engine)

    def closings(person) -> list[str]:  # type: ignore[no-untyped-def]
        return [
            m.text for m in transport.pop(person.key) if isinstance(m, OutText) and "clos" in m.text
        ]

    (early,) = closings(bob)
    assert fr("services retenus. Elle les choisit maintenant ; prochaine étape") in early
    transport.pop(admin.key)  # the administrator's own closing
    await admin.say(command)
    assert "P-001" in admin.text
    transport.down.discard(alice.key)
    await engine.redeliver_pending()
    (late,) = closings(alice)
    assert fr("Service retenu : P-001 ; prochaine étape : appel aux territoires") in late
    assert fr("2 en tout — retenue") in late, "the ranking says it too"
    assert "choisit maintenant" not in late
    assert closings(bob) == [], "nothing is sent twice"
    await admin.say("!retenir P-001")  # decided again, nothing waits: nothing goes out
    await engine.redeliver_pending()
    assert closings(alice) == [] and closings(bob) == []


async def test_voir_prints_no_blank_line_for_a_proposal_without_description(
    agent_factory, store: Store, clock
) -> None:
    alice = (await published_proposal(agent_factory, store, clock))["alice"]
    await alice.say("voir P-001")
    lines = alice.text.split("\n")
    origin = next(i for i, line in enumerate(lines) if line.startswith("Collectivités à l’origine"))
    assert lines[origin - 1].startswith(fr("Thème : ")), alice.text  # was an empty line
    with store.transaction() as tx:
        tx.describe_proposal("test:admin", "P-001", "Un agenda partagé des salles.")
    await alice.say("voir P-001")
    lines = alice.text.split("\n")
    origin = next(i for i, line in enumerate(lines) if line.startswith("Collectivités à l’origine"))
    assert lines[origin - 2 : origin] == [lines[origin - 2], "Un agenda partagé des salles."]
    assert lines[origin - 2].startswith(fr("Thème : "))


async def test_a_merged_proposal_points_to_where_it_went_and_contributions_are_not_supported(
    agent_factory, store: Store, clock
) -> None:
    """Found in a trial: « !fiche P-004 » (merged) ended with « 0 contribution de 0
    collectivité : » and nothing after; « soutenir P-004 » said only that it was not put to
    the vote, not that P-002 holds it now; « soutenir B-0001 » was read as a menu choice
    (« Je n’ai pas compris votre choix »)."""
    people = await published_proposal(agent_factory, store, clock)
    with store.transaction() as tx:
        tx.remove_from_proposal("test:admin", "P-001", ["B-0002"])
        other = tx.create_proposal("test:admin", title="Salles", contributions=["B-0002"])
        tx.merge_proposals("test:admin", "P-001", other.reference)
    alice = people["alice"]
    await alice.say("soutenir P-002")
    merged = "La proposition P-002 a été fusionnée dans P-001 : pour la soutenir, "
    merged += "« soutenir P-001 »."
    assert fr(merged) in alice.text
    await alice.say("soutenir B-0001")
    assert fr("« soutenir » s’applique aux propositions soumises au vote (P-012), pas aux") in (
        alice.text
    )
    assert fr("« voir B-0001 » montre une contribution") in alice.text
    assert "pas compris" not in alice.text
    assert supports(store) == []
    admin = agent_factory("admin")
    await register(admin, "Rennes")
    await admin.say("!fiche P-002")
    assert fr("Fusionnée dans P-001.\nAucune contribution.") in admin.text
    assert "0 contribution" not in admin.text


async def test_voter_a_bare_reference_je_soutiens_la_3_and_soutenir_tout_are_understood(
    agent_factory, store: Store, clock
) -> None:
    """Found in trial A: at the menu of the vote, « voter P-003 », « P-003 », « je soutiens
    la 3 » and « soutenir tout » got « Je n’ai pas compris votre choix »."""
    alice = (await published_proposal(agent_factory, store, clock))["alice"]
    await alice.say("P-001")  # shown, with how to support it, as « voir P-001 »
    assert "Réserver une salle en ligne" in alice.text
    assert fr("Pour la soutenir : « soutenir P-001 »") in alice.text
    assert supports(store) == [] and "Je n’ai pas compris" not in alice.text
    await alice.say("voter P-001")
    assert "votre collectivité soutient P-001" in alice.text
    await alice.say("retirer P-001")
    await alice.say("je soutiens la 1")
    assert "votre collectivité soutient P-001" in alice.text
    assert [s[2] for s in supports(store)] == [True]
    await alice.say("retirer P-001")
    await alice.say("soutenir tout")
    assert fr("Tapez « propositions » pour la liste") in alice.text
    assert fr("par exemple « soutenir P-001 »") in alice.text
    assert [s[2] for s in supports(store)] == [False]  # nothing supported for her
    await alice.say("voter")  # alone, it still lists the proposals
    assert "Voici les propositions soumises au vote" in alice.text
    await alice.say("soutenir P-1, P-2")
    assert "votre collectivité soutient P-001" in alice.text
    assert "Je ne trouve pas de proposition P-002" in alice.text


async def test_the_vote_closing_says_the_ranking_informs_and_the_team_chooses(
    agent_factory, store: Store, clock, engine, transport
) -> None:
    """Found in trial A: the closing ranked a proposal « non retenue » above one « retenue »
    and never said that the team chooses the laureates: voters read it as an error."""
    people = await published_proposal(agent_factory, store, clock)
    alice = people["alice"]
    clock.now = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)  # the collecte
    chloe = agent_factory("chloe")
    await register(chloe, "Grenoble")
    await describe_need(chloe, "Suivre les demandes d’intervention de la voirie")
    if chloe.question is not None and "Envoyer" not in chloe.text:
        await chloe.press(chloe.option("Non"))
    await chloe.say("Envoyer")
    with store.transaction() as tx:
        second = tx.create_proposal(
            "test:admin", title="Suivre les interventions", contributions=["B-0003"]
        )
        tx.publish_proposals("test:admin", [second.reference])
    clock.now = DURING_VOTE
    await alice.say("soutenir P-001")
    clock.now = datetime(2027, 3, 16, 10, 0, tzinfo=PARIS)  # the day after the vote
    admin = agent_factory("admin")
    await register_late(admin, clock)
    await admin.say("!retenir P-002")  # the less supported one
    transport.pop(alice.key)
    assert "vote-cloture" in await announcer.tick(engine)
    (closing,) = [
        m.text for m in transport.pop(alice.key) if isinstance(m, OutText) and "clos" in m.text
    ]
    assert fr("1. P-001") in closing and fr("1 en tout — non retenue") in closing
    assert fr("2. P-002") in closing and fr("0 en tout — retenue") in closing
    assert fr("Ce classement éclaire le choix de l’équipe de la consultation") in closing
    assert fr("c’est elle qui choisit les services retenus") in closing
