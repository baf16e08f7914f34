"""Engine creation and schema migrations, for SQLite (WAL) and PostgreSQL alike."""

from __future__ import annotations

import fcntl
import logging
import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from config.catalogue import default_catalogue

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


# PostgreSQL connections of one process. The engine runs database work in as many threads
# as there are connections: a thread never waits for a connection, none stays idle.
POOL_SIZE = 8
POOL_OVERFLOW = 4

# One key for every Recueil database on a server: migrations are rare and quick.
MIGRATION_LOCK_KEY = 0x5265637565696C  # "Recueil"


class SchemaError(Exception):
    """The database schema does not fit the code; the message says what to do, in French."""


class SchemaOutOfDate(SchemaError):
    """The database schema is older than the code and automatic migration is off."""

    def __init__(self, current: str | None, head: str | None) -> None:
        super().__init__(
            default_catalogue().t("database.out_of_date", current=current or "vide", head=head)
        )


class SchemaUnknown(SchemaError):
    """The database is at a revision this code does not know (a newer Recueil wrote it).

    No upgrade can help: the code must be the one that wrote the schema.
    """

    def __init__(self, current: str, head: str | None) -> None:
        super().__init__(default_catalogue().t("database.unknown", current=current, head=head))


def create_db_engine(url: str) -> sa.Engine:
    """Create an engine; SQLite gets WAL, foreign keys and write-locking transactions.

    SQLite transactions start with ``BEGIN IMMEDIATE`` so that two processes serialise on
    the write lock at the start of a turn instead of failing on upgrade later.
    """
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=False
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(connection: sa.Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = sa.create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)

    @sa.event.listens_for(engine, "checkout")
    def _check_alive(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not is_alive(dbapi_connection):
            raise sa.exc.DisconnectionError("the server closed this connection")  # a new one

    return engine


def is_alive(connection: Any) -> bool:
    """Whether an idle pooled PostgreSQL connection can still be used, without asking the
    server: an idle connection has nothing to read unless the server ended the session (a
    restart: its last words, then the end of the stream).

    Instead of ``pool_pre_ping``, a round trip at every checkout (0.1 ms of CPU a turn,
    docs/benchmarks.md). A connection lost without a word (the network) fails at its first
    statement: the engine plays the turn again (``bot/core/reconnect.py``).
    """
    if connection.closed or connection.broken:
        return False
    readable, _, _ = select.select([connection.pgconn.socket], [], [], 0)
    return not readable


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_known(revision: str | None) -> bool:
    """Whether this code has the migration ``revision`` (None, an empty base, always is)."""
    if revision is None:
        return True
    try:
        script = ScriptDirectory.from_config(alembic_config("sqlite://"))
        return script.get_revision(revision) is not None
    except CommandError:
        return False


@contextmanager
def migration_lock(engine: sa.Engine) -> Iterator[None]:
    """Hold the database's migration lock: one process migrates, the others wait.

    PostgreSQL: a session advisory lock (four processes starting on an empty database used
    to create the same tables at once). SQLite: an exclusive lock on a file beside the base.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
            connection.commit()
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                connection.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migration-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the latest migration, holding the migration lock.

    The revision is read again under the lock: another process may have just migrated.
    """
    with migration_lock(engine):
        current = current_revision(engine)
        if not is_known(current):
            raise SchemaUnknown(str(current), head_revision())
        if current == head_revision():
            return
        migrate(engine, lambda config: command.upgrade(config, "head"))


def migrate(engine: sa.Engine, action: Callable[[Config], None]) -> None:
    """Run an Alembic command in one transaction.

    On SQLite, foreign keys are off meanwhile and checked all at once before commit, as
    SQLite prescribes for schema changes: adding a constraint rebuilds the table, and
    dropping the old copy of a table other rows point to would otherwise fail.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        if sqlite and driver is not None:  # outside a transaction, where SQLite honours it
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                action(config)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite and driver is not None:
                driver.execute("PRAGMA foreign_keys=ON")


def ensure_schema(engine: sa.Engine, auto_migrate: bool) -> None:
    """Migrate the database, or say clearly what to run when migration is off."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if not is_known(current):
        raise SchemaUnknown(str(current), head)
    if not auto_migrate:
        raise SchemaOutOfDate(current, head)
    log.info("Migration de la base : %s -> %s", current or "vide", head)
    upgrade(engine)
