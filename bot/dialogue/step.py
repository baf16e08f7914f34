"""The conversation: one step from (state, incoming value) to (new state, replies).

Global rules run first (no profile yet: the welcome; a command; a stale or forged choice);
then the scene of the top frame handles the answer; last, the question of whatever frame is
then on top is asked, except the profile question after an administrator's business (see
:func:`_finish`). The step reads and writes the database only through ``ctx.tx``.
"""

from __future__ import annotations

from datetime import timedelta

from bot.consultation import phases
from bot.core.values import (
    Incoming,
    IncomingAttachment,
    IncomingChoice,
    IncomingPollAnswer,
    IncomingStart,
    IncomingText,
    Outgoing,
)
from bot.dialogue.commands import ParsedCommand
from bot.dialogue.context import Context
from bot.dialogue.parsing import Greeting, fold, greeting, punctuation_only, read_choices
from bot.dialogue.pending import answers_pending, draft_started, draft_title
from bot.dialogue.state import KEEP, PROFILE_FORM, SKIP, DialogueState, Frame
from bot.dialogue.turn import FORM, MENU, RESUME, Turn
from bot.forms.base import Answer
from bot.forms.summary import summary_lines

__all__ = ["DialogueState", "answer", "step"]


def step(ctx: Context, state: DialogueState, incoming: Incoming) -> list[Outgoing]:
    """Handle one incoming value; mutates ``state`` and returns the replies."""
    turn = Turn(ctx, state)
    idle = state.last_seen is not None and ctx.now - state.last_seen > timedelta(
        minutes=ctx.services.settings.resume_after_minutes
    )
    state.last_seen = ctx.now
    if not ctx.has_profile and not state.in_profile_form():
        if ctx.is_admin:  # they run the consultation: no profile needed, none forced
            if not state.greeted:
                first = ctx.t("welcome.first", phase=phases.welcome(ctx))
                turn.say(f"{first}\n\n{ctx.t('welcome.admin')}")
                state.greeted = True
                if isinstance(incoming, IncomingStart) and not incoming.param:
                    return turn.finish()
        else:
            if isinstance(incoming, IncomingStart) and incoming.param:
                state.start_param = incoming.param[:64]  # a link's code, used once profiled
            turn.welcome()
            return turn.finish()
    state.greeted = True
    hello = _opening(ctx, state, incoming)
    if drop_closed_forms(turn, incoming, hello):
        if hello is not None:  # greeted first, then told; then what is left, or the menu
            greet(turn, hello=False)
        return turn.finish()
    admin = turn.scene(turn.top).admin  # the answer to an administrator's question
    if idle and turn.scene(turn.top).expires:  # a stale confirmation lapses
        turn.pop()
        turn.say(ctx.t("confirm.expired"))
        typed = incoming.text if isinstance(incoming, IncomingText) else ""
        if ctx.services.commands.parse(typed) is None:  # its answer, perhaps: not another's
            return _finish(turn, admin)
    match incoming:
        case IncomingStart(param=param):
            ctx.services.commands.get("start").handler(turn, param or "")
        case IncomingAttachment():
            turn.say(ctx.t("input.attachment"))
        case IncomingPollAnswer(poll_id=poll_id, option_ids=option_ids):
            handler = ctx.services.polls.get(poll_id.split("-", 1)[0])
            if handler is None:
                turn.say(ctx.t("input.no_poll"))
            else:
                previous = tuple(state.poll_answers.get(poll_id, ()))
                reply, counted = handler(ctx, poll_id, option_ids, previous)
                if counted:
                    state.poll_answers[poll_id] = list(option_ids)
                turn.say(reply)
        case IncomingChoice(choice_id=choice_id, token=token):
            on_choice(turn, choice_id, token)
        case IncomingText(text=text):
            parsed = ctx.services.commands.parse(text)
            if parsed is not None and _answers_the_question(state, text):
                parsed = None  # « reprendre » offered as a choice is an answer, not a command
            bare = (
                ctx.services.commands.without_argument(text)
                if parsed is None and not state.free_text
                else None
            )
            if bare is not None:  # « suivre » alone: say how to use it
                usage = ctx.t(f"commands.{bare.key}.usage")
                turn.say(ctx.t("command.needs_argument", usage=usage))
            elif parsed is None:
                if idle and state.draft_frame() is not None and turn.scene(turn.top).editing:
                    back_after_silence(turn, text)
                elif (hello := greeting(text)) is not None and not _answers_the_question(
                    state, text
                ):
                    greet_back(turn, hello)
                else:
                    on_text(turn, text)
            else:
                admin = run_command(turn, parsed) or admin
    if state.start_param is not None and ctx.has_profile:
        param, state.start_param = state.start_param, None
        ctx.services.commands.get("start").handler(turn, param)
    return _finish(turn, admin)


KEEP_CONFIRMATION = frozenset({"aide", "annuler", "retour"})
"""Commands about the question being asked: a confirmation stays for them."""


def leave_confirmation(turn: Turn, command: str) -> None:
    """Another command typed instead of answering a confirmation that commands abandon (a
    push previewed): the confirmation is dropped, as « non » would, and the command runs.
    Asked again after every later command, it would end up answered by mistake."""
    frame = turn.top
    if command not in KEEP_CONFIRMATION and turn.scene(frame).left_by_commands:
        turn.scene(frame).back(turn, frame)


def run_command(turn: Turn, parsed: ParsedCommand) -> bool:
    """Run a command typed, unless the user may not (yet); True for an administrator's."""
    ctx, command = turn.ctx, parsed.command
    if command is None:
        turn.say(ctx.t("command.unknown", word=parsed.word))
    elif command.admin and not ctx.is_admin:
        turn.say(ctx.t("admin.refused"))
    elif command.profile and not ctx.has_profile and not turn.state.in_profile_form():
        turn.ask_profile()  # an administrator without a profile
    else:
        leave_confirmation(turn, command.key)
        if command.admin:
            ctx.tx.audit(ctx.actor, f"admin.{command.key}")
        command.handler(turn, parsed.argument)
        return command.admin
    return False


def drop_closed_forms(turn: Turn, incoming: Incoming, hello: str | None = None) -> bool:
    """Drop, once, each form that can no longer be sent (a contribution once the collecte is
    over), with the questions about it (resume it? drop it?): its notice says why, and what
    had been typed is shown back, so that nothing is lost silently.

    Returns True when ``incoming`` answered what was dropped (a field being typed when the
    collecte closed, the offer to resume, the menu that offered the draft): it is shown back
    too when it was typed text, and taken for nothing else. A command runs as usual. An
    opening (``/start``, « bonjour »: ``hello``, what greets back) is no answer: the greeting
    comes first, then the notice, and True is returned.
    """
    ctx, state = turn.ctx, turn.state
    top, free_text = state.top, state.free_text
    said: list[str] = []
    for frame in list(state.stack):
        form = frame.form
        definition = ctx.services.forms[form.name] if form is not None else None
        if form is None or definition is None or definition.closed is None:
            continue
        notice = definition.closed(ctx, form)
        start = next((i for i, f in enumerate(state.stack) if f is frame), None)
        if notice is None or start is None:  # kept, or gone with a form below it
            continue
        end = start + 1
        while end < len(state.stack) and state.stack[end].form is None:
            if not turn.scene(state.stack[end]).about_form:
                break
            end += 1
        del state.stack[start:end]
        if form.answers:
            typed = summary_lines(ctx, form.name, form.answers)
            notice = f"{notice}\n\n{ctx.t('draft.typed')}\n{typed}"
        said.append(notice)
    if not said:
        return False
    # the menu that offered the draft, left above the one below it, goes too
    state.stack = [
        f
        for i, f in enumerate(state.stack)
        if i == 0 or f.scene != MENU or state.stack[i - 1].scene != MENU
    ]
    if hello is not None:
        turn.say(hello)
        turn.say("\n\n".join(said), apart=True)
        return True
    gone = all(f is not top for f in state.stack)
    answered = gone and not _runs_itself(ctx, state, incoming)
    typing = top is not None and top.scene == FORM and free_text  # a field's text, lost else
    if answered and typing and isinstance(incoming, IncomingText) and incoming.text.strip():
        said.append(f"{ctx.t('draft.last_message')}\n{incoming.text.strip()}")
    turn.say("\n\n".join(said), apart=True)
    return answered


def _opening(ctx: Context, state: DialogueState, incoming: Incoming) -> str | None:
    """What greets back a conversation opened again: ``/start`` (without a link's code), or
    a message that only greets and answers no option; None for anything else."""
    if isinstance(incoming, IncomingStart):
        return None if incoming.param else ctx.t("menu.hello")
    if not isinstance(incoming, IncomingText) or _answers_the_question(state, incoming.text):
        return None
    said = greeting(incoming.text)
    return ctx.t(f"greeting.{said.value}") if said is not None else None


def _runs_itself(ctx: Context, state: DialogueState, incoming: Incoming) -> bool:
    """A command, the start of a conversation, a file or a poll answer: not an answer to the
    question that was asked."""
    if isinstance(incoming, IncomingChoice):
        return False
    if not isinstance(incoming, IncomingText):
        return True
    parsed = ctx.services.commands.parse(incoming.text)
    return parsed is not None and not _answers_the_question(state, incoming.text)


def _finish(turn: Turn, admin: bool) -> list[Outgoing]:
    """The replies, and the question of the top frame.

    An administrator may have no profile (they run the consultation, they need not
    contribute to it): the welcome asked for it once, and their commands (and the
    confirmation of a push) leave that question standing without asking it again after
    every answer. It comes back when they start something that needs a profile.
    """
    frame = turn.top
    profile = frame.form is not None and frame.form.name == PROFILE_FORM
    if admin and profile and not turn.ctx.has_profile and not turn.asked:
        turn.leave_standing()
    return turn.finish()


def _answers_the_question(state: DialogueState, text: str) -> bool:
    """Plain text that names an option of the question asked (its id, label or alias)."""
    if text.strip()[:1] in ("/", "!"):
        return False
    folded = fold(text)
    return any(
        folded in {fold(o.id), fold(o.label), *(fold(a) for a in o.aliases)} for o in state.options
    )


def greet(turn: Turn, *, hello: bool = True) -> None:
    """A returning user opened the conversation again: a contribution in progress is
    offered to resume; another form (a territoire référent's offer) goes on where it
    stopped; else the menu. ``hello``: greet them first (not when already done)."""
    state = turn.state
    form = state.form_frame()
    said = turn.ctx.t("menu.hello") if hello else None
    if state.draft_frame() is not None:
        turn.push(RESUME)
    elif form is not None and form.form is not None and form.form.name != PROFILE_FORM:
        turn.say(said or "")
        turn.return_to_form()
    elif not state.in_profile_form():
        turn.to_menu(said)


def back_after_silence(turn: Turn, text: str) -> None:
    """Text typed on coming back to a draft left for a while (``resume_after``).

    The answer to the draft's question left standing is taken, the draft resumed, and the
    agent told so; anything else (a greeting, another subject, an answer to the summary)
    brings the offer to resume the draft, which keeps the text and uses it once the agent
    resumes (:func:`bot.scenes.common.answer_pending`).
    """
    ctx, state, frame = turn.ctx, turn.state, turn.top
    if frame is state.draft_frame() and frame.scene == FORM and answers_pending(turn, text):
        title, started = draft_title(ctx, state), draft_started(ctx, state)
        turn.say(ctx.t("resume.answered", title=title, date=started))
        on_text(turn, text)
    elif text.strip() and greeting(text) is None:
        turn.push(RESUME, typed=text.strip())
    else:
        turn.push(RESUME)


def greet_back(turn: Turn, hello: Greeting) -> None:
    """A message that only greets (« bonjour ») is no answer: greet back, and the question
    pending is asked again, whatever it is; nothing typed before is touched. At the menu,
    the greeting alone: the menu follows."""
    ctx = turn.ctx
    said = ctx.t(f"greeting.{hello.value}")
    turn.say(said if turn.top.scene == MENU else ctx.t("greeting.question", hello=said))


def on_choice(turn: Turn, choice_id: str, token: str | None) -> None:
    """A button: only one of the options of the question being asked is accepted."""
    state, ctx = turn.state, turn.ctx
    if token is not None and token != str(state.question):
        turn.say(ctx.t("input.stale_choice"))
        return
    label = next((o.label for o in state.options if o.id == choice_id), None)
    if label is None:  # a forged or outdated id: never taken as an answer
        turn.say(ctx.t("input.choice_unknown"))
        return
    answer(turn, Answer(label, (choice_id,)))


def on_text(turn: Turn, text: str) -> None:
    state, ctx = turn.state, turn.ctx
    options = state.offered()
    frame = turn.top
    if frame.scene == FORM and frame.form is not None and fold(text) == SKIP:
        definition = ctx.services.forms[frame.form.name]
        if frame.form.field is not None and definition.field(frame.form.field).optional:
            answer(turn, Answer(text, (SKIP,)))
            return
        if frame.form.field is not None:  # « passer » is no answer to a needed question
            turn.say(" ".join(filter(None, (ctx.t("form.not_optional"), _cancel_hint(ctx, frame)))))
            return
    if frame.scene == FORM and frame.form is not None and fold(text) == KEEP:
        form = frame.form
        if form.field is not None and not form.sub and form.answers.get(form.field) is not None:
            answer(turn, Answer(text, (KEEP,)))  # the current answer, after « retour »
            return
    if options:
        ids = read_choices(text, options, multiple=state.multiple)
        if ids:
            answer(turn, Answer(text, tuple(ids)))
            return
    if punctuation_only(text):  # « . », « ?? »: the question again, with its hint
        hint = turn.scene(frame).help(turn, frame)
        turn.say("\n\n".join(filter(None, (ctx.t("input.no_words"), hint))))
        return
    if options and not state.free_text:
        word = text.strip().partition(" ")[0]
        spec = ctx.services.commands.prefixed(word) if ctx.is_admin else None
        alone = ctx.services.commands.alone(text) if frame.scene != FORM else None
        if alone is not None:  # « P-012 » at the menu: ``voir P-012``
            run_command(turn, alone)
        elif spec is not None:  # « resultats »: an administrator's command, without « ! »
            turn.say(ctx.t("admin.needs_prefix", word=word, command=spec.name))
        elif not turn.scene(frame).other_text(turn, frame, text):
            turn.say(turn.not_understood(text))
        return
    answer(turn, Answer(text))


def _cancel_hint(ctx: Context, frame: Frame) -> str:
    """What « annuler » would drop, said where a question cannot be passed: the profile
    being typed (nothing for a first profile, which « annuler » only starts again), or the
    draft."""
    if frame.form is None or frame.form.name != PROFILE_FORM:
        return ctx.t("form.cancel_hint.draft")
    return ctx.t("form.cancel_hint.profil") if ctx.has_profile or ctx.is_admin else ""


def answer(turn: Turn, given: Answer) -> None:
    """Hand an answer to the scene of the top frame."""
    frame = turn.top
    turn.scene(frame).handle(turn, frame, given)
