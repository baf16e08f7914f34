"""The conversation: one pure-ish step from (state, incoming) to (state, replies).

The state is a small JSON document (:class:`DialogueState`) stored with the conversation.
The step reads and writes the database only through the turn's :class:`~storage.store.Tx`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from bot import admin, contributions
from bot.context import Context
from bot.forms import Accept, Answer, AskAgain, ChoiceField, Form, FormState, Question, Reject
from bot.intake import collectivite_value, lookup
from bot.parsing import (
    NO_ALIASES,
    YES_ALIASES,
    Command,
    Option,
    ParsedCommand,
    fold,
    match_choice,
    match_choices,
    parse_command,
)
from bot.values import (
    Choice,
    Incoming,
    IncomingAttachment,
    IncomingChoice,
    IncomingPollAnswer,
    IncomingStart,
    IncomingText,
    OutChoices,
    Outgoing,
    OutText,
)
from config.calendar import french_date

SKIP = "passer"
CONTRIBUTION_FORMS = ("besoin", "service")


class Mode(StrEnum):
    NEW = "new"
    MENU = "menu"
    FORM = "form"
    SUMMARY = "summary"
    EDIT_PICK = "edit_pick"
    CONFIRM_CANCEL = "confirm_cancel"
    CONFIRM_NEW = "confirm_new"
    RESUME = "resume"
    PROFILE = "profile"


class ShownOption(BaseModel):
    id: str
    label: str
    aliases: list[str] = Field(default_factory=list)


class DialogueState(BaseModel):
    """Everything the bot remembers of a conversation between two messages."""

    mode: Mode = Mode.NEW
    form: FormState | None = None
    suspended: FormState | None = None  # a draft put aside while the profile is edited
    question: int = 0  # increases with every question asked: the token of stale buttons
    options: list[ShownOption] = Field(default_factory=list)  # what the last question offered
    multiple: bool = False
    free_text: bool = True
    last_seen: datetime | None = None


class Turn:
    """Collects the replies of one step, and asks questions (recording what was offered)."""

    def __init__(self, ctx: Context, state: DialogueState) -> None:
        self.ctx = ctx
        self.state = state
        self.out: list[Outgoing] = []

    def say(self, text: str) -> None:
        if text:
            self.out.append(OutText(text))

    def ask(self, question: Question) -> None:
        state = self.state
        state.question += 1
        state.options = [
            ShownOption(id=o.id, label=o.label, aliases=list(o.aliases)) for o in question.options
        ]
        state.multiple = question.multiple
        state.free_text = question.free_text or not question.options
        if question.options:
            choices = tuple(Choice(o.id, o.label) for o in question.options)
            self.out.append(
                OutChoices(question.text, choices, str(state.question), question.multiple)
            )
        else:
            self.out.append(OutText(question.text))

    def reask(self) -> None:
        self.ask(current_question(self.ctx, self.state))


def step(ctx: Context, state: DialogueState, incoming: Incoming) -> list[Outgoing]:
    """Handle one incoming value; mutates ``state`` and returns the replies."""
    turn = Turn(ctx, state)
    idle = state.last_seen is not None and ctx.now - state.last_seen > timedelta(
        minutes=ctx.services.settings.resume_after_minutes
    )
    state.last_seen = ctx.now
    if not ctx.has_profile and (state.form is None or state.form.name != "profil"):
        welcome(turn)
        return turn.out
    if state.mode is Mode.NEW:
        state.mode = Mode.MENU
    match incoming:
        case IncomingStart():
            greet(turn)
        case IncomingAttachment():
            turn.say(ctx.t("input.attachment"))
            turn.reask()
        case IncomingPollAnswer():
            turn.say(ctx.t("input.no_poll"))
            turn.reask()
        case IncomingChoice(choice_id=choice_id, token=token):
            if token is not None and token != str(state.question):
                turn.say(ctx.t("input.stale_choice"))
                turn.reask()
            else:
                label = next((o.label for o in state.options if o.id == choice_id), choice_id)
                on_answer(turn, Answer(label, (choice_id,)))
        case IncomingText(text=text):
            command = parse_command(text)
            if command is not None:
                on_command(turn, command)
            elif (
                idle
                and has_draft(state)
                and state.mode in (Mode.FORM, Mode.SUMMARY, Mode.EDIT_PICK)
            ):
                offer_resume(turn)
            else:
                on_text(turn, text)
    return turn.out


# -- entering states -------------------------------------------------------------------


def welcome(turn: Turn) -> None:
    ctx, state = turn.ctx, turn.state
    if state.mode is Mode.NEW:
        turn.say(ctx.t("welcome.first"))
    state.form = ctx.services.forms["profil"].start(ctx.now)
    state.mode = Mode.FORM
    turn.say(ctx.t("welcome.profile_intro"))
    turn.reask()


def greet(turn: Turn) -> None:
    """A returning user opened the conversation again."""
    if has_draft(turn.state):
        offer_resume(turn)
    elif turn.state.form is not None:  # the profile form
        turn.reask()
    else:
        enter_menu(turn, turn.ctx.t("menu.hello"))


def enter_menu(turn: Turn, lead: str | None = None) -> None:
    state = turn.state
    if not turn.ctx.has_profile:
        welcome(turn)
        return
    state.mode = Mode.MENU
    turn.say(lead or "")
    turn.reask()


def enter_form(turn: Turn, form: FormState) -> None:
    turn.state.form = form
    turn.state.mode = Mode.FORM if form.field is not None else Mode.SUMMARY
    turn.reask()


def offer_resume(turn: Turn) -> None:
    turn.state.mode = Mode.RESUME
    turn.reask()


def return_to_draft(turn: Turn) -> None:
    """After a side trip (help, confirmation refused, profile), ask the pending question."""
    state = turn.state
    if state.form is None:
        enter_menu(turn)
    else:
        state.mode = Mode.FORM if state.form.field is not None else Mode.SUMMARY
        turn.reask()


def has_draft(state: DialogueState) -> bool:
    form = state.suspended or state.form
    return form is not None and form.name in CONTRIBUTION_FORMS


def draft(state: DialogueState) -> FormState | None:
    for form in (state.suspended, state.form):
        if form is not None and form.name in CONTRIBUTION_FORMS:
            return form
    return None


# -- the question each mode asks ----------------------------------------------------------


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
            return yes_no(ctx, ctx.t("cancel.confirm"), "cancel.yes", "cancel.no")
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
    text = "\n\n".join(
        (
            ctx.t(f"summary.title.{form.name}"),
            summary_lines(ctx, form.name, form.answers),
            ctx.t(f"summary.public.{form.name}"),
        )
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


# -- reacting -----------------------------------------------------------------------------


def on_text(turn: Turn, text: str) -> None:
    state, ctx = turn.state, turn.ctx
    options = [Option(o.id, o.label, tuple(o.aliases)) for o in state.options]
    if state.mode is Mode.FORM and current_field_optional(ctx, state) and fold(text) == SKIP:
        on_answer(turn, Answer(text, (SKIP,)))
        return
    if options:
        ids = (
            match_choices(text, options)
            if state.multiple
            else ([found] if (found := match_choice(text, options)) else None)
        )
        if ids:
            on_answer(turn, Answer(text, tuple(ids)))
            return
        if not state.free_text:
            turn.say(ctx.t("input.choice_unknown_count", count=len(options)))
            turn.reask()
            return
    on_answer(turn, Answer(text))


def current_field_optional(ctx: Context, state: DialogueState) -> bool:
    form = state.form
    if form is None or form.field is None:
        return False
    return ctx.services.forms[form.name].field(form.field).optional


def on_answer(turn: Turn, answer: Answer) -> None:
    state, ctx = turn.state, turn.ctx
    choice = answer.choice_ids[0] if answer.choice_ids else None
    match state.mode:
        case Mode.FORM:
            on_field_answer(turn, answer)
        case Mode.SUMMARY:
            if choice == "envoyer":
                finish_form(turn)
            elif choice == "modifier":
                state.mode = Mode.EDIT_PICK
                turn.reask()
            elif choice == "annuler":
                state.mode = Mode.CONFIRM_CANCEL
                turn.reask()
            else:
                turn.say(ctx.t("input.choice_unknown"))
                turn.reask()
        case Mode.EDIT_PICK:
            form = state.form
            if choice is None or form is None:
                turn.say(ctx.t("input.choice_unknown"))
                turn.reask()
            elif choice == "retour":
                return_to_draft(turn)
            else:
                form.field, form.review, form.sub, form.forward = choice, True, {}, []
                state.mode = Mode.FORM
                turn.reask()
        case Mode.CONFIRM_CANCEL:
            if choice == "oui":
                cancel_form(turn)
            else:
                turn.say(ctx.t("cancel.kept"))
                return_to_draft(turn)
        case Mode.CONFIRM_NEW:
            if choice == "oui":
                drop_draft(state)
                enter_menu(turn, ctx.t("new.dropped"))
            else:
                return_to_draft(turn)
        case Mode.RESUME:
            if choice == "abandonner":
                drop_draft(state)
                enter_menu(turn, ctx.t("resume.dropped"))
            else:
                if state.suspended is not None and state.form is None:
                    state.form, state.suspended = state.suspended, None
                return_to_draft(turn)
        case Mode.PROFILE:
            if choice == "modifier":
                edit_profile(turn)
            else:
                return_to_draft(turn)
        case _:
            on_menu_choice(turn, choice)


def on_menu_choice(turn: Turn, choice: str | None) -> None:
    ctx, state = turn.ctx, turn.state
    if choice in CONTRIBUTION_FORMS:
        if not ctx.services.calendar.is_open("collecte", ctx.now):
            turn.say(collecte_closed_text(ctx))
            enter_menu(turn)
            return
        turn.say(ctx.t(f"intro.{choice}"))
        enter_form(turn, ctx.services.forms[choice].start(ctx.now))
    elif choice == "mes_contributions":
        list_mine(turn)
        turn.reask()
    elif choice == "profil":
        state.mode = Mode.PROFILE
        turn.reask()
    elif choice == "aide":
        turn.say(ctx.t("help.general"))
        turn.reask()
    else:
        turn.say(ctx.t("input.choice_unknown_count", count=len(state.options)))
        turn.reask()


def on_field_answer(turn: Turn, answer: Answer) -> None:
    ctx, state = turn.ctx, turn.state
    form = state.form
    assert form is not None and form.field is not None
    definition: Form = ctx.services.forms[form.name]
    field = definition.field(form.field)
    if field.optional and answer.choice_ids == (SKIP,):
        outcome: Accept | Reject | AskAgain = Accept(None)
    elif isinstance(field, ChoiceField) and not answer.choice_ids:
        outcome = Reject(ctx.t("input.choice_unknown_count", count=len(state.options)))
    else:
        outcome = field.accept(ctx, form, answer)
    match outcome:
        case Reject(message=message):
            turn.say(message)
            turn.reask()
        case AskAgain(notice=notice):
            turn.say(notice or "")
            turn.reask()
        case Accept(value=value, notice=notice):
            definition.record(form, field, value)
            turn.say(notice or "")
            state.mode = Mode.FORM if form.field is not None else Mode.SUMMARY
            if form.field is None and not form.confirm:
                finish_form(turn)
            else:
                turn.reask()


def finish_form(turn: Turn) -> None:
    form = turn.state.form
    assert form is not None
    if form.name == "profil":
        save_profile(turn)
    else:
        submit(turn)


def submit(turn: Turn) -> None:
    """Store the draft if the collecte is open; otherwise keep it and say why."""
    ctx, state = turn.ctx, turn.state
    assert state.form is not None
    if not ctx.services.calendar.is_open("collecte", ctx.now):
        turn.say(collecte_closed_text(ctx) + "\n\n" + ctx.t("submit.kept"))
        return_to_draft(turn)
        return
    turn.say(contributions.store(ctx, state.form))
    state.form = None
    enter_menu(turn)


def list_mine(turn: Turn) -> None:
    turn.say(contributions.mine(turn.ctx))
    if has_draft(turn.state):
        turn.say(turn.ctx.t("mine.draft", title=draft_title(turn.ctx, turn.state)))


def save_profile(turn: Turn) -> None:
    ctx, state = turn.ctx, turn.state
    form = state.form
    assert form is not None
    answers = form.answers
    ref = lookup(ctx, answers["collectivite"]["kind"], answers["collectivite"]["code"])
    first_time = not ctx.has_profile
    agent = ctx.tx.ensure_agent(ctx.key.transport, ctx.key.user)
    agent = ctx.tx.save_profile(
        agent,
        collectivite=ref,
        profile=answers["profil"],
        fonction=answers["fonction"],
        email=answers.get("email"),
    )
    ctx.agent = agent
    ctx.tx.audit(
        ctx.actor,
        "profile.saved",
        subject=f"agent:{agent.id}",
        collectivite=ref.code,
        first_time=first_time,
    )
    state.form, state.suspended = state.suspended, None
    turn.say(ctx.t("profile.saved", collectivite=ref.label))
    if state.form is not None:
        return_to_draft(turn)
    else:
        enter_menu(turn)


def edit_profile(turn: Turn) -> None:
    ctx, state = turn.ctx, turn.state
    if state.form is not None and state.form.name in CONTRIBUTION_FORMS:
        state.suspended = state.form
    form = ctx.services.forms["profil"].start(
        ctx.now, {k: v for k, v in profile_answers(ctx).items()}
    )
    state.form = form
    state.mode = Mode.SUMMARY if form.field is None else Mode.FORM
    turn.reask()


def cancel_form(turn: Turn) -> None:
    ctx, state = turn.ctx, turn.state
    name = state.form.name if state.form else ""
    if name == "profil" and state.suspended is not None:
        state.form, state.suspended = state.suspended, None
        turn.say(ctx.t("profile.edit_cancelled"))
        return_to_draft(turn)
        return
    state.form = None
    if not ctx.has_profile:
        turn.say(ctx.t("cancel.profile_needed"))
        welcome(turn)
        return
    enter_menu(turn, ctx.t("cancel.done"))


def drop_draft(state: DialogueState) -> None:
    if state.suspended is not None:
        state.suspended = None
    elif state.form is not None and state.form.name in CONTRIBUTION_FORMS:
        state.form = None


def on_command(turn: Turn, parsed: ParsedCommand) -> None:
    ctx, state = turn.ctx, turn.state
    command = parsed.command
    in_form = state.form is not None and state.mode in (Mode.FORM, Mode.SUMMARY, Mode.EDIT_PICK)
    if command is None:
        turn.say(ctx.t("command.unknown", word=parsed.word))
        turn.reask()
    elif command is Command.START:
        greet(turn)
    elif command in (Command.STATS, Command.EXPORT):
        turn.out.extend(admin.run(ctx, command))
        turn.reask()
    elif command is Command.AIDE:
        help_text = ""
        if state.mode is Mode.FORM and state.form and state.form.field:
            help_text = (
                ctx.services.forms[state.form.name]
                .field(state.form.field)
                .help(ctx, state.form.name)
            )
        turn.say("\n\n".join(filter(None, (help_text, ctx.t("help.general")))))
        turn.reask()
    elif command is Command.ANNULER:
        if in_form:
            state.mode = Mode.CONFIRM_CANCEL
        else:
            turn.say(ctx.t("cancel.nothing"))
        turn.reask()
    elif command is Command.RETOUR:
        on_back(turn)
    elif command is Command.MODIFIER:
        if in_form and state.form and state.form.answers:
            state.mode = Mode.EDIT_PICK
        else:
            turn.say(ctx.t("edit.nothing"))
        turn.reask()
    elif command is Command.MES_CONTRIBUTIONS:
        list_mine(turn)
        turn.reask()
    elif command is Command.NOUVELLE:
        if has_draft(state) and draft(state) and draft(state).answers:  # type: ignore[union-attr]
            state.mode = Mode.CONFIRM_NEW
            turn.reask()
        else:
            drop_draft(state)
            enter_menu(turn)
    elif command is Command.PROFIL:
        if state.form is not None and state.form.name == "profil":
            turn.say(ctx.t("profile.in_progress"))
            turn.reask()
        else:
            state.mode = Mode.PROFILE
            turn.reask()


def on_back(turn: Turn) -> None:
    ctx, state = turn.ctx, turn.state
    form = state.form
    if state.mode is Mode.EDIT_PICK or (state.mode is Mode.FORM and form and form.review):
        if form is not None:
            missing = ctx.services.forms[form.name].next_missing(form.answers)
            form.review, form.sub = False, {}
            form.field = missing.name if missing else None
        return_to_draft(turn)
        return
    if form is None or state.mode not in (Mode.FORM, Mode.SUMMARY):
        turn.say(ctx.t("back.nowhere"))
        turn.reask()
        return
    if form.sub:
        form.sub = {}
        turn.reask()
        return
    if not ctx.services.forms[form.name].back(form):
        turn.say(ctx.t("back.first"))
    state.mode = Mode.FORM
    turn.reask()
