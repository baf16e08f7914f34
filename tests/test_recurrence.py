"""Recurrence in the conversation: the same need described elsewhere is offered to join."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fake_transport import SimulatedAgent
from sqlmodel import select
from test_intake import register

from bot.app.engine import Engine
from bot.app.services import similarity_index
from bot.consultation.export import CLUSTER_COLUMNS, cluster_records, contribution_records, to_csv
from bot.consultation.matches import feedback, match_records, render
from bot.consultation.need_types import need_type_records
from bot.consultation.recurrence import SHOWN_KEY
from config.typography import french as fr
from nlp.loading import load_similarity
from nlp.needs import read_catalogue
from storage.models import Contribution
from storage.store import Store

SALLES = (
    "Réserver les salles municipales en ligne",
    "Les associations réservent les salles municipales par téléphone auprès de l’accueil ; "
    "nous voulons un calendrier de réservation des salles en ligne.",
)
SALLES_AUTREMENT = (
    "Réservation en ligne des salles municipales",
    "Aujourd’hui la réservation des salles municipales se fait par téléphone : il faudrait "
    "un calendrier en ligne pour que les associations réservent les salles elles-mêmes.",
)

SALLE_DES_FETES = (
    "Location de la salle des fêtes",
    "pour louer la salle des fetes les gens doivent passer en mairie, on voudrait qu ils "
    "voient les dates libres et la bloquent depuis chez eux",
)
"""The need of ``SALLES`` without its words: only the need types recognise it."""


def agent(engine: Engine, user: str) -> SimulatedAgent:
    return SimulatedAgent(engine, engine._transports["test"], user)  # type: ignore[arg-type]


async def describe_until_thematique(someone: SimulatedAgent, title: str, description: str) -> None:
    """From the menu to the thématique question (the first beneficiaries, no current way)."""
    await someone.say("Décrire un besoin")
    await someone.say(title)
    await someone.say(description)
    await someone.say("1")
    await someone.say("passer")


async def describe(
    someone: SimulatedAgent, title: str, description: str, usage: str = "reserver"
) -> None:
    """From the menu to the step after the usage (what the service is mainly for)."""
    await describe_until_thematique(someone, title, description)
    await someone.say("1")  # the thématique offered first
    await someone.press(usage)


def stored(store: Store) -> list[Contribution]:
    with store.transaction() as tx:
        return list(tx.session.exec(select(Contribution).order_by(Contribution.id)))


async def alice_sends(engine: Engine) -> SimulatedAgent:
    """Alice (Villeurbanne) describes the municipal halls need and sends it."""
    alice = agent(engine, "alice")
    await register(alice, "Villeurbanne")
    await describe(alice, *SALLES)
    await alice.say("Envoyer")
    return alice


async def bob_joins_alice(engine: Engine) -> tuple[SimulatedAgent, SimulatedAgent]:
    """Alice (Villeurbanne) describes a need; Bob (Grenoble) words it otherwise and joins it."""
    alice = await alice_sends(engine)
    bob = agent(engine, "bob")
    await register(bob, "Grenoble")
    await describe(bob, *SALLES_AUTREMENT)
    await bob.say("1")
    await bob.say("Envoyer")
    return alice, bob


async def test_a_draft_resumed_at_the_same_need_question_asks_it_again(
    engine_with_search, store, clock
) -> None:
    """Bob leaves at « Est-ce le même besoin ? » and comes back days later: « Reprendre »
    asks that question again (it used to jump to the summary, and the match was lost)."""
    await alice_sends(engine_with_search)
    bob = agent(engine_with_search, "bob")
    await register(bob, "Grenoble")
    await describe(bob, *SALLES_AUTREMENT)
    assert "Villeurbanne (Rhône) a déjà décrit un besoin proche" in bob.text
    clock.now += timedelta(days=2)
    await bob.say("bonjour")
    assert bob.question is not None and "Reprendre" in [c.label for c in bob.question.choices]
    await bob.say("Reprendre")
    assert "a déjà décrit un besoin proche" in bob.text
    await bob.say("aide")  # a side trip: the question is asked again after the help
    assert "a déjà décrit un besoin proche" in bob.text
    await bob.say("1")
    await bob.say("Envoyer")
    first, second = stored(store)
    assert second.same_as_id == first.id


async def test_everyday_answers_and_je_sais_pas_at_the_same_need_question(
    engine_with_search, store
) -> None:
    """Found in trial 2: « ouais », « non pas vraiment » and « je sais pas » at « Est-ce
    le même que le vôtre ? » got « Je n’ai pas compris votre choix ». A yes or a no as
    people type it answers; « je sais pas » is told what each answer does, and asked again."""
    await alice_sends(engine_with_search)
    bob = agent(engine_with_search, "bob")
    await register(bob, "Grenoble")
    await describe(bob, *SALLES_AUTREMENT)
    assert "a déjà décrit un besoin proche" in bob.text
    await bob.say("je sais pas")
    assert fr("Si vous hésitez, répondez « non » : votre besoin est enregistré tel quel") in (
        bob.text
    )
    assert bob.question is not None and "a déjà décrit un besoin proche" in bob.question.text
    await bob.say("non pas vraiment")
    assert "Voici votre besoin, avant envoi" in bob.text
    assert "Même besoin que" not in bob.text

    claire = agent(engine_with_search, "claire")
    await register(claire, "Lyon")
    await describe(claire, *SALLES_AUTREMENT)
    await claire.say("ouais")
    assert "votre collectivité sera associée à ce besoin" in claire.text


async def test_a_second_collectivite_joins_the_same_need(engine_with_search, store) -> None:
    alice = agent(engine_with_search, "alice")
    await register(alice, "Villeurbanne")
    await describe(alice, *SALLES)
    assert "Voici votre besoin, avant envoi" in alice.text  # nothing similar yet
    await alice.say("Envoyer")

    bob = agent(engine_with_search, "bob")
    await register(bob, "Grenoble")
    await describe(bob, *SALLES_AUTREMENT)
    assert "Villeurbanne (Rhône) a déjà décrit un besoin proche" in bob.text
    assert SALLES[0] in bob.text
    await bob.say("1")  # « Oui, c’est le même : m’y associer »
    assert "votre collectivité sera associée à ce besoin" in bob.text
    assert "• Même besoin que" in bob.text
    await bob.say("Envoyer")
    first, second = stored(store)
    assert second.same_as_id == first.id
    assert second.description == SALLES_AUTREMENT[1]  # their own wording kept


async def test_the_same_need_in_other_words_is_offered_to_join(engine_with_search, store) -> None:
    words, _ = load_similarity().evidence("\n".join(SALLES), "\n".join(SALLE_DES_FETES))
    assert words < 0.1  # hardly a word in common: the need types recognise it

    await alice_sends(engine_with_search)
    bob = agent(engine_with_search, "bob")
    await register(bob, "Grenoble")
    await describe(bob, *SALLE_DES_FETES)
    assert fr("a déjà décrit un besoin proche : « Réserver les salles municipales en ligne »") in (
        bob.text
    )
    await bob.say("1")
    await bob.say("Envoyer")
    assert stored(store)[1].same_as_id == stored(store)[0].id

    # Administrators find both under the same need type: a first draft of the proposals.
    needs = load_similarity().needs
    assert needs is not None
    [drafted] = need_type_records(store.contributions(), needs, read_catalogue())
    assert drafted["besoin_type"] == "reservation_salles_municipales"
    assert drafted["collectivites"] == ["Villeurbanne", "Grenoble"]


async def test_declining_keeps_a_separate_need(engine_with_search, store) -> None:
    await alice_sends(engine_with_search)

    claire = agent(engine_with_search, "claire")
    await register(claire, "Lyon")
    await describe(claire, *SALLES_AUTREMENT)
    assert "a déjà décrit un besoin proche" in claire.text
    await claire.say("Non, le mien est différent")
    assert "Voici votre besoin, avant envoi" in claire.text
    assert "Même besoin que" not in claire.text
    await claire.say("Envoyer")
    assert stored(store)[1].same_as_id is None


async def test_own_collectivite_is_not_offered_and_services_are(engine_with_search) -> None:
    await alice_sends(engine_with_search)
    colleague = agent(engine_with_search, "colleague")
    await register(colleague, "Villeurbanne")
    await describe(colleague, *SALLES_AUTREMENT)
    assert "a déjà décrit" not in colleague.text  # the same collectivité: not a recurrence
    await colleague.say("Envoyer")

    provider = agent(engine_with_search, "provider")
    await register(provider, "Grenoble")
    await provider.say("Présenter un service existant")
    await provider.say("Calendrier de réservation des salles municipales")
    await provider.say(
        "Les associations réservent en ligne les salles municipales dans un calendrier partagé."
    )
    await provider.say("https://salles.grenoble.fr")
    await provider.say("oui")
    await provider.say("La nôtre")
    await provider.say("Le déployer ailleurs")
    await provider.say("1")
    await provider.press("reserver")
    await provider.say("Envoyer")

    dana = agent(engine_with_search, "dana")
    await register(dana, "Lyon")
    await describe(dana, *SALLES_AUTREMENT)
    # one service, one collectivité: in the singular (trial A, item 15)
    assert "Une collectivité a déjà un service qui pourrait répondre à ce besoin" in dana.text
    assert "Calendrier de réservation des salles municipales" in dana.text
    assert "https://salles.grenoble.fr" in dana.text


async def test_the_index_is_rebuilt_from_the_database(engine_with_search, store) -> None:
    await alice_sends(engine_with_search)
    rebuilt = similarity_index(store)
    assert rebuilt is not None and len(rebuilt) == 1
    [(found, _score)] = rebuilt.search(SALLES_AUTREMENT[0] + "\n" + SALLES_AUTREMENT[1], "besoin")
    assert found == stored(store)[0].id


async def test_administrators_see_the_clusters(engine_with_search, store, tmp_path) -> None:
    await bob_joins_alice(engine_with_search)

    views = store.contributions()
    taxonomy = engine_with_search.services.taxonomy
    [cluster] = cluster_records(views, taxonomy)
    assert cluster["reference"] == "B-0001"
    assert cluster["collectivites"] == ["Villeurbanne", "Grenoble"]
    assert cluster["contributions"] == ["B-0001", "B-0002"]
    rows = contribution_records(views, taxonomy)
    assert [r["meme_besoin_que"] for r in rows] == [None, "B-0001"]
    csv_text = to_csv([cluster], CLUSTER_COLUMNS, ZoneInfo("Europe/Paris")).decode("utf-8-sig")
    assert "B-0001;besoin;Réserver les salles municipales en ligne" in csv_text
    assert "reserver;2;Villeurbanne, Grenoble;B-0001, B-0002" in csv_text


async def test_what_was_shown_and_the_answer_are_kept_with_the_contribution(
    engine_with_search, store
) -> None:
    await bob_joins_alice(engine_with_search)
    claire = agent(engine_with_search, "claire")
    await register(claire, "Lyon")
    await describe(claire, *SALLES_AUTREMENT)
    await claire.say("Aucun, le mien est différent")
    await claire.say("Envoyer")

    first, second, third = stored(store)
    [shown_to_bob] = second.answers[SHOWN_KEY]
    assert shown_to_bob["id"] == first.id and shown_to_bob["joined"] is True
    assert 0.29 <= shown_to_bob["score"] <= 1.0
    assert first.answers.get(SHOWN_KEY) is None  # nothing was shown to the first one
    assert [s["joined"] for s in third.answers[SHOWN_KEY]] == [False, False]

    records = match_records(store.contributions())
    assert [(r["contribution"], r["rang"], r["proche_de"], r["associee"]) for r in records] == [
        ("B-0002", 1, "B-0001", True),
        ("B-0003", 1, records[1]["proche_de"], False),
        ("B-0003", 2, records[2]["proche_de"], False),
    ]
    assert {records[1]["proche_de"], records[2]["proche_de"]} == {"B-0001", "B-0002"}
    result = feedback(records, threshold=0.29)
    assert (result.questions, result.joined, result.shown, result.first_joined) == (2, 1, 3, 1)
    assert sum(band.shown for band in result.bands) == 2
    report = render(result, 0.29)
    assert "Agents qui se sont associés à un besoin proposé : 1 (0,50)" in report


def test_the_feedback_report_says_when_nothing_was_shown() -> None:
    report = render(feedback([], threshold=0.29), 0.29)
    assert "Aucun rapprochement n’a encore été proposé" in report


async def test_administrators_list_the_shared_needs_in_chat(engine_with_search, store) -> None:
    admin = agent(engine_with_search, "admin")
    await register(admin, "Nantes")
    await admin.say("!recurrences")
    assert "Aucun besoin ni service n’est encore partagé" in admin.text
    _, bob = await bob_joins_alice(engine_with_search)

    await admin.say("!grappes")
    assert fr("Besoins et services partagés par plusieurs collectivités (1)") in admin.text
    assert (
        fr(
            "• B-0001, besoin « Réserver les salles municipales en ligne », pour réserver ou "
            "prendre rendez-vous : 2 collectivités"
        )
        in admin.text
    )
    assert "(Villeurbanne, Grenoble)" in admin.text
    await admin.say("!stats")
    assert fr("Rapprochements proposés aux agents : 1, acceptés : 1.") in admin.text
    await bob.say("!recurrences")
    assert "réservée aux administrateurs" in bob.text
    await bob.say("Grappes")  # without the prefix a word stays a word, not a command
    assert "Je ne connais pas la commande" not in bob.text


async def test_only_administrators_see_the_administration_commands_in_the_help(
    engine_with_search,
) -> None:
    admin, alice = agent(engine_with_search, "admin"), agent(engine_with_search, "alice")
    await admin.start()
    await admin.say("aide")
    assert fr("« !recurrences » : les besoins partagés") in admin.text
    await alice.start()
    await alice.say("aide")
    assert "mes contributions" in alice.text and "!recurrences" not in alice.text


HORAIRES = (
    "Horaires de la déchèterie",
    "Les habitants ne savent pas quand la déchèterie est ouverte et viennent pour rien.",
)
PORTE_CLOSE = (
    "Ouverture du site de dépôt",
    "Les usagers se déplacent jusqu'à la déchèterie et trouvent porte close.",
)


async def test_the_usage_each_agent_chose_decides_between_close_wordings(
    engine_with_search, store
) -> None:
    alice = agent(engine_with_search, "alice")
    await register(alice, "Villeurbanne")
    await describe(alice, *SALLES, usage="reserver")
    await alice.say("Envoyer")
    await describe(alice, *HORAIRES, usage="informer")
    await alice.say("Envoyer")

    # The same words, another usage (tracking the halls, not booking them): not offered.
    bob = agent(engine_with_search, "bob")
    await register(bob, "Grenoble")
    await describe(bob, *SALLES_AUTREMENT, usage="gerer")
    assert "a déjà décrit" not in bob.text
    assert "Voici votre besoin, avant envoi" in bob.text
    await bob.say("Envoyer")
    # Fewer shared words, the same usage: offered.
    await describe(bob, *PORTE_CLOSE, usage="informer")
    assert fr("a déjà décrit un besoin proche : « Horaires de la déchèterie »") in bob.text
    # « Autre chose » is no usage: the stricter threshold applies, which the need types reach.
    claire = agent(engine_with_search, "claire")
    await register(claire, "Lyon")
    await describe(claire, *PORTE_CLOSE, usage="autre")
    assert fr("a déjà décrit un besoin proche : « Horaires de la déchèterie »") in claire.text


async def test_changing_what_the_search_read_searches_again(engine_with_search, store) -> None:
    await alice_sends(engine_with_search)
    bob = agent(engine_with_search, "bob")
    await register(bob, "Grenoble")
    await describe(bob, *SALLES_AUTREMENT)
    await bob.say("1")  # joins Alice's need
    assert "• Même besoin que" in bob.text

    await bob.say("modifier")
    await bob.say("Ce qu’il doit permettre")
    await bob.say("Payer en ligne")  # another usage: Alice's need is no longer the same
    assert "Voici votre besoin, avant envoi" in bob.text
    assert "Même besoin que" not in bob.text
    await bob.say("modifier")
    await bob.say("Ce qu’il doit permettre")
    await bob.say("Réserver ou prendre rendez-vous")  # back: offered again, not joined silently
    assert "a déjà décrit un besoin proche" in bob.text
    await bob.say("Non, le mien est différent")
    await bob.say("Envoyer")
    joined = stored(store)[1]
    assert joined.same_as_id is None
    assert [s["joined"] for s in joined.answers[SHOWN_KEY]] == [False]


async def test_a_withdrawn_need_is_no_longer_offered_as_the_same(engine_with_search, store) -> None:
    """Alice withdraws B-0001 (``supprimer B-0001``): Bob, describing the same need, is no
    longer offered to join it, and sends his own."""
    alice = await alice_sends(engine_with_search)
    await alice.say("supprimer B-0001")
    await alice.say("oui")
    assert "est retirée" in alice.text
    bob = agent(engine_with_search, "bob")
    await register(bob, "Grenoble")
    await describe(bob, *SALLES_AUTREMENT)
    assert "a déjà décrit un besoin proche" not in bob.text
    assert "Voici votre besoin, avant envoi" in bob.text
    await bob.say("Envoyer")
    assert [(c.reference, c.same_as_id) for c in stored(store)] == [("B-0002", None)]
