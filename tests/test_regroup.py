"""Administrators review what the same-need detection missed and correct the groups by hand."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess

from databases import SQLITE_ONLY
from test_console import RECUEIL, environment
from test_intake import register
from test_recurrence import SALLES, agent, describe, stored

from bot.consultation.export import cluster_records
from bot.consultation.regroup import candidate_records, index_of
from config.typography import french as fr
from nlp.loading import load_similarity

HORAIRES = (
    "Horaires de la déchèterie",
    "Les habitants ne savent pas quand la déchèterie est ouverte et viennent pour rien.",
)
PORTE_CLOSE = (  # the same need, too differently worded for the conversation's threshold
    "Ouverture du site de dépôt",
    "Les usagers se déplacent jusqu'à la déchèterie et trouvent porte close.",
)


async def three_needs(engine) -> None:  # type: ignore[no-untyped-def]
    # Alice and Bob describe the same need, but chose different usages: not offered to Bob.
    for user, commune, need, usage in (
        ("alice", "Villeurbanne", HORAIRES, "informer"),
        ("bob", "Grenoble", PORTE_CLOSE, "trouver"),
        ("claire", "Lyon", SALLES, "reserver"),
    ):
        someone = agent(engine, user)
        await register(someone, commune)
        await describe(someone, *need, usage=usage)
        assert "a déjà décrit" not in someone.text  # nothing offered: B-0002 was missed
        await someone.say("Envoyer")


async def test_an_administrator_regroups_a_missed_need_and_separates_it(
    engine_with_search, store
) -> None:
    await three_needs(engine_with_search)
    admin = agent(engine_with_search, "admin")
    await register(admin, "Nantes")

    views = store.contributions()
    [candidate] = candidate_records(views, index_of(views, load_similarity()), 0.15)
    assert (candidate["reference_a"], candidate["reference_b"]) == ("B-0001", "B-0002")
    assert (candidate["usage_a"], candidate["usage_b"]) == ("informer", "trouver")  # why missed
    await admin.say("!candidats")  # the same pair, in chat, with the command to regroup it
    assert fr("Paires à vérifier parmi les 3 dernières contributions") in admin.text
    assert fr("B-0001 « Horaires de la déchèterie » (Villeurbanne) et B-0002") in admin.text
    assert fr("« !regrouper B-0002 B-0001 »") in admin.text

    await admin.say("!regrouper B-0002 b1")  # as typed: the CLI reads it so too (a trial)
    assert (
        fr("B-0002 « Ouverture du site de dépôt » est maintenant rattaché à B-0001") in admin.text
    )
    assert fr("Collectivités qui partagent ce besoin : 2.") in admin.text
    first, second, _ = stored(store)
    assert second.same_as_id == first.id
    taxonomy = engine_with_search.services.taxonomy
    assert cluster_records(store.contributions(), taxonomy)[0]["collectivites"] == [
        "Villeurbanne",
        "Grenoble",
    ]
    views = store.contributions()
    assert candidate_records(views, index_of(views, load_similarity()), 0.15) == []
    await admin.say("!candidats")
    assert "Aucune paire à vérifier parmi les 3 dernières contributions" in admin.text

    await admin.say("!regrouper B-0001 B-0002")
    assert "sont déjà dans le même groupe" in admin.text
    await admin.say("!séparer B-0002")
    assert fr("n’est plus rattaché à B-0001") in admin.text
    assert stored(store)[1].same_as_id is None
    await admin.say("!separer B-0002")
    assert "n’est rattaché à aucun autre besoin" in admin.text


async def test_a_whole_group_follows_and_no_cycle_can_form(engine_with_search, store) -> None:
    await three_needs(engine_with_search)
    admin = agent(engine_with_search, "admin")
    await register(admin, "Nantes")
    await admin.say("!regrouper B-0003 B-0002")
    await admin.say("!regrouper B-0002 B-0001")  # B-0003 comes along
    assert fr("Collectivités qui partagent ce besoin : 3.") in admin.text
    await admin.say("!regrouper B-0001 B-0003")
    assert "sont déjà dans le même groupe" in admin.text
    taxonomy = engine_with_search.services.taxonomy
    [group] = cluster_records(store.contributions(), taxonomy)
    assert group["contributions"] == ["B-0001", "B-0002", "B-0003"]


async def test_regrouping_mistakes_are_explained(engine_with_search, store) -> None:
    await three_needs(engine_with_search)
    provider = agent(engine_with_search, "provider")
    await register(provider, "Grenoble")
    await provider.say("Présenter un service existant")
    for answer in (
        "Horaires de la déchèterie en ligne",
        "Nous publions les horaires et l'affluence de la déchèterie sur notre site.",
        "https://dechets.grenoble.fr",
        "oui",
        "La nôtre",
        "Le déployer ailleurs",
        "1",
        "Trouver une information, un lieu ou un contact",
        "Envoyer",
    ):
        await provider.say(answer)
    admin = agent(engine_with_search, "admin")
    await register(admin, "Nantes")
    await admin.say("!regrouper B-0009 B-0001")
    assert fr("Aucune contribution ne porte la référence « B-0009 ».") in admin.text
    await admin.say("!regrouper S-0001 B-0001")
    assert fr("S-0001 est un service et B-0001 un besoin : on ne regroupe que") in admin.text
    await admin.say("!regrouper B-0002")
    assert fr("Pour rattacher une contribution au groupe d’une autre") in admin.text
    await provider.say("!regrouper B-0002 B-0001")
    assert "réservée aux administrateurs" in provider.text
    assert all(c.same_as_id is None for c in stored(store))


async def recueil(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [*RECUEIL, *args], capture_output=True, env=env, text=True
    )


@SQLITE_ONLY
async def test_regroup_and_candidates_from_the_command_line(
    engine_with_search, store, database_url
) -> None:
    await three_needs(engine_with_search)
    data_dir = engine_with_search.services.settings.data_dir
    env = environment(data_dir, RECUEIL_DATABASE_URL=database_url)
    candidates = await recueil("export", "--what", "candidates", env=env)
    assert candidates.returncode == 0, candidates.stderr
    [row] = list(csv.DictReader(io.StringIO(candidates.stdout.lstrip("\ufeff")), delimiter=";"))
    assert (row["reference_a"], row["reference_b"]) == ("B-0001", "B-0002")
    assert row["collectivite_b"] == "Grenoble" and row["refuse_par_agent"] == "non"
    assert (row["usage_a"], row["usage_b"]) == ("informer", "trouver")

    drafts = await recueil("export", "--what", "need-types", "--format", "json", env=env)
    assert drafts.returncode == 0, drafts.stderr
    by_type = {record["besoin_type"]: record for record in json.loads(drafts.stdout)}
    salles = by_type["reservation_salles_municipales"]
    assert salles["libelle"] == "Réserver les salles municipales en ligne"
    assert (salles["contributions"], salles["collectivites"]) == (["B-0003"], ["Lyon"])

    refused = await recueil("regroup", "B-0002", "--with", "B-0042", env=env)
    assert refused.returncode == 1
    assert fr("Aucune contribution ne porte la référence « B-0042 ».") in refused.stderr
    done = await recueil("regroup", "B-0002", "--with", "B-0001", env=env)
    assert done.returncode == 0, done.stderr
    assert "est maintenant rattaché à B-0001" in done.stdout
    assert stored(store)[1].same_as_id == stored(store)[0].id
