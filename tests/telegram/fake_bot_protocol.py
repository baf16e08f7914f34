"""The wire side of the fake Bot API: request parameters, errors, Telegram's constants.

Kept apart from the server so that the rules a real Telegram server applies to a request
(typing of form fields, error bodies, limits) read in one place.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from fake_bot_records import JsonDict

DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
    }
)
"""Telegram's default when ``allowed_updates`` is empty: all but member and reaction updates."""

SEND_METHODS = frozenset({"sendmessage", "sendpoll", "senddocument", "sendphoto"})
"""Methods that create a message, hence count against the send-rate limits."""

BLOCKABLE_METHODS = SEND_METHODS | {
    "sendchataction",
    "editmessagetext",
    "editmessagereplymarkup",
}
"""Methods refused with 403 once the chat's user has blocked the bot."""

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64

BOT_BLOCKED = "Forbidden: bot was blocked by the user"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class TelegramApiError(Exception):
    """An error answer: HTTP status = ``error_code``, as Telegram does."""

    def __init__(self, code: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_api(self) -> JsonDict:
        body: JsonDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {reason}")


class Params:
    """A request's parameters, typed on read.

    PTB sends form or multipart bodies in which strings are raw and every other value is
    JSON-encoded (``"123"``, ``"true"``, ``'{"inline_keyboard": ...}'``); other clients may send
    a JSON body with native types. The getters accept both.
    """

    def __init__(self, values: dict[str, Any], files: dict[str, web.FileField]) -> None:
        self.values = values
        self.files = files

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        return str(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"{name} is not a number") from None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"true", "1"}

    def decoded(self, name: str) -> Any:
        """A JSON-typed parameter (object, array), decoded if it came as a string."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def upload(self, name: str) -> web.FileField | str:
        """A file parameter: an uploaded part (possibly ``attach://``) or a file id / URL."""
        if name in self.files:
            return self.files[name]
        reference = self.string(name, required=True)
        assert reference is not None
        if reference.startswith("attach://"):
            part = reference.removeprefix("attach://")
            if part not in self.files:
                raise bad_request(f"file {part} not found in the request")
            return self.files[part]
        return reference


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[JsonDict]:
    """The ``bot_command`` entity Telegram adds to a message starting with a slash."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]


def validate_reply_markup(markup: Any) -> JsonDict | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
    return markup


def update_type(update: JsonDict) -> str:
    return next(key for key in update if key != "update_id")
