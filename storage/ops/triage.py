"""Triage: what becomes of each contribution between the collecte and the vote.

A contribution is ``soumise``, then ``regroupee`` in a proposal, ``reorientee`` (a message,
optionally a link to an existing programme or service) or ``rejetee`` (a reason). Triage
writes only ``status``, ``proposal_id``, ``triage_message`` and ``triage_url``; what the agent
wrote, and when, is never touched, so every step can be undone exactly. The moves:

- ``soumise`` → ``regroupee`` (grouping, in ``storage/ops/proposals.py``) and back;
- ``soumise`` or a decision → ``reorientee`` / ``rejetee`` (a new message replaces the old);
- a decision → ``soumise`` (``reopen_contribution``, its undo).

A grouped contribution is taken out of its proposal before it is redirected or rejected, and
a redirected or rejected one is reopened before it is grouped: each verb has one undo.

Every change writes one audit line per contribution, with who, when, before and after.
A verb checks everything before writing anything, so a refused change (``TriageRefused``)
leaves the transaction as it was, even when the caller catches it and goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from storage import statements as sql
from storage.ops.audit import AuditOps
from storage.ops.base import normalize_reference
from storage.records import Triage

MESSAGE_MAX = 2000
URL_MAX = 500
DECIDED = ("reorientee", "rejetee")

_c = sql.contributions.c
_SELECT_TRIAGE = sa.select(
    _c.id,
    _c.reference,
    _c.status,
    _c.proposal_id,
    _c.triage_message,
    _c.triage_url,
    _c.thematique,
    _c.collectivite_id,
)
_UPDATE_TRIAGE = (
    sa.update(sql.contributions)
    .where(_c.id == sa.bindparam("contribution_id"))
    .values(
        status=sa.bindparam("new_status"),
        proposal_id=sa.bindparam("new_proposal_id"),
        triage_message=sa.bindparam("new_message"),
        triage_url=sa.bindparam("new_url"),
    )
)


class TriageRefused(Exception):
    """A triage change that cannot be made; nothing was written.

    ``reason`` names the case (for the bot's messages): unknown_contribution,
    unknown_proposal, title_empty, title_too_long, description_too_long, message_empty,
    message_too_long, url_too_long, already_in_proposal, not_in_proposal, grouped, decided,
    proposal_closed, same_proposal, has_supports, emptied, empty_proposal, transition,
    unpublish_supported, thematique_missing.
    ``params`` says which reference, which limit.
    """

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason, params)
        self.reason = reason
        self.params = params


def checked_text(text: str, limit: int, *, what: str) -> str:
    """``text`` stripped, or TriageRefused(``{what}_empty`` / ``{what}_too_long``)."""
    text = text.strip()
    if not text:
        raise TriageRefused(f"{what}_empty")
    if len(text) > limit:
        raise TriageRefused(f"{what}_too_long", limit=limit, length=len(text))
    return text


class TriageOps(AuditOps):
    def triage(self, reference: str) -> Triage | None:
        """Where triage left the contribution ``reference`` (None if unknown)."""
        row = self.connection.execute(
            _SELECT_TRIAGE.where(_c.reference == normalize_reference(reference))
        ).first()
        if row is None:
            return None
        return self._triage_of(row, self._proposal_references([row.proposal_id]))

    def redirect_contribution(
        self, actor: str, reference: str, message: str, url: str | None = None
    ) -> Triage:
        """Redirect a contribution to an existing programme or service, with a message."""
        message = checked_text(message, MESSAGE_MAX, what="message")
        if url is not None:
            url = url.strip() or None
            if url is not None and len(url) > URL_MAX:
                raise TriageRefused("url_too_long", limit=URL_MAX, length=len(url))
        return self._decide(actor, reference, "reorientee", message, url)

    def reject_contribution(self, actor: str, reference: str, reason: str) -> Triage:
        """Reject a contribution, with the reason its author will read."""
        reason = checked_text(reason, MESSAGE_MAX, what="message")
        return self._decide(actor, reference, "rejetee", reason, None)

    def reopen_contribution(self, actor: str, reference: str) -> Triage:
        """Undo a redirection or a rejection: the contribution is ``soumise`` again."""
        [row] = self._locked_contributions([reference])
        if row.status == "regroupee":
            raise TriageRefused("grouped", reference=row.reference)
        [after] = self._retriage(actor, "contribution.reopened", [row], "soumise", None)
        return after

    def _decide(
        self, actor: str, reference: str, status: str, message: str, url: str | None
    ) -> Triage:
        [row] = self._locked_contributions([reference])
        if row.status == "regroupee":
            raise TriageRefused(
                "grouped",
                reference=row.reference,
                proposal=self._proposal_references([row.proposal_id])[row.proposal_id],
            )
        action = "contribution.redirected" if status == "reorientee" else "contribution.rejected"
        [after] = self._retriage(actor, action, [row], status, None, message, url)
        return after

    # -- shared with the proposal verbs -------------------------------------------------

    def _locked_contributions(self, references: Iterable[str]) -> list[sa.Row[Any]]:
        """The contributions of ``references`` (each once, in that order), locked."""
        wanted = list(dict.fromkeys(normalize_reference(r) for r in references))
        if not wanted:
            return []
        statement = _SELECT_TRIAGE.where(_c.reference.in_(wanted)).with_for_update()
        found = {row.reference: row for row in self.connection.execute(statement)}
        for reference in wanted:
            if reference not in found:
                raise TriageRefused("unknown_contribution", reference=reference)
        return [found[reference] for reference in wanted]

    def _contributions_in(self, proposal_id: int) -> list[sa.Row[Any]]:
        statement = (
            _SELECT_TRIAGE.where(_c.proposal_id == proposal_id).order_by(_c.id).with_for_update()
        )
        return list(self.connection.execute(statement))

    def _proposal_references(self, ids: Iterable[int | None]) -> dict[int | None, str | None]:
        wanted = {i for i in ids if i is not None}
        found: dict[int | None, str | None] = {None: None}
        if wanted:
            p = sql.proposals.c
            statement = sa.select(p.id, p.reference).where(p.id.in_(wanted))
            found.update({row.id: row.reference for row in self.connection.execute(statement)})
        return found

    def _triage_of(self, row: sa.Row[Any], references: dict[int | None, str | None]) -> Triage:
        return Triage(
            row.reference,
            row.status,
            references[row.proposal_id],
            row.triage_message,
            row.triage_url,
        )

    def _retriage(
        self,
        actor: str,
        action: str,
        rows: Sequence[sa.Row[Any]],
        status: str,
        proposal_id: int | None,
        message: str | None = None,
        url: str | None = None,
        *,
        references: dict[int | None, str | None] | None = None,
    ) -> list[Triage]:
        """Put ``rows`` in one triage state; audit each one that changes. Returns the new
        states of all of them. ``references``: the proposals' references, when known."""
        if references is None:
            references = self._proposal_references([proposal_id, *(r.proposal_id for r in rows)])
        afters, updates, changes = [], [], []
        for row in rows:
            before = self._triage_of(row, references)
            after = Triage(row.reference, status, references[proposal_id], message, url)
            afters.append(after)
            if after != before:
                updates.append(
                    {
                        "contribution_id": row.id,
                        "new_status": status,
                        "new_proposal_id": proposal_id,
                        "new_message": message,
                        "new_url": url,
                    }
                )
                changes.append((row.reference, before.as_dict(), after.as_dict()))
        if updates:
            self.connection.execute(_UPDATE_TRIAGE, updates)
            self.audit_changes(actor, action, changes)
        return afters
