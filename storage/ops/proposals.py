"""Proposals: contributions gathered under one title, drafted, published, then decided.

A proposal is ``brouillon``, ``publiee`` (open to the vote when it starts), then ``retenue``
or ``non_retenue``. Its contributions are grouped, taken out, or moved in from another
proposal; merging two moves every contribution of one into the other and keeps the emptied
proposal as ``fusionnee`` (undo: set it back to ``brouillon`` and move its contributions back).
A proposal that collectivités support does not go back to ``brouillon``. Only a
``brouillon`` or ``publiee`` proposal changes; every change writes the audit log with
who, when, before and after (one line per proposal, and one per contribution whose triage
changed, see ``storage/ops/triage.py``). A refused change raises ``TriageRefused`` before
writing anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from storage import statements as sql
from storage.models import PROPOSAL_STATUSES
from storage.ops.triage import (
    DECIDED,
    TriageOps,
    TriageRefused,
    checked_text,
    normalize_reference,
)
from storage.records import ProposalDetail, ProposalMember, ProposalRecord

TITLE_MAX = 120
"""A proposal's title, as long as a contribution's: it is also a vote option in chat (the
column holds 200); the review file (``bot/consultation/triage_file.py``) has the same limit."""
DESCRIPTION_MAX = 4000
EDITABLE = ("brouillon", "publiee")
# The status changes an administrator makes directly (``fusionnee`` comes from a merge).
TRANSITIONS = {
    "brouillon": {"publiee"},
    "publiee": {"brouillon", "retenue", "non_retenue"},
    "retenue": {"publiee", "non_retenue"},
    "non_retenue": {"publiee", "retenue"},
    "fusionnee": {"brouillon"},
}

_p = sql.proposals.c
_c = sql.contributions.c
_merged = sql.proposals.alias("merged")
_LISTING = (
    sa.select(
        _p.id,
        _p.reference,
        _p.title,
        _p.description,
        _p.thematique,
        _p.status,
        sa.func.count(_c.id),
        sa.func.count(sa.distinct(_c.collectivite_id)),
        _merged.c.reference,
    )
    .select_from(
        sql.proposals.outerjoin(sql.contributions, _c.proposal_id == _p.id).outerjoin(
            _merged, _merged.c.id == _p.merged_into_id
        )
    )
    .group_by(
        _p.id,
        _p.reference,
        _p.title,
        _p.description,
        _p.thematique,
        _p.status,
        _merged.c.reference,
    )
    .order_by(_p.thematique, _p.reference)
)
_INSERT_PROPOSAL = sql.proposals.insert().returning(_p.id)
# Read during the vote at every ``propositions`` and ``voir``: built once.
_CURRENT = _LISTING.where(_p.status != "fusionnee")
_ONE = _LISTING.where(_p.reference == sa.bindparam("reference"))
_k = sql.collectivites.c
_MEMBERS = (
    sa.select(
        _c.reference,
        _c.kind,
        _c.title,
        _k.name,
        _k.kind,
        _k.code,
        _k.departement,
        _k.population,
    )
    .join(sql.collectivites, _k.id == _c.collectivite_id)
    .where(_c.proposal_id == sa.bindparam("proposal_id"))
    .order_by(_c.id)
)


def _fields(values: Any, references: dict[int | None, str | None] | None = None) -> dict[str, Any]:
    """A proposal's audited fields; the proposal it was merged into by its reference."""
    merged_into = values["merged_into_id"]
    return {
        "title": values["title"],
        "description": values["description"],
        "thematique": values["thematique"],
        "status": values["status"],
        "merged_into": None if merged_into is None else (references or {})[merged_into],
    }


class ProposalOps(TriageOps):
    # -- reading ------------------------------------------------------------------------

    def proposals(
        self, thematique: str | None = None, *, merged: bool = False
    ) -> list[ProposalRecord]:
        """Proposals by thématique then reference, with their counts; merged ones on request."""
        statement = _LISTING if merged else _CURRENT
        if thematique is not None:
            statement = statement.where(_p.thematique == thematique)
        return [ProposalRecord(*row) for row in self.connection.execute(statement)]

    def proposal_counts(self) -> dict[str, int]:
        """Thématique → number of proposals (merged ones left out)."""
        statement = (
            sa.select(_p.thematique, sa.func.count())
            .where(_p.status != "fusionnee")
            .group_by(_p.thematique)
            .order_by(_p.thematique)
        )
        return {row[0]: int(row[1]) for row in self.connection.execute(statement)}

    def proposal(self, reference: str) -> ProposalDetail | None:
        """One proposal with its contributions and their collectivités."""
        found = self.execute(_ONE, {"reference": normalize_reference(reference)}).first()
        if found is None:
            return None
        record = ProposalRecord(*found)
        rows = self.execute(_MEMBERS, {"proposal_id": record.id})
        members = tuple(ProposalMember(*row) for row in rows)
        return ProposalDetail(record, members)

    # -- writing ------------------------------------------------------------------------

    def create_proposal(
        self,
        actor: str,
        *,
        title: str,
        contributions: Sequence[str],
        description: str = "",
        thematique: str | None = None,
    ) -> ProposalRecord:
        """A new draft (``P-001``) grouping ``contributions``; its thématique is the most
        common of theirs unless given."""
        title = checked_text(title, TITLE_MAX, what="title")
        description = self._checked_description(description)
        rows = self._locked_contributions(contributions)
        for row in rows:
            self._check_groupable(row, proposal_id=None, move=False)
        if thematique is None:
            if not rows:
                raise TriageRefused("thematique_missing")
            thematique = Counter(row.thematique for row in rows).most_common(1)[0][0]
        reference = self.next_reference("proposal")
        values = {
            "reference": reference,
            "title": title,
            "description": description,
            "thematique": thematique,
            "status": "brouillon",
            "merged_into_id": None,
            "created_at": self.now,
        }
        proposal_id = self.execute(_INSERT_PROPOSAL, values).scalar_one()
        self.audit_changes(actor, "proposal.created", [(reference, None, _fields(values))])
        self._retriage(
            actor,
            "contribution.grouped",
            rows,
            "regroupee",
            proposal_id,
            references={None: None, proposal_id: reference},
        )
        collectivites = len({row.collectivite_id for row in rows})
        return ProposalRecord(
            proposal_id,
            reference,
            title,
            description,
            thematique,
            "brouillon",
            len(rows),
            collectivites,
        )

    def add_to_proposal(
        self, actor: str, reference: str, contributions: Sequence[str], *, move: bool = False
    ) -> ProposalRecord:
        """Group ``contributions`` in the proposal; with ``move``, also those grouped in
        another (still editable) proposal. Those already in it stay as they are."""
        proposal = self._proposal_row(reference)
        rows = self._locked_contributions(contributions)
        for row in rows:
            self._check_groupable(row, proposal_id=proposal.id, move=move)
        fresh = [row for row in rows if row.status == "soumise"]
        moved = [r for r in rows if r.status == "regroupee" and r.proposal_id != proposal.id]
        self._retriage(actor, "contribution.grouped", fresh, "regroupee", proposal.id)
        self._retriage(actor, "contribution.moved", moved, "regroupee", proposal.id)
        return self._record(proposal.id)

    def remove_from_proposal(
        self, actor: str, reference: str, contributions: Sequence[str]
    ) -> ProposalRecord:
        """Take ``contributions`` out of the proposal: each is ``soumise`` again, as it was."""
        proposal = self._proposal_row(reference)
        rows = self._locked_contributions(contributions)
        for row in rows:
            if row.proposal_id != proposal.id:
                raise TriageRefused(
                    "not_in_proposal", reference=row.reference, proposal=proposal.reference
                )
        left = len(self._contributions_in(proposal.id)) - len(rows)
        s = sql.supports.c
        supports = self.connection.execute(
            sa.select(sa.func.count()).where(s.proposal_id == proposal.id, s.withdrawn_at.is_(None))
        ).scalar_one()
        if left <= 0 and supports:  # collectivités support it: it keeps something to build
            raise TriageRefused("emptied", proposal=proposal.reference, supports=supports)
        self._retriage(actor, "contribution.ungrouped", rows, "soumise", None)
        return self._record(proposal.id)

    def _standing_supports(self, proposal_id: int) -> int:
        s = sql.supports.c
        statement = sa.select(sa.func.count()).where(
            s.proposal_id == proposal_id, s.withdrawn_at.is_(None)
        )
        return int(self.connection.execute(statement).scalar_one())

    def merge_proposals(self, actor: str, into: str, absorbed: str) -> ProposalRecord:
        """Move every contribution of ``absorbed`` into ``into``; ``absorbed`` is kept,
        ``fusionnee``. Refused if ``absorbed`` has supports."""
        target, source = self._proposal_row(into), self._proposal_row(absorbed)
        if target.id == source.id:
            raise TriageRefused("same_proposal", proposal=target.reference)
        s = sql.supports.c
        supports = self.connection.execute(
            sa.select(sa.func.count()).where(s.proposal_id == source.id)
        ).scalar_one()
        if supports:
            raise TriageRefused("has_supports", proposal=source.reference, supports=supports)
        rows = self._contributions_in(source.id)
        self._retriage(actor, "contribution.moved", rows, "regroupee", target.id)
        self._update(actor, "proposal.merged", source, status="fusionnee", merged_into_id=target.id)
        return self._record(target.id)

    def rename_proposal(self, actor: str, reference: str, title: str) -> ProposalRecord:
        title = checked_text(title, TITLE_MAX, what="title")
        proposal = self._proposal_row(reference)
        return self._update(actor, "proposal.renamed", proposal, title=title)

    def describe_proposal(self, actor: str, reference: str, description: str) -> ProposalRecord:
        description = self._checked_description(description)
        proposal = self._proposal_row(reference)
        return self._update(actor, "proposal.described", proposal, description=description)

    def set_proposal_status(self, actor: str, reference: str, status: str) -> ProposalRecord:
        """Change a proposal's status along ``TRANSITIONS`` (publish, unpublish, select…).

        Back from ``fusionnee`` to ``brouillon`` it is no longer merged (it is then empty:
        move its contributions back with ``add_to_proposal(…, move=True)``).
        """
        proposal = self._proposal_row(reference, editable=False)
        if status == proposal.status:
            return self._record(proposal.id)
        if status not in PROPOSAL_STATUSES or status not in TRANSITIONS[proposal.status]:
            raise TriageRefused(
                "transition", proposal=proposal.reference, status=proposal.status, to=status
            )
        if status == "brouillon":  # out of the vote: its supports would vanish from the counts
            supports = self._standing_supports(proposal.id)
            if supports:
                raise TriageRefused(
                    "unpublish_supported", proposal=proposal.reference, supports=supports
                )
        values: dict[str, Any] = {"status": status, "merged_into_id": None}
        if status == "publiee":
            self._check_not_empty(proposal)
            if proposal.published_at is None:
                values["published_at"] = self.now
        return self._update(actor, f"proposal.{status}", proposal, **values)

    def publish_proposals(self, actor: str, references: Sequence[str] | None = None) -> list[str]:
        """Publish drafts: those of ``references`` (each must have contributions), or every
        draft that has some. Returns the references newly published, in order."""
        grouping = sa.exists().where(_c.proposal_id == _p.id)
        if references is None:
            statement = sa.select(sql.proposals).where(_p.status == "brouillon", grouping)
        else:
            wanted = list(dict.fromkeys(normalize_reference(r) for r in references))
            statement = sa.select(sql.proposals, grouping.label("grouping")).where(
                _p.reference.in_(wanted)
            )
        found = {
            row.reference: row
            for row in self.connection.execute(statement.with_for_update(of=sql.proposals))
        }
        if references is not None:
            for reference in wanted:
                row = found.get(reference)
                if row is None:
                    raise TriageRefused("unknown_proposal", proposal=reference)
                if row.status not in EDITABLE:
                    raise TriageRefused("proposal_closed", proposal=reference, status=row.status)
                if not row.grouping:
                    raise TriageRefused("empty_proposal", proposal=reference)
        drafts = sorted(
            (row for row in found.values() if row.status == "brouillon"), key=lambda r: r.id
        )
        if drafts:
            self.connection.execute(
                sql.proposals.update()
                .where(_p.id.in_([row.id for row in drafts]))
                .values(status="publiee", published_at=self.now)
            )
            self.audit_changes(
                actor,
                "proposal.publiee",
                [
                    (
                        row.reference,
                        _fields(row._mapping),
                        _fields({**row._mapping, "status": "publiee"}),
                    )
                    for row in drafts
                ],
            )
        return [row.reference for row in drafts]

    # -- helpers ------------------------------------------------------------------------

    def _proposal_row(self, reference: str, *, editable: bool = True) -> sa.Row[Any]:
        reference = normalize_reference(reference)
        statement = sa.select(sql.proposals).where(_p.reference == reference).with_for_update()
        row = self.connection.execute(statement).first()
        if row is None:
            raise TriageRefused("unknown_proposal", proposal=reference)
        if editable and row.status not in EDITABLE:
            raise TriageRefused("proposal_closed", proposal=reference, status=row.status)
        return row

    def _check_groupable(self, row: sa.Row[Any], *, proposal_id: int | None, move: bool) -> None:
        if row.status in DECIDED:
            raise TriageRefused("decided", reference=row.reference, status=row.status)
        if row.status != "regroupee" or row.proposal_id == proposal_id:
            return
        other = self.connection.execute(
            sa.select(_p.reference, _p.status).where(_p.id == row.proposal_id)
        ).one()
        if not move:
            raise TriageRefused(
                "already_in_proposal", reference=row.reference, proposal=other.reference
            )
        if other.status not in EDITABLE:
            raise TriageRefused("proposal_closed", proposal=other.reference, status=other.status)

    def _check_not_empty(self, proposal: sa.Row[Any]) -> None:
        statement = sa.select(sa.exists().where(_c.proposal_id == proposal.id))
        if not self.connection.execute(statement).scalar():
            raise TriageRefused("empty_proposal", proposal=proposal.reference)

    @staticmethod
    def _checked_description(description: str) -> str:
        description = description.strip()
        if len(description) > DESCRIPTION_MAX:
            raise TriageRefused(
                "description_too_long", limit=DESCRIPTION_MAX, length=len(description)
            )
        return description

    def _update(
        self, actor: str, action: str, proposal: sa.Row[Any], **values: Any
    ) -> ProposalRecord:
        """Write ``values`` on the proposal; audit it (before, after) if anything changed."""
        merged = {**proposal._mapping, **values}
        references = self._proposal_references([proposal.merged_into_id, merged["merged_into_id"]])
        before = _fields(proposal._mapping, references)
        after = _fields(merged, references)
        if after != before:
            self.connection.execute(
                sql.proposals.update().where(_p.id == proposal.id).values(**values)
            )
            self.audit_changes(actor, action, [(proposal.reference, before, after)])
        return self._record(proposal.id)

    def _record(self, proposal_id: int) -> ProposalRecord:
        return ProposalRecord(*self.connection.execute(_LISTING.where(_p.id == proposal_id)).one())
