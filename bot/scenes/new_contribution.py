"""Starting a contribution: the menu's choice, « nouvelle », or text typed at the menu.

Agents often type their need straight away instead of picking « Décrire un besoin »: « je
voudrais décrire un besoin » starts one, and a need typed (or a whole message pasted) at the
menu becomes the new besoin's title, or, too long for a title, its description through the
title's own proposal (:class:`bot.forms.intake.TitleField`). Nothing typed is thrown away.
"""

from __future__ import annotations

import re
import unicodedata

from bot.consultation.contributions import collecte_closed
from bot.dialogue.parsing import Option, fold, greeting, says_nothing
from bot.dialogue.pending import draft_title
from bot.dialogue.scene import Scene
from bot.dialogue.state import CONTRIBUTION_FORMS, Frame
from bot.dialogue.step import on_text
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import YES, answer_pending, yes_no

KIND, CONFIRM_NEW = "contribution_kind", "confirm_new"
NEED = "besoin"

_INTENT = re.compile(
    r"""^(?:(?:je|j'|on|nous)\s*
        (?:(?:voudrais|veux|voudrions|voulons|souhaite\w*|aimerai\w*|vais|allons|dois|devons
            |peux|pouvons|viens|venons)\s+(?:de\s+|d')?)?)?
        (?:(?:ai|avons|a|decrire|signaler|proposer|presenter|declarer|deposer|ajouter|partager
            |soumettre|remonter|faire\s+remonter|exprimer|faire|creer|commencer|ecrire
            |enregistrer)\s+)?
        (?:(?:un|une|mon|notre|le|la|ce|cette)\s+)?(?:(?:nouveau|nouvelle|autre)\s+)?
        (?P<kind>besoin|service|contribution)s?(?:\s+existants?)?
        (?P<rest>\s*(?:[:,.;!\n–—-].*)?)$""",
    re.VERBOSE | re.DOTALL,
)
"""« je voudrais décrire un besoin », « nouveau service : … », « j’ai un besoin » (on the
text without accents, in lower case); what follows a colon is the contribution's title."""
_REFERENCE = re.compile(r"\b[BSPV]-?\d{1,6}\b", re.IGNORECASE)
"""« modifier B-0002 », « voter P-003 »: about a contribution or a proposal, not a need."""
_SMALL_TALK_WORDS = (
    "merci beaucoup ok okay super parfait top cool bien tres genial entendu compris bonne "
    "journee soiree a plus bientot au revoir d accord daccord oui non svp stp"
)
_SMALL_TALK = frozenset(_SMALL_TALK_WORDS.split())


def start_contribution(turn: Turn, kind: str | None, typed: str = "") -> None:
    """Start a besoin or a service (``kind``), or ask which (None); ``typed``, the text the
    agent typed for it, answers its first question, the title."""
    ctx = turn.ctx
    if not ctx.has_profile:
        turn.ask_profile()  # an administrator working without a profile
        return
    if not ctx.services.calendar.is_open("collecte", ctx.now):
        turn.say(collecte_closed(ctx))
        return
    draft = turn.state.draft()
    if draft is not None and draft.answers:  # another one: drop this one first?
        turn.push(CONFIRM_NEW, kind=kind, typed=typed)
        return
    turn.drop_draft()
    if kind is None and not typed:
        turn.push(KIND)
        return
    if kind is None:
        turn.say(ctx.t("new.taken_as_need"))
    turn.say(ctx.t(f"intro.{kind or NEED}"))
    turn.start_form(kind or NEED)
    if typed:
        turn.expect()  # the text answers the title's question, not the menu's
        on_text(turn, typed)


def read_typed(text: str) -> tuple[str | None, str] | None:
    """What text typed at the menu (or at « Un besoin, ou un service ? ») that names none of
    its choices asks for: a contribution (its kind, None to ask) and the text that answers
    its title; None for anything else (« merci »)."""
    intent = _INTENT.match(_plain(text.strip()))
    if intent is not None:
        kind = intent["kind"] if intent["kind"] in CONTRIBUTION_FORMS else None
        return kind, text.strip()[intent.start("rest") :].lstrip(" :,.;!\n–—-")
    if looks_like_a_need(text):
        return None, text
    return None


def looks_like_a_need(text: str) -> bool:
    """A few words that could name a need: not a yes, a no, thanks, a greeting or a
    question put to the bot (« c’est quoi un service ? »), nor about a reference."""
    words = fold(text).split()
    if len(words) < 2 or len("".join(words)) < 8 or text.rstrip().endswith("?"):
        return False
    if _REFERENCE.search(text):
        return False
    if says_nothing(text) or greeting(text) is not None:
        return False
    return not all(word in _SMALL_TALK for word in words)


def _plain(text: str) -> str:
    """Lower case, without accents, one ``'`` for every apostrophe; one character for each
    of ``text``, so that a match's positions are the text's."""
    return "".join(
        (unicodedata.normalize("NFKD", ch)[:1].lower()[:1] or ch).replace("’", "'") for ch in text
    )


class KindScene(Scene):
    """« nouvelle »: a besoin, or a service? A need typed instead is taken as a besoin."""

    name = KIND

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx = turn.ctx
        return Question(
            ctx.t("new.kind"),
            (
                Option("besoin", ctx.t("menu.besoin"), ("un besoin", "b")),
                Option("service", ctx.t("menu.service"), ("un service", "s")),
            ),
        )

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        turn.pop()
        start_contribution(turn, answer.choice_ids[0] if answer.choice_ids else None)

    def other_text(self, turn: Turn, frame: Frame, text: str) -> bool:
        typed = read_typed(text)
        if typed is None:
            return False
        turn.pop()
        start_contribution(turn, *typed)
        return True

    def back(self, turn: Turn, frame: Frame) -> bool:
        turn.pop()
        return True


class ConfirmNewScene(Scene):
    """A new contribution while a draft has answers: drop the draft to start it?"""

    name = CONFIRM_NEW
    about_form = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx = turn.ctx
        title = draft_title(ctx, turn.state)
        return yes_no(ctx, ctx.t("new.confirm", title=title), "new.yes", "new.no")

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        kind, typed = frame.data.get("kind"), str(frame.data.get("typed") or "")
        if answer.choice_ids == (YES,):
            turn.drop_draft()
            turn.say(turn.ctx.t("new.dropped"))
            start_contribution(turn, kind, typed)
        elif typed:  # kept: shown back with the draft's question, or taken as its answer
            answer_pending(turn, typed)
        else:
            turn.return_to_form()
