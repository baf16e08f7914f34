"""MSC3381 polls: start, responses in both forms, a changed vote, the end with results."""

from __future__ import annotations

from collections.abc import Callable

from nio import Event, UnknownEvent

from bot.core.values import (
    Choice,
    ConversationKey,
    Incoming,
    IncomingPollAnswer,
    IncomingText,
    OutPoll,
)
from bot.transports.matrix.polls import POLL_END, POLL_RESPONSE, POLL_START, TEXT

from .conftest import BotFactory
from .synced_client import ClientFactory, open_chat_with_bot


def of_type(event_type: str, sender: str) -> Callable[[Event], bool]:
    def matches(event: Event) -> bool:
        return (
            isinstance(event, UnknownEvent) and event.type == event_type and event.sender == sender
        )

    return matches


def answer_to(event_id: str) -> Callable[[Incoming], bool]:
    return lambda incoming: incoming.event_id == event_id


async def test_poll_responses_in_both_forms_latest_counts_and_end_has_results(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot = await recueil_bot(exempt_from_rate_limits=True)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    chat = await open_chat_with_bot(agent, bot.user_id)
    await chat.expect("Quelle est votre collectivité")
    key = ConversationKey("matrix", chat.room_id, agent.user_id)
    poll = OutPoll(
        "Quelle proposition soutenez-vous ?",
        (Choice("p1", "Réservation de salles"), Choice("p2", "État civil en ligne")),
        poll_id="vote-2027",
    )

    await bot.transport.send(key, poll)

    [notice] = await chat.expect("Un vote vous attend")
    assert "Quelle proposition soutenez-vous" in notice
    start = await agent.wait_for_event(chat.room_id, of_type(POLL_START, bot.user_id), "poll")
    body = start.source["content"][POLL_START]
    assert body["question"][TEXT] == poll.question
    assert [(a["id"], a[TEXT]) for a in body["answers"]] == [
        ("p1", "Réservation de salles"),
        ("p2", "État civil en ligne"),
    ]
    assert body["max_selections"] == 1
    assert "1. Réservation de salles" in start.source["content"][TEXT]  # text fallback

    reference = {"rel_type": "m.reference", "event_id": start.event_id}
    first = await agent.send(
        chat.room_id, POLL_RESPONSE, {"m.relates_to": reference, POLL_RESPONSE: {"answers": ["p1"]}}
    )
    vote = await bot.wait_incoming(answer_to(first.event_id), "unstable response")
    assert isinstance(vote, IncomingPollAnswer)
    assert (vote.key, vote.poll_id, vote.option_ids) == (key, "vote-2027", ("p1",))

    # The agent changes their mind, in the stable form: only the latest counts.
    second = await agent.send(
        chat.room_id, "m.poll.response", {"m.relates_to": reference, "m.selections": ["p2"]}
    )
    vote = await bot.wait_incoming(answer_to(second.event_id), "stable response")
    assert isinstance(vote, IncomingPollAnswer) and vote.option_ids == ("p2",)

    assert await bot.transport.close_poll(key, "vote-2027") == 1  # one poll closed
    end = await agent.wait_for_event(chat.room_id, of_type(POLL_END, bot.user_id), "poll end")
    content = end.source["content"]
    assert content["m.relates_to"] == reference
    assert content["m.poll.results"] == {"p1": 0, "p2": 1}
    assert "Le vote est clos" in content[TEXT] and "État civil en ligne\u00a0: 1" in content[TEXT]

    # A response after the end is ignored; a text sent after it shows it was read first.
    late = await agent.send(
        chat.room_id, POLL_RESPONSE, {"m.relates_to": reference, POLL_RESPONSE: {"answers": ["p1"]}}
    )
    sentinel = await agent.send(
        chat.room_id, "m.room.message", {"msgtype": "m.text", "body": "Villeurbanne"}
    )
    await bot.wait_incoming(answer_to(sentinel.event_id), "text after the poll")
    assert not any(i.event_id == late.event_id for i in bot.incoming)
    assert isinstance(bot.incoming[-1], IncomingText)
    assert await bot.transport.close_poll(key, "vote-2027") == 0  # already closed
