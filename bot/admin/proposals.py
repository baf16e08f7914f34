"""The triage in chat, for administrators: list, show, create, add, take out, merge, rename,
describe, redirect, reject, reopen, change a status, publish.

Each command is one triage verb (``storage/ops/proposals.py``, ``storage/ops/triage.py``),
which checks everything before writing and audits the change; a refused change is said in
French and writes nothing. Each answer says what changed and the command that undoes it.
Long lists are cut in pages: the bottom frame of the conversation remembers which list and
where it stopped, and ``!suite`` shows the next page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.consultation.closing import recompose_vote_closing
from bot.consultation.notices import queue_notices
from bot.consultation.triage_store import refusal
from bot.dialogue.commands import CommandSpec
from bot.dialogue.context import Context
from bot.dialogue.parsing import fold
from bot.dialogue.turn import Turn
from config.calendar import french_date
from config.typography import listing
from storage.models import PROPOSAL_STATUSES
from storage.store import TriageRefused

PAGE = 15
"""Lines of a list shown at once; ``!suite`` shows the next ones."""
_REFERENCE = re.compile(r"[A-Za-z]-\d+")
_SUITE = "suite"

Lister = Callable[[Context, str], tuple[list[str], list[str]]]
"""A long list: (its heading lines, its item lines), from the command's argument."""


# -- pages --------------------------------------------------------------------------------


def _show_page(turn: Turn, name: str, argument: str, offset: int) -> None:
    """Say the heading and one page of ``LISTERS[name]``; remember where the page stops."""
    heading, items = LISTERS[name](turn.ctx, argument)
    page = items[offset : offset + PAGE]
    bottom = turn.state.stack[0] if turn.state.stack else turn.top
    rest = len(items) - offset - len(page)
    lines = [*heading, *page] if offset == 0 else page
    if rest > 0:
        lines.append(turn.ctx.t("triage.chat.more", count=rest))
        bottom.data[_SUITE] = {"list": name, "argument": argument, "offset": offset + PAGE}
    else:
        bottom.data.pop(_SUITE, None)
    turn.say("\n".join(lines))


def run_suite(turn: Turn, argument: str) -> None:
    bottom = turn.state.stack[0] if turn.state.stack else turn.top
    page = bottom.data.get(_SUITE)
    if not page or page.get("list") not in LISTERS:
        turn.say(turn.ctx.t("triage.chat.no_more"))
        return
    _show_page(turn, page["list"], page["argument"], int(page["offset"]))


# -- reading ------------------------------------------------------------------------------


def _thematique(ctx: Context, text: str) -> str | None:
    wanted = fold(text)
    taxonomy = ctx.services.taxonomy
    for item in taxonomy:
        if wanted in (fold(item.id), fold(item.label)):
            return str(item.id)
    starting = [item.id for item in taxonomy if fold(item.label).startswith(wanted)]
    return str(starting[0]) if len(starting) == 1 else None


def _label(ctx: Context, thematique: str) -> str:
    taxonomy = ctx.services.taxonomy
    return taxonomy.label(thematique) if thematique in taxonomy else thematique


def list_proposals(ctx: Context, argument: str) -> tuple[list[str], list[str]]:
    if not argument:
        counts = ctx.tx.proposal_counts()
        if not counts:
            return [ctx.t("triage.chat.counts_none")], []
        heading = [ctx.t("triage.chat.counts_title", total=sum(counts.values()))]
        items = [
            ctx.t("triage.chat.counts_item", label=_label(ctx, t), id=t, count=n)
            for t, n in counts.items()
        ]
        items.append(ctx.t("triage.chat.counts_how", example=next(iter(counts))))
        return heading, items
    thematique = _thematique(ctx, argument)
    if thematique is None:
        ids = ", ".join(ctx.services.taxonomy.ids)
        return [ctx.t("triage.chat.unknown_thematique", text=argument, ids=ids)], []
    records = ctx.tx.proposals(thematique)
    label = _label(ctx, thematique)
    if not records:
        return [ctx.t("triage.chat.list_none", label=label)], []
    items = [
        ctx.t(
            "triage.chat.list_item",
            reference=r.reference,
            title=r.title,
            contributions=r.contributions,
            collectivites=r.collectivites,
            status=status_label(ctx, r.status),
        )
        for r in records
    ]
    return [ctx.t("triage.chat.list_title", label=label, count=len(records))], items


def status_label(ctx: Context, status: str) -> str:
    """A proposal's or contribution's status as it reads (« publiée », « non retenue »)."""
    key = f"triage.status.{status}"
    return ctx.t(key) if ctx.services.catalogue.has(key) else status


def show_proposal(ctx: Context, argument: str) -> tuple[list[str], list[str]]:
    reference = argument.split()[0] if argument.split() else ""
    detail = ctx.tx.proposal(reference) if reference else None
    if detail is None:
        return [ctx.t("triage.chat.unknown_proposal", reference=reference)], []
    p = detail.proposal
    heading = [
        ctx.t(
            "triage.chat.show_title",
            reference=p.reference,
            title=p.title,
            status=status_label(ctx, p.status),
            label=_label(ctx, p.thematique),
        ),
        ctx.t("triage.chat.show_description", description=p.description)
        if p.description
        else ctx.t("triage.chat.show_no_description", reference=p.reference),
    ]
    if p.merged_into:
        heading.append(ctx.t("triage.chat.show_merged", into=p.merged_into))
    heading.append(
        ctx.t(
            "triage.chat.show_members",
            count=len(detail.members),
            collectivites=len(detail.collectivites),
        )
        if detail.members  # not « 0 contribution de 0 collectivité : » and nothing after
        else ctx.t("triage.chat.show_no_members")
    )
    items = [
        ctx.t(
            "triage.chat.show_member",
            reference=m.reference,
            kind=m.kind,
            title=m.title,
            collectivite=m.collectivite_name,
        )
        for m in detail.members
    ]
    return heading, items


LISTERS: dict[str, Lister] = {"triage": list_proposals, "fiche": show_proposal}


def run_triage(turn: Turn, argument: str) -> None:
    _show_page(turn, "triage", argument.strip(), 0)


def run_show(turn: Turn, argument: str) -> None:
    if not argument.strip():  # not « Aucune proposition ne porte la référence «  » »
        usage = turn.ctx.t("commands.fiche.usage")
        turn.say(turn.ctx.t("triage.chat.usage", usage=usage))
        return
    _show_page(turn, "fiche", argument.strip(), 0)


# -- writing ------------------------------------------------------------------------------


def _references(text: str) -> list[str]:
    return [
        token.upper() for token in text.replace(",", " ").split() if _REFERENCE.fullmatch(token)
    ]


def _split(argument: str) -> tuple[str, str]:
    """The first word (a reference) and the rest of the line."""
    first, _, rest = argument.strip().partition(" ")
    return first.upper(), rest.strip()


def _guarded(
    command: str,
) -> Callable[[Callable[[Turn, str], str | None]], Callable[[Turn, str], None]]:
    """Say the answer of ``run``; its usage when it returns None; a refusal in French."""

    def wrap(run: Callable[[Turn, str], str | None]) -> Callable[[Turn, str], None]:
        def handler(turn: Turn, argument: str) -> None:
            ctx = turn.ctx
            try:
                answer = run(turn, argument)
            except TriageRefused as refused:
                answer = refusal(ctx.catalogue, refused)
            if answer is None:
                usage = ctx.t(f"commands.{command}.usage")
                answer = ctx.t("triage.chat.usage", usage=usage)
            turn.say(answer)

        return handler

    return wrap


@_guarded("creer")
def run_create(turn: Turn, argument: str) -> str | None:
    references_part, colon, title = argument.partition(":")
    references = _references(references_part)
    if not colon or not references or not title.strip():
        return None
    ctx = turn.ctx
    record = ctx.tx.create_proposal(ctx.actor, title=title, contributions=references)
    listed = " ".join(dict.fromkeys(references))
    return ctx.t(
        "triage.chat.created",
        reference=record.reference,
        title=record.title,
        count=record.contributions,
        references=listed,
        label=_label(ctx, record.thematique),
    )


@_guarded("ajouter")
def run_add(turn: Turn, argument: str) -> str | None:
    proposal, rest = _split(argument)
    references = list(dict.fromkeys(_references(rest)))
    if not proposal or not references:
        return None
    ctx = turn.ctx
    before = {r: ctx.tx.triage(r) for r in references}
    record = ctx.tx.add_to_proposal(ctx.actor, proposal, references, move=True)
    moved = [
        (r, t.proposal)
        for r, t in before.items()
        if t is not None and t.proposal and t.proposal != record.reference
    ]
    fresh = [r for r in references if r not in dict(moved)]
    undo = [f"« !ajouter {p} {r} »" for r, p in moved]
    if fresh:
        undo.insert(0, f"« !enlever {record.reference} {' '.join(fresh)} »")
    return ctx.t(
        "triage.chat.added",
        reference=record.reference,
        title=record.title,
        count=record.contributions,
        added=len(references),
        listed=listing(references),
        moved="".join(
            ctx.t("triage.chat.moved_from", contribution=r, proposal=p) for r, p in moved
        ),
        undo=", ".join(undo),
    )


@_guarded("enlever")
def run_remove(turn: Turn, argument: str) -> str | None:
    proposal, rest = _split(argument)
    references = list(dict.fromkeys(_references(rest)))
    if not proposal or not references:
        return None
    ctx = turn.ctx
    record = ctx.tx.remove_from_proposal(ctx.actor, proposal, references)
    return ctx.t(
        "triage.chat.removed",
        reference=record.reference,
        references=" ".join(references),  # the undo command's
        listed=listing(references),
        removed=len(references),
        count=record.contributions,
    )


@_guarded("fusionner")
def run_merge(turn: Turn, argument: str) -> str | None:
    references = _references(argument)
    if len(references) != 2:
        return None
    ctx = turn.ctx
    into, absorbed = references
    detail = ctx.tx.proposal(absorbed)
    moved = [m.reference for m in detail.members] if detail else []
    record = ctx.tx.merge_proposals(ctx.actor, into, absorbed)
    return ctx.t(
        "triage.chat.merged",
        into=record.reference,
        absorbed=absorbed,
        title=record.title,
        count=record.contributions,
        references=" ".join(moved),
    )


@_guarded("renommer")
def run_rename(turn: Turn, argument: str) -> str | None:
    reference, title = _split(argument)
    if not reference or not title:
        return None
    ctx = turn.ctx
    detail = ctx.tx.proposal(reference)
    if detail is None:
        return ctx.t("triage.chat.unknown_proposal", reference=reference)
    record = ctx.tx.rename_proposal(ctx.actor, reference, title)
    if record.title == detail.proposal.title:
        return ctx.t("triage.chat.unchanged", reference=record.reference)
    return ctx.t(
        "triage.chat.renamed",
        reference=record.reference,
        before=detail.proposal.title,
        after=record.title,
    )


@_guarded("decrire")
def run_describe(turn: Turn, argument: str) -> str | None:
    reference, description = _split(argument)
    if not reference:
        return None
    ctx = turn.ctx
    detail = ctx.tx.proposal(reference)
    if detail is None:
        return ctx.t("triage.chat.unknown_proposal", reference=reference)
    record = ctx.tx.describe_proposal(ctx.actor, reference, description)
    if record.description == detail.proposal.description:
        return ctx.t("triage.chat.unchanged", reference=record.reference)
    return ctx.t(
        "triage.chat.described",
        reference=record.reference,
        undo=f"!decrire {record.reference} {detail.proposal.description}".strip(),
    )


@_guarded("reorienter")
def run_redirect(turn: Turn, argument: str) -> str | None:
    reference, message = _split(argument)
    url = None
    words = message.split()
    if words and words[-1].startswith(("https://", "http://")):
        url = words[-1]
        message = message[: message.rfind(url)].strip()
    if not _REFERENCE.fullmatch(reference) or not message:
        return None
    ctx = turn.ctx
    after = ctx.tx.redirect_contribution(ctx.actor, reference, message, url)
    link = ctx.t("triage.chat.link", url=after.url) if after.url else ""
    return ctx.t(
        "triage.chat.redirected", reference=after.reference, message=after.message, link=link
    )


@_guarded("rejeter")
def run_reject(turn: Turn, argument: str) -> str | None:
    reference, reason = _split(argument)
    if not _REFERENCE.fullmatch(reference) or not reason:
        return None
    ctx = turn.ctx
    after = ctx.tx.reject_contribution(ctx.actor, reference, reason)
    return ctx.t("triage.chat.rejected", reference=after.reference, message=after.message)


@_guarded("rouvrir")
def run_reopen(turn: Turn, argument: str) -> str | None:
    references = _references(argument)
    if len(references) != 1:
        return None
    ctx = turn.ctx
    before = ctx.tx.triage(references[0])
    after = ctx.tx.reopen_contribution(ctx.actor, references[0])
    if before is None or before.status == after.status:
        return ctx.t("triage.chat.unchanged", reference=after.reference)
    if before.status == "reorientee":
        undo = f"« !reorienter {after.reference} {before.message} {before.url or ''} »"
    else:
        undo = f"« !rejeter {after.reference} {before.message} »"
    return ctx.t(
        "triage.chat.reopened",
        reference=after.reference,
        before=status_label(ctx, before.status),
        undo=undo,
    )


@_guarded("statut")
def run_status(turn: Turn, argument: str) -> str | None:
    reference, status = _split(argument)
    status = fold(status).replace(" ", "_")
    if not reference or status not in PROPOSAL_STATUSES:
        return None
    ctx = turn.ctx
    detail = ctx.tx.proposal(reference)
    if detail is None:
        return ctx.t("triage.chat.unknown_proposal", reference=reference)
    if status == "publiee" and detail.proposal.status == "brouillon":
        return publish(turn, [detail.proposal.reference])
    vote_ends = ctx.services.calendar.get("vote").end
    if status in ("retenue", "non_retenue") and ctx.services.calendar.today(ctx.now) <= vote_ends:
        return ctx.t("results.too_early", end=french_date(vote_ends))  # as « !retenir » says
    record = ctx.tx.set_proposal_status(ctx.actor, reference, status)
    if record.status == detail.proposal.status:
        return ctx.t("triage.chat.unchanged", reference=record.reference)
    recompose_vote_closing(ctx)  # a closing still waiting says the decision as it is now
    return ctx.t(
        "triage.chat.status_changed",
        reference=record.reference,
        before=status_label(ctx, detail.proposal.status),
        after=status_label(ctx, record.status),
    )


def publish(turn: Turn, references: list[str] | None) -> str:
    ctx = turn.ctx
    published = ctx.tx.publish_proposals(ctx.actor, references)
    told = queue_notices(ctx.tx, ctx.catalogue, ctx.services.calendar, ctx.actor)
    notices = ""
    if told is not None:
        ctx.pushed.extend(r.key for r in told.recipients)
        notices = ctx.t("notices.sent", count=len(told.recipients))
    if not published:
        return ctx.t("triage.chat.published_none") + notices
    shown = 5
    more = len(published) - shown
    return ctx.t(
        "triage.chat.published",
        count=len(published),
        references=", ".join(published),
        notices=notices,
        undo=", ".join(f"« !statut {r} brouillon »" for r in published[:shown]),
        more=ctx.t("triage.chat.published_more", count=more) if more > 0 else "",
    )


@_guarded("publier")
def run_publish(turn: Turn, argument: str) -> str | None:
    references = _references(argument)
    if argument.strip() and not references:
        return None
    return publish(turn, references or None)


COMMANDS = (
    CommandSpec("triage", run_triage, admin=True),
    CommandSpec("fiche", run_show, admin=True),
    CommandSpec("suite", run_suite, admin=True),
    CommandSpec("creer", run_create, admin=True),
    CommandSpec("ajouter", run_add, admin=True),
    CommandSpec("enlever", run_remove, admin=True),
    CommandSpec("fusionner", run_merge, admin=True),
    CommandSpec("renommer", run_rename, admin=True),
    CommandSpec("decrire", run_describe, admin=True),
    CommandSpec("reorienter", run_redirect, admin=True),
    CommandSpec("rejeter", run_reject, admin=True),
    CommandSpec("rouvrir", run_reopen, admin=True),
    CommandSpec("statut", run_status, admin=True),
    CommandSpec("publier", run_publish, admin=True),
)
