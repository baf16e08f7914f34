"""Polls: native Telegram polls where the core's poll fits, split or keyboard otherwise.

Fit is read from the installed PTB's ``PollLimit``. A poll with too many options is split
into several native polls when several answers are allowed (votes in each part add up);
a single-answer poll cannot be split without allowing one vote per part, so it becomes a
keyboard, as does any poll whose question or an option is too long. Keyboard votes behave
like a poll: press to vote, press another to change, press your choice again to retract.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telegram.constants import PollLimit

from bot.core.values import Choice, OutPoll

MAX_OPTIONS = int(PollLimit.MAX_OPTION_NUMBER)
MIN_OPTIONS = max(2, int(PollLimit.MIN_OPTION_NUMBER))  # Telegram refuses fewer than two
MAX_OPTION_LENGTH = int(PollLimit.MAX_OPTION_LENGTH)
MAX_QUESTION_LENGTH = int(PollLimit.MAX_QUESTION_LENGTH)


class Shape(StrEnum):
    NATIVE = "native"
    SPLIT = "split"
    KEYBOARD = "keyboard"


@dataclass(frozen=True, slots=True)
class PollPlan:
    shape: Shape
    parts: tuple[tuple[Choice, ...], ...]


def plan_poll(poll: OutPoll) -> PollPlan:
    options = poll.options
    labels_fit = all(1 <= len(o.label) <= MAX_OPTION_LENGTH for o in options)
    if not labels_fit or len(options) < MIN_OPTIONS:
        return PollPlan(Shape.KEYBOARD, (options,))
    if len(options) <= MAX_OPTIONS:
        if 1 <= len(poll.question) <= MAX_QUESTION_LENGTH:
            return PollPlan(Shape.NATIVE, (options,))
        return PollPlan(Shape.KEYBOARD, (options,))
    parts = split_evenly(options, math.ceil(len(options) / MAX_OPTIONS))
    if poll.multiple and all(
        len(part_question(poll.question, i, len(parts))) <= MAX_QUESTION_LENGTH
        for i in range(len(parts))
    ):
        return PollPlan(Shape.SPLIT, parts)
    return PollPlan(Shape.KEYBOARD, (options,))


def split_evenly(options: tuple[Choice, ...], count: int) -> tuple[tuple[Choice, ...], ...]:
    size, extra = divmod(len(options), count)
    parts: list[tuple[Choice, ...]] = []
    start = 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        parts.append(options[start:end])
        start = end
    return tuple(parts)


def part_question(question: str, index: int, count: int) -> str:
    return question if count == 1 else f"{question} ({index + 1}/{count})"


def core_ref(poll_id: str) -> str:
    return f"poll:{poll_id}"


def poll_key(poll_id: str) -> str:
    """A short, stable key for the core's poll id, to fit in callback data."""
    return hashlib.sha256(poll_id.encode()).hexdigest()[:12]


def part_data(part: tuple[Choice, ...], index: int, multiple: bool) -> dict[str, Any]:
    """What is remembered for one native poll or keyboard: its options and the votes."""
    return {
        "part": index,
        "options": [[c.id, c.label] for c in part],
        "multiple": multiple,
        "votes": {},
        "applied": 0,
    }


def toggled(current: list[str], option: str, multiple: bool) -> list[str]:
    """A keyboard vote: like Telegram's polls, pressing your own choice again retracts it."""
    if multiple:
        return [o for o in current if o != option] if option in current else [*current, option]
    return [] if current == [option] else [option]


def merged_votes(parts: list[dict[str, Any]], user: str) -> tuple[str, ...]:
    """The user's votes over every part of a poll, in the poll's option order."""
    chosen: set[str] = set()
    order: list[str] = []
    for data in sorted(parts, key=lambda d: int(d.get("part", 0))):
        order.extend(option_id for option_id, _ in data.get("options", []))
        chosen.update(data.get("votes", {}).get(user, []))
    return tuple(option_id for option_id in order if option_id in chosen)
