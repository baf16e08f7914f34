"""Triage storage: proposals, contribution statuses, the audit log; on every backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from storage.models import ReferentOffer, Support, utcnow
from storage.records import AgentRecord
from storage.referential import default_referential
from storage.store import Store, TriageRefused

ADMIN = "test:admin"


def agent_of(store: Store, user: str, commune: str) -> AgentRecord:
    ref = default_referential().search(commune)[0]
    with store.transaction() as tx:
        agent = tx.ensure_agent("test", user)
        return tx.save_profile(agent, collectivite=ref, profile="agent", fonction="DGS", email=None)


def contribute(
    store: Store, agent: AgentRecord, title: str, thematique: str = "citoyennete"
) -> str:
    with store.transaction() as tx:
        return tx.add_contribution(
            agent,
            kind="besoin",
            title=title,
            description=f"{title}, décrit par l’agent « tel quel ».",
            answers={"usage": "reserver", "frequence": "hebdomadaire"},
            thematique=thematique,
            confidence=0.8,
            thematique_source="classifier",
        )[1]


@pytest.fixture
def seeded(store: Store) -> dict[str, str]:
    """Four besoins from three communes; ``a`` and ``b`` are in citoyenneté, ``c`` in
    patrimoine, ``d`` again in citoyenneté."""
    vichy = agent_of(store, "lea", "Vichy")
    lyon = agent_of(store, "max", "Villeurbanne")
    brest = agent_of(store, "noe", "Brest")
    return {
        "a": contribute(store, vichy, "Réserver une salle"),
        "b": contribute(store, lyon, "Réservation des salles communales"),
        "c": contribute(store, brest, "Prêt de matériel", "patrimoine_equipements"),
        "d": contribute(store, brest, "Salle des fêtes en ligne"),
    }


def row_of(store: Store, reference: str) -> dict[str, Any]:
    with store.engine.connect() as connection:
        row = connection.exec_driver_sql(
            f"SELECT * FROM contribution WHERE reference = '{reference}'"
        ).one()
    return dict(row._mapping)


def test_ungrouping_restores_the_contribution_exactly(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    before = {ref: row_of(store, ref) for ref in seeded.values()}
    with store.transaction() as tx:
        created = tx.create_proposal(ADMIN, title="Salles", contributions=[seeded["a"]])
        tx.add_to_proposal(ADMIN, created.reference, [seeded["b"], seeded["d"]])
    grouped = row_of(store, seeded["a"])
    assert (grouped["status"], grouped["proposal_id"]) == ("regroupee", created.id)
    # what the agent wrote, and when, is not touched by grouping
    for column in ("title", "description", "answers", "thematique", "updated_at"):
        assert grouped[column] == before[seeded["a"]][column]
    with store.transaction() as tx:
        emptied = tx.remove_from_proposal(ADMIN, created.reference, [seeded["a"], seeded["b"]])
        assert emptied.contributions == 1
        tx.remove_from_proposal(ADMIN, created.reference, [seeded["d"]])
    assert {ref: row_of(store, ref) for ref in seeded.values()} == before


def test_proposals_are_numbered_and_take_their_contributions_thematique(
    store: Store,
    seeded,  # type: ignore[no-untyped-def]
) -> None:
    with store.transaction() as tx:
        first = tx.create_proposal(
            ADMIN,
            title="  Réserver une salle  ",
            contributions=[seeded["c"], seeded["a"], seeded["b"]],
            description="Les salles communales, réservées en ligne.",
        )
        second = tx.create_proposal(
            ADMIN, title="Matériel", contributions=[], thematique="patrimoine_equipements"
        )
    assert (first.reference, second.reference) == ("P-001", "P-002")
    assert first.title == "Réserver une salle"
    assert first.thematique == "citoyennete"  # two of three
    assert (first.status, first.contributions, first.collectivites) == ("brouillon", 3, 3)


def test_every_change_is_audited_with_who_when_before_and_after(
    store: Store,
    seeded,  # type: ignore[no-untyped-def]
) -> None:
    with store.transaction() as tx:
        tx.create_proposal(ADMIN, title="Salles", contributions=[seeded["a"], seeded["b"]])
        tx.rename_proposal("test:other", "p-001", "Réserver une salle")
        tx.describe_proposal(ADMIN, "P-001", "En ligne.")
        tx.redirect_contribution(
            ADMIN, seeded["c"], "Voyez le catalogue de l’ANCT.", "https://anct.gouv.fr"
        )
        tx.reject_contribution(ADMIN, seeded["d"], "Hors du champ de la consultation.")
        tx.reopen_contribution(ADMIN, seeded["d"])
        tx.publish_proposals(ADMIN)
        entries = tx.audit_entries()
    assert [(e.action, e.subject) for e in entries] == [
        ("proposal.created", "P-001"),
        ("contribution.grouped", seeded["a"]),
        ("contribution.grouped", seeded["b"]),
        ("proposal.renamed", "P-001"),
        ("proposal.described", "P-001"),
        ("contribution.redirected", seeded["c"]),
        ("contribution.rejected", seeded["d"]),
        ("contribution.reopened", seeded["d"]),
        ("proposal.publiee", "P-001"),
    ]
    assert all(e.at is not None for e in entries)
    assert entries[3].actor == "test:other"
    assert entries[3].details == {
        "before": {
            "title": "Salles",
            "description": "",
            "thematique": "citoyennete",
            "status": "brouillon",
            "merged_into": None,
        },
        "after": {
            "title": "Réserver une salle",
            "description": "",
            "thematique": "citoyennete",
            "status": "brouillon",
            "merged_into": None,
        },
    }
    assert entries[1].details == {
        "before": {"status": "soumise", "proposal": None, "message": None, "url": None},
        "after": {"status": "regroupee", "proposal": "P-001", "message": None, "url": None},
    }
    assert entries[5].details["after"] == {
        "status": "reorientee",
        "proposal": None,
        "message": "Voyez le catalogue de l’ANCT.",
        "url": "https://anct.gouv.fr",
    }
    assert entries[7].details["before"]["message"] == "Hors du champ de la consultation."
    assert entries[7].details["after"]["status"] == "soumise"


def test_a_change_that_changes_nothing_writes_nothing(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as tx:
        tx.create_proposal(ADMIN, title="Salles", contributions=[seeded["a"]])
        written = len(tx.audit_entries())
        tx.add_to_proposal(ADMIN, "P-001", [seeded["a"]])  # importing the same file twice
        tx.rename_proposal(ADMIN, "P-001", "Salles")
        tx.reopen_contribution(ADMIN, seeded["b"])
        tx.publish_proposals(ADMIN)
        tx.publish_proposals(ADMIN)
        tx.set_proposal_status(ADMIN, "P-001", "publiee")
        assert len(tx.audit_entries()) == written + 1


def test_merging_keeps_the_absorbed_proposal_and_can_be_undone(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as tx:
        tx.create_proposal(ADMIN, title="Salles", contributions=[seeded["a"]])
        tx.create_proposal(
            ADMIN, title="Salles communales", contributions=[seeded["b"], seeded["d"]]
        )
        merged = tx.merge_proposals(ADMIN, "P-001", "P-002")
        assert (merged.reference, merged.contributions, merged.collectivites) == ("P-001", 3, 3)
        assert [p.reference for p in tx.proposals()] == ["P-001"]
        [absorbed] = [p for p in tx.proposals(merged=True) if p.reference == "P-002"]
        assert (absorbed.status, absorbed.merged_into, absorbed.contributions) == (
            "fusionnee",
            "P-001",
            0,
        )
        assert tx.triage(seeded["d"]).proposal == "P-001"  # type: ignore[union-attr]
        with pytest.raises(TriageRefused) as refused:
            tx.rename_proposal(ADMIN, "P-002", "Autre")
        assert refused.value.reason == "proposal_closed"
        with pytest.raises(TriageRefused, match="same_proposal"):
            tx.merge_proposals(ADMIN, "P-001", "P-001")
        # undo: the merged proposal back to a draft, its contributions moved back
        tx.set_proposal_status(ADMIN, "P-002", "brouillon")
        restored = tx.add_to_proposal(ADMIN, "P-002", [seeded["b"], seeded["d"]], move=True)
        assert (restored.status, restored.merged_into, restored.contributions) == (
            "brouillon",
            None,
            2,
        )
        assert tx.proposal("P-001").proposal.contributions == 1  # type: ignore[union-attr]
        assert [e.action for e in tx.audit_entries(subject="P-002")] == [
            "proposal.created",
            "proposal.merged",
            "proposal.brouillon",
        ]


def test_a_proposal_with_supports_is_not_merged_away(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    lea = agent_of(store, "lea", "Vichy")
    with store.transaction() as tx:
        tx.create_proposal(ADMIN, title="Salles", contributions=[seeded["a"]])
        second = tx.create_proposal(ADMIN, title="Réservation", contributions=[seeded["b"]])
        tx.session.add(
            Support(
                proposal_id=second.id,
                collectivite_id=lea.collectivite_id,
                agent_id=lea.id,
                created_at=utcnow(),
            )
        )
        tx.session.flush()
        with pytest.raises(TriageRefused) as refused:
            tx.merge_proposals(ADMIN, "P-001", "P-002")
        assert (refused.value.reason, refused.value.params["supports"]) == ("has_supports", 1)


def test_triage_statuses_follow_their_rules(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    a, b, c, d = seeded["a"], seeded["b"], seeded["c"], seeded["d"]

    def refused(reason: str, change: Any) -> None:
        with pytest.raises(TriageRefused) as caught:
            change()
        assert caught.value.reason == reason

    with store.transaction() as tx:
        tx.create_proposal(ADMIN, title="Salles", contributions=[a])
        tx.create_proposal(ADMIN, title="Vide", contributions=[], thematique="citoyennete")
        tx.redirect_contribution(ADMIN, c, "Voyez le service existant.")
        refused("grouped", lambda: tx.reject_contribution(ADMIN, a, "Non."))
        refused("decided", lambda: tx.add_to_proposal(ADMIN, "P-002", [c]))
        refused("already_in_proposal", lambda: tx.add_to_proposal(ADMIN, "P-002", [a]))
        refused("not_in_proposal", lambda: tx.remove_from_proposal(ADMIN, "P-002", [b]))
        refused("unknown_contribution", lambda: tx.add_to_proposal(ADMIN, "P-001", ["B-9999"]))
        refused("unknown_proposal", lambda: tx.add_to_proposal(ADMIN, "P-404", [b]))
        refused("message_empty", lambda: tx.reject_contribution(ADMIN, b, "   "))
        refused("title_empty", lambda: tx.rename_proposal(ADMIN, "P-001", ""))
        refused("title_too_long", lambda: tx.rename_proposal(ADMIN, "P-001", "x" * 201))
        refused(
            "thematique_missing", lambda: tx.create_proposal(ADMIN, title="T", contributions=[])
        )
        refused("empty_proposal", lambda: tx.publish_proposals(ADMIN, ["P-002"]))
        refused("transition", lambda: tx.set_proposal_status(ADMIN, "P-001", "retenue"))
        refused("transition", lambda: tx.set_proposal_status(ADMIN, "P-001", "fusionnee"))
        # a new decision replaces the message; reopening makes it groupable again
        assert tx.reject_contribution(ADMIN, c, "Hors champ.").message == "Hors champ."
        tx.reopen_contribution(ADMIN, c)
        tx.add_to_proposal(ADMIN, "P-002", [c, d])
        assert tx.publish_proposals(ADMIN) == ["P-001", "P-002"]
        selected = tx.set_proposal_status(ADMIN, "P-001", "retenue")
        assert selected.status == "retenue"
        refused("proposal_closed", lambda: tx.add_to_proposal(ADMIN, "P-001", [b]))
        refused("proposal_closed", lambda: tx.add_to_proposal(ADMIN, "P-002", [a], move=True))
        assert tx.set_proposal_status(ADMIN, "P-002", "non_retenue").status == "non_retenue"


def test_a_refused_change_writes_nothing_even_when_caught(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    before = {ref: row_of(store, ref) for ref in seeded.values()}
    with store.transaction() as tx:
        with pytest.raises(TriageRefused):
            tx.create_proposal(ADMIN, title="Salles", contributions=[seeded["a"], "B-0404"])
        with pytest.raises(TriageRefused):
            tx.publish_proposals(ADMIN, ["P-001"])
    assert {ref: row_of(store, ref) for ref in seeded.values()} == before
    with store.transaction() as tx:
        assert tx.proposals() == [] and tx.audit_entries() == []
        assert tx.create_proposal(ADMIN, title="S", contributions=[seeded["a"]]).reference == (
            "P-001"
        )


def test_listing_by_thematique_and_showing_one(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as tx:
        tx.create_proposal(ADMIN, title="Salles", contributions=[seeded["b"], seeded["a"]])
        tx.create_proposal(ADMIN, title="Matériel", contributions=[seeded["c"]])
        tx.create_proposal(ADMIN, title="Fêtes", contributions=[seeded["d"]])
        assert tx.proposal_counts() == {"citoyennete": 2, "patrimoine_equipements": 1}
        listed = tx.proposals("citoyennete")
        assert [(p.reference, p.contributions, p.collectivites) for p in listed] == [
            ("P-001", 2, 2),
            ("P-003", 1, 1),
        ]
        detail = tx.proposal("p-001")
        assert tx.proposal("P-404") is None
    assert detail is not None and detail.proposal.title == "Salles"
    assert [m.reference for m in detail.members] == [seeded["a"], seeded["b"]]
    assert detail.collectivites == ("Vichy", "Villeurbanne")
    assert detail.members[0].departement == "03" and detail.members[0].population


def test_one_contribution_lands_in_one_proposal_under_concurrent_admins(
    store: Store,
    seeded,  # type: ignore[no-untyped-def]
) -> None:
    def create(number: int) -> str:
        try:
            with store.transaction() as tx:
                return tx.create_proposal(
                    f"test:admin{number}", title=f"T{number}", contributions=[seeded["a"]]
                ).reference
        except TriageRefused as refused:
            return refused.reason

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(pool.map(create, range(6)))
    assert outcomes == ["P-001"] + ["already_in_proposal"] * 5


def test_the_database_refuses_unknown_statuses(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as tx:
        tx.create_proposal(ADMIN, title="Salles", contributions=[seeded["a"]])
    for statement in (
        "UPDATE contribution SET status = 'fusionnee'",
        "UPDATE proposal SET status = 'au_vote'",
    ):
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
            connection.exec_driver_sql(statement)


def test_supports_and_referent_offers_hold_what_the_vote_needs(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    lea = agent_of(store, "lea", "Vichy")
    colleague = agent_of(store, "zoe", "Vichy")
    with store.transaction() as tx:
        proposal = tx.create_proposal(ADMIN, title="Salles", contributions=[seeded["a"]])
        tx.session.add(
            Support(proposal_id=proposal.id, collectivite_id=lea.collectivite_id, agent_id=lea.id)
        )
        tx.session.add(
            ReferentOffer(
                proposal_id=proposal.id,
                collectivite_id=lea.collectivite_id,
                agent_id=lea.id,
                commitment="Un agent à mi-temps.",
                contact="lea@vichy.fr",
                elu_agreement="en_cours",
            )
        )
    with store.transaction() as tx:
        support = tx.session.exec(sa.select(Support)).scalar_one()  # type: ignore[call-overload]
        assert (support.verified, support.withdrawn_at, support.withdrawn_by) == (
            False,
            None,
            None,
        )
        support.withdrawn_at, support.withdrawn_by = utcnow(), "test:lea"
        offer = tx.session.exec(sa.select(ReferentOffer)).scalar_one()  # type: ignore[call-overload]
        assert (offer.contact, offer.elu_agreement, offer.withdrawn_at) == (
            "lea@vichy.fr",
            "en_cours",
            None,
        )
    # a withdrawn support keeps its row: the collectivité still cannot support twice
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.session.add(
            Support(
                proposal_id=proposal.id,
                collectivite_id=colleague.collectivite_id,
                agent_id=colleague.id,
            )
        )
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE referent_offer SET elu_agreement = 'peut-etre'")


def test_index_entries_are_stored_and_cleared(store: Store, seeded) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as tx:
        first = tx.contribution_by_reference(seeded["a"])
        second = tx.contribution_by_reference(seeded["b"])
        assert first is not None and second is not None
        assert tx.index_entries() == {}
        entry = {"version": 1, "vector": [0.25, -1.0], "need_types": {"reserver-salle": 0.9}}
        tx.set_index_entry(first.id, entry)  # type: ignore[arg-type]
        tx.set_index_entry(second.id, [1, 2])  # type: ignore[arg-type]
    with store.transaction() as tx:
        assert tx.index_entries() == {first.id: entry, second.id: [1, 2]}
        tx.set_index_entry(second.id, None)  # type: ignore[arg-type]
    with store.transaction() as tx:
        assert tx.index_entries() == {first.id: entry}
