"""Scenes: each conversation mode asks its question and handles the answer.

A scene is stateless: what it works on lives in its :class:`~bot.dialogue.state.Frame`
(stored with the conversation). The dialogue step asks the top frame's scene for its
question after every turn, so a scene only changes the stack and says what it has to say.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar

from bot.forms.base import Answer, Question

if TYPE_CHECKING:
    from bot.dialogue.state import Frame
    from bot.dialogue.turn import Turn


class Scene(ABC):
    """One conversation mode (the menu, a form, a summary, a confirmation...)."""

    name: ClassVar[str]
    editing: ClassVar[bool] = False
    """Part of filling a form: ``annuler`` and ``modifier`` apply to it."""
    expires: ClassVar[bool] = False
    """A confirmation that lapses when the conversation was left idle (``resume_after``):
    a « 1 » typed days later must not send a message or erase data previewed back then."""
    admin: ClassVar[bool] = False
    """An administrator's question (a push to confirm): answering it, like running an
    administrator's command, does not bring back the profile question of an administrator
    who has no profile."""
    about_form: ClassVar[bool] = False
    """A question about the form below it (resume it? drop it?), which goes with that form
    when the form is dropped because it can no longer be sent."""
    left_by_commands: ClassVar[bool] = False
    """A confirmation that another command, typed instead of its answer, abandons (a push
    previewed): it is not asked again after every later command, and ``annuler`` drops it
    (:meth:`back`)."""
    interlude: ClassVar[bool] = False
    """A question between a form's last field and its summary: a side trip (help, a
    confirmation refused, a draft resumed) comes back to it instead of skipping it."""

    @abstractmethod
    def question(self, turn: Turn, frame: Frame) -> Question:
        """What to ask while this frame is on top."""

    @abstractmethod
    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        """React to an answer to the question; the next question is asked afterwards."""

    def other_text(self, turn: Turn, frame: Frame, text: str) -> bool:
        """Text that names none of the options offered: True when the scene took it (the
        menu starts a contribution with a need typed there); else it is refused."""
        return False

    def help(self, turn: Turn, frame: Frame) -> str:
        """Help on the current question, said before the list of commands."""
        return ""

    def back(self, turn: Turn, frame: Frame) -> bool:
        """``retour`` on this frame; False when there is nowhere to go back to."""
        return False


class SceneRegistry:
    """The scenes by name; a frame names its scene."""

    def __init__(self, scenes: Iterable[Scene]) -> None:
        self._scenes: dict[str, Scene] = {}
        for scene in scenes:
            if scene.name in self._scenes:
                raise ValueError(f"two scenes are named {scene.name!r}")
            self._scenes[scene.name] = scene

    def __getitem__(self, name: str) -> Scene:
        return self._scenes[name]

    def __contains__(self, name: object) -> bool:
        return name in self._scenes

    def __iter__(self) -> Iterator[Scene]:
        return iter(self._scenes.values())
