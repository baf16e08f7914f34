"""The reviewed draft, read back: a validated plan, then the changes it makes to the triage.

The team edits the draft (``bot.consultation.drafting``) in a spreadsheet, one row per
contribution:

- ``proposition``: the key of the proposal the contribution goes in. A draft key
  (``G-B-0012``), a proposal's reference (``P-001``) or any new key the team types (a new
  proposal). Moving a row is changing this cell.
- ``titre_proposition``, ``description_proposition``: the proposal's title and description,
  on any of its rows; a blank cell means "the same as the other rows". Two rows of one
  proposal with two different titles are an error. A proposal whose rows all leave the
  description blank (or a file without that column) keeps the description stored.
- ``statut``: blank (in its proposal, or left as submitted when ``proposition`` is blank),
  ``regroupee``, ``reorientee`` (``message`` says where to, ``lien`` optionally links to it),
  ``rejetee`` (``message`` gives the reason) or ``soumise``. Accents and capitals do not
  matter. A redirected or rejected row is in no proposal, but its title cells still count
  for its ``proposition``: rejecting the row that carried the title keeps the title.

:func:`parse_triage` checks every row against the current state and reports all errors
at once, in French, each with the line the spreadsheet shows; :func:`plan_changes` compares
the plan with the current state and lists what importing would change: nothing when the
file says what is already stored, so a second import is a no-op. Both are pure.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.consultation.export import status_label
from bot.consultation.spreadsheet import Table
from storage.ops.proposals import TITLE_MAX  # one limit for the chat and the file

DESCRIPTION_MAX = 4000
MESSAGE_MAX = 1000

GROUPED, REDIRECTED, REJECTED, SUBMITTED = "regroupee", "reorientee", "rejetee", "soumise"
STATUSES = (GROUPED, REDIRECTED, REJECTED, SUBMITTED)
REQUIRED_COLUMNS = ("proposition", "reference", "statut")


@dataclass(frozen=True, slots=True)
class ContributionState:
    """A contribution as stored now: its status, its proposal's key, its message."""

    reference: str
    kind: str
    status: str = SUBMITTED
    proposal: str | None = None
    message: str | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class ProposalState:
    """A stored proposal: the key it was created under, and its reference once stored."""

    key: str
    title: str
    description: str = ""
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class TriageState:
    contributions: Mapping[str, ContributionState]
    """By reference."""
    proposals: Mapping[str, ProposalState] = field(default_factory=dict)
    """By key."""

    def proposal_key(self, key: str) -> str:
        """The stored proposal's key for a key or a reference typed in the file."""
        if key in self.proposals:
            return key
        for proposal in self.proposals.values():
            if proposal.reference == key:
                return proposal.key
        return key


@dataclass(frozen=True, slots=True)
class PlannedProposal:
    key: str
    title: str
    description: str | None
    """None: no row gives one, the stored description stays (a blank column is not a wish
    to erase what an administrator wrote with ``!decrire`` since the draft was made)."""
    members: tuple[str, ...]
    line: int
    """The first row of the proposal in the file."""
    member_lines: tuple[int, ...] = ()
    """The row of each member."""


@dataclass(frozen=True, slots=True)
class Redirection:
    reference: str
    message: str
    link: str | None
    line: int


@dataclass(frozen=True, slots=True)
class Rejection:
    reference: str
    reason: str
    line: int


@dataclass(frozen=True, slots=True)
class TriagePlan:
    proposals: tuple[PlannedProposal, ...]
    redirections: tuple[Redirection, ...]
    rejections: tuple[Rejection, ...]
    submitted: tuple[tuple[str, int], ...]
    """Contributions left as submitted, in no proposal: ``(reference, line)``."""


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str
    unit: str = "ligne"

    def __str__(self) -> str:
        return f"{self.unit} {self.line} : {self.message}"


class TriageFileError(ValueError):
    """Every error of the file, by line; nothing may be applied."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.line)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True, slots=True)
class Change:
    """One thing an import changes; ``action`` is one of :data:`ACTIONS`."""

    action: str
    subject: str
    before: str | None = None
    after: str | None = None
    line: int | None = None


ACTIONS = ("creee", "renommee", "decrite", "deplacee", "reorientee", "rejetee", "remise", "videe")


def parse_triage(table: Table, state: TriageState) -> TriagePlan:
    """The plan the file describes, or :class:`TriageFileError` with every error."""
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        names = ", ".join(f"« {c} »" for c in missing)
        raise TriageFileError([LineError(1, f"colonne(s) manquante(s) : {names}")])
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    members: dict[str, list[tuple[str, int]]] = {}
    first_line: dict[str, int] = {}
    titles: dict[str, tuple[str, int]] = {}
    descriptions: dict[str, tuple[str, int]] = {}
    redirections: list[Redirection] = []
    rejections: list[Rejection] = []
    submitted: list[tuple[str, int]] = []

    def error(line: int, message: str) -> None:
        errors.append(LineError(line, message))

    for row in table.rows:
        line = row.line
        reference = row.get("reference").strip()
        key = row.get("proposition").strip()
        message = row.get("message").strip()
        link = row.get("lien").strip() or None
        status = _status(row.get("statut"), key)
        if key:
            first_line.setdefault(key, line)
            for column, found in (
                ("titre_proposition", titles),
                ("description_proposition", descriptions),
            ):
                value = row.get(column).strip()
                if not value:
                    continue
                earlier = found.setdefault(key, (value, line))
                if earlier[0] != value:
                    # The words agree with the noun: « un autre titre … recopiez-le »,
                    # « une autre description … recopiez-la ».
                    other, what, it = (
                        ("un autre", "titre", "le")
                        if column == "titre_proposition"
                        else ("une autre", "description", "la")
                    )
                    error(
                        line,
                        f"la proposition {key} a {other} {what} ligne {earlier[1]} "
                        f"(« {_short(earlier[0])} ») ; laissez la cellule vide ou recopiez-{it}",
                    )
        if not reference:
            error(line, "la colonne « reference » est vide")
            continue
        if reference not in state.contributions:
            error(line, f"la contribution {reference} n’existe pas")
            continue
        if reference in seen:
            error(
                line,
                f"la contribution {reference} figure déjà ligne {seen[reference]} : "
                "une contribution ne va que dans une proposition",
            )
            continue
        seen[reference] = line
        if status is None:
            allowed = ", ".join(STATUSES)
            error(line, f"statut « {row.get('statut').strip()} » inconnu (statuts : {allowed})")
            continue
        if len(message) > MESSAGE_MAX:
            error(line, f"le message dépasse {MESSAGE_MAX} caractères ({len(message)})")
        if status == GROUPED:
            if not key:
                error(line, f"{reference} est « regroupee » sans proposition")
            else:
                members.setdefault(key, []).append((reference, line))
        elif status == REDIRECTED:
            if not message:
                error(line, f"{reference} est réorientée sans message pour son auteur")
            elif link and not link.startswith(("https://", "http://")):
                error(line, f"le lien « {_short(link)} » n’est pas une adresse web (https://…)")
            else:
                redirections.append(Redirection(reference, message, link, line))
        elif status == REJECTED:
            if not message:
                error(line, f"{reference} est rejetée sans raison (colonne « message »)")
            else:
                rejections.append(Rejection(reference, message, line))
        elif key:
            error(line, f"{reference} est « soumise » mais dans la proposition {key}")
        else:
            submitted.append((reference, line))

    proposals = []
    for key, references in members.items():
        line = first_line[key]
        title = titles.get(key, ("", line))[0]
        description = descriptions[key][0] if key in descriptions else None
        if not title:
            error(line, f"la proposition {key} n’a pas de titre (colonne « titre_proposition »)")
        elif len(title) > TITLE_MAX:
            error(
                titles[key][1],
                f"le titre de la proposition {key} dépasse {TITLE_MAX} caractères ({len(title)})",
            )
        if description is not None and len(description) > DESCRIPTION_MAX:
            error(
                descriptions[key][1],
                f"la description de la proposition {key} dépasse {DESCRIPTION_MAX} caractères",
            )
        proposals.append(
            PlannedProposal(
                key,
                title,
                description,
                tuple(reference for reference, _ in references),
                line,
                tuple(member_line for _, member_line in references),
            )
        )
    if errors:
        raise TriageFileError(errors)
    return TriagePlan(tuple(proposals), tuple(redirections), tuple(rejections), tuple(submitted))


def plan_changes(plan: TriagePlan, state: TriageState) -> list[Change]:
    """What importing ``plan`` changes, in the order of :data:`ACTIONS` then by line."""
    changes: list[Change] = []
    staying: dict[str, set[str]] = {}
    for proposal in plan.proposals:
        key = state.proposal_key(proposal.key)
        stored = state.proposals.get(key)
        if stored is None:
            changes.append(Change("creee", key, None, proposal.title, proposal.line))
        else:
            if stored.title != proposal.title:
                changes.append(Change("renommee", key, stored.title, proposal.title, proposal.line))
            if proposal.description is not None and stored.description != proposal.description:
                changes.append(
                    Change("decrite", key, stored.description, proposal.description, proposal.line)
                )
        staying[key] = set(proposal.members)
        lines = proposal.member_lines or (proposal.line,) * len(proposal.members)
        for reference, line in zip(proposal.members, lines, strict=True):
            current = state.contributions[reference]
            if current.status != GROUPED or current.proposal != key:
                before = current.proposal if current.status == GROUPED else current.status
                changes.append(Change("deplacee", reference, before, key, line))
    for redirection in plan.redirections:
        current = state.contributions[redirection.reference]
        if (current.status, current.message, current.link) != (
            REDIRECTED,
            redirection.message,
            redirection.link,
        ):
            changes.append(
                Change(
                    "reorientee",
                    redirection.reference,
                    _where(current),
                    redirection.message,
                    redirection.line,
                )
            )
    for rejection in plan.rejections:
        current = state.contributions[rejection.reference]
        if (current.status, current.message) != (REJECTED, rejection.reason):
            changes.append(
                Change(
                    "rejetee",
                    rejection.reference,
                    _where(current),
                    rejection.reason,
                    rejection.line,
                )
            )
    for reference, line in plan.submitted:
        current = state.contributions[reference]
        if current.status != SUBMITTED or current.proposal is not None:
            changes.append(Change("remise", reference, _where(current), SUBMITTED, line))
    in_file = {r for p in plan.proposals for r in p.members}
    in_file |= {r.reference for r in plan.redirections} | {r.reference for r in plan.rejections}
    in_file |= {reference for reference, _ in plan.submitted}
    had: set[str] = set()
    remaining: set[str] = set()
    for contribution in state.contributions.values():
        if contribution.proposal is not None:
            had.add(contribution.proposal)
            if contribution.status == GROUPED and contribution.reference not in in_file:
                remaining.add(contribution.proposal)
    for key in state.proposals:
        if key in had and key not in remaining and not staying.get(key):
            changes.append(Change("videe", key))
    order = {action: i for i, action in enumerate(ACTIONS)}
    changes.sort(key=lambda c: (order[c.action], c.line or 0, c.subject))
    return changes


def apply_plan(plan: TriagePlan, state: TriageState) -> TriageState:
    """The state after the import, as storage should leave it (what a re-import compares to)."""
    contributions = dict(state.contributions)
    proposals = dict(state.proposals)
    for planned in plan.proposals:
        key = state.proposal_key(planned.key)
        stored = proposals.get(key)
        reference = stored.reference if stored else None
        description = planned.description
        if description is None:
            description = stored.description if stored else ""
        proposals[key] = ProposalState(key, planned.title, description, reference)
        for member in planned.members:
            contributions[member] = _moved(contributions[member], GROUPED, key)
    for redirection in plan.redirections:
        contributions[redirection.reference] = _moved(
            contributions[redirection.reference],
            REDIRECTED,
            None,
            redirection.message,
            redirection.link,
        )
    for rejection in plan.rejections:
        contributions[rejection.reference] = _moved(
            contributions[rejection.reference], REJECTED, None, rejection.reason
        )
    for reference, _ in plan.submitted:
        contributions[reference] = _moved(contributions[reference], SUBMITTED, None)
    return TriageState(contributions, proposals)


def describe(change: Change, references: Mapping[str, str | None] | None = None) -> str:
    """One line in French for ``--dry-run``; once applied, ``references`` gives a created
    proposal's reference (``P-004``), the one the chat commands and agents use."""
    where = f"ligne {change.line} : " if change.line else ""
    match change.action:
        case "creee":
            stored = (references or {}).get(change.subject)
            name = f"{change.subject} ({stored})" if stored else change.subject
            text = f"proposition {name} créée : « {change.after} »"
        case "renommee":
            text = (
                f"proposition {change.subject} renommée : « {change.before} » → « {change.after} »"
            )
        case "decrite":
            text = f"description de la proposition {change.subject} modifiée"
        case "deplacee":
            origin = status_label(change.before) if change.before else status_label(SUBMITTED)
            text = f"{change.subject} va dans la proposition {change.after} (était : {origin})"
        case "reorientee":
            text = f"{change.subject} réorientée : « {_short(change.after or '')} »"
        case "rejetee":
            text = f"{change.subject} rejetée : « {_short(change.after or '')} »"
        case "remise":
            before = status_label(change.before) if change.before else ""
            text = f"{change.subject} redevient soumise (était : {before})"
        case "videe":
            text = f"la proposition {change.subject} n’a plus de contribution"
        case _:
            text = f"{change.action} {change.subject}"
    return where + text


def _status(cell: str, key: str) -> str | None:
    folded = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", cell.strip().lower())
        if not unicodedata.combining(ch)
    )
    if not folded:
        return GROUPED if key else SUBMITTED
    return folded if folded in STATUSES else None


def _moved(
    current: ContributionState,
    status: str,
    proposal: str | None,
    message: str | None = None,
    link: str | None = None,
) -> ContributionState:
    return ContributionState(current.reference, current.kind, status, proposal, message, link)


def _where(current: ContributionState) -> str:
    if current.status == GROUPED and current.proposal:
        return current.proposal
    return current.status


def _short(text: str, size: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"
