"""Storing a confirmed contribution, and listing an agent's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config.calendar import french_date

if TYPE_CHECKING:
    from bot.dialogue import Turn

# Fields stored in their own columns; every other answer goes to ``Contribution.answers``.
COLUMNS = ("title", "description", "thematique")


def submit(turn: Turn) -> None:
    """Store the draft under a reference number and say what happens next."""
    from bot.dialogue import enter_menu, return_to_draft

    ctx, state = turn.ctx, turn.state
    form = state.form
    assert form is not None and ctx.agent is not None
    calendar = ctx.services.calendar
    if not calendar.is_open("collecte", ctx.now):
        from bot.dialogue import collecte_closed_text

        turn.say(collecte_closed_text(ctx) + "\n\n" + ctx.t("submit.kept"))
        return_to_draft(turn)
        return
    answers: dict[str, Any] = form.answers
    thematique = answers["thematique"]
    reference = ctx.tx.add_contribution(
        ctx.agent,
        kind=form.name,
        title=answers["title"],
        description=answers["description"],
        answers={k: v for k, v in answers.items() if k not in COLUMNS},
        thematique=thematique["id"],
        confidence=thematique.get("confidence"),
        thematique_source=thematique.get("source", "agent"),
        now=ctx.now,
    )
    ctx.tx.audit(
        ctx.actor, "contribution.submitted", subject=reference, kind=form.name
    )
    state.form = None
    vote = calendar.get("vote")
    turn.say(
        ctx.t(
            f"submit.done.{form.name}",
            reference=reference,
            vote_start=french_date(vote.start),
            vote_end=french_date(vote.end),
        )
    )
    enter_menu(turn)


def list_mine(turn: Turn) -> None:
    from bot.dialogue import draft_title, has_draft

    ctx = turn.ctx
    items = ctx.tx.contributions_of(ctx.agent.id) if ctx.agent and ctx.agent.id else []
    if not items:
        turn.say(ctx.t("mine.none"))
    else:
        taxonomy = ctx.services.taxonomy
        lines = [
            ctx.t(
                "mine.item",
                reference=c.reference,
                title=c.title,
                thematique=taxonomy.label(c.thematique),
                date=french_date(ctx.services.calendar.today(c.created_at)),
            )
            for c in items
        ]
        turn.say(ctx.t("mine.title", count=len(items)) + "\n" + "\n".join(lines))
    if has_draft(turn.state):
        turn.say(ctx.t("mine.draft", title=draft_title(ctx, turn.state)))
