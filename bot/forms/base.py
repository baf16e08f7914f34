"""Forms as data: an ordered list of fields, and the engine that walks through them.

A field knows its prompt, how to validate an answer and how to show it in a summary. The
engine (in :mod:`bot.dialogue.step`) asks for the next missing field, and handles ``retour``,
``modifier`` and the summary for every form alike. Adding a question is adding one field.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from bot.dialogue.parsing import Option, TextProblem, clean_text, text_problem
from config.typography import in_sentence, integer

if TYPE_CHECKING:
    from bot.dialogue.context import Context


@dataclass(frozen=True, slots=True)
class Question:
    """What the bot asks: a text, and the options it accepts when it offers some.

    ``free_text`` lets a question with options also take a typed answer (e.g. another
    collectivité name while candidates are shown).
    """

    text: str
    options: tuple[Option, ...] = ()
    multiple: bool = False
    free_text: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """A user's answer: the text typed and, when it designates options, their ids."""

    text: str
    choice_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Accept:
    value: Any
    notice: str | None = None  # said before the next question


@dataclass(frozen=True, slots=True)
class Reject:
    """The answer is refused; the message explains the rule and the question is asked again."""

    message: str


@dataclass(frozen=True, slots=True)
class AskAgain:
    """The field moved to a sub-question (kept in ``FormState.sub``); ask it now."""

    notice: str | None = None


Outcome = Accept | Reject | AskAgain


class FormState(BaseModel):
    """A form in progress, persisted in the conversation state as JSON."""

    name: str
    answers: dict[str, Any] = Field(default_factory=dict)
    field: str | None = None  # the field being asked; None once every field is answered
    history: list[str] = Field(default_factory=list)
    forward: list[str] = Field(default_factory=list)  # answered fields to revisit after retour
    review: bool = False  # back to the summary after the current field
    confirm: bool = True  # show the summary before finishing
    sub: dict[str, Any] = Field(default_factory=dict)  # the current field's sub-question
    memo: dict[str, Any] = Field(default_factory=dict)  # computed once for the current field
    started_at: datetime


class FormField(ABC):
    """One question of a form."""

    def __init__(
        self,
        name: str,
        *,
        optional: bool = False,
        public: bool = True,
        feminine: bool = False,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.name = name
        self.optional = optional
        self.public = public
        self.feminine = feminine
        """The label is a feminine noun (« Adresse web »): the summary's « (non renseignée) »
        and « (privée) » agree with it."""
        self.when = when

    def applies(self, answers: dict[str, Any]) -> bool:
        return self.when is None or self.when(answers)

    def label(self, ctx: Context, form: str) -> str:
        return ctx.t(f"form.{form}.{self.name}.label")

    def prompt(self, ctx: Context, form: str) -> str:
        return ctx.t(f"form.{form}.{self.name}.prompt")

    def help(self, ctx: Context, form: str) -> str:
        key = f"form.{form}.{self.name}.help"
        return ctx.t(key) if ctx.catalogue.has(key) else ""

    @abstractmethod
    def question(self, ctx: Context, state: FormState) -> Question: ...

    @abstractmethod
    def accept(self, ctx: Context, state: FormState, answer: Answer) -> Outcome: ...

    def display(self, ctx: Context, form: str, value: Any) -> str:
        return str(value)

    def summary(self, ctx: Context, form: str, value: Any) -> str:
        """The answer as a summary line shows it, after « Label : »."""
        return self.display(ctx, form, value)


class TextField(FormField):
    """Free text with length limits; empty, binary and markup-only answers are refused."""

    def __init__(self, name: str, *, max_length: int, min_length: int = 1, **options: Any) -> None:
        super().__init__(name, **options)
        self.max_length = max_length
        self.min_length = min_length

    def question(self, ctx: Context, state: FormState) -> Question:
        return Question(self.prompt(ctx, state.name))

    def accept(self, ctx: Context, state: FormState, answer: Answer) -> Outcome:
        text = clean_text(answer.text)
        problem = text_problem(text, min_length=self.min_length, max_length=self.max_length)
        if problem is not None:
            return Reject(text_rule(ctx, problem, len(text), self.min_length, self.max_length))
        return self.validate(ctx, text)

    def validate(self, ctx: Context, text: str) -> Outcome:
        return Accept(text)


def text_rule(ctx: Context, problem: TextProblem, length: int, minimum: int, maximum: int) -> str:
    return ctx.t(
        f"input.{problem.value}",
        length=integer(length),
        min=integer(minimum),
        max=integer(maximum),
    )


_POLARITY = {"oui": True, "non": False}
"""Options of a choice question that are its yes and its no (:func:`yes_or_no` reads them)."""


class ChoiceField(FormField):
    """One option, or several when ``multiple``; the options come from the catalogue."""

    def __init__(
        self,
        name: str,
        *,
        options: Sequence[str],
        multiple: bool = False,
        aliases: dict[str, tuple[str, ...]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, **kwargs)
        self.option_ids = tuple(options)
        self.multiple = multiple
        self.aliases = aliases or {}

    def options(self, ctx: Context, form: str) -> tuple[Option, ...]:
        return tuple(
            Option(
                option_id,
                ctx.t(f"form.{form}.{self.name}.options.{option_id}"),
                self.aliases.get(option_id, ()),
                polarity=_POLARITY.get(option_id),
            )
            for option_id in self.option_ids
        )

    def question(self, ctx: Context, state: FormState) -> Question:
        return Question(
            self.prompt(ctx, state.name), self.options(ctx, state.name), multiple=self.multiple
        )

    def accept(self, ctx: Context, state: FormState, answer: Answer) -> Outcome:
        if not answer.choice_ids:
            return Reject(ctx.t("input.choice_unknown"))
        if self.multiple:
            return Accept(list(answer.choice_ids))
        return Accept(answer.choice_ids[0])

    def labels(self, ctx: Context, form: str, value: Any) -> list[str]:
        """The labels of the chosen options, in the order stored."""
        labels = {o.id: o.label for o in self.options(ctx, form)}
        values = value if isinstance(value, list) else [value]
        return [labels.get(v, str(v)) for v in values]

    def display(self, ctx: Context, form: str, value: Any) -> str:
        return ", ".join(self.labels(ctx, form, value))

    def summary(self, ctx: Context, form: str, value: Any) -> str:
        """Inside the line, a common first word loses its capital: « Bénéficiaires : les
        habitants, les associations »; « ANCT » or a name keep theirs."""
        return ", ".join(in_sentence(label) for label in self.labels(ctx, form, value))


@dataclass(frozen=True, slots=True)
class Interlude:
    """What a form does once every field is answered, before its summary.

    ``notes`` are said at once; ``scene`` names a question to ask before the summary (the
    offer to join the same need), None to go straight to the summary.
    """

    notes: tuple[str, ...] = ()
    scene: str | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """What a confirmed form did: the message to say, and whether the form is finished.

    ``done`` is False when the form could not be stored (the collecte closed meanwhile):
    the agent keeps the draft.
    """

    message: str
    done: bool = True


BeforeSummary = Callable[["Context", FormState], Interlude]
OnComplete = Callable[["Context", FormState], Completion]
OnChange = Callable[[FormState, str], None]
SummaryNote = Callable[["Context", FormState], str]
Closed = Callable[["Context", FormState], str | None]
Repeats = Callable[["Context", FormState], str | None]


@dataclass(frozen=True)
class Form:
    """An ordered list of fields; ``review`` shows a summary to confirm before finishing.

    Hooks: ``on_complete`` stores what was confirmed; ``before_summary`` runs once every
    field is answered; ``on_change`` is told that an answer changed (an edit);
    ``summary_note`` adds a line to the summary; ``closed`` says why the form can no longer
    be sent (its phase is over), None while it can: the dialogue then drops it, once, with
    that notice and what had been typed (:func:`bot.dialogue.step.drop_closed_forms`);
    ``repeats`` says what the agent already sent that the form repeats (a copy typed
    again), as the question asked before sending it a second time, None when it repeats
    nothing.
    """

    name: str
    fields: tuple[FormField, ...]
    on_complete: OnComplete
    review: bool = True
    before_summary: BeforeSummary | None = None
    on_change: OnChange | None = None
    summary_note: SummaryNote | None = None
    closed: Closed | None = None
    repeats: Repeats | None = None
    by_name: dict[str, FormField] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    def field(self, name: str) -> FormField:
        return self.by_name[name]

    def next_missing(self, answers: dict[str, Any]) -> FormField | None:
        for form_field in self.fields:
            if form_field.applies(answers) and form_field.name not in answers:
                return form_field
        return None

    def answered(self, answers: dict[str, Any]) -> list[FormField]:
        return [f for f in self.fields if f.applies(answers) and f.name in answers]

    def start(self, now: datetime, answers: dict[str, Any] | None = None) -> FormState:
        """A new form state; a form started with answers (an edit) goes to its summary."""
        state = FormState(
            name=self.name,
            answers=dict(answers or {}),
            started_at=now,
            confirm=self.review or bool(answers),
        )
        first = self.next_missing(state.answers)
        state.field = first.name if first else None
        return state

    def record(self, state: FormState, form_field: FormField, value: Any) -> None:
        """Store an answer and move to the next missing field (or the summary)."""
        state.answers[form_field.name] = value
        # answers of fields that no longer apply (an edit changed a condition) are dropped
        for other in self.fields:
            if other.name in state.answers and not other.applies(state.answers):
                del state.answers[other.name]
        if form_field.name not in state.history:
            state.history.append(form_field.name)
        state.sub, state.memo = {}, {}
        while state.forward and not state.review:
            revisit = self.by_name[state.forward.pop(0)]
            if revisit.applies(state.answers) and revisit.name in state.answers:
                state.field = revisit.name
                return
        following = self.next_missing(state.answers)
        state.field = following.name if following else None
        if state.field is None:
            state.review = False

    def back(self, state: FormState) -> bool:
        """Return to the previous question; False when already at the first one."""
        current = state.field
        previous = [name for name in state.history if name != current]
        if not previous:
            return False
        if current is not None and current in state.answers:
            state.forward.insert(0, current)
        state.field = previous[-1]
        state.history = previous[:-1]
        state.sub, state.memo = {}, {}
        return True
