"""The core's polls as native, non-anonymous Telegram polls; split or keyboards beyond limits."""

from __future__ import annotations

from fake_bot_api import FakeBotApi
from fake_bot_records import FakeUser
from telegram_harness import Recorder, RunningBot, start_bot

from bot.core.values import Choice, ConversationKey, IncomingPollAnswer, OutPoll
from bot.transports.telegram.polls import MAX_OPTION_LENGTH, MAX_OPTIONS, Shape, plan_poll
from storage.store import Store

USER = FakeUser(id=21)
KEY = ConversationKey("telegram", "21", "21")


def options(count: int, label: str = "Option") -> tuple[Choice, ...]:
    return tuple(Choice(f"o{i}", f"{label} {i}") for i in range(count))


async def handled(api: FakeBotApi) -> None:
    await api.wait_until(lambda: not api.pending_updates, what="updates handled")


def votes(recorder: Recorder) -> list[tuple[str, tuple[str, ...]]]:
    return [(v.poll_id, v.option_ids) for v in recorder.of_type(IncomingPollAnswer)]


async def start(api: FakeBotApi, engine, store: Store) -> tuple[RunningBot, Recorder]:  # type: ignore[no-untyped-def]
    recorder = Recorder(engine)
    return await start_bot(api, engine, store, handle=recorder), recorder


async def test_a_poll_is_answered_changed_retracted_and_closed(
    fake_bot_api, engine, store: Store
) -> None:
    bot, recorder = await start(fake_bot_api, engine, store)
    try:
        poll = OutPoll("Quel créneau pour l’atelier ?", options(3, "Créneau"), poll_id="atelier-7")
        await bot.transport.send(KEY, poll)
        [message] = fake_bot_api.sent_messages(21)
        assert message.kind == "poll"
        native = fake_bot_api.polls[message.poll_id or ""]
        assert native.is_anonymous is False and native.allows_multiple_answers is False
        assert native.options == ["Créneau 0", "Créneau 1", "Créneau 2"]

        await fake_bot_api.user_answers_poll(native.id, USER, [1])
        await handled(fake_bot_api)
        await fake_bot_api.user_answers_poll(native.id, USER, [2])
        await handled(fake_bot_api)
        await fake_bot_api.user_answers_poll(native.id, USER, [])
        await handled(fake_bot_api)
        assert votes(recorder) == [
            ("atelier-7", ("o1",)),
            ("atelier-7", ("o2",)),
            ("atelier-7", ()),
        ]
        assert all(v.key == KEY for v in recorder.of_type(IncomingPollAnswer))

        assert await bot.transport.close_poll(KEY, "atelier-7") == 1
        assert native.is_closed
        assert [c.status for c in fake_bot_api.calls_to("stopPoll")] == [200]
        assert await bot.transport.close_poll(KEY, "atelier-7") == 0  # closing twice is harmless
    finally:
        await bot.stop()


async def test_a_poll_survives_a_restart_of_the_transport(
    fake_bot_api, engine, store: Store
) -> None:
    bot, _ = await start(fake_bot_api, engine, store)
    await bot.transport.send(KEY, OutPoll("Question ?", options(2), poll_id="p-restart"))
    await bot.stop()
    [message] = fake_bot_api.sent_messages(21)
    bot, recorder = await start(fake_bot_api, engine, store)
    try:
        await fake_bot_api.user_answers_poll(message.poll_id or "", USER, [0])
        await handled(fake_bot_api)
    finally:
        await bot.stop()
    assert votes(recorder) == [("p-restart", ("o0",))]


async def test_a_multiple_answer_poll_with_too_many_options_is_split_and_votes_add_up(
    fake_bot_api, engine, store: Store
) -> None:
    poll = OutPoll("Quels outils utilisez-vous ?", options(MAX_OPTIONS + 3), "outils", True)
    assert plan_poll(poll).shape is Shape.SPLIT
    bot, recorder = await start(fake_bot_api, engine, store)
    try:
        await bot.transport.send(KEY, poll)
        first, second = fake_bot_api.sent_messages(21)
        part1, part2 = (fake_bot_api.polls[m.poll_id or ""] for m in (first, second))
        assert part1.question.endswith("(1/2)") and part2.question.endswith("(2/2)")
        assert len(part1.options) + len(part2.options) == MAX_OPTIONS + 3
        assert part1.allows_multiple_answers and part2.allows_multiple_answers

        await fake_bot_api.user_answers_poll(part1.id, USER, [0, 2])
        await handled(fake_bot_api)
        await fake_bot_api.user_answers_poll(part2.id, USER, [1])
        await handled(fake_bot_api)
        await fake_bot_api.user_answers_poll(part1.id, USER, [])
        await handled(fake_bot_api)
        assert await bot.transport.close_poll(KEY, "outils") == 2
    finally:
        await bot.stop()
    first_of_part2 = f"o{len(part1.options) + 1}"
    assert votes(recorder) == [
        ("outils", ("o0", "o2")),
        ("outils", ("o0", "o2", first_of_part2)),
        ("outils", (first_of_part2,)),
    ]
    assert part1.is_closed and part2.is_closed


async def test_a_single_answer_poll_that_does_not_fit_becomes_a_vote_keyboard(
    fake_bot_api, engine, store: Store
) -> None:
    long_label = "Une option décrite bien trop longuement " * 4
    assert len(long_label) > MAX_OPTION_LENGTH
    poll = OutPoll("Quelle priorité ?", (Choice("a", "Courte"), Choice("b", long_label)), "prio")
    assert plan_poll(poll).shape is Shape.KEYBOARD
    bot, recorder = await start(fake_bot_api, engine, store)
    try:
        await bot.transport.send(KEY, poll)
        [message] = fake_bot_api.sent_messages(21)
        assert message.kind == "text" and long_label.strip() in (message.text or "")
        first, second = message.callback_data
        assert all(len(d.encode()) <= 64 for d in message.callback_data)

        for data in (first, second, second):  # vote, change, retract (press again)
            await fake_bot_api.user_presses_button(message.message_id, data, USER)
            await handled(fake_bot_api)
        ticked = [b["text"] for b in fake_bot_api.message(21, message.message_id).buttons]
        assert not any(t.startswith("✅") for t in ticked)
        assert await bot.transport.close_poll(KEY, "prio") == 1
        closed = fake_bot_api.message(21, message.message_id)
        assert closed.buttons == [] and (closed.text or "").endswith("Ce vote est clos.")
    finally:
        await bot.stop()
    assert votes(recorder) == [("prio", ("a",)), ("prio", ("b",)), ("prio", ())]
    answers = [a.text for a in fake_bot_api.callback_answers]
    assert answers == ["Vote enregistré.", "Vote enregistré.", "Vote retiré."]


def test_polls_that_fit_stay_native() -> None:
    assert plan_poll(OutPoll("Q ?", options(MAX_OPTIONS), "p")).shape is Shape.NATIVE
    assert plan_poll(OutPoll("Q ?", options(MAX_OPTIONS + 1), "p")).shape is Shape.KEYBOARD
    assert plan_poll(OutPoll("Q" * 301, options(3), "p")).shape is Shape.KEYBOARD
