"""python-telegram-bot 22, unmodified, against the fake Bot API over real HTTP.

Each test runs a real ``Application`` with long polling, acts as a user through the fake
server and checks both what the bot's handlers received and what the server recorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
import pytest_asyncio
from fake_bot_api import DEFAULT_TIMEOUT, FakeBotApi
from fake_bot_rate import ManualClock, RateLimits, SendRecord, find_violations
from fake_bot_records import FakeUser
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    PollAnswer,
    Update,
)
from telegram.error import BadRequest, EndPointNotFound, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

TOKEN = "123456:TEST-TOKEN"
AGENT = FakeUser(id=4242, first_name="Camille", username="camille_mairie")
OTHER_AGENT = FakeUser(id=5151, first_name="Dominique")


def build_application(api: FakeBotApi) -> Application:
    return (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )


@asynccontextmanager
async def polling(application: Application) -> AsyncIterator[Application]:
    """Run ``application`` the way ``run_polling`` does, on the test's loop."""
    updater = application.updater
    assert updater is not None
    await application.initialize()
    await updater.start_polling()
    await application.start()
    try:
        yield application
    finally:
        await updater.stop()
        await application.stop()
        await application.shutdown()


@pytest_asyncio.fixture(loop_scope="function")
async def application(fake_bot_api: FakeBotApi) -> AsyncIterator[Application]:
    """A polling Application; tests add their handlers (PTB accepts them while running)."""
    async with polling(build_application(fake_bot_api)) as running:
        yield running


async def next_item(queue: asyncio.Queue[object]) -> object:
    async with asyncio.timeout(DEFAULT_TIMEOUT):
        return await queue.get()


async def test_text_message_reaches_message_handler_and_reply_is_recorded(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(f"Reçu : {update.message.text}", parse_mode="HTML")

    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))

    await fake_bot_api.user_sends_text(AGENT, "Nous manquons d'un outil de GRC")

    [reply] = await fake_bot_api.wait_for_messages(AGENT.id, 1)
    assert reply.text == "Reçu : Nous manquons d'un outil de GRC"
    assert reply.parse_mode == "HTML"
    # The user's message took id 1 in this chat; the reply follows it.
    assert reply.message_id == 2
    assert fake_bot_api.calls_to("getMe")
    assert fake_bot_api.calls_to("deleteWebhook")


async def test_button_press_reaches_callback_handler_which_answers_and_edits(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    pressed: asyncio.Queue[object] = asyncio.Queue()

    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Mobilité", callback_data="theme:mobilite")],
                [InlineKeyboardButton("Santé", callback_data="theme:sante")],
            ]
        )
        await update.message.reply_text("Quelle thématique ?", reply_markup=keyboard)

    async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await pressed.put((query.from_user.id, query.data, query.message.message_id))
        await query.answer("Noté")
        await query.edit_message_text(f"Thématique choisie : {query.data}")

    application.add_handler(CommandHandler("menu", menu))
    application.add_handler(CallbackQueryHandler(choose))

    await fake_bot_api.user_sends_text(AGENT, "/menu")
    [keyboard_message] = await fake_bot_api.wait_for_messages(AGENT.id, 1)
    assert keyboard_message.callback_data == ["theme:mobilite", "theme:sante"]

    query_id = await fake_bot_api.user_presses_button(
        keyboard_message.message_id, "theme:sante", AGENT
    )

    assert await next_item(pressed) == (AGENT.id, "theme:sante", keyboard_message.message_id)
    [answer] = await fake_bot_api.wait_for_callback_answers(1)
    assert (answer.callback_query_id, answer.text) == (query_id, "Noté")
    [edit] = await fake_bot_api.wait_for_edits(1)
    assert edit.method == "editMessageText"
    assert edit.text == "Thématique choisie : theme:sante"
    # Telegram drops the keyboard when an edit does not resend it.
    assert fake_bot_api.message(AGENT.id, keyboard_message.message_id).reply_markup is None


async def test_pressing_a_button_the_bot_never_sent_is_a_test_error(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    await application.bot.send_message(AGENT.id, "Sans clavier")
    with pytest.raises(ValueError, match="no button"):
        await fake_bot_api.user_presses_button(1, "anything", AGENT)


async def test_poll_votes_changes_and_retractions_reach_poll_answer_handler(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    answers: asyncio.Queue[object] = asyncio.Queue()

    async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        answer = update.poll_answer
        assert isinstance(answer, PollAnswer) and answer.user is not None
        await answers.put((answer.poll_id, answer.user.id, answer.option_ids))

    application.add_handler(PollAnswerHandler(on_answer))

    message = await application.bot.send_poll(
        AGENT.id,
        "Quels besoins prioritaires ?",
        ["Mobilité", "Santé", "Éducation"],
        is_anonymous=False,
        allows_multiple_answers=True,
    )
    assert message.poll is not None
    poll_id = message.poll.id
    assert fake_bot_api.polls[poll_id].options == ["Mobilité", "Santé", "Éducation"]

    await fake_bot_api.user_answers_poll(poll_id, AGENT, [0])
    await fake_bot_api.user_answers_poll(poll_id, OTHER_AGENT, [1, 2])
    await fake_bot_api.user_answers_poll(poll_id, AGENT, [2])
    await fake_bot_api.user_answers_poll(poll_id, OTHER_AGENT, [])

    assert [await next_item(answers) for _ in range(4)] == [
        (poll_id, AGENT.id, (0,)),
        (poll_id, OTHER_AGENT.id, (1, 2)),
        (poll_id, AGENT.id, (2,)),
        (poll_id, OTHER_AGENT.id, ()),
    ]

    final = await application.bot.stop_poll(AGENT.id, message.message_id)
    assert final.is_closed
    assert [option.voter_count for option in final.options] == [0, 0, 1]
    assert final.total_voter_count == 1
    with pytest.raises(ValueError, match="closed"):
        await fake_bot_api.user_answers_poll(poll_id, AGENT, [0])


async def test_set_my_commands_is_recorded(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    commands = [BotCommand("aide", "Afficher l'aide"), BotCommand("annuler", "Tout annuler")]
    await application.bot.set_my_commands(commands, language_code="fr")

    assert fake_bot_api.commands_for(language_code="fr") == [
        {"command": "aide", "description": "Afficher l'aide"},
        {"command": "annuler", "description": "Tout annuler"},
    ]
    assert tuple(await application.bot.get_my_commands(language_code="fr")) == tuple(commands)
    assert await application.bot.get_my_commands() == ()


async def test_injected_429_raises_retry_after_with_the_given_delay(
    fake_bot_api: FakeBotApi,
    application: Application,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as a timedelta, no warning
    fake_bot_api.inject_retry_after(1, 7, method="sendMessage")

    with pytest.raises(RetryAfter) as raised:
        await application.bot.send_message(AGENT.id, "Trop tôt")
    assert raised.value.retry_after == dt.timedelta(seconds=7)

    await application.bot.send_message(AGENT.id, "Maintenant")
    assert [m.text for m in fake_bot_api.sent_messages(AGENT.id)] == ["Maintenant"]


async def test_blocked_user_makes_send_message_raise_forbidden(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    await application.bot.send_message(AGENT.id, "Bienvenue")
    fake_bot_api.block_user(AGENT.id)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await application.bot.send_message(AGENT.id, "Relance")
    assert [m.text for m in fake_bot_api.sent_messages(AGENT.id)] == ["Bienvenue"]


async def test_send_document_bytes_is_recorded_and_downloadable(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    content = "thématique;besoin\nmobilité;covoiturage\n".encode()

    message = await application.bot.send_document(
        AGENT.id, content, filename="synthese.csv", caption="Votre synthèse"
    )

    [sent] = fake_bot_api.sent_messages(AGENT.id)
    assert (sent.kind, sent.caption) == ("document", "Votre synthèse")
    assert sent.file_id is not None
    stored = fake_bot_api.files[sent.file_id]
    assert (stored.file_name, stored.content) == ("synthese.csv", content)
    assert message.document is not None
    downloaded = await (await message.document.get_file()).download_as_bytearray()
    assert bytes(downloaded) == content


async def test_send_photo_is_uploaded_as_multipart(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

    message = await application.bot.send_photo(AGENT.id, png, caption="Carte")

    [call] = fake_bot_api.calls_to("sendPhoto")
    assert call.content_type == "multipart/form-data"
    assert call.uploaded_files == ("photo",)
    assert message.photo and message.caption == "Carte"
    [sent] = fake_bot_api.sent_messages(AGENT.id)
    assert sent.file_id is not None and fake_bot_api.files[sent.file_id].content == png


async def test_deep_link_start_param_reaches_command_handler_args(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    received: asyncio.Queue[object] = asyncio.Queue()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await received.put(context.args)

    application.add_handler(CommandHandler("start", start))

    await fake_bot_api.user_starts(AGENT, "atelier-grand-est")

    assert await next_item(received) == ["atelier-grand-est"]


async def test_confirmed_update_is_not_redelivered_after_restart(
    fake_bot_api: FakeBotApi,
) -> None:
    first_texts: asyncio.Queue[object] = asyncio.Queue()
    second_texts: asyncio.Queue[object] = asyncio.Queue()

    def collector(queue: asyncio.Queue[object]) -> MessageHandler:
        async def collect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.message is not None
            await queue.put(update.message.text)

        return MessageHandler(filters.TEXT, collect)

    first = build_application(fake_bot_api)
    first.add_handler(collector(first_texts))
    async with polling(first):
        update_id = await fake_bot_api.user_sends_text(AGENT, "avant redémarrage")
        assert await next_item(first_texts) == "avant redémarrage"
    # PTB's shutdown call to getUpdates confirmed it.
    await fake_bot_api.wait_for_confirmation(update_id)

    await fake_bot_api.user_sends_text(AGENT, "après redémarrage")
    second = build_application(fake_bot_api)
    second.add_handler(collector(second_texts))
    async with polling(second):
        # Updates come in order: a redelivered first message would come first.
        assert await next_item(second_texts) == "après redémarrage"
    assert second_texts.empty()


async def test_message_not_modified_is_a_bad_request(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    message = await application.bot.send_message(AGENT.id, "Même texte")

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await application.bot.edit_message_text("Même texte", AGENT.id, message.message_id)


async def test_unknown_method_is_a_404_which_ptb_reports_as_endpoint_not_found(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    # PTB maps any 404 to InvalidToken, then to EndPointNotFound once the bot is initialised.
    with pytest.raises(EndPointNotFound, match="sendCarrierPigeon"):
        await application.bot.do_api_request("sendCarrierPigeon", {"chat_id": AGENT.id})
    [call] = fake_bot_api.calls_to("sendCarrierPigeon")
    assert call.status == 404


async def test_injected_error_fails_the_next_call_only(
    fake_bot_api: FakeBotApi, application: Application
) -> None:
    fake_bot_api.inject_error("sendMessage", 400, "Bad Request: chat not found")

    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await application.bot.send_message(AGENT.id, "Perdu")
    await application.bot.send_message(AGENT.id, "Trouvé")


async def test_enforced_rate_limits_refuse_a_second_send_in_the_same_second(
    fake_bot_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    clock = ManualClock()
    fake_bot_api.clock = clock
    fake_bot_api.rate_limits = RateLimits()
    application = build_application(fake_bot_api)
    async with application:
        await application.bot.send_message(AGENT.id, "un")
        await application.bot.send_message(OTHER_AGENT.id, "un")
        with pytest.raises(RetryAfter) as raised:
            await application.bot.send_message(AGENT.id, "deux")
        assert raised.value.retry_after == dt.timedelta(seconds=1)
        clock.advance(1.0)
        await application.bot.send_message(AGENT.id, "deux")

    assert fake_bot_api.rate_limited == [SendRecord(0.0, AGENT.id, "sendMessage")]
    assert find_violations(fake_bot_api.send_log) == []


async def test_send_log_shows_a_client_exceeding_the_limits(
    fake_bot_api: FakeBotApi,
) -> None:
    clock = ManualClock()
    fake_bot_api.clock = clock
    application = build_application(fake_bot_api)
    async with application:
        for chat_id in range(1, 32):
            await application.bot.send_message(chat_id, "annonce")
        clock.advance(0.5)
        await application.bot.send_message(1, "rappel")

    violations = find_violations(fake_bot_api.send_log)
    assert {v.scope for v in violations} == {"global", 1}
    assert max(v.count for v in violations if v.scope == "global") == 32


def test_sends_exactly_one_window_apart_do_not_violate() -> None:
    sends = [SendRecord(float(second), 7, "sendMessage") for second in range(5)]
    assert find_violations(sends) == []
    jittered = [SendRecord(0.0, 7, "sendMessage"), SendRecord(0.998, 7, "sendMessage")]
    assert len(find_violations(jittered)) == 1
    assert find_violations(jittered, tolerance=0.005) == []


# ---------------------------------------------------------------- raw HTTP: server semantics


async def raw_call(
    session: aiohttp.ClientSession, api: FakeBotApi, method: str, **params: object
) -> dict[str, object]:
    async with session.post(f"{api.base_url}{TOKEN}/{method}", json=params) as response:
        body: dict[str, object] = await response.json()
        return body


async def test_unconfirmed_updates_are_redelivered_and_offset_drops_them(
    fake_bot_api: FakeBotApi,
) -> None:
    first = await fake_bot_api.user_sends_text(AGENT, "un")
    second = await fake_bot_api.user_sends_text(AGENT, "deux")
    async with aiohttp.ClientSession() as session:
        once = await raw_call(session, fake_bot_api, "getUpdates", limit=1)
        twice = await raw_call(session, fake_bot_api, "getUpdates")
        after_offset = await raw_call(session, fake_bot_api, "getUpdates", offset=first + 1)
    assert [u["update_id"] for u in once["result"]] == [first]  # type: ignore[attr-defined]
    assert [u["update_id"] for u in twice["result"]] == [first, second]  # type: ignore[attr-defined]
    assert [u["update_id"] for u in after_offset["result"]] == [second]  # type: ignore[attr-defined]
    assert [u["update_id"] for u in fake_bot_api.pending_updates] == [second]


async def test_long_poll_returns_when_an_update_arrives(fake_bot_api: FakeBotApi) -> None:
    async with aiohttp.ClientSession() as session:
        poll = asyncio.create_task(raw_call(session, fake_bot_api, "getUpdates", timeout=30))
        await fake_bot_api.wait_for_long_poll()
        update_id = await fake_bot_api.user_sends_text(AGENT, "réveil")
        async with asyncio.timeout(DEFAULT_TIMEOUT):
            body = await poll
    assert [u["update_id"] for u in body["result"]] == [update_id]  # type: ignore[attr-defined]


async def test_allowed_updates_filters_out_other_types(fake_bot_api: FakeBotApi) -> None:
    await fake_bot_api.user_sends_text(AGENT, "ignoré")
    async with aiohttp.ClientSession() as session:
        body = await raw_call(
            session, fake_bot_api, "getUpdates", allowed_updates=["callback_query"]
        )
    assert body == {"ok": True, "result": []}


async def test_unknown_method_answers_telegram_style_404(fake_bot_api: FakeBotApi) -> None:
    async with aiohttp.ClientSession() as session:
        body = await raw_call(session, fake_bot_api, "noSuchMethod")
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
