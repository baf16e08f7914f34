"""MSC3381 polls, as Element and Tchap send them, kept in the store across restarts.

A poll start event carries the core's options as answers (their ids are the core's
choice ids). Responses come in the unstable form (``org.matrix.msc3381.poll.response``)
and in the stable one (``m.poll.response``); nio 0.26 delivers both as ``UnknownEvent``.
Only each voter's latest response counts, a response naming no known answer is a spoiled
vote (counted as none), and responses after the end event are ignored. The core's poll may be
sent again in a room (the agent asks for the list twice): what a voter chose is then what
they ticked across its open poll events, as on Telegram across a poll's parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.values import OutPoll
from storage.store import Store

POLL_START = "org.matrix.msc3381.poll.start"
POLL_RESPONSE = "org.matrix.msc3381.poll.response"
STABLE_POLL_RESPONSE = "m.poll.response"
POLL_END = "org.matrix.msc3381.poll.end"
TEXT = "org.matrix.msc1767.text"
DISCLOSED = "org.matrix.msc3381.poll.disclosed"
RESPONSE_TYPES = frozenset({POLL_RESPONSE, STABLE_POLL_RESPONSE})
MAX_ANSWERS = 20
"""The most answers MSC3381 allows in one poll; a longer one is sent as text."""
KIND = "poll"
TRANSPORT = "matrix"


def fits_in_a_poll(message: OutPoll) -> bool:
    return 1 <= len(message.options) <= MAX_ANSWERS


def start_content(message: OutPoll, fallback: str) -> dict[str, Any]:
    """The content of a poll start event; ``fallback`` is shown by clients without polls."""
    question = message.question
    return {
        POLL_START: {
            "question": {TEXT: question, "body": question, "msgtype": "m.text"},
            "kind": DISCLOSED,
            "max_selections": len(message.options) if message.multiple else 1,
            "answers": [{"id": choice.id, TEXT: choice.label} for choice in message.options],
        },
        TEXT: fallback,
        "body": fallback,
    }


def end_content(start_event_id: str, results: dict[str, int], text: str) -> dict[str, Any]:
    """The content of a poll end event, with the counts by answer id."""
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        POLL_END: {},
        TEXT: text,
        "body": text,
        "m.poll.results": results,
    }


@dataclass(frozen=True, slots=True)
class PollResponse:
    """A response read from an event: which poll it answers and the answer ids chosen."""

    start_event_id: str
    answer_ids: tuple[str, ...]


def parse_response(event_type: str, content: dict[str, Any]) -> PollResponse | None:
    """Read a response in either form; None if the event is not a well-formed response."""
    relation = content.get("m.relates_to")
    if event_type not in RESPONSE_TYPES or not isinstance(relation, dict):
        return None
    start = relation.get("event_id")
    if relation.get("rel_type") != "m.reference" or not isinstance(start, str):
        return None
    if event_type == POLL_RESPONSE:
        body = content.get(POLL_RESPONSE)
        answers = body.get("answers") if isinstance(body, dict) else None
    else:
        answers = content.get("m.selections")
    if not isinstance(answers, list):
        answers = []
    return PollResponse(start, tuple(a for a in answers if isinstance(a, str)))


@dataclass(frozen=True, slots=True)
class AcceptedVote:
    """A response that became its voter's current vote in the poll ``poll_id``."""

    poll_id: str
    option_ids: tuple[str, ...]


class PollBook:
    """Poll events and their votes, in the store's platform messages (blocking calls).

    The data of a poll's platform message holds ``answers`` (ids, in order), ``labels``,
    ``max_selections`` and ``votes``: for each voter, the ids of their latest response and
    its ``origin_server_ts`` and event id.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def remember(self, room_id: str, event_id: str, message: OutPoll) -> None:
        self.store.remember_platform_message(
            TRANSPORT,
            room_id,
            event_id,
            kind=KIND,
            core_ref=message.poll_id,
            data={
                "answers": [choice.id for choice in message.options],
                "labels": {choice.id: choice.label for choice in message.options},
                "max_selections": len(message.options) if message.multiple else 1,
                "votes": {},
            },
        )

    def record(
        self, response: PollResponse, voter: str, event_id: str, timestamp: int
    ) -> AcceptedVote | None:
        """Count a response if it is its voter's latest on an open poll of ours."""
        poll = self.store.platform_message(TRANSPORT, response.start_event_id)
        if poll is None or poll.kind != KIND or poll.closed_at is not None or poll.id is None:
            return None
        data = dict(poll.data)
        known = data["answers"]
        chosen = tuple(dict.fromkeys(a for a in response.answer_ids if a in known))
        if len(chosen) > data["max_selections"]:
            chosen = chosen[: data["max_selections"]]
        previous = data["votes"].get(voter)
        if previous is not None and (previous["ts"], previous["event"]) > (timestamp, event_id):
            return None  # an older response arriving late changes nothing
        data["votes"] = {
            **data["votes"],
            voter: {"ids": list(chosen), "ts": timestamp, "event": event_id},
        }
        self.store.update_platform_message(poll.id, data=data)
        return AcceptedVote(poll.core_ref, self._ticked(poll.chat_id, poll.core_ref, voter))

    def _ticked(self, room_id: str, poll_id: str, voter: str) -> tuple[str, ...]:
        """The voter's latest answers over every open poll event of ``poll_id`` in the room."""
        order: list[str] = []
        chosen: set[str] = set()
        for message in self.store.platform_messages_for(TRANSPORT, room_id, poll_id):
            if message.kind != KIND or message.closed_at is not None:
                continue
            order.extend(message.data["answers"])
            vote = message.data["votes"].get(voter)
            chosen.update(vote["ids"] if vote else ())
        return tuple(a for a in dict.fromkeys(order) if a in chosen)

    def open_polls(self, room_id: str, poll_id: str) -> list[tuple[int, str, dict[str, Any]]]:
        """(row id, start event id, data) of the open poll events for ``poll_id`` in a room."""
        return [
            (message.id, message.platform_id, message.data)
            for message in self.store.platform_messages_for(TRANSPORT, room_id, poll_id)
            if message.kind == KIND and message.closed_at is None and message.id is not None
        ]

    def close(self, row_id: int) -> None:
        self.store.update_platform_message(row_id, closed=True)


def tally(data: dict[str, Any]) -> dict[str, int]:
    """Counts by answer id, in the poll's order, from each voter's latest vote."""
    counts = dict.fromkeys(data["answers"], 0)
    for vote in data["votes"].values():
        for answer in vote["ids"]:
            counts[answer] += 1
    return counts
