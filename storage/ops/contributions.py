"""Contributions (besoins and services) as agents wrote them, and the views that read them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select

from storage import statements as sql
from storage.models import Agent, Collectivite, Contribution, Proposal
from storage.ops.base import TxBase, reference_number
from storage.records import AgentRecord, ContributionSummary, ContributionView, NewContribution

_COLUMNS = (
    "reference",
    "kind",
    "title",
    "description",
    "answers",
    "thematique",
    "thematique_confidence",
    "thematique_source",
    "status",
    "author_id",
    "collectivite_id",
    "proposal_id",
    "same_as_id",
    "created_at",
    "updated_at",
)
_INSERT_MANY = (
    sql.contributions.insert()
    .values({name: sa.bindparam(name, type_=sql.contributions.c[name].type) for name in _COLUMNS})
    .returning(sql.contributions.c.id, sql.contributions.c.reference)
)
"""Many rows, each known by its reference in what comes back. On PostgreSQL, psycopg's
``executemany`` in a pipeline (:meth:`TxBase.execute`): SQLAlchemy's multi-row ``VALUES``
was parsed again by psycopg for each thousand rows, half the client's time of an import.
On SQLite, SQLAlchemy's batches (without ``sort_by_parameter_order``, which made it insert
one row a statement)."""


class ContributionOps(TxBase):
    def add_contribution(
        self,
        agent: AgentRecord,
        *,
        kind: str,
        title: str,
        description: str,
        answers: dict[str, Any],
        thematique: str,
        confidence: float | None,
        thematique_source: str,
        same_as_id: int | None = None,
    ) -> tuple[int, str]:
        """Store a contribution; returns its id and reference number (``B-0042``)."""
        if agent.collectivite_id is None:
            raise ValueError("an agent needs a profile before contributing")
        now = self.now
        reference = self.next_reference(kind)
        inserted = self.execute(
            sql.INSERT_CONTRIBUTION,
            {
                "reference": reference,
                "kind": kind,
                "title": title,
                "description": description,
                "answers": answers,
                "thematique": thematique,
                "thematique_confidence": confidence,
                "thematique_source": thematique_source,
                "status": "soumise",
                "author_id": agent.id,
                "collectivite_id": agent.collectivite_id,
                "proposal_id": None,
                "same_as_id": same_as_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        return int(inserted.scalar_one()), reference

    def add_contributions(self, rows: Sequence[NewContribution]) -> list[tuple[int, str]]:
        """Store many contributions in a few statements (an import of tens of thousands);
        returns the id and reference of each, in order.

        The references not given are reserved for each kind at once; those given move the
        counter past them. The rows go in one ``executemany`` (:data:`_INSERT_MANY`), where
        ``add_contribution`` costs three statements a row.
        """
        now = self.now
        references = [row.reference for row in rows]
        for kind in dict.fromkeys(row.kind for row in rows):
            given = [r for r, row in zip(references, rows, strict=True) if r and row.kind == kind]
            if given:
                self.skip_references(kind, max(given, key=reference_number))
            wanted = [n for n, row in enumerate(rows) if row.kind == kind and not references[n]]
            for n, reference in zip(wanted, self.next_references(kind, len(wanted)), strict=True):
                references[n] = reference
        values = [
            {
                "reference": reference,
                "kind": row.kind,
                "title": row.title,
                "description": row.description,
                "answers": row.answers,
                "thematique": row.thematique,
                "thematique_confidence": row.confidence,
                "thematique_source": row.thematique_source,
                "status": "soumise",
                "author_id": row.author_id,
                "collectivite_id": row.collectivite_id,
                "proposal_id": None,
                "same_as_id": None,
                "created_at": row.created_at or now,
                "updated_at": now,
            }
            for row, reference in zip(rows, references, strict=True)
        ]
        if not values:
            return []
        ids = {ref: int(row_id) for row_id, ref in self.execute(_INSERT_MANY, values)}
        return [(ids[reference], reference) for reference in references if reference]

    def taken_references(self, references: Collection[str]) -> set[str]:
        """Those of ``references`` that a contribution already has."""
        c = sql.contributions.c
        wanted = set(references)
        statement = sa.select(c.reference)
        return {r for r in self.connection.execute(statement).scalars() if r in wanted}

    def contribution_summaries(self, ids: Sequence[int]) -> list[ContributionSummary]:
        """The contributions of ``ids``, in that order (unknown ids are left out)."""
        if not ids:
            return []
        statement = (
            sa.select(
                sql.contributions.c.id,
                sql.contributions.c.reference,
                sql.contributions.c.kind,
                sql.contributions.c.title,
                sql.collectivites.c.id,
                sql.collectivites.c.kind,
                sql.collectivites.c.code,
                sql.contributions.c.answers,
            )
            .join(sql.collectivites, sql.collectivites.c.id == sql.contributions.c.collectivite_id)
            .where(sql.contributions.c.id.in_(list(ids)))
        )
        found = {}
        for row in self.connection.execute(statement):
            contribution_id, reference, kind, title, coll_id, coll_kind, coll_code, answers = row
            found[contribution_id] = ContributionSummary(
                contribution_id,
                reference,
                kind,
                title,
                coll_id,
                coll_kind,
                coll_code,
                (answers or {}).get("url"),
                (answers or {}).get("usage"),
            )
        return [found[i] for i in ids if i in found]

    def contribution_texts(self) -> list[tuple[int, str, str, str]]:
        """(id, kind, title, description) of every contribution, for the search index."""
        statement = sa.select(
            sql.contributions.c.id,
            sql.contributions.c.kind,
            sql.contributions.c.title,
            sql.contributions.c.description,
        ).order_by(sql.contributions.c.id)
        return [
            (row.id, row.kind, row.title, row.description)
            for row in self.connection.execute(statement)
        ]

    def contribution_by_reference(self, reference: str) -> Contribution | None:
        statement = select(Contribution).where(Contribution.reference == reference.upper())
        return self.session.exec(statement).first()

    def may_withdraw_contribution(self, contribution: Contribution, agent_id: int) -> bool:
        """Whether this agent may withdraw the contribution: its author, or any agent of its
        collectivité once the author no longer speaks for it (moved, or data erased), as for
        supports and offers."""
        if contribution.author_id == agent_id:
            return True
        author_here = self.connection.execute(
            sa.select(
                sql.author_still_speaks_for(contribution.author_id, contribution.collectivite_id)
            )
        ).scalar_one()
        return not author_here

    def withdraw_contribution(self, contribution: Contribution) -> None:
        """Delete a contribution its author withdrew (not yet triaged), and keep the same-need
        groups whole: what had joined it joins what it had joined; if it had joined nothing,
        the earliest of them takes its place and the others join that one."""
        c = sql.contributions.c
        joined = [
            row.id
            for row in self.connection.execute(
                sa.select(c.id).where(c.same_as_id == contribution.id).order_by(c.id)
            )
        ]
        head = contribution.same_as_id
        if head is None and joined:
            head = joined.pop(0)
            self._join(head, None)
        if joined:
            self._join(joined, head)
        self.connection.execute(sa.delete(sql.contributions).where(c.id == contribution.id))

    def _join(self, ids: int | list[int], same_as_id: int | None) -> None:
        c = sql.contributions.c
        members = ids if isinstance(ids, list) else [ids]
        self.connection.execute(
            sa.update(sql.contributions)
            .where(c.id.in_(members))
            .values(same_as_id=same_as_id, updated_at=self.now)
        )

    def contributions_of(self, agent_id: int) -> list[Contribution]:
        statement = (
            select(Contribution)
            .where(Contribution.author_id == agent_id)
            .order_by(col(Contribution.id))
        )
        return list(self.session.exec(statement))

    def contribution_views(self) -> list[ContributionView]:
        """Every contribution with its collectivité, its author and the proposal triage
        grouped it into (None when it is in none); one statement, in reference order."""
        statement = (
            select(Contribution, Collectivite, Agent, Proposal)
            .join(Collectivite, col(Collectivite.id) == Contribution.collectivite_id)
            .join(Agent, col(Agent.id) == Contribution.author_id)
            .outerjoin(Proposal, col(Proposal.id) == Contribution.proposal_id)
            .order_by(col(Contribution.id))
        )
        return [ContributionView(c, coll, a, p) for c, coll, a, p in self.session.exec(statement)]

    def counts(self) -> dict[str, int]:
        """Totals for the administrators' ``stats`` command."""

        def count(statement: Any) -> int:
            return int(self.session.execute(statement).scalar_one())

        return {
            "besoins": count(
                select(func.count()).select_from(Contribution).where(Contribution.kind == "besoin")
            ),
            "services": count(
                select(func.count()).select_from(Contribution).where(Contribution.kind == "service")
            ),
            "agents": count(
                select(func.count()).select_from(Agent).where(col(Agent.profile).is_not(None))
            ),
            "collectivites": count(select(func.count(func.distinct(Contribution.collectivite_id)))),
        }

    def set_index_entry(self, contribution_id: int, entry: Any) -> None:
        """Store the same-need index's precomputed entry for a contribution (JSON; None
        clears it). What it holds is the nlp package's business."""
        self.connection.execute(
            sa.update(sql.contributions)
            .where(sql.contributions.c.id == contribution_id)
            .values(index_entry=entry)
        )

    def index_entries(self) -> dict[int, Any]:
        """Contribution id → its stored index entry, for those that have one."""
        c = sql.contributions.c
        statement = sa.select(c.id, c.index_entry).where(c.index_entry.is_not(None)).order_by(c.id)
        return {row.id: row.index_entry for row in self.connection.execute(statement)}
