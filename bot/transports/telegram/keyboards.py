"""Questions' inline keyboards: remembered, answered once, retired when the question is over.

At most one keyboard per chat is live: the current question's. Any action of the user
(a message, a press) ends the question on screen, since the core answers every action with
a new question; the live keyboard then loses its buttons (or, when pressed, shows the
answer instead). A press that still reaches a retired keyboard (a double press, a slow
client) gets a polite callback answer and goes to the core, which replies that the button
belonged to an earlier question and asks the current one again.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.values import OutChoices
from bot.transports.telegram.context import handling_update
from bot.transports.telegram.registry import Record, Registry
from bot.transports.telegram.rendering import ChoicePress, answered_text
from bot.transports.telegram.sender import Sender
from config.catalogue import Catalogue


def keyboard_id(chat_id: int, message_id: int) -> str:
    return f"kb:{chat_id}:{message_id}"


def cursor_id(chat_id: int) -> str:
    return f"cursor:{chat_id}"


@dataclass(frozen=True, slots=True)
class Pressed:
    """What a press designates, and whether it reached the live keyboard."""

    choice_id: str | None
    label: str | None
    live: bool


class Keyboards:
    def __init__(self, registry: Registry, sender: Sender, catalogue: Catalogue) -> None:
        self.registry = registry
        self.sender = sender
        self.catalogue = catalogue
        self.last_update = 0  # highest update seen by this process, for pushed keyboards

    async def remember(self, chat_id: int, message_id: int, message: OutChoices, text: str) -> None:
        """Record a keyboard just sent; it becomes the chat's live one."""
        update = handling_update.get()
        record = Record(
            platform_id=keyboard_id(chat_id, message_id),
            chat_id=str(chat_id),
            kind="choices",
            core_ref=f"q:{message.token}",
            data={
                "message_id": message_id,
                "text": text,
                "choices": [[c.id, c.label] for c in message.choices],
                "update": update if update is not None else self.last_update,
            },
        )
        await self.registry.remember(record)
        cursor = await self.registry.get(cursor_id(chat_id))
        if cursor is None:
            live = {"keyboard": record.platform_id}
            await self.registry.remember(
                Record(cursor_id(chat_id), str(chat_id), "cursor", "cursor", live)
            )
            return
        previous = cursor.data.get("keyboard")
        await self.registry.update(cursor, data={"keyboard": record.platform_id})
        if previous and previous != record.platform_id:
            await self._retire(await self.registry.get(previous), chat_id)

    async def retire_live(self, chat_id: int, update_id: int) -> None:
        """The user acted (``update_id``): the question on screen is over."""
        self.last_update = max(self.last_update, update_id)
        cursor = await self.registry.get(cursor_id(chat_id))
        if cursor is None or not cursor.data.get("keyboard"):
            return
        keyboard = await self.registry.get(cursor.data["keyboard"])
        if keyboard is not None and int(keyboard.data.get("update") or 0) >= update_id:
            return  # sent in answer to this very update (replayed after a restart): keep it
        await self._retire(keyboard, chat_id)

    async def press(
        self, chat_id: int, message_id: int, press: ChoicePress, button_text: str | None
    ) -> Pressed:
        """Resolve a press; on the live keyboard, show the answer in place of the buttons."""
        keyboard = await self.registry.get(keyboard_id(chat_id, message_id))
        choices = [tuple(c) for c in keyboard.data.get("choices", [])] if keyboard else []
        choice_id = press.choice_id
        if choice_id is None and press.index is not None and 0 <= press.index < len(choices):
            choice_id = str(choices[press.index][0])
        label = next((str(lb) for cid, lb in choices if cid == choice_id), button_text)
        live = keyboard is not None and not keyboard.closed
        if keyboard is not None and live:
            await self.registry.update(keyboard, closed=True)
            text = answered_text(str(keyboard.data.get("text", "")), label or "", self.catalogue)
            await self.sender.call(
                lambda bot: bot.edit_message_text(text, chat_id=chat_id, message_id=message_id),
                what="editMessageText",
                tolerate_gone=True,
            )
        elif keyboard is None:
            await self._remove_buttons(chat_id, message_id)  # unknown to us: at least disarm it
        return Pressed(choice_id, label, live)

    async def _retire(self, keyboard: Record | None, chat_id: int) -> None:
        if keyboard is None or keyboard.closed:
            return
        await self.registry.update(keyboard, closed=True)
        await self._remove_buttons(chat_id, int(keyboard.data["message_id"]))

    async def _remove_buttons(self, chat_id: int, message_id: int) -> None:
        await self.sender.call(
            lambda bot: bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            ),
            what="editMessageReplyMarkup",
            tolerate_gone=True,
        )
