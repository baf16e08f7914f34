"""Pure rendering: texts within Telegram's length, inline keyboards, callback data.

Callback data carries short ids, never labels, and always fits the 64-byte limit counted
in UTF-8: ``c{token}:{choice_id}`` for a question's button (the core checks the token), or
``c{token}#{index}`` when an id would not fit; ``v{poll_key}:{index}`` for a vote button.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from bot.core.values import Choice, OutChoices
from config.catalogue import Catalogue

MAX_CALLBACK_BYTES = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)
CHECKED = "✅ "
BUTTON_LABEL = 60  # a vote button repeats the start of an option listed in full above it


def utf16_length(text: str) -> int:
    """Telegram counts text lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def fits_callback(data: str) -> bool:
    return 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut ``text`` into messages Telegram accepts, at paragraph, line or word ends."""
    chunks: list[str] = []
    rest = text
    while utf16_length(rest) > limit:
        cut = _longest_prefix(rest, limit)
        for separator in ("\n\n", "\n", " "):
            at = rest.rfind(separator, 0, cut)
            if at > cut // 2:
                cut = at
                break
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def _longest_prefix(text: str, limit: int) -> int:
    """Number of characters of ``text`` that fit in ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def truncate(text: str, limit: int) -> str:
    if utf16_length(text) <= limit:
        return text
    return text[: _longest_prefix(text, limit - 1)].rstrip() + "…"


# -- questions with choices -------------------------------------------------------------


def choice_data(token: str, index: int, choice: Choice) -> str:
    data = f"c{token}:{choice.id}"
    return data if fits_callback(data) else f"c{token}#{index}"


@dataclass(frozen=True, slots=True)
class ChoicePress:
    """A question's button: ``choice_id`` when the data carried it, else ``index``."""

    token: str
    choice_id: str | None
    index: int | None


@dataclass(frozen=True, slots=True)
class VotePress:
    """A vote button of a poll shown as a keyboard."""

    poll_key: str
    index: int


def parse_callback(data: str | None) -> ChoicePress | VotePress | None:
    if not data:
        return None
    kind, body = data[:1], data[1:]
    try:
        if kind == "c":
            if ":" in body:
                token, choice_id = body.split(":", 1)
                return ChoicePress(token, choice_id, None)
            token, index = body.split("#", 1)
            return ChoicePress(token, None, int(index))
        if kind == "v":
            key, index = body.rsplit(":", 1)
            return VotePress(key, int(index))
    except ValueError:
        return None
    return None


def question_text(message: OutChoices, catalogue: Catalogue) -> str:
    if not message.multiple:
        return message.text
    return f"{message.text}\n\n{catalogue.t('telegram.multiple_hint')}"


def button_label(message: OutChoices, index: int, choice: Choice) -> str:
    """Numbered when several may be chosen, so that « 1, 3 » can be typed."""
    return f"{index + 1}. {choice.label}" if message.multiple else choice.label


def choices_keyboard(message: OutChoices) -> InlineKeyboardMarkup:
    """One button per row: labels are sentences, and a row would cut them."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    button_label(message, index, choice),
                    callback_data=choice_data(message.token, index, choice),
                )
            ]
            for index, choice in enumerate(message.choices)
        ]
    )


def answered_text(question: str, label: str, catalogue: Catalogue) -> str:
    """The question once answered: its text, then the answer, and no more buttons."""
    suffix = "\n\n" + catalogue.t("telegram.chosen", label=label)
    return truncate(question, MAX_TEXT - utf16_length(suffix)) + suffix


# -- polls shown as keyboards -------------------------------------------------------------


def vote_keyboard(
    poll_key: str, options: list[tuple[str, str]], chosen: set[str] | None = None
) -> InlineKeyboardMarkup:
    """Numbered vote buttons; the user's current votes are ticked (private chats)."""
    chosen = chosen or set()
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    (CHECKED if option_id in chosen else "")
                    + f"{index + 1}. {truncate(label, BUTTON_LABEL)}",
                    callback_data=f"v{poll_key}:{index}",
                )
            ]
            for index, (option_id, label) in enumerate(options)
        ]
    )
