"""The agent's profile, shown on request, with the way to change it."""

from __future__ import annotations

from typing import Any

from bot.consultation.collectivites import collectivite_value, lookup
from bot.dialogue.context import Context
from bot.dialogue.parsing import Option
from bot.dialogue.scene import Scene
from bot.dialogue.state import PROFILE_FORM, Frame
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.forms.summary import summary_lines

PROFILE = "profile"
EDIT, BACK = "modifier", "retour"


class ProfileScene(Scene):
    name = PROFILE

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx = turn.ctx
        lines = summary_lines(ctx, PROFILE_FORM, profile_answers(ctx))
        text = "\n".join((ctx.t("profile.title"), lines))
        has_draft = turn.state.draft_frame() is not None
        back = "profile.back_to_draft" if has_draft else "profile.back_to_menu"
        return Question(text, (Option(EDIT, ctx.t("profile.edit")), Option(BACK, ctx.t(back))))

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        if answer.choice_ids == (EDIT,):
            turn.start_form(PROFILE_FORM, profile_answers(turn.ctx))
        else:
            turn.return_to_form()


def profile_answers(ctx: Context) -> dict[str, Any]:
    """The stored profile, as the answers of the profile form."""
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
