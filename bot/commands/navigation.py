"""Commands that move around the conversation, typed at any time: aide, retour..."""

from __future__ import annotations

from bot.consultation import vouching
from bot.consultation.contributions import collecte_closed
from bot.dialogue.commands import CommandSpec
from bot.dialogue.state import PROFILE_FORM
from bot.dialogue.step import greet
from bot.dialogue.turn import MENU, RESUME, Turn
from bot.scenes.common import answer_pending, kept_text, show_help
from bot.scenes.confirm import CONFIRM_CANCEL, cancel_form
from bot.scenes.edit_pick import EDIT_PICK
from bot.scenes.new_contribution import CONFIRM_NEW, start_contribution
from storage import campaigns


def aide(turn: Turn, argument: str) -> None:
    show_help(turn)


def annuler(turn: Turn, argument: str) -> None:
    """Abandon the form being filled, after confirmation; typed at that confirmation
    (« Abandonner ce brouillon ? »), it is the confirmation. Above a draft (the offer to
    resume it, to start another, the menu), it means that draft. At a confirmation that
    commands abandon (a push previewed), it abandons it, as « non »."""
    frame = turn.top
    if turn.scene(frame).left_by_commands and turn.scene(frame).back(turn, frame):
        return
    above_draft = frame.scene in (RESUME, CONFIRM_NEW, MENU) and turn.state.draft_frame()
    if frame.scene == CONFIRM_CANCEL:
        cancel_form(turn)
    elif (frame.form is not None and turn.scene(frame).editing) or above_draft:
        turn.push(CONFIRM_CANCEL)
    else:
        turn.say(turn.ctx.t("cancel.nothing"))


def retour(turn: Turn, argument: str) -> None:
    frame = turn.top
    if not turn.scene(frame).back(turn, frame):
        turn.say(turn.ctx.t("back.nowhere"))


def modifier(turn: Turn, argument: str) -> None:
    frame = turn.top
    if frame.form is not None and frame.form.answers and turn.scene(frame).editing:
        frame.scene = EDIT_PICK
    else:
        turn.say(turn.ctx.t("edit.nothing"))


def nouvelle(turn: Turn, argument: str) -> None:
    """A new contribution: a besoin or a service? (after asking to drop a draft with
    answers). Once the collecte is over, the menu, with why nothing can be sent."""
    ctx = turn.ctx
    draft = turn.state.draft()
    if draft is not None and draft.answers:
        turn.push(CONFIRM_NEW)
    elif ctx.has_profile and ctx.services.calendar.is_open("collecte", ctx.now):
        turn.to_menu()
        start_contribution(turn, None)
    else:
        turn.drop_draft()
        closed = not ctx.services.calendar.is_open("collecte", ctx.now)
        turn.to_menu(collecte_closed(ctx) if closed and ctx.has_profile else None)


def menu(turn: Turn, argument: str) -> None:
    """The menu; a draft in progress is kept, and the menu offers it first. Unlike
    ``nouvelle``, it says nothing of the collecte: the agent did not ask to contribute."""
    if turn.state.draft_frame() is None or not turn.ctx.has_profile:
        turn.drop_draft()
        turn.to_menu()
    elif turn.top.scene != MENU:
        turn.menu_over_draft()


def reprendre(turn: Turn, argument: str) -> None:
    """Back to the contribution in progress, the word the menu and the offer to resume use
    for it, typed where they do not offer it (the profile shown, a question after a
    silence); the text kept by the offer to resume is used as there. Without a draft there
    is nothing to resume: said, and nothing else changes (the announcements come back with
    « reprendre les annonces », told to an agent who stopped them)."""
    ctx, state = turn.ctx, turn.state
    form = state.form_frame()
    if state.draft_frame() is None:
        said = [ctx.t("resume.nothing")]
        if ctx.agent is not None and campaigns.is_opted_out(ctx.tx, ctx.agent.id):
            said.append(ctx.t("subscription.resume_hint"))
        turn.say(" ".join(said))
    elif form is not None and form.form is not None and form.form.name == PROFILE_FORM:
        turn.say(ctx.t("resume.profile_first"))  # a profile edited above the draft
    elif typed := kept_text(state):
        answer_pending(turn, typed)
    else:
        turn.return_to_form()


def start(turn: Turn, argument: str) -> None:
    """``/start``, or a Telegram link's ``/start ABCD-1234``: an invitation code."""
    if argument.strip():
        turn.say(vouching.use_code(turn.ctx, argument))
    else:
        greet(turn)


COMMANDS = (
    CommandSpec("aide", aide, aliases=("help", "?"), menu=True),
    CommandSpec("annuler", annuler, menu=True),
    CommandSpec("retour", retour, aliases=("precedent", "retour arriere"), menu=True),
    CommandSpec("modifier", modifier, menu=True),
    CommandSpec(
        "nouvelle",
        nouvelle,
        aliases=("nouveau", "nouvelle contribution"),
        menu=True,
        opens="collecte",
        closes="collecte",
    ),
    CommandSpec("menu", menu, aliases=("accueil",), menu=True),
    CommandSpec("reprendre", reprendre),
    CommandSpec("start", start, aliases=("demarrer",), prefixed=True, listed=False),
)
