"""The intake forms (profile, besoin, service) and the fields that need more than text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from bot.consultation import contributions, profiles, recurrence
from bot.consultation.collectivites import collectivite_value, lookup
from bot.dialogue.parsing import (
    NO_ALIASES,
    YES_ALIASES,
    Option,
    TextProblem,
    clean_text,
    says_nothing,
    text_problem,
)
from bot.forms.base import (
    Accept,
    Answer,
    AskAgain,
    ChoiceField,
    Form,
    FormField,
    FormState,
    Outcome,
    Question,
    Reject,
    TextField,
)
from bot.forms.titles import proposed_title
from config.typography import integer
from nlp.similarity import UNKNOWN_USAGE
from storage.referential import CollectiviteRef, normalize, without_epci_nature

if TYPE_CHECKING:
    from bot.dialogue.context import Context

TITLE_MAX = 120
DESCRIPTION_MAX = 4000
NONE_OF_THESE = "aucune"
SUGGESTION_YES, SUGGESTION_NO = "suggestion_oui", "suggestion_non"
CANDIDATES_SHOWN = 6


TITLE_PROPOSED = "titre_propose"


class TitleField(TextField):
    """A contribution's title. Agents often write their whole need as the title: a text too
    long for a title is not refused and lost, a shorter title is proposed, and the text
    becomes the description (asked next, with the text as its current answer)."""

    def question(self, ctx: Context, state: FormState) -> Question:
        long = state.sub.get("long")
        if long is None:
            return super().question(ctx, state)
        key = "form.long_title.proposal" + ("_title_only" if "description" in state.answers else "")
        text = ctx.t(
            key,
            length=integer(len(long)),
            max=integer(self.max_length),
            title=state.sub["title"],
            kind=ctx.t(f"recurrence.kind.{state.name}"),
        )
        take = Option(TITLE_PROPOSED, ctx.t("form.long_title.take"), YES_ALIASES, polarity=True)
        return Question(text, (take,), free_text=True)

    def accept(self, ctx: Context, state: FormState, answer: Answer) -> Outcome:
        long = state.sub.get("long")
        if long is not None and answer.choice_ids == (TITLE_PROPOSED,):
            return Accept(state.sub["title"], _keep_as_description(ctx, state, long))
        text = clean_text(answer.text)
        too_long_for_a_title = (
            text_problem(text, min_length=self.min_length, max_length=self.max_length)
            is TextProblem.TOO_LONG
        )
        if too_long_for_a_title and text_problem(text, max_length=DESCRIPTION_MAX) is None:
            state.sub = {"long": text, "title": proposed_title(text, self.max_length)}
            return AskAgain()
        outcome = super().accept(ctx, state, answer)
        if long is not None and isinstance(outcome, Accept):  # a shorter title of one's own
            return Accept(outcome.value, _keep_as_description(ctx, state, long))
        return outcome


def _keep_as_description(ctx: Context, state: FormState, long: str) -> str | None:
    """The text pasted as a title becomes the description, as the proposal promised, unless
    one was already given (the title edited from the summary); the notice that says so."""
    if "description" in state.answers:
        return None
    state.answers["description"] = long
    if not state.review:
        state.forward.insert(0, "description")  # asked next, to keep or rewrite
    return ctx.t("form.long_title.moved")


class UrlField(TextField):
    """A web address; ``www.exemple.fr`` is accepted and stored as ``https://www.exemple.fr``."""

    def validate(self, ctx: Context, text: str) -> Outcome:
        candidate = text if "://" in text else f"https://{text}"
        try:
            parts = urlsplit(candidate)
        except ValueError:
            return Reject(ctx.t("input.url_invalid"))
        host = parts.hostname or ""
        if parts.scheme not in {"http", "https"} or "." not in host or " " in candidate:
            return Reject(ctx.t("input.url_invalid"))
        return Accept(candidate)


class EmailField(TextField):
    def validate(self, ctx: Context, text: str) -> Outcome:
        try:
            checked = validate_email(text, check_deliverability=False)
        except EmailNotValidError:
            return Reject(ctx.t("input.email_invalid"))
        return Accept(checked.normalized)


class FonctionField(TextField):
    """The agent's fonction, public with their profile: « ouais », « non », « je ne sais
    pas » (an answer to another question, or to none) is no fonction."""

    def validate(self, ctx: Context, text: str) -> Outcome:
        if says_nothing(text):
            return Reject(ctx.t("form.profil.fonction.invalid", text=text))
        return Accept(text)


class CollectiviteField(FormField):
    """Found in the referential by name, postal code, INSEE code or SIREN.

    Homonyms (twelve communes are named Sainte-Colombe) are told apart by asking the
    département; an inexact name offers the closest candidates.
    """

    def _suggestion(self, ctx: Context, state: FormState) -> tuple[str, CollectiviteRef] | None:
        """The collectivité the platform's addresses point to, until the agent declines it."""
        if not ctx.platform_emails or state.sub or self.name in state.answers:
            return None
        return ctx.services.referential.from_emails(ctx.platform_emails)

    def question(self, ctx: Context, state: FormState) -> Question:
        found = self._suggestion(ctx, state)
        if found is not None:
            email, suggestion = found
            return Question(
                ctx.t("form.profil.collectivite.suggested", email=email, label=suggestion.label),
                (
                    Option(
                        SUGGESTION_YES,
                        ctx.t("form.profil.collectivite.suggested_yes"),
                        YES_ALIASES,
                        polarity=True,
                    ),
                    Option(
                        SUGGESTION_NO,
                        ctx.t("form.profil.collectivite.suggested_no"),
                        NO_ALIASES,
                        polarity=False,
                    ),
                ),
                free_text=True,
            )
        candidates = [lookup(ctx, *c) for c in state.sub.get("candidates", [])]
        if not candidates:
            return Question(self.prompt(ctx, state.name))
        options = [
            Option(f"c{index}", ref.label, self._aliases(ctx, ref) if state.sub["homonyms"] else ())
            for index, ref in enumerate(candidates)
        ]
        if state.sub["homonyms"]:
            text = ctx.t(
                "form.profil.collectivite.homonyms", count=len(candidates), name=candidates[0].name
            )
        elif _is_code(state.sub["query"]):  # a postal code shared by several communes
            text = ctx.t("form.profil.collectivite.shared_code", query=state.sub["query"])
        else:
            text = ctx.t("form.profil.collectivite.candidates", query=state.sub["query"])
        options.append(Option(NONE_OF_THESE, ctx.t("form.profil.collectivite.none")))
        return Question(text, tuple(options), free_text=True)

    def accept(self, ctx: Context, state: FormState, answer: Answer) -> Outcome:
        suggested = self._suggestion(ctx, state)
        if suggested is not None and answer.choice_ids == (SUGGESTION_YES,):
            return Accept(collectivite_value(suggested[1]))
        if suggested is not None and answer.choice_ids == (SUGGESTION_NO,):
            state.sub = {"declined": True}
            return AskAgain()
        candidates = state.sub.get("candidates", [])
        if answer.choice_ids and candidates:
            choice = answer.choice_ids[0]
            if choice == NONE_OF_THESE:
                state.sub = {"declined": True}  # the platform's suggestion was passed too
                return AskAgain(ctx.t("form.profil.collectivite.retry"))
            return Accept(collectivite_value(lookup(ctx, *candidates[int(choice[1:])])))
        query = clean_text(answer.text)
        problem = text_problem(query, max_length=200)
        if problem is TextProblem.EMPTY:  # « correspondant à «  » » said nothing useful
            return Reject(ctx.t("form.profil.collectivite.empty"))
        if problem is not None:
            return Reject(ctx.t("form.profil.collectivite.not_found", query=query[:60]))
        referential = ctx.services.referential
        found = referential.search(query, limit=CANDIDATES_SHOWN)
        if not found:
            # the earlier candidates go: the question is asked afresh, as it stands (an
            # answer typed ahead, « adjointe au numérique », must not bring « Elne » back)
            state.sub = {"declined": True}
            return Reject(ctx.t("form.profil.collectivite.not_found", query=query))
        if len(found) == 1 and _certain(query, found[0]):
            value = collectivite_value(found[0])
            notice = ctx.t("form.profil.collectivite.understood", label=value["label"])
            return Accept(value, notice)
        homonyms = referential.is_homonym_set(found) and all(r.kind == "commune" for r in found)
        state.sub = {
            "query": query,
            "homonyms": homonyms,
            "candidates": [[ref.kind, ref.code] for ref in found],
        }
        return AskAgain()

    def display(self, ctx: Context, form: str, value: Any) -> str:
        return str(value["label"])

    @staticmethod
    def _aliases(ctx: Context, ref: CollectiviteRef) -> tuple[str, ...]:
        if ref.departement is None:
            return ()
        name = ctx.services.referential.departement_name(ref.departement)
        return (ref.departement, name) if name else (ref.departement,)


def _is_code(query: str) -> bool:
    """A postal, INSEE or SIREN code rather than a name."""
    compact = query.replace(" ", "")
    return compact.isalnum() and any(ch.isdigit() for ch in compact)


def _certain(query: str, ref: CollectiviteRef) -> bool:
    """A single result is taken without asking when the query was a code or held the name.

    A result found despite typos is offered for confirmation instead ("cube" is not Aube).
    An EPCI's nature does not count: « CC du Pays de Gex » names the CA du Pays de Gex.
    """
    name, typed = without_epci_nature(normalize(ref.name)), without_epci_nature(normalize(query))
    return _is_code(query) or f" {name} " in f" {typed} "


CONFIRM_YES, CONFIRM_NO, OTHER = "oui", "non", "autre"
SUGGESTIONS = 3


class ThematiqueField(FormField):
    """The classifier's suggestion, confirmed by the agent, or picked from the others."""

    def __init__(self, name: str, *, text_fields: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.text_fields = text_fields

    def _ranked(self, ctx: Context, state: FormState) -> list[tuple[str, float]]:
        """The classifier's ranking, computed once while this field is asked."""
        if "ranked" not in state.memo:
            text = contributions.classified_text(state.answers, self.text_fields)
            ranked = ctx.services.classifier.predict(text).ranked
            state.memo["ranked"] = [[tid, score] for tid, score in ranked]
        return [(str(tid), float(score)) for tid, score in state.memo["ranked"]]

    def question(self, ctx: Context, state: FormState) -> Question:
        taxonomy = ctx.services.taxonomy
        stage = state.sub.get("stage")
        ranked = self._ranked(ctx, state)
        best, score = ranked[0]
        if stage is None and score >= ctx.services.classifier.threshold:
            return Question(
                ctx.t("form.thematique.confirm", label=taxonomy.label(best)),
                (
                    Option(CONFIRM_YES, ctx.t("choice.yes_right"), YES_ALIASES, polarity=True),
                    Option(
                        CONFIRM_NO, ctx.t("form.thematique.see_others"), NO_ALIASES, polarity=False
                    ),
                ),
            )
        if stage in (None, "top"):
            skip = 1 if stage == "top" else 0
            options = [
                Option(tid, taxonomy.label(tid)) for tid, _ in ranked[skip : skip + SUGGESTIONS]
            ]
            options.append(Option(OTHER, ctx.t("form.thematique.other")))
            return Question(ctx.t("form.thematique.suggestions"), tuple(options))
        return Question(
            ctx.t("form.thematique.all"), tuple(Option(t.id, t.label) for t in taxonomy)
        )

    def accept(self, ctx: Context, state: FormState, answer: Answer) -> Outcome:
        if not answer.choice_ids:
            return Reject(ctx.t("input.choice_unknown"))
        choice = answer.choice_ids[0]
        ranked = self._ranked(ctx, state)
        scores = dict(ranked)
        if choice == CONFIRM_NO:
            state.sub = {"stage": "top"}
            return AskAgain()
        if choice == OTHER:
            state.sub = {"stage": "all"}
            return AskAgain()
        chosen = ranked[0][0] if choice == CONFIRM_YES else choice
        source = "classifier" if chosen == ranked[0][0] else "agent"
        return Accept({"id": chosen, "confidence": round(scores[chosen], 4), "source": source})

    def display(self, ctx: Context, form: str, value: Any) -> str:
        return ctx.services.taxonomy.label(value["id"])


USAGES = (
    "informer",
    "signaler",
    "reserver",
    "inscrire",
    "payer",
    "demarche",
    "trouver",
    "participer",
    "relier",
    "vendre",
    "gerer",
    "accompagner",
    UNKNOWN_USAGE,
)
"""What a service is mainly for: two needs with the same subject but another usage differ
(booking the hall is not tracking its cleaning). ``bot.consultation.recurrence`` compares them."""


class UsageField(ChoiceField):
    """What the service should mainly allow; the same options for needs and services."""

    def __init__(self, name: str) -> None:
        super().__init__(name, options=USAGES)

    def options(self, ctx: Context, form: str) -> tuple[Option, ...]:
        return tuple(Option(u, ctx.t(f"usage.options.{u}")) for u in self.option_ids)


CONTRIBUTION_HOOKS: dict[str, Any] = {
    "on_complete": contributions.submit,
    "before_summary": recurrence.before_summary,
    "on_change": recurrence.forget_if_changed,
    "summary_note": recurrence.summary_line,
    "closed": contributions.closed,
    "repeats": contributions.repeats,
}
"""A need and a service alike: the same-need search before the summary, stored once sent
(a copy of the agent's own asked about first), dropped once the collecte is over."""


def build_forms() -> dict[str, Form]:
    """The three forms of the collecte. Adding a question is adding a field here."""
    profil = Form(
        "profil",
        (
            CollectiviteField("collectivite", feminine=True),
            ChoiceField(
                "profil",
                options=("elu", "agent", "partenaire"),
                aliases={"elu": ("élue", "maire", "adjoint")},
            ),
            FonctionField("fonction", max_length=120, min_length=2, feminine=True),
            EmailField("email", max_length=320, optional=True, public=False, feminine=True),
        ),
        on_complete=profiles.save,
        review=False,
    )
    besoin = Form(
        "besoin",
        (
            TitleField("title", max_length=TITLE_MAX, min_length=3),
            TextField("description", max_length=DESCRIPTION_MAX, min_length=15),
            ChoiceField(
                "beneficiaries",
                options=("habitants", "agents", "associations", "entreprises"),
                multiple=True,
            ),
            TextField("current_handling", max_length=DESCRIPTION_MAX, optional=True),
            ThematiqueField("thematique", text_fields=contributions.CLASSIFIED_FIELDS["besoin"]),
            UsageField("usage"),
        ),
        **CONTRIBUTION_HOOKS,
    )
    service = Form(
        "service",
        (
            TitleField("title", max_length=TITLE_MAX, min_length=3),
            TextField("description", max_length=DESCRIPTION_MAX, min_length=15, feminine=True),
            UrlField("url", max_length=500, optional=True, feminine=True),
            ChoiceField(
                "open_source",
                options=("oui", "non", "nsp"),
                aliases={"nsp": ("je ne sais pas", "sais pas", "?")},
            ),
            TextField("users", max_length=1000, min_length=2),
            TextField("funding", max_length=DESCRIPTION_MAX, min_length=5),
            ThematiqueField("thematique", text_fields=contributions.CLASSIFIED_FIELDS["service"]),
            UsageField("usage"),
        ),
        **CONTRIBUTION_HOOKS,
    )
    return {form.name: form for form in (profil, besoin, service)}
