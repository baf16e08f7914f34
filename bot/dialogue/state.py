"""What the bot remembers of a conversation between two messages, stored as JSON.

The conversation is a stack of frames, each run by a scene (:mod:`bot.scenes`). The bottom
frame is the menu; a form frame carries the form in progress; a command or a pushed
question (a confirmation, the offer to resume a draft, the profile) goes on top and, once
answered, is popped so that the agent returns to where they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from bot.dialogue.parsing import Option
from bot.forms.base import FormState

SKIP = "passer"
KEEP = "garder"
"""Typed (or chosen) at a question already answered (after « retour »): keep that answer."""
CONTRIBUTION_FORMS = ("besoin", "service")
PROFILE_FORM = "profil"


class Frame(BaseModel):
    """One level of the conversation: the scene that asks, and what it works on."""

    scene: str
    form: FormState | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_draft(self) -> bool:
        """A contribution being written (kept when the agent goes elsewhere)."""
        return self.form is not None and self.form.name in CONTRIBUTION_FORMS


class ShownOption(BaseModel):
    id: str
    label: str
    aliases: list[str] = Field(default_factory=list)
    polarity: bool | None = None  # the yes or no side of a yes/no question


class DialogueState(BaseModel):
    """Everything the bot remembers of a conversation between two messages."""

    stack: list[Frame] = Field(default_factory=list)
    greeted: bool = False  # the first welcome was said
    question: int = 0  # increases with every question asked: the token of stale buttons
    options: list[ShownOption] = Field(default_factory=list)  # what the last question offered
    multiple: bool = False
    free_text: bool = True
    last_seen: datetime | None = None
    start_param: str | None = None  # a link's parameter (an invitation code) before the profile
    poll_answers: dict[str, list[str]] = Field(default_factory=dict)
    """The last counted answer to each of the bot's polls, by poll id: what a new answer
    changed is told from it."""

    @model_validator(mode="before")
    @classmethod
    def _from_modes(cls, data: Any) -> Any:
        """Read a state written before the stack of scenes (one ``mode`` and two forms)."""
        if isinstance(data, dict) and "mode" in data:
            return legacy_state(data)
        return data

    @property
    def top(self) -> Frame | None:
        return self.stack[-1] if self.stack else None

    def offered(self) -> list[Option]:
        """The options of the question asked last, as answers are read against them."""
        return [Option(o.id, o.label, tuple(o.aliases), o.polarity) for o in self.options]

    def draft_frame(self) -> Frame | None:
        """The frame of the contribution in progress, wherever it is in the stack."""
        return next((f for f in reversed(self.stack) if f.is_draft), None)

    def draft(self) -> FormState | None:
        frame = self.draft_frame()
        return frame.form if frame is not None else None

    def form_frame(self) -> Frame | None:
        """The nearest frame that carries a form (the one commands such as retour act on)."""
        return next((f for f in reversed(self.stack) if f.form is not None), None)

    def in_profile_form(self) -> bool:
        return any(f.form is not None and f.form.name == PROFILE_FORM for f in self.stack)


_LEGACY_SCENES = {
    "form": "form",
    "summary": "summary",
    "edit_pick": "edit_pick",
    "similar": "similar",
}
_LEGACY_OVERLAYS = {
    "confirm_cancel": "confirm_cancel",
    "confirm_new": "confirm_new",
    "resume": "resume",
    "profile": "profile",
}


def legacy_state(data: dict[str, Any]) -> dict[str, Any]:
    """The stack equivalent of a state stored with ``mode``, ``form`` and ``suspended``."""
    mode, form, suspended = data.get("mode", "new"), data.get("form"), data.get("suspended")
    stack: list[dict[str, Any]] = [] if mode == "new" else [{"scene": "menu"}]
    if suspended is not None:  # a draft put aside while the profile was edited
        stack += [{"scene": "summary" if suspended.get("field") is None else "form"}]
        stack[-1]["form"] = suspended
        stack.append({"scene": "profile"})
    if form is not None:
        scene = _LEGACY_SCENES.get(mode) or ("form" if form.get("field") else "summary")
        stack.append({"scene": scene, "form": form})
    if mode in _LEGACY_OVERLAYS:
        stack.append({"scene": _LEGACY_OVERLAYS[mode]})
    rest = {k: v for k, v in data.items() if k not in {"mode", "form", "suspended"}}
    return {**rest, "stack": stack, "greeted": mode != "new"}
