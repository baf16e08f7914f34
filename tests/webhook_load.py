"""A scripted load for ``recueil run`` webhook workers, and what it must leave behind.

Shared by the tests that run real processes against PostgreSQL: two workers on one base
(tests/test_two_processes.py) and one worker while the database server restarts
(tests/test_database_restart.py).
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from storage.store import Store

sys.path.insert(0, str(Path(__file__).parent / "telegram"))
from fake_bot_api import FakeBotApi

__all__ = ["FakeBotApi"]

SECRET = "webhook_load-secret"
PATH = "/telegram/hook"
PUBLIC_URL = f"https://recueil.example.org{PATH}"  # what Telegram knows: the balancer


def script(number: int) -> list[str]:
    """What agent ``number`` types after /start, up to its need being recorded."""
    return [
        "Villeurbanne",
        "2",
        f"Fonction {number}",
        "passer",
        "1",
        f"Besoin numéro {number}",
        f"Les habitants nous appellent chaque semaine pour le besoin {number}, "
        "et nous n'avons pas d'outil pour y répondre.",
        "1, 3",
        "passer",
        "1",
        "3",
        "Envoyer",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_variables(
    api: FakeBotApi, database_url: str, port: int, data_dir: Path
) -> dict[str, str]:
    return {
        "RECUEIL_DATA_DIR": str(data_dir),
        "RECUEIL_DATABASE_URL": database_url,
        "RECUEIL_TELEGRAM_TOKEN": "123456:webhook-load-token",
        "RECUEIL_TELEGRAM_BASE_URL": api.base_url,
        "RECUEIL_TELEGRAM_WEBHOOK_URL": PUBLIC_URL,
        "RECUEIL_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "RECUEIL_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "RECUEIL_TELEGRAM_WEBHOOK_PORT": str(port),
    }


async def post(api: FakeBotApi, http: aiohttp.ClientSession, update_id: int, port: int) -> None:
    """Post one update the fake Bot API holds to the worker on ``port``, as Telegram would;
    the worker answers once the update is handled and its replies delivered."""
    [update] = [u for u in api.pending_updates if u["update_id"] == update_id]
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with http.post(f"http://127.0.0.1:{port}{PATH}", json=update, headers=headers) as answer:
        assert answer.status == 200


async def until(condition: Callable[[], Awaitable[bool]], what: str, bound: float = 30) -> None:
    """Check ``condition`` (a database read) until it holds; a bound, not a pacing."""
    deadline = time.monotonic() + bound
    while not await condition():
        assert time.monotonic() < deadline, f"timed out after {bound}s waiting for {what}"
        await asyncio.sleep(0.1)


Reader = Callable[[str], Awaitable[list[Any]]]
"""Runs one SQL statement (in its own transaction, off the event loop) and returns its rows."""


def database_reader(store: Store) -> Reader:
    async def db(query: str) -> list[Any]:
        def run() -> list[Any]:
            with store.engine.begin() as connection:
                return list(connection.exec_driver_sql(query).all())

        return await asyncio.to_thread(run)

    return db


def check_each_message_sent_once_in_order(store: Store, api: FakeBotApi) -> None:
    """Every delivery row reached its chat exactly once, in the order of the rows: the
    order in which the turns, serialised by the database, queued them."""
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT chat_id, payload, status FROM delivery ORDER BY id"
        ).all()
        unsent = connection.exec_driver_sql(
            "SELECT id, chat_id, status, attempts, last_error, claimed_at, created_at"
            " FROM delivery WHERE status <> 'sent' ORDER BY id"
        ).all()
    assert Counter(status for _, _, status in rows) == Counter(sent=len(rows)), unsent
    queued: dict[int, list[str]] = {}
    for chat, payload, _ in rows:
        queued.setdefault(int(chat), []).append(payload["text"])
    for chat, texts in queued.items():
        sent = [m.text or "" for m in api.sent_messages(chat)]
        assert len(sent) == len(texts), (chat, sent, texts)
        for expected, got in zip(texts, sent, strict=True):
            assert got.startswith(expected[:30]), (chat, got, expected)


def check_intake_done_once(store: Store, api: FakeBotApi, chats: list[int], updates: int) -> None:
    """Each update handled once, each agent's need recorded once, references unique."""
    with store.engine.connect() as connection:
        references = [
            r for (r,) in connection.exec_driver_sql("SELECT reference FROM contribution")
        ]
        events = connection.exec_driver_sql("SELECT count(*) FROM inbound_event").scalar()
        handled = connection.exec_driver_sql("SELECT sum(turns) FROM conversation").scalar()
    assert len(references) == len(chats) and len(set(references)) == len(chats), references
    assert events == handled == updates
    for chat in chats:
        texts = [m.text or "" for m in api.sent_messages(chat)]
        assert sum("enregistré sous la référence" in t for t in texts) == 1, texts
