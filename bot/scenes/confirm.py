"""Confirmations: drop this draft? withdraw a sent contribution?

(Dropping a draft to start another one: :mod:`bot.scenes.new_contribution`.)
"""

from __future__ import annotations

from bot.consultation import sent
from bot.dialogue.scene import Scene
from bot.dialogue.state import PROFILE_FORM, Frame
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import YES, answer_pending, kept_text, yes_no

CONFIRM_CANCEL = "confirm_cancel"


class ConfirmCancelScene(Scene):
    """``annuler`` in a form: drop what was typed, after confirmation."""

    name = CONFIRM_CANCEL
    about_form = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        form = turn.state.form_frame()
        profile = form is not None and form.form is not None and form.form.name == PROFILE_FORM
        text = turn.ctx.t("cancel.confirm_profile" if profile else "cancel.confirm")
        return yes_no(turn.ctx, text, "cancel.yes", "cancel.no")

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        if answer.choice_ids == (YES,):
            cancel_form(turn)
            return
        turn.say(turn.ctx.t("cancel.kept"))
        typed = kept_text(turn.state)  # asked over the offer to resume: it resumes
        if typed:
            answer_pending(turn, typed)
        else:
            turn.return_to_form()


def cancel_form(turn: Turn) -> None:
    """Drop the form being filled (and whatever was asked above it)."""
    ctx, state = turn.ctx, turn.state
    frame = state.form_frame()
    name = frame.form.name if frame is not None and frame.form is not None else ""
    if frame is not None:
        del state.stack[state.stack.index(frame) :]
    if name == PROFILE_FORM and ctx.has_profile:
        turn.say(ctx.t("profile.edit_cancelled"))
        turn.return_to_form()
    elif not ctx.has_profile and ctx.is_admin:  # they may work without one
        turn.to_menu(ctx.t("cancel.profile_admin"))
    elif not ctx.has_profile:
        turn.say(ctx.t("cancel.profile_needed"))
        turn.welcome()
    else:
        turn.to_menu(ctx.t("cancel.done"))


CONFIRM_WITHDRAW = "confirm_withdraw"


def ask_withdraw(turn: Turn, references: list[str]) -> None:
    """``supprimer B-0002``: say why the ones that cannot be withdrawn cannot, and ask to
    confirm the others."""
    ctx, allowed, refusals = turn.ctx, [], []
    for reference in references:
        found, refused = sent.withdrawable(ctx, reference)
        if found is None:
            refusals.append(refused or "")
        else:
            allowed.append(found.reference)
    if refusals:
        turn.say("\n".join(refusals))
    if allowed:
        turn.push(CONFIRM_WITHDRAW, references=allowed)


class ConfirmWithdrawScene(Scene):
    """Withdraw sent contributions (:func:`ask_withdraw`), after confirmation."""

    name = CONFIRM_WITHDRAW
    expires = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx, references = turn.ctx, frame.data["references"]
        items = "\n".join(sent.item(ctx, reference) for reference in references)
        text = ctx.t("sent.withdraw.confirm", count=len(references), items=items)
        return yes_no(ctx, text, "sent.withdraw.yes", "sent.withdraw.no")

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        references = frame.data["references"]
        turn.pop()
        if answer.choice_ids == (YES,):
            turn.say("\n".join(sent.withdraw(turn.ctx, r) for r in references))
        else:
            turn.say(turn.ctx.t("sent.withdraw.kept", count=len(references)))
