"""The reviewed spreadsheet and the imported contributions, applied to the store.

:mod:`bot.consultation.triage_file` says what a reviewed file changes; this module reads the
state it compares with and makes those changes with the triage verbs, in the caller's
transaction, so that each change is checked and audited as if an administrator had typed
it. Only what differs is written: importing the same file again writes nothing. A verb that
refuses (a proposal already decided, for instance) becomes an error on the line of the file
that asked for it, and the caller's transaction is rolled back: all or nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.consultation.importing import ImportedContribution
from bot.consultation.triage_file import (
    GROUPED,
    REDIRECTED,
    REJECTED,
    SUBMITTED,
    Change,
    ContributionState,
    LineError,
    PlannedProposal,
    ProposalState,
    TriageFileError,
    TriagePlan,
    TriageState,
)
from config.catalogue import Catalogue
from config.typography import integer
from storage.ops.base import reference_number
from storage.ops.triage_files import IMPORT_KEY
from storage.records import AgentRecord, NewContribution
from storage.store import TriageRefused, Tx

IMPORT_TRANSPORT = IMPORT_USER = "import"
"""The author of imported contributions: an agent of no transport, never reached by a push."""
DECIDED = (REDIRECTED, REJECTED)


@dataclass(frozen=True, slots=True)
class StoredTriage:
    """The state a reviewed file is compared with, and what applying it needs besides."""

    state: TriageState
    thematiques: dict[str, str]
    """A contribution's thématique, by reference (a new proposal takes the most common)."""


def stored_triage(tx: Tx) -> StoredTriage:
    contributions, thematiques = {}, {}
    for row in tx.contribution_triages():
        contributions[row.reference] = ContributionState(
            row.reference, row.kind, row.status, row.proposal_key, row.message, row.url
        )
        thematiques[row.reference] = row.thematique
    proposals = {
        row.key: ProposalState(row.key, row.title, row.description, row.reference)
        for row in tx.keyed_proposals()
    }
    return StoredTriage(TriageState(contributions, proposals), thematiques)


def refusal(catalogue: Catalogue, refused: TriageRefused) -> str:
    """A refused triage change, in French; statuses as they read (« non retenue », not
    ``non_retenue``)."""
    params = dict(refused.params)
    for key in ("status", "to"):
        if key in params and catalogue.has(f"triage.status.{params[key]}"):
            params[key] = catalogue.t(f"triage.status.{params[key]}")
    for key in ("length", "limit"):  # « 3 000 caractères »
        if isinstance(params.get(key), int):
            params[key] = integer(params[key])
    return catalogue.t(f"triage.refused.{refused.reason}", **params)


def apply_triage(
    tx: Tx, plan: TriagePlan, stored: StoredTriage, actor: str, catalogue: Catalogue
) -> None:
    """Make the changes of ``plan`` with the triage verbs; :class:`TriageFileError` with the
    line of the first refused change (the caller rolls back)."""
    state = stored.state
    current = state.contributions
    lines: dict[str, int] = {}

    @contextmanager
    def at(line: int) -> Iterator[None]:
        """A refused verb becomes an error on the line that asked for it."""
        try:
            yield
        except TriageRefused as refused:
            where = lines.get(str(refused.params.get("reference", "")), line)
            raise TriageFileError([LineError(where, refusal(catalogue, refused))]) from refused

    targets: dict[str, str] = {}
    for proposal in plan.proposals:
        for reference, line in zip(proposal.members, _member_lines(proposal), strict=True):
            targets[reference], lines[reference] = GROUPED, line
    for redirection in plan.redirections:
        targets[redirection.reference], lines[redirection.reference] = REDIRECTED, redirection.line
    for rejection in plan.rejections:
        targets[rejection.reference], lines[rejection.reference] = REJECTED, rejection.line
    for reference, line in plan.submitted:
        targets[reference], lines[reference] = SUBMITTED, line

    # 1. Out of their proposal, or reopened, what goes elsewhere.
    leaving: dict[str, list[str]] = {}
    for reference, target in targets.items():
        now = current[reference]
        if now.status == GROUPED and target != GROUPED and now.proposal is not None:
            leaving.setdefault(now.proposal, []).append(reference)
        elif now.status in DECIDED and target in (GROUPED, SUBMITTED):
            with at(lines[reference]):
                tx.reopen_contribution(actor, reference)
    for key, references in leaving.items():
        with at(lines[references[0]]):
            tx.remove_from_proposal(actor, state.proposals[key].reference or key, references)

    # 2. The proposals: created, renamed, described, and their members moved in.
    for proposal in plan.proposals:
        key = state.proposal_key(proposal.key)
        existing = state.proposals.get(key)
        if existing is None:
            grouped = {r for r in proposal.members if current[r].status == GROUPED}
            thematique = Counter(stored.thematiques[r] for r in proposal.members)
            with at(proposal.line):
                record = tx.create_proposal(
                    actor,
                    title=proposal.title,
                    contributions=[r for r in proposal.members if r not in grouped],
                    description=proposal.description or "",
                    thematique=thematique.most_common(1)[0][0],
                )
            tx.set_draft_key(record.reference, key)
            reference = record.reference
            moving = [r for r in proposal.members if r in grouped]
        else:
            reference = existing.reference or key
            with at(proposal.line):
                if existing.title != proposal.title:
                    tx.rename_proposal(actor, reference, proposal.title)
                if (
                    proposal.description is not None
                    and existing.description != proposal.description
                ):
                    tx.describe_proposal(actor, reference, proposal.description)
            moving = [
                r
                for r in proposal.members
                if not (current[r].status == GROUPED and current[r].proposal == key)
            ]
        if moving:
            with at(lines[moving[0]]):
                tx.add_to_proposal(actor, reference, moving, move=True)

    # 3. Redirections and rejections, with their messages.
    for redirection in plan.redirections:
        now = current[redirection.reference]
        wanted = (REDIRECTED, redirection.message, redirection.link)
        if (now.status, now.message, now.link) != wanted:
            with at(redirection.line):
                tx.redirect_contribution(
                    actor, redirection.reference, redirection.message, redirection.link
                )
    for rejection in plan.rejections:
        now = current[rejection.reference]
        if (now.status, now.message) != (REJECTED, rejection.reason):
            with at(rejection.line):
                tx.reject_contribution(actor, rejection.reference, rejection.reason)


def _member_lines(proposal: PlannedProposal) -> tuple[int, ...]:
    return proposal.member_lines or (proposal.line,) * len(proposal.members)


# -- contributions from elsewhere -----------------------------------------------------------


def import_author(tx: Tx) -> AgentRecord:
    """The agent imported contributions are attributed to (created on first use)."""
    return tx.ensure_agent(IMPORT_TRANSPORT, IMPORT_USER)


@dataclass(frozen=True, slots=True)
class Stored:
    references: list[str]
    """The references the imported contributions got, in the order they were stored."""
    renumbered: bool
    """The file had references of ours that could not all be kept: new ones were given."""


def store_imported(
    tx: Tx,
    contributions: Sequence[ImportedContribution],
    author: AgentRecord,
    stored_keys: Mapping[str, int] | None = None,
) -> Stored:
    """Store checked rows as if an agent had typed them, on the date the file gives.

    Each keeps its dedup key (and the source's own reference) among its answers, so that
    the same file imported again adds nothing. The file's references are kept when every
    row has one of ours (``B-0042``) and none is taken here (a round trip through an empty
    base gives the same references); otherwise each gets the next one. A row that joined
    another (« même besoin ») is linked to it, among the rows stored now or those of
    ``stored_keys`` (dedup key → id of the contributions imported before).

    They are stored in the order they were sent (by date, then reference, then line), not in
    the file's, which a spreadsheet may have sorted otherwise: the first of a need stays its
    head, and new references follow the dates. In batches (:data:`STORED_AT_ONCE`): a
    statement per row made a 50 MB file take minutes (docs/benchmarks.md).
    """
    wanted = [item.reference for item in contributions]
    keep = (
        all(wanted)
        and len(set(wanted)) == len(wanted)
        and not tx.taken_references([r for r in wanted if r])
    )
    renumbered = not keep and any(wanted)

    def sent(item: ImportedContribution) -> tuple[datetime, int, int]:
        number = reference_number(item.reference) if keep and item.reference else 0
        return (item.created_at or tx.now, number, item.line)

    ordered = sorted(contributions, key=sent)
    places = tx.upsert_collectivites(item.collectivite for item in ordered)
    references: list[str] = []
    ids = dict(stored_keys or {})
    for start in range(0, len(ordered), STORED_AT_ONCE):
        batch = ordered[start : start + STORED_AT_ONCE]
        stored = tx.add_contributions([_new(item, author, places, keep) for item in batch])
        for item, (contribution_id, reference) in zip(batch, stored, strict=True):
            ids[item.key] = contribution_id
            references.append(reference)
    tx.set_same_as_many(
        [(ids[item.key], ids[item.same_as]) for item in ordered if item.same_as is not None]
    )
    return Stored(references, renumbered)


STORED_AT_ONCE = 5000
"""Rows given to the store at once: their statement parameters stay in memory."""


def _new(
    item: ImportedContribution,
    author: AgentRecord,
    places: Mapping[tuple[str, str], int],
    keep: bool,
) -> NewContribution:
    answers = {**item.answers, IMPORT_KEY: item.key}
    if item.source_reference:
        answers["reference_source"] = item.source_reference
    return NewContribution(
        author_id=author.id,
        collectivite_id=places[(item.collectivite.kind, item.collectivite.code)],
        kind=item.kind,
        title=item.title,
        description=item.description,
        answers=answers,
        thematique=item.thematique or "",
        confidence=item.thematique_confidence,
        thematique_source=item.thematique_source or "import",
        created_at=item.created_at,
        reference=item.reference if keep else None,
    )


TRIAGE_ACTIONS = frozenset(
    {
        "contribution.grouped",
        "contribution.moved",
        "contribution.redirected",
        "contribution.rejected",
        "contribution.reopened",
        "contribution.ungrouped",
        "proposal.created",
        "proposal.described",
        "proposal.merged",
        "proposal.renamed",
    }
)
"""The audited acts of the triage, in the chat or by an import."""


def changed_since(
    tx: Tx, changes: Iterable[Change], state: TriageState, since: datetime
) -> list[Change]:
    """The ``changes`` of a reviewed file that touch a contribution or a proposal whose
    triage was changed after ``since`` (when the file was last saved): applying them would
    undo what was decided since, in the chat or by another import, which the file cannot
    know about."""
    undoing = []
    for change in changes:
        subject: str | None = change.subject
        if change.action in PROPOSAL_ACTIONS:
            proposal = state.proposals.get(change.subject)
            subject = proposal.reference if proposal else None
        if subject is None:
            continue
        entries = tx.audit_entries(subject=subject)
        if any(e.action in TRIAGE_ACTIONS and _aware(e.at) > since for e in entries):
            undoing.append(change)
    return undoing


PROPOSAL_ACTIONS = ("creee", "renommee", "decrite", "videe")
"""The :class:`Change` actions whose subject is a proposal's key (the others: a
contribution's reference)."""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
