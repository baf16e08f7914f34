"""One turn of the conversation: the replies it collects and the moves on the stack."""

from __future__ import annotations

from typing import Any

from bot.consultation import phases
from bot.core.values import Choice, OutChoices, Outgoing, OutText
from bot.dialogue.context import Context
from bot.dialogue.parsing import read_several
from bot.dialogue.scene import Scene
from bot.dialogue.state import PROFILE_FORM, DialogueState, Frame, ShownOption
from bot.forms.base import FormState, Question

MENU, FORM, SUMMARY, RESUME = "menu", "form", "summary", "resume"
"""Scenes the dialogue itself moves to (the others are named by their modules)."""


class Turn:
    """Collects the replies of one step; scenes move frames, the step asks the question."""

    def __init__(self, ctx: Context, state: DialogueState) -> None:
        self.ctx = ctx
        self.state = state
        self.out: list[Outgoing] = []
        self.asked = False
        self._joinable: OutText | None = None

    # -- speaking ----------------------------------------------------------------------

    def say(self, text: str, *, apart: bool = False) -> None:
        """Say ``text``. The question that follows it goes in the same message (one
        notification, the buttons under the answer), unless ``apart``: a text the agent may
        copy as it is (their data as JSON) stays a message of its own."""
        if text:
            said = OutText(text)
            self.out.append(said)
            self._joinable = None if apart else said

    def ask(self, question: Question) -> None:
        """Ask ``question``, recording what it offers (a later answer must be one of them)."""
        state = self.state
        state.question += 1
        self._record(question)
        text, said = question.text, self._joinable
        if said is not None and self.out and self.out[-1] is said:  # just before: one message
            self.out.pop()
            text = f"{said.text}\n\n{text}"
        if question.options:
            choices = tuple(Choice(o.id, o.label) for o in question.options)
            self.out.append(OutChoices(text, choices, str(state.question), question.multiple))
        else:
            self.out.append(OutText(text))
        self.asked = True

    def not_understood(self, typed: str) -> str:
        """Why ``typed`` was not taken as an answer to the question asked, and what is:
        a number or the text of a choice; for a question that takes several, their numbers
        or texts separated by commas, shown with two of its own options, and the part of
        ``typed`` that is none of them."""
        ctx, options = self.ctx, self.state.offered()
        if not self.state.multiple or len(options) < 2:
            return ctx.t("input.choice_unknown_count", count=len(options))
        chosen, unknown = read_several(typed, options)
        reason = (
            ctx.t("input.choice_not_offered", typed=", ".join(unknown))
            if chosen and unknown
            else ctx.t("input.choice_unknown")
        )
        second = 3 if len(options) >= 3 else 2
        return ctx.t(
            "input.choice_unknown_several",
            reason=reason,
            count=len(options),
            example=f"1, {second}",
            first=options[0].label,
            second=options[second - 1].label,
        )

    def leave_standing(self) -> None:
        """Leave the top frame's question standing without saying it again: the agent has
        seen it, and their next answer is read against it. The buttons shown for it stay
        valid when it offers the same options as the question asked last."""
        self.expect()
        self.asked = True

    def expect(self) -> None:
        """Read the next answer against the top frame's question, without asking it (the
        text typed at another question is taken as its answer)."""
        state, frame = self.state, self.top
        question = self.scene(frame).question(self, frame)
        offered = (state.options, state.multiple, state.free_text)
        self._record(question)
        if (state.options, state.multiple, state.free_text) != offered:
            state.question += 1  # another question (a confirmation's) was asked last

    def _record(self, question: Question) -> None:
        state = self.state
        state.options = [
            ShownOption(id=o.id, label=o.label, aliases=list(o.aliases), polarity=o.polarity)
            for o in question.options
        ]
        state.multiple = question.multiple
        state.free_text = question.free_text or not question.options

    def close(self, text: str) -> None:
        """End the conversation: say ``text``, ask nothing, forget the state.

        The next message starts afresh, as from someone never seen (after an erasure).
        """
        fresh = DialogueState()
        for name in DialogueState.model_fields:
            setattr(self.state, name, getattr(fresh, name))
        self.say(text)
        self.asked = True

    def finish(self) -> list[Outgoing]:
        """The replies, ending with the question of whatever frame is now on top."""
        if not self.asked:
            frame = self.top
            self.ask(self.scene(frame).question(self, frame))
        return self.out

    # -- the stack -------------------------------------------------------------------------

    @property
    def top(self) -> Frame:
        if not self.state.stack:
            self.state.stack.append(Frame(scene=MENU))
        return self.state.stack[-1]

    def scene(self, frame: Frame) -> Scene:
        return self.ctx.services.scenes[frame.scene]

    def push(self, scene: str, form: FormState | None = None, **data: Any) -> Frame:
        if form is None:
            # one pending step of a kind (a confirmation, the profile): a new one replaces
            # an older one left unanswered, which would otherwise come back once this one
            # is answered (a push previewed, left, previewed again: confirmed twice)
            self.state.stack = [f for f in self.state.stack if f.scene != scene or f.form]
        frame = Frame(scene=scene, form=form, data=data)
        self.state.stack.append(frame)
        return frame

    def pop(self) -> Frame:
        frame = self.top
        self.state.stack.pop()
        return frame

    def start_form(self, name: str, answers: dict[str, Any] | None = None) -> Frame:
        """Push a new form; one started with answers (an edit) opens on its summary."""
        form = self.ctx.services.forms[name].start(self.ctx.now, answers)
        return self.push(FORM if form.field is not None else SUMMARY, form)

    def to_menu(self, lead: str | None = None) -> None:
        """Back to the menu, dropping whatever was on the stack. Someone without a profile is
        asked for it first, except an administrator (see :meth:`ask_profile`); one who is
        answering it goes on where they were, nothing they answered lost (« annuler » is
        how an administrator leaves it)."""
        if not self.ctx.has_profile and self.state.in_profile_form():
            admin = "_admin" if self.ctx.is_admin else ""
            self.say(self.ctx.t(f"profile.finish_first{admin}"))
            self.return_to_form()
            return
        if not self.ctx.has_profile and not self.ctx.is_admin:
            self.welcome()
            return
        self.state.stack = [Frame(scene=MENU)]
        self.say(lead or "")

    def menu_over_draft(self) -> None:
        """The menu above the contribution in progress, which stays (the menu offers to
        resume it: :meth:`return_to_form` drops the menu again)."""
        self.state.stack.append(Frame(scene=MENU))

    def welcome(self, *, intro: bool = True) -> None:
        """A user without a profile: the welcome, then the profile form (``intro``: with
        the sentence that leads to its first question, said here)."""
        ctx, state = self.ctx, self.state
        if not state.greeted:
            self.say(ctx.t("welcome.first", phase=phases.welcome(ctx)))
            state.greeted = True
        state.stack = [Frame(scene=MENU)]
        self.start_form(PROFILE_FORM)
        if intro:
            self.say(ctx.t("welcome.profile_intro"))

    def ask_profile(self) -> None:
        """An administrator working without a profile asked for something done in a
        collectivité's name (contribute, support, volunteer, follow): the profile first."""
        self.say(self.ctx.t("welcome.profile_first"))
        self.welcome(intro=False)

    def return_to_form(self) -> None:
        """After a side trip (help, a confirmation refused, the profile), back to the form.

        Frames above the nearest form frame are dropped; the form asks its pending field,
        or the question it was at between its fields and its summary (« Est-ce le même
        besoin ? »), or shows its summary. Without a form, the menu.
        """
        stack = self.state.stack
        while stack and stack[-1].form is None and len(stack) > 1:
            stack.pop()
        frame = stack[-1] if stack else None
        if frame is None or frame.form is None:
            self.to_menu()
            return
        if frame.form.field is not None:
            frame.scene = FORM
        elif not self.scene(frame).interlude:
            frame.scene = SUMMARY

    def drop_draft(self) -> None:
        """Forget the contribution in progress and everything asked above it."""
        stack = self.state.stack
        for index, frame in enumerate(stack):
            if frame.is_draft:
                del stack[index:]
                return
