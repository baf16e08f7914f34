"""An administrator's message to an audience: the preview, then sent once confirmed."""

from __future__ import annotations

from bot.consultation.campaigns import Campaign, queue_campaign
from bot.core.values import OutText
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import YES, yes_no
from storage.keys import pseudonym

ANNOUNCE = "announce"


class AnnounceScene(Scene):
    name = ANNOUNCE

    def question(self, turn: Turn, frame: Frame) -> Question:
        data = frame.data
        text = turn.ctx.t(
            "campaigns.preview", audience=data["audience"], count=data["count"], text=data["text"]
        )
        return yes_no(turn.ctx, text, "campaigns.send", "campaigns.keep")

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        ctx, data = turn.ctx, frame.data
        turn.pop()
        if answer.choice_ids != (YES,):
            turn.say(ctx.t("campaigns.cancelled"))
            turn.return_to_form()
            return
        stamp = ctx.now.strftime("%Y%m%d-%H%M%S")
        campaign = Campaign(
            f"annonce-{stamp}-{pseudonym(ctx.actor)[:6]}",
            "annonce",
            data["audience"],
            note=data["text"][:200],
            created_by=ctx.actor,
        )
        message = OutText(data["text"] + "\n\n" + ctx.t("annonces.stop_hint"))
        recipients = queue_campaign(ctx.tx, campaign, [message]) or []
        ctx.pushed.extend(r.key for r in recipients)
        turn.say(ctx.t("campaigns.queued", count=len(recipients), id=campaign.id))
        turn.return_to_form()
