"""Fixtures: one Synapse per test session, and logged-in encrypting nio clients."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest
import pytest_asyncio
from nio import AsyncClient, AsyncClientConfig

from bot.app.engine import Engine
from bot.app.services import build_services
from bot.core.values import Incoming
from bot.transports.matrix import MatrixOptions, MatrixTransport
from config.settings import Settings
from storage.store import Store

from .synapse_server import RegisteredUser, SynapseServer
from .synced_client import ClientFactory, SyncedClient

# Encryption on, sync token kept in the store, and no hidden retries: nio's
# defaults (None) sleep and retry forever on 429 and on connection errors, so
# a test would hang instead of seeing M_LIMIT_EXCEEDED or a dead server.
TEST_CLIENT_CONFIG = AsyncClientConfig(
    encryption_enabled=True,
    store_sync_tokens=True,
    max_limit_exceeded=0,
    max_timeouts=0,
)

_user_numbers = itertools.count(1)


_startup_seconds: list[float] = []


@pytest_asyncio.fixture(scope="session")
async def synapse() -> AsyncIterator[SynapseServer]:
    """The session's homeserver, with Synapse's default rate limits."""
    async with SynapseServer() as server:
        assert server.startup_seconds is not None
        _startup_seconds.append(server.startup_seconds)
        yield server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report how long Synapse took to start, when a test started it."""
    if _startup_seconds:
        terminalreporter.write_line(
            f"matrix-synapse {version('matrix-synapse')} started in {_startup_seconds[0]:.1f}s"
        )


@pytest_asyncio.fixture(loop_scope="function")
async def matrix_client(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[ClientFactory]:
    """A factory of registered, logged-in, key-uploaded and synced clients.

    ``await matrix_client("alice")`` registers a fresh user (a number is added
    to the localpart: the server lives for the whole session), restores the
    registration's access token and device into a nio client whose crypto
    store is under ``tmp_path``, uploads its device keys with one first sync,
    and closes it at teardown. Keyword arguments: ``exempt_from_rate_limits``,
    ``store`` (False gives nio no store path) and ``config`` (field overrides
    of ``TEST_CLIENT_CONFIG``).

    The fixture runs in the test's own event loop (``loop_scope="function"``):
    a nio client's aiohttp session must not outlive or cross loops.
    """
    clients: list[AsyncClient] = []

    async def create(
        localpart: str,
        *,
        exempt_from_rate_limits: bool = False,
        store: bool = True,
        **config: object,
    ) -> SyncedClient:
        name = f"{localpart}-{next(_user_numbers)}"
        user = await synapse.register(name, exempt_from_rate_limits=exempt_from_rate_limits)
        store_path = tmp_path / "stores" / name
        store_path.mkdir(parents=True)
        client = AsyncClient(
            synapse.url,
            user.user_id,
            device_id=user.device_id,
            store_path=str(store_path) if store else None,
            config=replace(TEST_CLIENT_CONFIG, **config),
        )
        clients.append(client)
        # restore_login loads (or creates) the Olm account from the store;
        # it does no request, so the first sync uploads the device keys.
        client.restore_login(user.user_id, user.device_id, user.access_token)
        synced = SyncedClient(client, user)
        await synced.sync_once(timeout_ms=0)
        return synced

    yield create
    for client in clients:
        await client.close()


# The collection phase is open on this date (config/calendar.toml).
BOT_CLOCK = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
# Short waits for tests; production keeps the defaults of MatrixOptions.
TEST_BOT_OPTIONS = MatrixOptions(sync_timeout_ms=10_000, backoff_cap=2.0, ready_timeout=30.0)


@dataclass
class RunningBot:
    """Recueil on Matrix: a real engine on SQLite and a real ``MatrixTransport``."""

    user: RegisteredUser
    settings: Settings
    options: MatrixOptions
    store: Store
    clock: Callable[[], datetime] = lambda: BOT_CLOCK
    """The engine's now: phases, the announcer's tick (tests move it)."""
    engine: Engine = field(init=False)
    transport: MatrixTransport = field(init=False)
    task: asyncio.Task[None] | None = None
    incoming: list[Incoming] = field(default_factory=list)
    """Every value the transport handed to the engine, in order."""
    _arrivals: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def user_id(self) -> str:
        return self.user.user_id

    async def start(self) -> None:
        """A fresh engine and transport on the same data directory and database."""
        self.engine = Engine(build_services(self.settings), self.store, clock=self.clock)
        self.transport = MatrixTransport(
            self.settings,
            catalogue=self.engine.services.catalogue,
            store=self.store,
            options=self.options,
        )
        self.engine.register(self.transport)
        self.task = asyncio.create_task(self.transport.run(self._handle))
        ready = asyncio.create_task(self.transport.wait_ready(30.0))
        await asyncio.wait([self.task, ready], return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            ready.cancel()
            self.task.result()  # raises what stopped it
        await ready

    async def _handle(self, incoming: Incoming) -> None:
        await self.engine.handle(incoming)
        self.incoming.append(incoming)
        async with self._arrivals:
            self._arrivals.notify_all()

    async def wait_incoming(
        self, predicate: Callable[[Incoming], bool], what: str, within: float = 30.0
    ) -> Incoming:
        """The first incoming value (handled by the engine) matching ``predicate``."""
        try:
            async with asyncio.timeout(within), self._arrivals:
                while True:
                    for incoming in self.incoming:
                        if predicate(incoming):
                            return incoming
                    await self._arrivals.wait()
        except TimeoutError:
            raise AssertionError(f"bot: no {what} within {within}s") from None

    async def stop(self) -> None:
        if self.task is None:
            return
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.task = None
        await self.engine.close()


BotFactory = Callable[..., Awaitable[RunningBot]]


@pytest_asyncio.fixture(loop_scope="function")
async def recueil_bot(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[BotFactory]:
    """A factory of running bots: ``await recueil_bot(exempt_from_rate_limits=True)``.

    Keyword arguments: ``exempt_from_rate_limits`` (default False: Synapse's default
    limits), ``login`` ("token": the registration's access token; "password": a real
    password login), ``allowed_servers``, ``pacing`` (seconds between requests) and
    ``options`` (a ``MatrixOptions``), ``admins`` (``matrix:@user:localhost``, as in
    ``RECUEIL_ADMINS``) and ``clock`` (the engine's now; default ``BOT_CLOCK``, in the
    collecte).
    """
    bots: list[RunningBot] = []

    async def create(
        *,
        exempt_from_rate_limits: bool = False,
        login: str = "token",
        allowed_servers: tuple[str, ...] = (),
        pacing: float = 0.0,
        options: MatrixOptions = TEST_BOT_OPTIONS,
        start: bool = True,
        admins: tuple[str, ...] = (),
        clock: Callable[[], datetime] = lambda: BOT_CLOCK,
    ) -> RunningBot:
        name = f"recueil-{next(_user_numbers)}"
        user = await synapse.register(name, exempt_from_rate_limits=exempt_from_rate_limits)
        data_dir = tmp_path / name
        credentials: dict[str, object] = (
            {"matrix_password": user.password}
            if login == "password"
            else {"matrix_access_token": user.access_token}
        )
        settings = Settings(
            data_dir=data_dir,
            matrix_homeserver=synapse.url,
            matrix_user_id=user.user_id,
            matrix_allowed_servers=allowed_servers,
            matrix_seconds_between_requests=pacing,
            admins=admins,
            **credentials,
        )
        data_dir.mkdir()
        store = Store.open(f"sqlite:///{data_dir / 'recueil.sqlite3'}")
        bot = RunningBot(user, settings, options, store, clock)
        bots.append(bot)
        if start:
            await bot.start()
        return bot

    yield create
    for bot in bots:
        await bot.stop()
        bot.store.close()
