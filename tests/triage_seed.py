"""A generated consultation for the triage tests: agents of many communes, contributions on
a few dozen needs written several ways, some joined by their authors to an earlier one."""

from __future__ import annotations

import random

from storage.keys import ConversationKey
from storage.records import AgentRecord
from storage.referential import default_referential
from storage.store import Store

NEEDS = (
    ("Réserver les salles communales en ligne", "reserver", "citoyennete"),
    ("Paiement de la cantine scolaire par internet", "payer", "education_emploi"),
    ("Signaler un dépôt sauvage sur la voirie", "signaler", "environnement_agriculture"),
    ("Inscription au centre de loisirs", "demarche", "education_emploi"),
    ("Gérer les concessions du cimetière", "gerer", "patrimoine_equipements"),
    ("Prêt de matériel aux associations", "reserver", "patrimoine_equipements"),
    ("Informer les habitants des coupures d’eau", "informer", "environnement_agriculture"),
    ("Budget participatif en ligne", "participer", "citoyennete"),
    ("Demande d’acte d’état civil dématérialisée", "demarche", "demarches_aides"),
    ("Suivi des interventions des services techniques", "gerer", "patrimoine_equipements"),
)
WORDINGS = (
    "{need}",
    "{need} pour nos habitants",
    "Besoin : {need}",
    "{need}, aujourd’hui sur papier",
)


def agent_of(store: Store, user: str, commune_index: int, transport: str = "test") -> AgentRecord:
    """An agent with a profile and a conversation (so that a push can reach them)."""
    communes = default_referential().all("commune")
    with store.transaction() as tx:
        agent = tx.ensure_agent(transport, user)
        saved = tx.save_profile(
            agent,
            collectivite=communes[commune_index],
            profile="agent",
            fonction="DGS",
            email=None,
        )
        tx.lock_conversation(ConversationKey(transport, f"dm-{user}", user))
    return saved


def seed(store: Store, count: int, seed: int = 2027) -> list[str]:
    """``count`` besoins (one in ten a service) by ``count // 2`` agents; returns references."""
    rng = random.Random(seed)
    agents = [agent_of(store, f"agent{n}", n * 7) for n in range(max(1, count // 2))]
    references: list[str] = []
    ids: dict[int, list[int]] = {}
    with store.transaction() as tx:
        for number in range(count):
            need = number % len(NEEDS)
            title, usage, thematique = NEEDS[need]
            text = rng.choice(WORDINGS).format(need=title)
            earlier = ids.get(need, [])
            same_as = rng.choice(earlier) if earlier and rng.random() < 0.3 else None
            contribution_id, reference = tx.add_contribution(
                agents[number % len(agents)],
                kind="service" if number % 10 == 9 else "besoin",
                title=text[:120],
                description=f"{text}. Décrit par l’agent de la collectivité, numéro {number}.",
                answers={"usage": usage},
                thematique=thematique,
                confidence=0.8,
                thematique_source="classifier",
                same_as_id=same_as,
            )
            ids.setdefault(need, []).append(contribution_id)
            references.append(reference)
    return references
