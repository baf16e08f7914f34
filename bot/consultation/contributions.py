"""Storing a confirmed contribution, and describing an agent's own: no dialogue flow here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from bot.consultation.recurrence import contribution_text
from bot.dialogue.context import Context
from bot.dialogue.parsing import fold
from bot.forms.base import Completion, FormState
from config.calendar import french_date

# Fields stored in their own columns; every other answer goes to ``Contribution.answers``.
COLUMNS = ("title", "description", "thematique", "same_as")
CLASSIFIED_FIELDS = {
    "besoin": ("title", "description", "current_handling"),
    "service": ("title", "description", "funding"),
}
"""What the thématique classifier reads of each kind of contribution, joined by new lines."""


def classified_text(answers: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The text the thématique classifier reads: ``fields`` of ``answers``, one a line (an
    unanswered optional field is an empty line). The conversation and the learning from the
    agents' choices (``bot.consultation.learning``) both read it so."""
    return "\n".join(str(answers.get(name) or "") for name in fields)


def submit(ctx: Context, form: FormState) -> Completion:
    """Store a confirmed draft if the collecte is open; otherwise the agent keeps it."""
    calendar = ctx.services.calendar
    if not calendar.is_open("collecte", ctx.now):
        return Completion(collecte_closed(ctx) + "\n\n" + ctx.t("submit.kept"), done=False)
    return Completion(store(ctx, form))


def closed(ctx: Context, form: FormState) -> str | None:
    """The forms' ``closed`` hook: once the collecte is over, a draft can no longer be sent
    (a collecte extended in the calendar takes it back: only its end date counts)."""
    calendar = ctx.services.calendar
    collecte = calendar.get("collecte")
    if calendar.today(ctx.now) <= collecte.end:
        return None
    title = form.answers.get("title") or ctx.t(f"draft.untitled.{form.name}")
    started = french_date(calendar.today(form.started_at))
    return ctx.t("draft.closed", end=french_date(collecte.end), title=title, date=started)


REPEAT_RATIO = 0.9
"""How alike (difflib's ratio, once case, accents, punctuation and spacing are set aside) a
draft's title, and its description, must be to those of the agent's own contribution for
the draft to be a copy of it."""


def repeats(ctx: Context, form: FormState) -> str | None:
    """The forms' ``repeats`` hook: the agent's own contribution of the same kind that this
    draft copies (the same title and the same description, give or take case, accents,
    punctuation and a few letters: a text typed again, or pasted twice), as the question to
    ask before sending it a second time; None when it copies none."""
    if ctx.agent is None or ctx.agent.id is None:
        return None
    title, description = (str(form.answers.get(f, "")) for f in ("title", "description"))
    for sent in reversed(ctx.tx.contributions_of(ctx.agent.id)):
        if (
            sent.kind == form.name
            and _alike(title, sent.title)
            and _alike(description, sent.description)
        ):
            return ctx.t(
                "repeat.question",
                kind=ctx.t(f"recurrence.kind.{form.name}"),
                reference=sent.reference,
                title=sent.title,
                date=french_date(ctx.services.calendar.today(sent.created_at)),
            )
    return None


def _alike(typed: str, sent: str) -> bool:
    a, b = fold(typed), fold(sent)
    if a == b:
        return True
    matcher = SequenceMatcher(None, a, b)
    return matcher.quick_ratio() >= REPEAT_RATIO and matcher.ratio() >= REPEAT_RATIO


def collecte_closed(ctx: Context) -> str:
    """Why a contribution cannot be written now, and when it could have been."""
    calendar = ctx.services.calendar
    collecte = calendar.get("collecte")
    if calendar.today(ctx.now) < collecte.start:
        return ctx.t("phase.collecte_not_open", start=french_date(collecte.start))
    current = calendar.current(ctx.now)
    phase = ctx.t("phase.now", label=current.label) if current else ""
    return ctx.t("phase.collecte_closed", end=french_date(collecte.end), phase=phase)


def store(ctx: Context, form: FormState) -> str:
    """Store a confirmed draft; returns the message that gives its reference and what next."""
    assert ctx.agent is not None
    answers: dict[str, Any] = form.answers
    thematique = answers["thematique"]
    contribution_id, reference = ctx.tx.add_contribution(
        ctx.agent,
        kind=form.name,
        title=answers["title"],
        description=answers["description"],
        answers={k: v for k, v in answers.items() if k not in COLUMNS},
        thematique=thematique["id"],
        confidence=thematique.get("confidence"),
        thematique_source=thematique.get("source", "agent"),
        same_as_id=answers.get("same_as"),
    )
    if ctx.services.similar is not None:
        entry = ctx.services.similar.add(contribution_id, form.name, contribution_text(form))
        if entry is not None:  # read back at the next start instead of recomputed
            ctx.tx.set_index_entry(contribution_id, entry)
    ctx.tx.audit(ctx.actor, "contribution.submitted", subject=reference, kind=form.name)
    vote = ctx.services.calendar.get("vote")
    return ctx.t(
        f"submit.done.{form.name}",
        reference=reference,
        vote_start=french_date(vote.start),
        vote_end=french_date(vote.end),
    )


def mine(ctx: Context) -> str:
    """The agent's contributions, one line each."""
    items = ctx.tx.contributions_of(ctx.agent.id) if ctx.agent else []
    if not items:
        return ctx.t("mine.none")
    taxonomy, calendar = ctx.services.taxonomy, ctx.services.calendar
    lines = [
        ctx.t(
            "mine.item",
            reference=c.reference,
            title=c.title,
            thematique=taxonomy.label(c.thematique),
            date=french_date(calendar.today(c.created_at)),
        )
        for c in items
    ]
    return ctx.t("mine.title", count=len(items)) + "\n" + "\n".join(lines)
