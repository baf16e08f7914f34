"""What the bot remembers of a conversation between two messages, stored as JSON."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.forms.base import FormState

SKIP = "passer"
CONTRIBUTION_FORMS = ("besoin", "service")


class Mode(StrEnum):
    NEW = "new"
    MENU = "menu"
    FORM = "form"
    SUMMARY = "summary"
    EDIT_PICK = "edit_pick"
    CONFIRM_CANCEL = "confirm_cancel"
    CONFIRM_NEW = "confirm_new"
    RESUME = "resume"
    PROFILE = "profile"
    SIMILAR = "similar"


class ShownOption(BaseModel):
    id: str
    label: str
    aliases: list[str] = Field(default_factory=list)


class DialogueState(BaseModel):
    """Everything the bot remembers of a conversation between two messages."""

    mode: Mode = Mode.NEW
    form: FormState | None = None
    suspended: FormState | None = None  # a draft put aside while the profile is edited
    question: int = 0  # increases with every question asked: the token of stale buttons
    options: list[ShownOption] = Field(default_factory=list)  # what the last question offered
    multiple: bool = False
    free_text: bool = True
    last_seen: datetime | None = None


def has_draft(state: DialogueState) -> bool:
    form = state.suspended or state.form
    return form is not None and form.name in CONTRIBUTION_FORMS


def draft(state: DialogueState) -> FormState | None:
    for form in (state.suspended, state.form):
        if form is not None and form.name in CONTRIBUTION_FORMS:
            return form
    return None
