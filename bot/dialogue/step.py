"""The conversation: one pure-ish step from (state, incoming) to (state, replies).

The state is a small JSON document (:class:`DialogueState`) stored with the conversation.
The step reads and writes the database only through the turn's :class:`~storage.store.Tx`.
"""

from __future__ import annotations

from datetime import timedelta

from bot.admin import commands as admin
from bot.consultation import contributions, recurrence
from bot.core.values import (
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
from bot.dialogue.context import Context
from bot.dialogue.parsing import (
    ADMIN_COMMANDS,
    Command,
    Option,
    ParsedCommand,
    fold,
    match_choice,
    match_choices,
    parse_command,
)
from bot.dialogue.questions import (
    collecte_closed_text,
    current_question,
    draft_title,
    profile_answers,
)
from bot.dialogue.state import (
    CONTRIBUTION_FORMS,
    SKIP,
    DialogueState,
    Mode,
    ShownOption,
    draft,
    has_draft,
)
from bot.forms.base import Accept, Answer, AskAgain, ChoiceField, Form, FormState, Question, Reject
from bot.forms.intake import lookup

__all__ = ["DialogueState", "step"]


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
        case Mode.SIMILAR:
            if choice is None or state.form is None:
                turn.say(ctx.t("input.choice_unknown"))
            else:
                turn.say(recurrence.answer(ctx, state.form, choice))
                state.mode = Mode.SUMMARY
            turn.reask()
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
            if form.answers.get(field.name) != value:
                recurrence.forget_if_changed(form, field.name)
            definition.record(form, field, value)
            turn.say(notice or "")
            state.mode = Mode.FORM if form.field is not None else Mode.SUMMARY
            if form.field is None and not form.confirm:
                finish_form(turn)
                return
            if (
                form.field is None
                and form.name in CONTRIBUTION_FORMS
                and ("same_as" not in form.answers)
            ):
                for note in recurrence.look_for_recurrence(ctx, form):
                    turn.say(note)
                if form.sub.get("similar"):
                    state.mode = Mode.SIMILAR
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
        platform_email=ctx.platform_email,
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
    elif command in ADMIN_COMMANDS:
        turn.out.extend(admin.run(ctx, command, parsed.argument))
        turn.reask()
    elif command is Command.AIDE:
        help_text = ""
        if state.mode is Mode.FORM and state.form and state.form.field:
            help_text = (
                ctx.services.forms[state.form.name]
                .field(state.form.field)
                .help(ctx, state.form.name)
            )
        admin_help = ctx.t("help.admin") if ctx.is_admin else ""
        turn.say("\n\n".join(filter(None, (help_text, ctx.t("help.general"), admin_help))))
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
