"""Values the fake Bot API server records, for tests to assert on.

Everything here is plain data: the server in ``fake_bot_api`` owns the mutable state and
hands these records out. Dicts in ``reply_markup`` are the decoded JSON exactly as the client
sent it, so a test can check what a real Telegram server would have received.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user the tests impersonate.

    In a private chat the chat id equals the user id, which is what the simulation helpers
    assume when they are given a user and no chat.
    """

    id: int
    first_name: str = "Agent"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "fr"

    def to_api(self) -> JsonDict:
        """The Bot API ``User`` object for this user."""
        data: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


@dataclass
class ChatMessage:
    """A message in a chat, sent by the bot or by a simulated user.

    The bot's messages are what tests mostly assert on; users' messages are kept so that
    message ids stay unique per chat and a callback can point at any message.
    """

    chat_id: int
    message_id: int
    date: int
    sender_id: int
    from_bot: bool
    kind: str  # "text", "poll", "document", "photo"
    text: str | None = None
    parse_mode: str | None = None
    reply_markup: JsonDict | None = None
    poll_id: str | None = None
    file_id: str | None = None
    caption: str | None = None
    params: JsonDict = field(default_factory=dict)
    deleted: bool = False
    edit_count: int = 0

    @property
    def buttons(self) -> list[JsonDict]:
        """The inline keyboard's buttons, row by row, flattened."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard", [])
        return [button for row in rows for button in row]

    @property
    def callback_data(self) -> list[str]:
        """The ``callback_data`` of every inline button, in keyboard order."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


@dataclass(frozen=True)
class MessageEdit:
    """One successful ``editMessageText`` or ``editMessageReplyMarkup`` call."""

    method: str
    chat_id: int
    message_id: int
    text: str | None
    reply_markup: JsonDict | None


@dataclass(frozen=True)
class CallbackAnswer:
    """One ``answerCallbackQuery`` call."""

    callback_query_id: str
    text: str | None
    show_alert: bool


@dataclass
class FakePoll:
    """A poll sent by the bot, with each user's current choice."""

    id: str
    chat_id: int
    message_id: int
    question: str
    options: list[str]
    is_anonymous: bool
    allows_multiple_answers: bool
    type: str = "regular"
    is_closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)

    @property
    def vote_counts(self) -> list[int]:
        """Votes per option, in option order."""
        counts = [0] * len(self.options)
        for option_ids in self.votes.values():
            for option_id in option_ids:
                counts[option_id] += 1
        return counts

    @property
    def persistent_ids(self) -> list[str]:
        """Stable option identifiers (Bot API 9.6 ``persistent_id``)."""
        return [f"{self.id}-{index}" for index in range(len(self.options))]

    def to_api(self) -> JsonDict:
        """The Bot API ``Poll`` object, with every field PTB 22.8 requires."""
        counts = self.vote_counts
        return {
            "id": self.id,
            "question": self.question,
            "options": [
                {"text": text, "voter_count": count, "persistent_id": persistent_id}
                for text, count, persistent_id in zip(
                    self.options, counts, self.persistent_ids, strict=True
                )
            ],
            "total_voter_count": sum(1 for ids in self.votes.values() if ids),
            "is_closed": self.is_closed,
            "is_anonymous": self.is_anonymous,
            "type": self.type,
            "allows_multiple_answers": self.allows_multiple_answers,
            "allows_revoting": True,
            "members_only": False,
        }


@dataclass(frozen=True)
class StoredFile:
    """A file uploaded by the bot, downloadable again through ``getFile``."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str | None
    mime_type: str | None
    content: bytes


@dataclass(frozen=True)
class ApiCall:
    """One request as the server received it, before any processing.

    ``params`` holds the raw values: strings for form and multipart bodies (PTB JSON-encodes
    every non-string value into a form field), native JSON types for JSON bodies.
    """

    method: str
    token: str
    content_type: str
    params: JsonDict
    uploaded_files: tuple[str, ...]
    status: int = 200
    at: float = 0.0  # the server's clock when answered
