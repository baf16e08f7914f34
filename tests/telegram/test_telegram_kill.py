"""``kill -9`` of ``recueil run`` in the middle of a push and of the vote, then a restart.

``recueil run`` runs as a subprocess against the fake Bot API of this test process, on a
database seeded with a few dozen agents. The kill point is made exact by the fake API: it
holds one send and every send after it, unexecuted (requests in flight on the network when
the bot dies), and the test kills the bot only once the database shows every send the API
answered marked sent. The engine delivers at least once (send, then mark sent; a restart
sends whatever is still pending), so across such a kill nothing is lost and nothing is sent
twice, and every input is answered once (Telegram gives back the updates the bot had not
confirmed; those already handled are dropped).

The one window a kill can leave ambiguous (the server executed a send, the bot had not
recorded it yet: about 2 ms per send, see docs/campagnes.md) is reproduced by a hold that
executes the send and withholds its answer: that message, and only that one, comes twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fake_bot_api import FakeBotApi, HeldCall
from fake_bot_protocol import SEND_METHODS
from recueil_process import RunningBot, recueil_run

from storage.campaigns import set_opted_out
from storage.keys import ConversationKey
from storage.referential import default_referential
from storage.store import Store

TOKEN = "123456:kill-test-token"
VOTE_DAY = "2027-02-15T10:00:00+01:00"  # a Monday in the sending window: the vote opens
OPENING = "construites. Tapez"  # the vote opening; the menu says « construites. » too
NOTICE = "Voici ce que sont devenues vos contributions"
ADDED, ALREADY = "votre collectivité soutient P-001", "soutient déjà P-001"
BOUND = 120.0  # seconds: a bound on a wait (a loaded machine starts slowly), never a pacing

VOTERS = 60  # chats 30000…: the vote opening's audience
SHARED = 10  # voters 50… are colleagues of voters 0… (same commune)
CONTRIBUTORS = 30  # voters 0…29, ten per proposal: P-001, P-002, P-003
OUTSIDERS = 5  # partners, and voters who typed « stop »: outside the audience
FIRST_VOTER, FIRST_PARTNER, FIRST_OPTED_OUT, ADMIN = 30_000, 31_000, 32_000, 33_000
NOTICES_BEFORE_KILL = 10
TEXT_VOTERS = range(SHARED)  # « soutenir P-001 », as do their colleagues (one is « déjà »)
POLL_VOTERS = range(30, 35)  # tick P-001 and P-002 in the poll


def voter(n: int) -> int:
    return FIRST_VOTER + n


def commune_of(n: int) -> int:
    return n - (VOTERS - SHARED) if n >= VOTERS - SHARED else n


def proposal_of(n: int) -> str:
    return f"P-00{n // 10 + 1}"


def telegram_agent(
    store: Store, chat: int, commune: int, profile: str = "agent", *, opted_out: bool = False
) -> None:
    """An agent with a profile and a Telegram conversation, as the welcome leaves them."""
    with store.transaction() as tx:
        agent = tx.ensure_agent("telegram", str(chat))
        agent = tx.save_profile(
            agent,
            collectivite=default_referential().all("commune")[commune],
            profile=profile,
            fonction="Secrétaire de mairie",
            email=None,
        )
        tx.lock_conversation(ConversationKey("telegram", str(chat), str(chat)))
        assert agent.id is not None
        if opted_out:
            set_opted_out(tx, agent.id, True)


def seed(store: Store) -> None:
    """60 voters (10 communes with two), 5 partners, 5 opted out, a partner administrator;
    voters 0…29 each wrote a contribution, grouped ten by ten in three draft proposals."""
    for n in range(VOTERS):
        telegram_agent(store, voter(n), commune_of(n))
    for n in range(OUTSIDERS):
        telegram_agent(store, FIRST_PARTNER + n, 1000 + n, "partenaire")
        telegram_agent(store, FIRST_OPTED_OUT + n, 100 + n, opted_out=True)
    telegram_agent(store, ADMIN, 2000, "partenaire")
    with store.transaction() as tx:
        for group in range(CONTRIBUTORS // 10):
            references = []
            for n in range(group * 10, group * 10 + 10):
                author = tx.get_agent("telegram", str(voter(n)))
                assert author is not None
                _, reference = tx.add_contribution(
                    author,
                    kind="besoin",
                    title=f"Réserver les salles en ligne, demande {n}",
                    description="Les associations appellent la mairie chaque semaine pour cela.",
                    answers={"usage": "reserver"},
                    thematique="culture_sport_tourisme",
                    confidence=0.9,
                    thematique_source="agent",
                )
                references.append(reference)
            tx.create_proposal(
                "test:admin", title=f"Proposition {group + 1}", contributions=references
            )


def bot_environment(
    api: FakeBotApi, tmp_path: Path, database_url: str, **extra: str
) -> dict[str, str]:
    return {
        "RECUEIL_DATA_DIR": str(tmp_path),
        "RECUEIL_DATABASE_URL": database_url,
        "RECUEIL_TELEGRAM_TOKEN": TOKEN,
        "RECUEIL_TELEGRAM_BASE_URL": api.base_url,
        "RECUEIL_ADMINS": f"telegram:{ADMIN}",
        "RECUEIL_NOW": VOTE_DAY,
        "RECUEIL_SCHEDULE_SECONDS": "1",
        **extra,
    }


def rows(store: Store, query: str, **params: object) -> list[Any]:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.text(query), params))


def campaign_rows(store: Store, prefix: str) -> dict[str, int]:
    """Deliveries of the campaigns starting with ``prefix``, by status."""
    return dict(
        rows(
            store,
            "SELECT status, count(*) FROM delivery WHERE campaign LIKE :prefix GROUP BY status",
            prefix=prefix + "%",
        )
    )


def answered(api: FakeBotApi) -> Counter[str]:
    """Sends the API executed and answered, by chat."""
    return Counter(
        str(call.params["chat_id"])
        for call in api.calls
        if call.method.lower() in SEND_METHODS and call.status == 200
    )


def recorded(store: Store) -> Counter[str]:
    """Deliveries the bot marked sent, by chat."""
    return Counter(
        dict(rows(store, "SELECT chat_id, count(*) FROM delivery WHERE status = 'sent' GROUP BY 1"))
    )


async def poll_database(store: Store, what: str, ready: Callable[[], bool]) -> None:
    """Poll the database, which the bot's process writes, until ``ready()``; bounded."""
    deadline = time.monotonic() + BOUND
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def kill_once_recorded(api: FakeBotApi, store: Store, bot: RunningBot) -> list[HeldCall]:
    """``kill -9`` the bot once a send is held and every answered send is marked sent
    (each delivery here is one Bot API call), then end the holds (the requests held
    unexecuted are never executed); returns what was held at the kill."""
    await api.wait_for_held(timeout=BOUND)
    await poll_database(
        store, "every answered send marked sent", lambda: answered(api) == recorded(store)
    )
    await bot.kill()
    held = list(api.held)
    await api.release_held()
    return held


async def run_to_the_end(api: FakeBotApi, store: Store, environment: dict[str, str]) -> None:
    """Restart, and stop once every delivery is sent and every update handled."""
    async with recueil_run(**environment) as running:
        await poll_database(
            store,
            "every delivery sent",
            lambda: not rows(store, "SELECT id FROM delivery WHERE status = 'pending'"),
        )
        await api.wait_until(lambda: not api.pending_updates, BOUND, "every update handled")
    assert running.process.returncode == 0, running.journal


def texts(api: FakeBotApi, chat: int) -> list[str]:
    return [m.text or m.kind for m in api.sent_messages(chat)]


def count(api: FakeBotApi, chats: Iterable[int], fragment: str) -> list[int]:
    return [sum(fragment in text for text in texts(api, chat)) for chat in chats]


def opened(api: FakeBotApi) -> int:
    return sum(count(api, map(voter, range(VOTERS)), OPENING))


def executed(api: FakeBotApi) -> Counter[str]:
    """Messages the API executed (in the chats), by chat."""
    chats = [voter(n) for n in range(VOTERS)] + [ADMIN]
    chats += [first + n for first in (FIRST_PARTNER, FIRST_OPTED_OUT) for n in range(OUTSIDERS)]
    return Counter({str(chat): len(api.sent_messages(chat)) for chat in chats}) - Counter()


def assert_the_vote_opening_reached_its_audience_once(api: FakeBotApi, duplicate: int = 0) -> None:
    """Each voter got the vote opening once (``duplicate``: that voter twice), nobody else."""
    voters = [voter(n) for n in range(VOTERS)]
    assert count(api, voters, OPENING) == [1 + (chat == duplicate) for chat in voters]
    outsiders = [FIRST_PARTNER + n for n in range(OUTSIDERS)]
    outsiders += [FIRST_OPTED_OUT + n for n in range(OUTSIDERS)] + [ADMIN]
    assert count(api, outsiders, OPENING) == [0] * len(outsiders)


def option_ids(api: FakeBotApi, chat: int, references: Iterable[str]) -> tuple[str, list[int]]:
    """The poll this voter received, and the indexes of ``references`` among its options."""
    [message] = [m for m in api.sent_messages(chat) if m.kind == "poll"]
    assert message.poll_id is not None
    options = api.polls[message.poll_id].options
    return message.poll_id, [
        i for i, label in enumerate(options) if any(r in label for r in references)
    ]


async def test_kill_9_in_the_middle_of_the_pushes_and_of_the_vote_loses_nothing_and_repeats_nothing(
    fake_bot_api: FakeBotApi, store: Store, database_url: str, tmp_path: Path
) -> None:
    api = fake_bot_api
    seed(store)
    environment = bot_environment(api, tmp_path, database_url)
    contributors = frozenset(voter(n) for n in range(CONTRIBUTORS))

    # 1. The administrator publishes; the 11th notice and every send after it are in flight
    # when the bot dies. (The vote opening waits for the next start: one push at a time.)
    await api.user_sends_text(ADMIN, "!publier")
    api.hold_send(NOTICES_BEFORE_KILL + 1, chat_id=contributors, delivered=False, onward=True)
    async with recueil_run(**{**environment, "RECUEIL_SCHEDULE_SECONDS": "3600"}) as first:
        await kill_once_recorded(api, store, first)
    assert "P-001, P-002, P-003" in texts(api, ADMIN)[0]
    assert campaign_rows(store, "publication-") == {
        "sent": NOTICES_BEFORE_KILL,
        "pending": CONTRIBUTORS - NOTICES_BEFORE_KILL,
    }

    # 2. The restart sends the other notices, then the vote opens; voters who asked for the
    # proposals while the bot was down get the poll, then texts and poll answers arrive during
    # the push, and the bot dies again with half of what the push has left still to send.
    for n in POLL_VOTERS:
        await api.user_sends_text(voter(n), "propositions")
    async with recueil_run(**environment) as second:
        await api.wait_until(
            lambda: all(
                any(m.kind == "poll" for m in api.sent_messages(voter(n))) for n in POLL_VOTERS
            ),
            BOUND,
            "the polls",
        )
        await api.wait_until(lambda: opened(api) > 0, BOUND, "the vote opening under way")
        api.hold_updates()  # the inputs reach the bot in one batch, during the push
        unsent = VOTERS - opened(api)
        assert unsent >= 2, "the push ended before the votes: the test needs more voters"
        # Whatever the sends before it (replies go first), half of the unsent remain unsent.
        api.hold_send(unsent // 2, delivered=False, onward=True)
        for n in TEXT_VOTERS:
            await api.user_sends_text(voter(n), "soutenir P-001")
            await api.user_sends_text(voter(n + VOTERS - SHARED), "soutenir P-001")
        for n in POLL_VOTERS:
            poll_id, ticked = option_ids(api, voter(n), ("P-001", "P-002"))
            await api.user_answers_poll(poll_id, voter(n), ticked)
        await api.release_updates()
        await kill_once_recorded(api, store, second)
    progress = campaign_rows(store, "vote-ouverture")
    assert progress.get("sent", 0) > 0 and progress.get("pending", 0) > 0, progress

    # 3. The last restart finishes everything.
    await run_to_the_end(api, store, environment)

    # Each campaign once per member of its audience, nobody outside it, the right proposal.
    assert_the_vote_opening_reached_its_audience_once(api)
    assert campaign_rows(store, "vote-ouverture") == {"sent": VOTERS}
    for n in range(VOTERS):
        notices = [t for t in texts(api, voter(n)) if NOTICE in t]
        if n < CONTRIBUTORS:
            assert len(notices) == 1, (n, notices)
            assert [f"P-00{p}" in notices[0] for p in (1, 2, 3)] == [
                proposal_of(n) == f"P-00{p}" for p in (1, 2, 3)
            ]
        else:
            assert notices == []
    assert campaign_rows(store, "publication-") == {"sent": CONTRIBUTORS}
    # Each input answered once: one of two colleagues is told their commune already supports.
    for n in TEXT_VOTERS:
        pair = [voter(n), voter(n + VOTERS - SHARED)]
        assert sorted(zip(count(api, pair, ADDED), count(api, pair, ALREADY), strict=True)) == [
            (0, 1),
            (1, 0),
        ]
    assert count(api, map(voter, POLL_VOTERS), "soutient P-001") == [1] * len(POLL_VOTERS)
    # Nothing executed twice: each message in a chat is one delivery, marked sent.
    assert executed(api) == recorded(store)
    # Supports: exactly those given, one per collectivité and proposal.
    supports = rows(
        store,
        "SELECT c.code, p.reference FROM support s JOIN collectivite c ON c.id = s.collectivite_id"
        " JOIN proposal p ON p.id = s.proposal_id WHERE s.withdrawn_at IS NULL",
    )
    communes = default_referential().all("commune")
    expected = {(communes[n].code, "P-001") for n in [*TEXT_VOTERS, *POLL_VOTERS]}
    expected |= {(communes[n].code, "P-002") for n in POLL_VOTERS}
    assert sorted(supports) == sorted(expected)


async def test_kill_9_after_telegram_executed_a_send_and_before_it_was_recorded_repeats_that_one(
    fake_bot_api: FakeBotApi, store: Store, database_url: str, tmp_path: Path
) -> None:
    """At least once, honestly: the residual window gives one duplicate and no loss."""
    api = fake_bot_api
    seed(store)
    environment = bot_environment(api, tmp_path, database_url)
    # The 20th opening reaches the chat, its answer never comes back; the sends after it
    # are in flight.
    api.hold_send(20, delivered=True, onward=True)
    async with recueil_run(**environment) as first:
        [held, *_] = await kill_once_recorded(api, store, first)
    assert held.delivered and held.chat_id is not None and OPENING in (held.text or "")
    assert campaign_rows(store, "vote-ouverture") == {"sent": 19, "pending": VOTERS - 19}

    await run_to_the_end(api, store, environment)

    assert_the_vote_opening_reached_its_audience_once(api, duplicate=held.chat_id)
    assert campaign_rows(store, "vote-ouverture") == {"sent": VOTERS}
    assert executed(api) == recorded(store) + Counter({str(held.chat_id): 1})
