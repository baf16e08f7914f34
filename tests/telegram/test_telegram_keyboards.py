"""Inline keyboards: answered once, stale presses answered politely, data within 64 bytes."""

from __future__ import annotations

from fake_bot_records import FakeUser
from telegram_harness import Recorder, TelegramUser, start_bot

from bot.core.values import Choice, ConversationKey, IncomingChoice, OutChoices
from bot.transports.telegram.rendering import (
    MAX_CALLBACK_BYTES,
    ChoicePress,
    choices_keyboard,
    parse_callback,
)
from storage.store import Store


async def test_a_button_pressed_twice_counts_once_and_the_second_press_is_answered_politely(
    fake_bot_api, engine, store: Store
) -> None:
    recorder = Recorder(engine)
    bot = await start_bot(fake_bot_api, engine, store, handle=recorder)
    try:
        agent = TelegramUser(fake_bot_api, FakeUser(id=8))
        await agent.start()
        [question] = await agent.say("Villeurbanne")
        message_id, data = agent.button("Agent")
        # A slow network: both presses reach the bot before it could retire the keyboard.
        fake_bot_api.hold_updates()
        await fake_bot_api.user_presses_button(message_id, data, agent.user)
        await fake_bot_api.user_presses_button(message_id, data, agent.user)
        await fake_bot_api.release_updates()
        replies = agent.text_of(await agent.settle())
    finally:
        await bot.stop()

    first, second = fake_bot_api.callback_answers
    assert first.text is None  # the live keyboard: the edit shows the answer
    assert second.text and "question précédente" in second.text
    # The core answered the first press, and said the second belonged to an earlier question.
    assert replies.count("Quelle est votre fonction") == 2
    assert "Ce bouton correspond à une question précédente" in replies
    presses = recorder.of_type(IncomingChoice)
    assert [(p.choice_id, p.token) for p in presses] == [("agent", "2"), ("agent", "2")]
    # One edit only: the keyboard became the answer, and stays so.
    edits = [e for e in fake_bot_api.edits if e.message_id == question.message_id]
    assert len(edits) == 1 and edits[0].reply_markup is None


async def test_typing_the_answer_retires_the_keyboard_and_an_old_press_gets_the_current_question(
    fake_bot_api, engine, store: Store
) -> None:
    bot = await start_bot(fake_bot_api, engine, store)
    try:
        agent = TelegramUser(fake_bot_api, FakeUser(id=9))
        await agent.start()
        [question] = await agent.say("Villeurbanne")
        message_id, data = agent.button("Élu")
        # The client still shows the buttons while the typed answer is on its way.
        fake_bot_api.hold_updates()
        await fake_bot_api.user_sends_text(agent.user, "agent")
        await fake_bot_api.user_presses_button(message_id, data, agent.user)
        await fake_bot_api.release_updates()
        replies = agent.text_of(await agent.settle())
    finally:
        await bot.stop()
    assert fake_bot_api.message(agent.chat_id, question.message_id).buttons == []
    assert "Ce bouton correspond à une question précédente" in replies
    [answer] = fake_bot_api.callback_answers
    assert answer.text and "question précédente" in answer.text
    with store.transaction() as tx:
        assert tx.get_agent("telegram", "9") is None  # the profile is not finished
    # The profile answer is the typed one, not the stale press.
    assert replies.count("Quelle est votre fonction") == 2


def test_callback_data_fits_64_bytes_and_carries_ids_never_labels() -> None:
    long_id = "é" * 40  # 80 bytes in UTF-8: too long to carry
    message = OutChoices(
        "Quel thème ?",
        (Choice("habitants", "Les habitants " * 20), Choice(long_id, "Accentué")),
        token="123456789012",
    )
    rows = choices_keyboard(message).inline_keyboard
    datas = [row[0].callback_data for row in rows]
    assert datas == ["c123456789012:habitants", "c123456789012#1"]
    assert all(isinstance(d, str) and len(d.encode()) <= MAX_CALLBACK_BYTES for d in datas)
    assert parse_callback("c123456789012#1") == ChoicePress("123456789012", None, 1)
    assert parse_callback("c7:aide") == ChoicePress("7", "aide", None)
    assert parse_callback("garbage") is None


async def test_a_choice_whose_id_does_not_fit_is_resolved_from_the_store(
    fake_bot_api, engine, store: Store
) -> None:
    recorder = Recorder(engine)
    bot = await start_bot(fake_bot_api, engine, store, handle=recorder)
    user = FakeUser(id=12)
    key = ConversationKey("telegram", "12", "12")
    long_id = "thématique-très-longue-" * 3
    try:
        await bot.transport.send(
            key, OutChoices("Lequel ?", (Choice("a", "A"), Choice(long_id, "B")), token="4")
        )
        [sent] = fake_bot_api.sent_messages(12)
        await fake_bot_api.user_presses_button(sent.message_id, "c4#1", user)
        await fake_bot_api.wait_until(lambda: not fake_bot_api.pending_updates)
    finally:
        await bot.stop()
    [press] = recorder.of_type(IncomingChoice)
    assert (press.choice_id, press.token) == (long_id, "4")
    assert fake_bot_api.message(12, sent.message_id).text.endswith("«\u00a0B\u00a0»")


async def test_a_question_sent_whose_keyboard_bookkeeping_fails_is_not_sent_again(
    fake_bot_api, engine, store: Store, monkeypatch
) -> None:
    """The database failed between the question going out and its keyboard being recorded
    (found in a PostgreSQL restart under load): the question was taken for unsent and went
    out twice. Sent is sent: the bookkeeping's failure is logged, the delivery marked sent."""
    bot = await start_bot(fake_bot_api, engine, store)
    try:
        agent = TelegramUser(fake_bot_api, FakeUser(id=10))
        await agent.start()
        real = store.remember_platform_message
        failures: list[str] = []

        def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
            if not failures:
                failures.append(args[2])
                raise RuntimeError("base de données perdue")
            return real(*args, **kwargs)

        monkeypatch.setattr(store, "remember_platform_message", failing)
        await agent.say("Villeurbanne")
        await engine.redeliver_pending()
        await agent.settle()
    finally:
        await bot.stop()
    assert failures  # the bookkeeping did fail
    texts = [m.text or "" for m in fake_bot_api.sent_messages(agent.chat_id)]
    assert sum("Vous êtes" in text for text in texts) == 1, texts
    with store.engine.connect() as connection:
        [(unsent,)] = connection.exec_driver_sql(
            "SELECT count(*) FROM delivery WHERE status <> 'sent'"
        ).all()
    assert unsent == 0
