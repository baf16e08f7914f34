"""Replies survive a failing transport and a crash between the commit and the send."""

from __future__ import annotations

from fake_transport import FakeTransport, SimulatedAgent
from test_intake import register

from bot.app.engine import Engine
from bot.core.transport import Capability, Transport
from bot.core.values import ConversationKey, IncomingStart, IncomingText, OutFile, Outgoing, OutText
from storage.store import Store


class FlakyTransport(FakeTransport):
    """Fails the first ``failures`` sends, like a network outage."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def send(
        self, key: ConversationKey, message: Outgoing, *, idempotency: str | None = None
    ) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("réseau indisponible")
        await super().send(key, message)


KEY = ConversationKey("test", "dm-lea", "lea")


async def test_a_failed_send_is_retried_in_order(services, store, clock) -> None:
    engine = Engine(services, store, clock=clock)
    flaky = FlakyTransport(failures=1)
    engine.register(flaky)
    await engine.handle(IncomingStart(key=KEY, event_id="1"))
    assert flaky.pop(KEY) == []  # the first reply failed: nothing after it was sent
    await engine.handle(IncomingText(key=KEY, event_id="2", text="Villeurbanne"))
    replies = flaky.pop(KEY)
    texts = [getattr(r, "text", "") for r in replies]
    assert "bienvenue" in texts[0]  # the welcome first, then the rest, in order
    assert "Vous êtes" in texts[-1]
    assert await engine.redeliver_pending() == 0
    await engine.close()


async def test_replies_queued_before_a_crash_are_sent_once_after_restart(
    services, store, clock
) -> None:
    crashed = Engine(services, store, clock=clock)  # no transport: the process dies
    await crashed.handle(IncomingStart(key=KEY, event_id="1"))  # before it could send
    await crashed.close()

    restarted = Engine(services, store, clock=clock)
    transport = FakeTransport()
    restarted.register(transport)
    assert await restarted.redeliver_pending() == 2
    delivered = transport.pop(KEY)
    assert len(delivered) == 2 and "bienvenue" in getattr(delivered[0], "text", "")
    assert await restarted.redeliver_pending() == 0  # nothing twice
    await restarted.handle(IncomingStart(key=KEY, event_id="1"))  # the same event again
    assert transport.pop(KEY) == []
    await restarted.close()


async def test_a_crashing_turn_apologises_and_keeps_the_draft(services, store, clock) -> None:
    engine = Engine(services, store, clock=clock)
    transport = FakeTransport()
    engine.register(transport)
    await engine.handle(IncomingStart(key=KEY, event_id="1"))
    transport.pop(KEY)

    broken = services.referential.search
    services.referential.search = lambda *a, **k: 1 / 0  # type: ignore[method-assign]
    try:
        await engine.handle(IncomingText(key=KEY, event_id="2", text="Villeurbanne"))
    finally:
        services.referential.search = broken  # type: ignore[method-assign]
    [apology] = transport.pop(KEY)
    assert isinstance(apology, OutText) and "Rien de ce que vous aviez saisi" in apology.text
    await engine.handle(IncomingText(key=KEY, event_id="2", text="Villeurbanne"))
    assert "Vous êtes" in getattr(transport.pop(KEY)[-1], "text", "")  # same event, handled
    await engine.close()


class TextOnlyTransport(FakeTransport):
    """A platform that cannot carry files, rendering through the base class."""

    capabilities = frozenset()

    async def send(
        self, key: ConversationKey, message: Outgoing, *, idempotency: str | None = None
    ) -> None:
        await Transport.send(self, key, message)


async def test_an_unrenderable_value_fails_loudly_without_blocking(services, store, clock) -> None:
    engine = Engine(services, store, clock=clock)
    transport = TextOnlyTransport()
    engine.register(transport)
    with store.transaction() as tx:
        agent = tx.ensure_agent("test", "lea")
    await engine.push(
        [(KEY, agent.id)],
        [OutFile("export.csv", b"a;b", "text/csv"), OutText("Le vote est ouvert.")],
        campaign="essai",
    )
    assert [getattr(m, "text", None) for m in transport.pop(KEY)] == ["Le vote est ouvert."]
    assert store.pending_deliveries() == []  # the file is marked failed, not retried forever


class NoFilesTransport(FakeTransport):
    capabilities = frozenset({Capability.BUTTONS, Capability.POLLS})


async def test_admin_export_explains_when_files_cannot_be_sent(services, store, clock) -> None:
    engine = Engine(services, store, clock=clock)
    transport = NoFilesTransport()
    engine.register(transport)
    admin = SimulatedAgent(engine, transport, "admin")
    await register(admin, "Lyon")
    await admin.say("!export")
    assert "recueil export --format csv" in admin.text
    await engine.close()


def test_the_delivery_salt_is_drawn_once_per_database(database_url: str) -> None:
    """Matrix transaction ids are the salt and a delivery's id (docs/campagnes.md): every
    process on a base must read the same salt, and it must survive restarts."""
    first = Store.open(database_url)
    try:
        salt = first.delivery_salt()
        assert first.delivery_salt() == salt
    finally:
        first.close()
    second = Store.open(database_url)  # another process, or the same after a restart
    try:
        assert second.delivery_salt() == salt
    finally:
        second.close()
    assert 0 <= salt < 2**31  # fits PostgreSQL's integer column
