"""The question each mode of the conversation asks, built from the state."""

from __future__ import annotations

from typing import Any

from bot.consultation import recurrence
from bot.dialogue.context import Context
from bot.dialogue.parsing import NO_ALIASES, YES_ALIASES, Option
from bot.dialogue.state import SKIP, DialogueState, Mode, draft, has_draft
from bot.forms.base import FormState, Question
from bot.forms.intake import collectivite_value, lookup
from config.calendar import french_date


def yes_no(ctx: Context, text: str, yes: str, no: str) -> Question:
    return Question(
        text, (Option("oui", ctx.t(yes), YES_ALIASES), Option("non", ctx.t(no), NO_ALIASES))
    )


def current_question(ctx: Context, state: DialogueState) -> Question:
    form = state.form
    match state.mode:
        case Mode.FORM if form is not None and form.field is not None:
            return field_question(ctx, form)
        case Mode.SUMMARY if form is not None:
            return summary_question(ctx, form)
        case Mode.EDIT_PICK if form is not None:
            definition = ctx.services.forms[form.name]
            options = [
                Option(f.name, f.label(ctx, form.name)) for f in definition.answered(form.answers)
            ]
            options.append(Option("retour", ctx.t("edit.back")))
            return Question(ctx.t("edit.which"), tuple(options))
        case Mode.CONFIRM_CANCEL:
            profile = form is not None and form.name == "profil"
            text = ctx.t("cancel.confirm_profile" if profile else "cancel.confirm")
            return yes_no(ctx, text, "cancel.yes", "cancel.no")
        case Mode.CONFIRM_NEW:
            return yes_no(
                ctx, ctx.t("new.confirm", title=draft_title(ctx, state)), "new.yes", "new.no"
            )
        case Mode.RESUME:
            pending = draft(state)
            started = (
                french_date(ctx.services.calendar.today(pending.started_at)) if pending else ""
            )
            return Question(
                ctx.t("resume.prompt", title=draft_title(ctx, state), date=started),
                (
                    Option("reprendre", ctx.t("resume.continue"), YES_ALIASES),
                    Option("abandonner", ctx.t("resume.drop"), NO_ALIASES),
                ),
            )
        case Mode.PROFILE:
            return profile_question(ctx, state)
        case Mode.SIMILAR if form is not None:
            return recurrence.question(ctx, form)
        case _:
            return menu_question(ctx, state)


def draft_title(ctx: Context, state: DialogueState) -> str:
    pending = draft(state)
    if pending is None:
        return ""
    return str(pending.answers.get("title") or ctx.t(f"draft.untitled.{pending.name}"))


def field_question(ctx: Context, form: FormState) -> Question:
    definition = ctx.services.forms[form.name]
    field = definition.field(form.field or "")
    question = field.question(ctx, form)
    text = question.text
    options = question.options
    if field.name in form.answers and form.answers[field.name] is not None and not form.sub:
        current = field.display(ctx, form.name, form.answers[field.name])
        text = f"{text}\n\n{ctx.t('form.current_answer', value=current)}"
    if field.optional:
        if options:
            options = (*options, Option(SKIP, ctx.t("form.skip")))
        else:
            text = f"{text}\n{ctx.t('form.optional_hint')}"
    return Question(text, options, question.multiple, question.free_text)


def menu_question(ctx: Context, state: DialogueState) -> Question:
    calendar = ctx.services.calendar
    options: list[Option] = []
    if calendar.is_open("collecte", ctx.now):
        collecte = calendar.get("collecte")
        text = ctx.t("menu.prompt", end=french_date(collecte.end))
        options += [
            Option("besoin", ctx.t("menu.besoin"), ("un besoin", "b")),
            Option("service", ctx.t("menu.service"), ("un service", "s")),
        ]
    else:
        text = collecte_closed_text(ctx)
    options += [
        Option("mes_contributions", ctx.t("menu.mine")),
        Option("profil", ctx.t("menu.profile")),
        Option("aide", ctx.t("menu.help")),
    ]
    return Question(text, tuple(options))


def collecte_closed_text(ctx: Context) -> str:
    calendar = ctx.services.calendar
    collecte = calendar.get("collecte")
    if calendar.today(ctx.now) < collecte.start:
        return ctx.t("phase.collecte_not_open", start=french_date(collecte.start))
    current = calendar.current(ctx.now)
    phase = ctx.t("phase.now", label=current.label) if current else ""
    return ctx.t("phase.collecte_closed", end=french_date(collecte.end), phase=phase)


def summary_lines(ctx: Context, form_name: str, answers: dict[str, Any]) -> str:
    """One line per answered field, marking the private ones."""
    lines = []
    for field in ctx.services.forms[form_name].answered(answers):
        value = answers[field.name]
        shown = ctx.t("summary.empty") if value is None else field.display(ctx, form_name, value)
        private = "" if field.public else " " + ctx.t("summary.private")
        lines.append(f"• {field.label(ctx, form_name)}{private} : {shown}")
    return "\n".join(lines)


def summary_question(ctx: Context, form: FormState) -> Question:
    lines = summary_lines(ctx, form.name, form.answers)
    same_as = recurrence.summary_line(ctx, form)
    if same_as:
        lines += f"\n• {same_as}"
    text = "\n\n".join(
        (ctx.t(f"summary.title.{form.name}"), lines, ctx.t(f"summary.public.{form.name}"))
    )
    return Question(
        text,
        (
            Option("envoyer", ctx.t(f"summary.submit.{form.name}"), ("oui", "ok", "valider")),
            Option("modifier", ctx.t("summary.edit")),
            Option("annuler", ctx.t("summary.cancel")),
        ),
    )


def profile_question(ctx: Context, state: DialogueState) -> Question:
    text = "\n".join((ctx.t("profile.title"), summary_lines(ctx, "profil", profile_answers(ctx))))
    back = "profile.back_to_draft" if has_draft(state) else "profile.back_to_menu"
    return Question(
        text, (Option("modifier", ctx.t("profile.edit")), Option("retour", ctx.t(back)))
    )


def profile_answers(ctx: Context) -> dict[str, Any]:
    agent = ctx.agent
    if agent is None or agent.collectivite_id is None:
        return {}
    collectivite = ctx.tx.collectivite(agent.collectivite_id)
    return {
        "collectivite": collectivite_value(lookup(ctx, collectivite.kind, collectivite.code))
        if collectivite
        else None,
        "profil": agent.profile,
        "fonction": agent.fonction,
        "email": agent.email,
    }
