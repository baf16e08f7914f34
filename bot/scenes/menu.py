"""The menu: what an agent can do in the current phase."""

from __future__ import annotations

from bot.consultation import follow, phases, referents, vote
from bot.dialogue.parsing import Option
from bot.dialogue.pending import draft_title
from bot.dialogue.scene import Scene
from bot.dialogue.state import CONTRIBUTION_FORMS, Frame
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import show_help, show_mine
from bot.scenes.new_contribution import read_typed, start_contribution
from config.calendar import french_date
from storage.campaigns import VOTERS

MINE, PROFILE_CHOICE, HELP = "mes_contributions", "profil", "aide"
VOTE, SUPPORTS = "propositions", "mes_soutiens"
VOLUNTEER, OFFERS = "volontaire", "mes_engagements"
DRAFT = "brouillon"


def _between_phases(turn: Turn) -> str:
    """What the menu says when no phase with actions is open: the phase under way (the
    déploiement), or the last one that ended, and what comes next."""
    ctx = turn.ctx
    calendar = ctx.services.calendar
    current = calendar.current(ctx.now)
    if current is not None:
        text = ctx.t(f"phase.current.{current.id}", end=french_date(current.end))
        if current.id == "deploiement":  # the laureates' news: what to follow, or stop
            text = "\n".join(filter(None, (text, follow.menu_lines(ctx))))
        return text
    return phases.since_last(ctx)


class MenuScene(Scene):
    name = "menu"

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx = turn.ctx
        calendar = ctx.services.calendar
        options: list[Option] = []
        partner = ctx.agent is not None and ctx.agent.profile not in VOTERS
        if calendar.is_open("collecte", ctx.now):
            collecte = calendar.get("collecte")
            text = ctx.t("menu.prompt", end=french_date(collecte.end))
            options += [
                Option("besoin", ctx.t("menu.besoin"), ("un besoin", "b")),
                Option("service", ctx.t("menu.service"), ("un service", "s")),
            ]
        elif calendar.is_open("vote", ctx.now):
            end = french_date(calendar.get("vote").end)
            if partner:  # partners read the proposals; élus and agents support them
                text = ctx.t("menu.vote_prompt_partner", end=end)
                options.append(Option(VOTE, ctx.t("menu.read"), ("propositions",)))
            else:
                text = ctx.t("menu.vote_prompt", end=end)
                options += [
                    Option(VOTE, ctx.t("menu.vote"), ("voter", "propositions")),
                    Option(SUPPORTS, ctx.t("menu.supports")),
                ]
        elif calendar.is_open("referents", ctx.now):
            end = french_date(calendar.get("referents").end)
            if partner:  # only collectivités volunteer
                text = ctx.t("referents.menu_prompt_partner", end=end)
            else:
                text = ctx.t("referents.menu_prompt", end=end)
                options += [
                    Option(VOLUNTEER, ctx.t("referents.menu_volunteer"), ("volontaire",)),
                    Option(OFFERS, ctx.t("referents.menu_mine"), ("mes engagements",)),
                ]
        else:
            text = _between_phases(turn)
        if turn.state.draft_frame() is not None:  # ``menu`` typed during a contribution
            title = draft_title(ctx, turn.state)
            resume = Option(DRAFT, ctx.t("menu.resume_draft", title=title), ("reprendre",))
            options.insert(0, resume)
        options += [
            Option(MINE, ctx.t("menu.mine")),
            Option(PROFILE_CHOICE, ctx.t("menu.profile")),
            Option(HELP, ctx.t("menu.help")),
        ]
        return Question(text, tuple(options))

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        ctx = turn.ctx
        choice = answer.choice_ids[0] if answer.choice_ids else None
        if choice in (*CONTRIBUTION_FORMS, SUPPORTS, VOLUNTEER, OFFERS) and not ctx.has_profile:
            turn.ask_profile()  # an administrator working without a profile
        elif choice == DRAFT:
            turn.return_to_form()
        elif choice in CONTRIBUTION_FORMS:
            start_contribution(turn, choice)
        elif choice == VOTE:
            turn.out.extend(vote.listing(ctx))
        elif choice == SUPPORTS:
            turn.say(vote.mine(ctx))
        elif choice == VOLUNTEER:
            ctx.services.commands.get("volontaire").handler(turn, "")
        elif choice == OFFERS:
            turn.say(referents.mine(ctx))
        elif choice == MINE:
            show_mine(turn)
        elif choice == PROFILE_CHOICE:  # as the command (an administrator may have none)
            ctx.services.commands.get("profil").handler(turn, "")
        elif choice == HELP:
            show_help(turn)
        else:
            turn.say(turn.not_understood(answer.text))

    def other_text(self, turn: Turn, frame: Frame, text: str) -> bool:
        """During the collecte, a wish to contribute or a need typed at the menu starts a
        contribution (:mod:`bot.scenes.new_contribution`)."""
        ctx = turn.ctx
        if not ctx.has_profile or not ctx.services.calendar.is_open("collecte", ctx.now):
            return False
        typed = read_typed(text)
        if typed is None:
            turn.say(ctx.t("new.menu_unknown", count=len(turn.state.options)))
        else:
            start_contribution(turn, *typed)
        return True
