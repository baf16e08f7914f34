"""Telegram updates turned into the core's incoming values, with the adapter's chores.

A message becomes text, ``/start PARAM`` or an attachment; a button press a choice (or a
vote, for polls shown as keyboards); a ``poll_answer`` a poll answer. The chores around them
(answering the callback query, retiring the keyboard on screen) never stop the update from
reaching the core: a failed edit is logged, the user still gets an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, Message, Update

from bot.core.values import (
    ConversationKey,
    Incoming,
    IncomingAttachment,
    IncomingChoice,
    IncomingStart,
    IncomingText,
)
from bot.transports.telegram.ballots import Ballots
from bot.transports.telegram.keyboards import Keyboards
from bot.transports.telegram.rendering import ChoicePress, VotePress, parse_callback
from bot.transports.telegram.sender import Sender
from config.catalogue import Catalogue

log = logging.getLogger(__name__)

TRANSPORT = "telegram"
ALLOWED_UPDATES = ("message", "callback_query", "poll_answer")
"""What the bot asks Telegram for; a vote's ``poll`` update (new counts) is not needed."""

_ATTACHMENTS = (
    ("photo", "image"),
    ("animation", "image"),
    ("sticker", "sticker"),
    ("voice", "voice"),
    ("audio", "audio"),
    ("video", "video"),
    ("video_note", "video"),
    ("document", "file"),
    ("location", "location"),
    ("contact", "contact"),
)


def conversation_key(chat_id: int, user_id: int) -> ConversationKey:
    return ConversationKey(TRANSPORT, str(chat_id), str(user_id))


def lane(update: Update) -> int:
    """Updates of one lane are handled in order; lanes run side by side."""
    if update.message is not None:
        return update.message.chat.id
    if update.callback_query is not None:
        query = update.callback_query
        return query.message.chat.id if query.message is not None else query.from_user.id
    if update.poll_answer is not None and update.poll_answer.user is not None:
        return update.poll_answer.user.id  # private chats: the chat id is the user id
    return -update.update_id


def start_command(text: str) -> tuple[bool, str | None]:
    """Whether ``text`` is ``/start``, and its deep-link parameter."""
    command, _, rest = text.strip().partition(" ")
    if command.lower() != "/start":
        return False, None
    return True, rest.strip() or None


def without_mention(text: str, username: str | None) -> str:
    """``/aide@RecueilBot …`` as ``/aide …``: the suffix Telegram adds in groups and menus."""
    if not username or not text.startswith("/"):
        return text
    command, space, rest = text.partition(" ")
    name, at, mention = command.partition("@")
    if at and mention.lower() == username.lower():
        return name + space + rest
    return text


def attachment_kind(message: Message) -> str:
    for attribute, kind in _ATTACHMENTS:
        if getattr(message, attribute, None):
            return kind
    return "other"


def _button_text(query: CallbackQuery) -> str | None:
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return None
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None


class UpdateRouter:
    def __init__(
        self,
        keyboards: Keyboards,
        ballots: Ballots,
        sender: Sender,
        catalogue: Catalogue,
        username: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.username = username
        self.keyboards = keyboards
        self.ballots = ballots
        self.sender = sender
        self.catalogue = catalogue

    async def incoming(self, update: Update) -> Incoming | None:
        if update.message is not None:
            return await self._message(update, update.message)
        if update.callback_query is not None:
            return await self._callback(update, update.callback_query)
        if update.poll_answer is not None:
            return await self.ballots.answer(update.update_id, update.poll_answer)
        return None

    async def _message(self, update: Update, message: Message) -> Incoming | None:
        user = message.from_user
        if user is None or user.is_bot:
            return None
        key = conversation_key(message.chat.id, user.id)
        event_id = str(update.update_id)
        await self._chore(self.keyboards.retire_live(message.chat.id, update.update_id))
        if message.text is not None:
            text = without_mention(message.text, self.username())
            is_start, param = start_command(text)
            if is_start:
                return IncomingStart(key=key, event_id=event_id, param=param, raw=update)
            return IncomingText(key=key, event_id=event_id, text=text, raw=update)
        return IncomingAttachment(
            key=key, event_id=event_id, kind=attachment_kind(message), raw=update
        )

    async def _callback(self, update: Update, query: CallbackQuery) -> Incoming | None:
        pressed = parse_callback(query.data)
        message = query.message
        if message is None or pressed is None:
            await self._answer(query, None)
            return None
        chat_id, user_id = message.chat.id, query.from_user.id
        event_id = str(update.update_id)
        if isinstance(pressed, VotePress):
            vote, text = await self.ballots.vote(update.update_id, chat_id, user_id, pressed)
            await self._answer(query, text or None)
            return vote
        assert isinstance(pressed, ChoicePress)
        outcome = await self.keyboards.press(
            chat_id, message.message_id, pressed, _button_text(query)
        )
        await self._answer(
            query, None if outcome.live else self.catalogue.t("telegram.stale_button")
        )
        await self._chore(self.keyboards.retire_live(chat_id, update.update_id))
        if outcome.choice_id is None:
            return None  # a keyboard we no longer know, pressed by its position only
        return IncomingChoice(
            key=conversation_key(chat_id, user_id),
            event_id=event_id,
            choice_id=outcome.choice_id,
            token=pressed.token or None,
            raw=update,
        )

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        """Stop the client's spinner; with a text for presses that changed nothing."""
        await self._chore(
            self.sender.call(
                lambda bot: bot.answer_callback_query(query.id, text=text),
                what="answerCallbackQuery",
                tolerate_gone=True,
            )
        )

    @staticmethod
    async def _chore(action: Awaitable[object]) -> None:
        try:
            await action
        except Exception:
            log.warning("Telegram chore failed; the update is handled anyway", exc_info=True)
