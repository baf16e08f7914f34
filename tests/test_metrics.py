"""/health and /metrics over real HTTP, served in-process from the engine's event loop.

The subprocess test (``recueil run`` with ``RECUEIL_METRICS_ADDRESS``) is in
tests/telegram/test_telegram_metrics.py.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client.parser import text_string_to_metric_families
from test_intake import register

from bot.app import metrics as health
from bot.app.engine import Engine
from bot.core.values import OutText, outgoing_to_dict
from config.settings import ConfigError, load_settings
from storage import campaigns
from storage.db import create_db_engine
from storage.statements import deliveries
from storage.store import Store


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def start(
    metrics: health.Metrics, store: Store, run_db: health.RunDb
) -> tuple[aiohttp.web.AppRunner, str]:
    runner = await health.serve(metrics, store, run_db, "127.0.0.1:0")
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@pytest_asyncio.fixture(loop_scope="function")
async def served(engine: Engine, store: Store) -> AsyncIterator[str]:
    engine.metrics = health.Metrics()
    engine.metrics.transport_state("test", True)
    runner, base = await start(engine.metrics, store, engine.run_db)
    yield base
    await runner.cleanup()


async def test_metrics_count_turns_deliveries_and_campaigns(
    served: str, agent_factory, engine: Engine, store: Store
) -> None:
    alice = agent_factory("alice")
    await register(alice)
    with store.transaction() as tx:
        agent = tx.get_agent("test", "alice")
        assert agent is not None
        assert campaigns.claim(tx, "vote-ouverture", kind="ouverture", audience="tous")
        campaigns.set_recipients(tx, "vote-ouverture", 1)
        tx.queue_push(
            alice.key,
            agent.id,
            [outgoing_to_dict(OutText("Le vote est ouvert."))],
            "vote-ouverture",
        )
    async with aiohttp.ClientSession() as http, http.get(f"{served}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        found = samples(await response.text())
    turns = found[("recueil_turns_total", (("transport", "test"),))]
    assert turns == 5, "the start, the collectivité, the profile, the fonction, the e-mail"
    assert found[("recueil_turn_seconds_count", (("transport", "test"),))] == turns
    assert found[("recueil_turn_seconds_bucket", (("le", "+Inf"), ("transport", "test")))] == turns
    sent = found[
        ("recueil_deliveries_attempted_total", (("outcome", "sent"), ("transport", "test")))
    ]
    with store.transaction() as tx:
        in_log = dict(
            tx.connection.execute(
                sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
            ).all()
        )
    assert sent == in_log["sent"], "every reply this process delivered is in the log"
    assert found[("recueil_deliveries", (("status", "sent"),))] == in_log["sent"]
    assert found[("recueil_pending_deliveries", ())] == 1, "the push waits"
    assert found[("recueil_campaign_recipients", (("campaign", "vote-ouverture"),))] == 1
    pending_push = (("campaign", "vote-ouverture"), ("status", "pending"))
    assert found[("recueil_campaign_messages", pending_push)] == 1
    assert found[("recueil_transport_up", (("transport", "test"),))] == 1

    await alice.say("aide")  # delivers the push before the reply
    async with aiohttp.ClientSession() as http, http.get(f"{served}/metrics") as response:
        found = samples(await response.text())
    assert found[("recueil_turns_total", (("transport", "test"),))] == turns + 1
    assert found[("recueil_pending_deliveries", ())] == 0
    sent_push = (("campaign", "vote-ouverture"), ("status", "sent"))
    assert found[("recueil_campaign_messages", sent_push)] == 1


async def test_campaign_gauges_count_erased_recipients_as_envois_does(
    served: str, agent_factory, store: Store
) -> None:
    """Found in review: after « supprimer mes données » (which deletes the person's
    messages) the gauges still said 2 recipients and showed one message: the erased one was
    in no status, as if still to be reached. ``!envois`` and ``recueil phases`` say
    « 1 effacé (données supprimées) »; ``recueil_campaign_messages`` now does too."""
    alice, bob = agent_factory("alice"), agent_factory("bob")
    await register(alice)
    await register(bob, "Lyon")
    with store.transaction() as tx:
        assert campaigns.claim(tx, "vote-ouverture", kind="ouverture", audience="tous")
        campaigns.set_recipients(tx, "vote-ouverture", 2)
        for person in (alice, bob):
            agent = tx.get_agent("test", person.key.user)
            assert agent is not None
            tx.queue_push(
                person.key,
                agent.id,
                [outgoing_to_dict(OutText("Le vote est ouvert."))],
                "vote-ouverture",
            )
    await alice.say("supprimer mes données")
    await alice.press("oui")
    async with aiohttp.ClientSession() as http, http.get(f"{served}/metrics") as response:
        found = samples(await response.text())

    def messages(status: str) -> float:
        return found[
            ("recueil_campaign_messages", (("campaign", "vote-ouverture"), ("status", status)))
        ]

    assert found[("recueil_campaign_recipients", (("campaign", "vote-ouverture"),))] == 2
    assert messages("pending") == 1, "bob's push waits"
    assert messages("erased") == 1, "alice's went with her data"
    statuses = ("pending", "sent", "failed", "blocked", "expired", "erased")
    assert sum(messages(s) for s in statuses) == 2, "the outcomes add up to the recipients"


async def test_health_reports_the_database_and_the_transports(served: str, engine: Engine) -> None:
    engine.metrics.job_ran()  # type: ignore[union-attr]
    engine.metrics.transport_state("matrix", False)  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http, http.get(f"{served}/health") as response:
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok" and body["database"] is True
    assert body["transports"] == {"test": "up", "matrix": "restarting"}
    assert body["last_scheduled_job"] is not None


async def test_health_says_whether_this_process_runs_the_scheduled_jobs(
    served: str, engine: Engine
) -> None:
    """Several processes on PostgreSQL: the leader runs the jobs, the others stand by."""
    scheduler = AsyncIOScheduler()
    engine.metrics.watch(scheduler)  # type: ignore[union-attr]

    async def read() -> tuple[object, float]:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{served}/health") as response:
                role = (await response.json())["scheduler"]
            async with http.get(f"{served}/metrics") as response:
                running = samples(await response.text())[("recueil_scheduler_running", ())]
        return role, running

    scheduler.start(paused=True)  # as every process on PostgreSQL starts
    try:
        assert await read() == ("standby", 0)
        scheduler.resume()  # it took the leader's lock
        assert await read() == ("running", 1)
        scheduler.pause()  # it lost it
        assert await read() == ("standby", 0)
    finally:
        scheduler.shutdown(wait=False)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_health_is_503_when_the_database_is_unreachable() -> None:
    unreachable = Store(
        create_db_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/recueil")
    )

    async def inline(function, *args):  # type: ignore[no-untyped-def]
        return function(*args)

    runner, base = await start(health.Metrics(), unreachable, inline)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/health") as response:
                assert response.status == 503
                body = await response.json()
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200, "the counters are still served"
                assert "# TYPE recueil_turns_total counter" in await response.text()
    finally:
        await runner.cleanup()
        unreachable.close()
    assert body == {
        "status": "database unreachable",
        "database": False,
        "transports": {},
        "scheduler": None,
        "last_scheduled_job": None,
    }


@pytest.mark.parametrize("address", ["9464", "localhost:", "127.0.0.1:99999", ":9464"])
def test_a_bad_metrics_address_is_named(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    monkeypatch.setenv("RECUEIL_METRICS_ADDRESS", address)
    with pytest.raises(ConfigError, match="RECUEIL_METRICS_ADDRESS"):
        load_settings()


def test_the_metrics_address_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().metrics_address is None
    monkeypatch.setenv("RECUEIL_METRICS_ADDRESS", "")
    assert load_settings().metrics_address is None
    monkeypatch.setenv("RECUEIL_METRICS_ADDRESS", "[::1]:9464")
    assert health.parse_address(load_settings().metrics_address or "") == ("::1", 9464)
