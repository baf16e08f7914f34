"""The volunteering form (territoires référents): laureates, commitment, contact, élu."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.consultation import referents
from bot.dialogue.parsing import Option, fold, says_nothing
from bot.forms.base import (
    Accept,
    Answer,
    ChoiceField,
    Form,
    FormState,
    Outcome,
    Reject,
    TextField,
)

if TYPE_CHECKING:
    from bot.dialogue.context import Context


class LaureateField(ChoiceField):
    """The laureates the agent's collectivité has not volunteered for yet; several allowed."""

    def __init__(self, name: str) -> None:
        super().__init__(name, options=(), multiple=True)

    def options(self, ctx: Context, form: str) -> tuple[Option, ...]:
        offers = referents.updatable(ctx)
        return tuple(
            Option(
                p.reference,
                ctx.t(
                    "form.volontaire.laureats.item_update"
                    if p.reference in offers
                    else "form.volontaire.laureats.item",
                    reference=p.reference,
                    title=p.title,
                    offer=offers.get(p.reference, ""),
                ),
                (p.reference,),
            )
            for p in referents.open_for(ctx)
        )

    def accept(self, ctx: Context, state: FormState, answer: Answer) -> Outcome:
        """A laureate volunteered for before (by this agent) brings back that offer's
        answers, to change what changed: nothing typed then is asked again."""
        outcome = super().accept(ctx, state, answer)
        if isinstance(outcome, Accept):
            notice = referents.prefill(ctx, state.answers, outcome.value)
            return Accept(outcome.value, notice)
        return outcome

    def labels(self, ctx: Context, form: str, value: Any) -> list[str]:
        """Every laureate chosen, also one no longer offered (volunteered for since)."""
        titles = {p.reference: p.title for p in referents.laureates(ctx)}
        return [
            ctx.t("form.volontaire.laureats.item", reference=r, title=titles.get(r, ""))
            for r in value
        ]


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.\w+")
_NAME_WORD = re.compile(r"[^\W\d_]{2,}")  # two letters or more


class ContactField(TextField):
    """Someone the team can reach: an e-mail address, a telephone number, or a person's
    name (two words at least); « oui », « je ne sais pas » are no contact."""

    def validate(self, ctx: Context, text: str) -> Outcome:
        digits = sum(ch.isdigit() for ch in text)
        words = _NAME_WORD.findall(text)
        vague = says_nothing(text) or fold(text) == "moi"
        if _EMAIL.search(text) or digits >= 8 or (len(words) >= 2 and not vague):
            return Accept(text)
        return Reject(ctx.t("form.volontaire.contact.invalid"))


def build_volunteer_forms() -> dict[str, Form]:
    volontaire = Form(
        referents.FORM,
        (
            LaureateField("laureats"),
            TextField("commitment", max_length=4000, min_length=10),
            ContactField("contact", max_length=500, min_length=3, public=False),
            ChoiceField(
                "elu_agreement",
                options=("oui", "non", "en_cours"),
                aliases={"en_cours": ("en cours", "bientot")},
            ),
        ),
        on_complete=referents.submit,
    )
    return {volontaire.name: volontaire}
