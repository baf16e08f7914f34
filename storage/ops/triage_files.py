"""What the spreadsheet triage reads and keeps: every contribution's triage at once, the key
each proposal was created under, the dedup keys of imported contributions, the export rows.

The writes of a reviewed file go through the triage verbs (``storage/ops/proposals.py``,
``storage/ops/triage.py``), which check and audit each change; this module only adds the
draft key a proposal was created under, so that the same file imported again finds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from storage import statements as sql
from storage.ops.base import TxBase
from storage.ops.triage import normalize_reference

IMPORT_KEY = "import_key"
"""The answer under which an imported contribution keeps its dedup key."""

_c = sql.contributions.c
_p = sql.proposals.c
_k = sql.collectivites.c


@dataclass(frozen=True, slots=True)
class ContributionTriage:
    """A contribution's triage as a reviewed file sees it."""

    reference: str
    kind: str
    status: str
    proposal_key: str | None
    """The key of its proposal: the draft key it was created under, or its reference."""
    message: str | None
    url: str | None
    thematique: str


@dataclass(frozen=True, slots=True)
class ProposalKeyed:
    key: str
    reference: str
    title: str
    description: str
    status: str


@dataclass(frozen=True, slots=True)
class ProposalRow:
    """One contribution of a proposal, with its collectivité, for the proposals export."""

    proposal: str
    title: str
    description: str
    thematique: str
    status: str
    contributions: int
    contribution: str | None
    contribution_title: str | None
    collectivite: str | None
    collectivite_kind: str | None
    collectivite_code: str | None
    departement: str | None
    population: int | None


_KEY = sa.func.coalesce(_p.draft_key, _p.reference)


class TriageFileOps(TxBase):
    def contribution_triages(self) -> list[ContributionTriage]:
        """Every contribution's triage, by id; one statement."""
        statement = (
            sa.select(
                _c.reference,
                _c.kind,
                _c.status,
                _KEY,
                _c.triage_message,
                _c.triage_url,
                _c.thematique,
            )
            .select_from(sql.contributions.outerjoin(sql.proposals, _p.id == _c.proposal_id))
            .order_by(_c.id)
        )
        return [ContributionTriage(*row) for row in self.connection.execute(statement)]

    def keyed_proposals(self) -> list[ProposalKeyed]:
        """Every proposal with its key (its draft key, or its reference when it has none)."""
        statement = sa.select(_KEY, _p.reference, _p.title, _p.description, _p.status).order_by(
            _p.id
        )
        return [ProposalKeyed(*row) for row in self.connection.execute(statement)]

    def set_draft_key(self, reference: str, key: str) -> None:
        """Remember the key a reviewed file created the proposal under."""
        self.connection.execute(
            sql.proposals.update()
            .where(_p.reference == normalize_reference(reference))
            .values(draft_key=key)
        )

    def import_keys(self, author_id: int) -> dict[str, int]:
        """The dedup keys of the contributions imported by ``author_id``, with their ids."""
        statement = sa.select(_c.id, _c.answers).where(_c.author_id == author_id)
        return {
            str(answers[IMPORT_KEY]): contribution_id
            for contribution_id, answers in self.connection.execute(statement)
            if answers and IMPORT_KEY in answers
        }

    def proposal_rows(self) -> list[ProposalRow]:
        """Every proposal (merged ones left out) with each of its contributions, by
        thématique, reference, then contribution; a proposal without any has one row."""
        counted = (
            sa.select(_c.proposal_id, sa.func.count().label("n"))
            .group_by(_c.proposal_id)
            .subquery()
        )
        statement = (
            sa.select(
                _p.reference,
                _p.title,
                _p.description,
                _p.thematique,
                _p.status,
                sa.func.coalesce(counted.c.n, 0),
                _c.reference,
                _c.title,
                _k.name,
                _k.kind,
                _k.code,
                _k.departement,
                _k.population,
            )
            .select_from(
                sql.proposals.outerjoin(counted, counted.c.proposal_id == _p.id)
                .outerjoin(sql.contributions, _c.proposal_id == _p.id)
                .outerjoin(sql.collectivites, _k.id == _c.collectivite_id)
            )
            .where(_p.status != "fusionnee")
            .order_by(_p.thematique, _p.reference, _c.id)
        )
        return [ProposalRow(*row) for row in self.connection.execute(statement)]
