"""The core's polls on Telegram: sent, voted on (natively or by keyboard), closed."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Message, PollAnswer

from bot.core.transport import numbered
from bot.core.values import Choice, ConversationKey, IncomingPollAnswer, OutPoll
from bot.transports.telegram.errors import TelegramSendError
from bot.transports.telegram.polls import (
    Shape,
    core_ref,
    merged_votes,
    part_data,
    part_question,
    plan_poll,
    poll_key,
    toggled,
)
from bot.transports.telegram.registry import Record, Registry
from bot.transports.telegram.rendering import VotePress, split_text, truncate, vote_keyboard
from bot.transports.telegram.sender import Sender
from config.catalogue import Catalogue

log = logging.getLogger(__name__)
TRANSPORT = "telegram"


def native_id(telegram_poll_id: str) -> str:
    return f"poll:{telegram_poll_id}"


def keyboard_poll_id(chat_id: int, key: str) -> str:
    return f"pollkb:{chat_id}:{key}"


class Ballots:
    def __init__(self, registry: Registry, sender: Sender, catalogue: Catalogue) -> None:
        self.registry = registry
        self.sender = sender
        self.catalogue = catalogue

    # -- sending ------------------------------------------------------------------------

    async def send(self, chat_id: int, poll: OutPoll, *, paced: bool) -> None:
        plan = plan_poll(poll)
        if plan.shape is Shape.KEYBOARD:
            await self._send_keyboard(chat_id, poll, paced=paced)
            return
        count = len(plan.parts)
        for index, part in enumerate(plan.parts):
            await self._send_part(chat_id, poll, part, index, count, paced=paced)

    async def _send_part(
        self,
        chat_id: int,
        poll: OutPoll,
        part: tuple[Choice, ...],
        index: int,
        count: int,
        *,
        paced: bool,
    ) -> None:
        question = part_question(poll.question, index, count)
        labels = [choice.label for choice in part]

        async def send(bot: Bot) -> Message:
            return await bot.send_poll(
                chat_id, question, labels, is_anonymous=False, allows_multiple_answers=poll.multiple
            )

        message = await self.sender.send(chat_id, send, paced=paced, what="sendPoll")
        if message.poll is None:
            raise TelegramSendError("sendPoll answered without a poll")
        data = part_data(part, index, poll.multiple) | {"message_id": message.message_id}
        await self.registry.remember(
            Record(native_id(message.poll.id), str(chat_id), "poll", core_ref(poll.poll_id), data)
        )

    async def _send_keyboard(self, chat_id: int, poll: OutPoll, *, paced: bool) -> None:
        hint = "telegram.vote_hint_multiple" if poll.multiple else "telegram.vote_hint"
        text = "\n\n".join(
            (poll.question, numbered([o.label for o in poll.options]), self.catalogue.t(hint))
        )
        *leading, last = split_text(text)
        for chunk in leading:
            await self._send_text(chat_id, chunk, paced=paced)
        key = poll_key(poll.poll_id)
        options = [(o.id, o.label) for o in poll.options]
        message: Message = await self.sender.send(
            chat_id,
            lambda bot: bot.send_message(chat_id, last, reply_markup=vote_keyboard(key, options)),
            paced=paced,
            what="sendMessage",
        )
        data = part_data(poll.options, 0, poll.multiple) | {
            "message_id": message.message_id,
            "text": last,
        }
        await self.registry.remember(
            Record(
                keyboard_poll_id(chat_id, key), str(chat_id), "pollkb", core_ref(poll.poll_id), data
            )
        )

    async def _send_text(self, chat_id: int, text: str, *, paced: bool) -> None:
        async def send(bot: Bot) -> Message:
            return await bot.send_message(chat_id, text)

        await self.sender.send(chat_id, send, paced=paced, what="sendMessage")

    # -- votes --------------------------------------------------------------------------

    async def answer(self, update_id: int, answer: PollAnswer) -> IncomingPollAnswer | None:
        """A ``poll_answer`` update: a vote cast, changed or retracted in a native poll."""
        record = await self.registry.get(native_id(answer.poll_id))
        if record is None or answer.user is None:
            log.info("vote in unknown poll %s ignored", answer.poll_id)
            return None
        if record.closed:
            return None
        options = [str(option_id) for option_id, _ in record.data.get("options", [])]
        chosen = [options[i] for i in answer.option_ids if 0 <= i < len(options)]
        user = str(answer.user.id)
        return await self._record_vote(record, user, chosen, update_id)

    async def vote(
        self, update_id: int, chat_id: int, user_id: int, press: VotePress
    ) -> tuple[IncomingPollAnswer | None, str]:
        """A press on a poll shown as a keyboard; also returns the callback answer's text."""
        record = await self.registry.get(keyboard_poll_id(chat_id, press.poll_key))
        if record is None or record.closed:
            return None, self.catalogue.t("telegram.poll_closed")
        options = [str(option_id) for option_id, _ in record.data.get("options", [])]
        if not 0 <= press.index < len(options):
            return None, self.catalogue.t("telegram.poll_closed")
        user = str(user_id)
        if int(record.data.get("applied", 0)) >= update_id:  # replayed after a restart
            current = list(record.data.get("votes", {}).get(user, []))
            return await self._record_vote(record, user, current, update_id), ""
        before = list(record.data.get("votes", {}).get(user, []))
        after = toggled(before, options[press.index], bool(record.data.get("multiple")))
        incoming = await self._record_vote(record, user, after, update_id)
        labels = dict((str(i), str(lb)) for i, lb in record.data.get("options", []))
        await self.sender.call(
            lambda bot: bot.edit_message_reply_markup(
                chat_id=chat_id,
                message_id=int(record.data["message_id"]),
                reply_markup=vote_keyboard(press.poll_key, list(labels.items()), set(after)),
            ),
            what="editMessageReplyMarkup",
            tolerate_gone=True,
        )
        key = "telegram.vote_recorded" if after else "telegram.vote_removed"
        return incoming, self.catalogue.t(key)

    async def _record_vote(
        self, record: Record, user: str, chosen: list[str], update_id: int
    ) -> IncomingPollAnswer:
        votes: dict[str, Any] = dict(record.data.get("votes", {}))
        votes[user] = chosen
        data = record.data | {
            "votes": votes,
            "applied": max(update_id, int(record.data.get("applied", 0))),
        }
        await self.registry.update(record, data=data)
        parts = [
            data if other.platform_id == record.platform_id else other.data
            for other in await self.registry.for_ref(record.chat_id, record.core_ref)
        ]
        return IncomingPollAnswer(
            key=ConversationKey(TRANSPORT, record.chat_id, user),
            event_id=str(update_id),
            poll_id=record.core_ref.removeprefix("poll:"),
            option_ids=merged_votes(parts, user),
        )

    # -- closing ------------------------------------------------------------------------

    async def close(self, chat_id: int, poll_id: str) -> int:
        """Stop every part of the core's poll in this chat; returns how many were open."""
        closed = 0
        for record in await self.registry.for_ref(str(chat_id), core_ref(poll_id)):
            if record.closed:
                continue
            await self._close_part(chat_id, record)
            await self.registry.update(record, closed=True)
            closed += 1
        return closed

    async def _close_part(self, chat_id: int, record: Record) -> None:
        message_id = int(record.data["message_id"])
        if record.kind == "poll":
            await self.sender.call(
                lambda bot: bot.stop_poll(chat_id, message_id), what="stopPoll", tolerate_gone=True
            )
            return
        text = truncate(str(record.data.get("text", "")), 3900)
        text += "\n\n" + self.catalogue.t("telegram.poll_closed")
        await self.sender.call(
            lambda bot: bot.edit_message_text(text, chat_id=chat_id, message_id=message_id),
            what="editMessageText",
            tolerate_gone=True,
        )
