"""The typed boundary between transports and the dialogue core.

Adapters turn platform events into the frozen ``Incoming*`` values and render the core's
``Out*`` values. The core never sees a platform object; ``raw`` keeps it for logging only.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Defined by storage (which never imports the bot) and re-exported here, the boundary's home.
from storage.keys import ConversationKey as ConversationKey
from storage.keys import pseudonym as pseudonym


@dataclass(frozen=True, slots=True, kw_only=True)
class Incoming:
    """Something a user did. ``event_id`` is the platform's id, used to drop redeliveries."""

    key: ConversationKey
    event_id: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (which no encoder accepts) replaced by U+FFFD.

    A JSON line or a platform may carry ``"\\ud800"``; left as is, it would fail every
    later encoding (the reply, the database), and block the conversation.
    """
    return _SURROGATE.sub("\ufffd", text)


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingText(Incoming):
    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", valid_unicode(self.text))


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingChoice(Incoming):
    """A button pressed; ``token`` identifies the question it belonged to."""

    choice_id: str
    token: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "choice_id", valid_unicode(self.choice_id))


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingPollAnswer(Incoming):
    """A vote in a poll; an empty ``option_ids`` means the vote was retracted."""

    poll_id: str
    option_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingAttachment(Incoming):
    """A file, picture, sticker or voice message: the bot reads only text."""

    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingStart(Incoming):
    """The user opened the conversation (``/start``, a new direct room, the terminal)."""

    param: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class OutText:
    text: str


@dataclass(frozen=True, slots=True)
class OutChoices:
    """A question with choices; transports without buttons render them as numbered lines."""

    text: str
    choices: tuple[Choice, ...]
    token: str = ""
    multiple: bool = False


@dataclass(frozen=True, slots=True)
class OutPoll:
    """A poll. Where the platform has none it is shown as numbered lines; ``text_hint`` then
    says how to answer in text (a poll answer cannot be typed as a number there)."""

    question: str
    options: tuple[Choice, ...]
    poll_id: str
    multiple: bool = False
    text_hint: str = ""


@dataclass(frozen=True, slots=True)
class OutFile:
    name: str
    content: bytes
    mime: str = "application/octet-stream"
    caption: str = ""


Outgoing = OutText | OutChoices | OutPoll | OutFile


def _choices(choices: Sequence[Choice]) -> list[dict[str, str]]:
    return [{"id": c.id, "label": c.label} for c in choices]


def outgoing_to_dict(message: Outgoing) -> dict[str, Any]:
    """Serialise an outgoing value for the delivery log."""
    match message:
        case OutText(text=text):
            return {"type": "text", "text": text}
        case OutChoices(text=text, choices=choices, token=token, multiple=multiple):
            return {
                "type": "choices",
                "text": text,
                "choices": _choices(choices),
                "token": token,
                "multiple": multiple,
            }
        case OutPoll(
            question=question, options=options, poll_id=poll_id, multiple=multiple, text_hint=hint
        ):
            return {
                "type": "poll",
                "text": question,
                "choices": _choices(options),
                "poll_id": poll_id,
                "multiple": multiple,
                "text_hint": hint,
            }
        case OutFile(name=name, content=content, mime=mime, caption=caption):
            return {
                "type": "file",
                "name": name,
                "mime": mime,
                "text": caption,
                "content": base64.b64encode(content).decode("ascii"),
            }
    raise TypeError(f"cannot serialise {type(message).__name__}")


def outgoing_from_dict(data: dict[str, Any]) -> Outgoing:
    """Inverse of :func:`outgoing_to_dict`."""
    kind = data["type"]
    if kind == "text":
        return OutText(data["text"])
    choices = tuple(Choice(c["id"], c["label"]) for c in data.get("choices", ()))
    if kind == "choices":
        return OutChoices(data["text"], choices, data.get("token", ""), data.get("multiple", False))
    if kind == "poll":
        return OutPoll(
            data["text"],
            choices,
            data["poll_id"],
            data.get("multiple", False),
            data.get("text_hint", ""),
        )
    if kind == "file":
        return OutFile(
            data["name"], base64.b64decode(data["content"]), data["mime"], data.get("text", "")
        )
    raise ValueError(f"unknown outgoing type {kind!r}")
