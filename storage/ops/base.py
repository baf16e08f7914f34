"""What every group of verbs shares: the transaction's connection, its session, counters."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from storage import driver
from storage import statements as sql
from storage.models import Counter, utcnow

REFERENCE_PREFIX = {"besoin": "B", "service": "S", "proposal": "P", "offer": "V", "push": "M"}
_KIND_OF_PREFIX = {prefix: kind for kind, prefix in REFERENCE_PREFIX.items()}
_TYPED_REFERENCE = re.compile(r"([A-Z]?)[\s-]?0*(\d{1,6})")


def reference(kind: str, number: int) -> str:
    """The reference of the ``number``-th row of ``kind``: ``B-0042``, ``P-001``."""
    width = 3 if kind == "proposal" else 4
    return f"{REFERENCE_PREFIX[kind]}-{number:0{width}d}"


def normalize_reference(typed: str, *, kind: str | None = None) -> str:
    """A reference as typed (``p1``, ``P 12``, ``b-42``) as stored (``P-001``, ``B-0042``).

    With ``kind``, a bare number is one of that kind (``soutenir 12`` is ``P-012``).
    Anything else comes back stripped, in capitals: it then matches nothing.
    """
    text = typed.strip().upper()
    found = _TYPED_REFERENCE.fullmatch(text)
    if found is None:
        return text
    prefix = found.group(1) or (REFERENCE_PREFIX[kind] if kind else "")
    if prefix not in _KIND_OF_PREFIX:
        return text
    return reference(_KIND_OF_PREFIX[prefix], int(found.group(2)))


def reference_number(stored: str) -> int:
    """The number of a stored reference: 42 for ``B-0042``, 10000 for ``B-10000``."""
    return int(stored.rsplit("-", 1)[1])


def proposal_reference(typed: str) -> str:
    """What follows ``soutenir``, ``voir``, ``!annoncer laureat:``: ``12`` is ``P-012``."""
    return normalize_reference(typed, kind="proposal")


class TxBase:
    """One database transaction.

    Hot verbs run prebuilt Core statements through :meth:`execute` (psycopg directly on
    PostgreSQL); others run on ``connection``; the ORM ``session`` (bound to the same
    connection and transaction) is only created for the rarer verbs that need it.
    """

    def __init__(
        self,
        connection: sa.Connection,
        claim_owner: int | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        self.connection = connection
        self.claim_owner = claim_owner
        """PostgreSQL: the server process id of this process's liveness connection, written
        with each delivery claim (:class:`storage.store.ClaimOwner`)."""
        self.now = now if now is not None else utcnow()
        """The instant the transaction dates what people do with: contributions, supports,
        offers, follows, proposals, profiles, conversations, campaigns, the audit log. It is
        the bot's clock (:attr:`storage.store.Store.clock`, the engine's), read once: real
        time in production, the trial clock with ``RECUEIL_NOW``, so that what is stored
        agrees with the phase calendar. Delivery bookkeeping (queued, sent, claims, leases)
        and platform records are about real time and read the real clock."""
        self._session: Session | None = None
        self.on_postgresql = connection.dialect.name == "postgresql"
        self._cursor: Any = None

    def execute(self, statement: sa.Executable, values: Any = None) -> Any:
        """Run a prebuilt statement (a module constant, never one built at each call).

        On PostgreSQL it goes to psycopg directly (``storage/driver.py`` says why), unless
        only SQLAlchemy can run it (:func:`storage.driver.compiled`); on SQLite through
        SQLAlchemy. The result offers what the ops use of SQLAlchemy's: ``first()``,
        ``one()``, ``all()``, ``scalar()``, iteration, rows with named columns."""
        if not self.on_postgresql or (found := driver.compiled(statement)) is None:
            return self.connection.execute(statement, values)
        if self._cursor is None:
            self._cursor = driver.cursor_of(self.connection)
        return driver.execute(self._cursor, found, values)

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False)
        return self._session

    def finish(self) -> None:
        """Write what the session holds before the transaction commits."""
        if self._session is not None:
            self._session.flush()
            self._session.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self._cursor is not None:
            self._cursor.close()

    def _insert_ignore(self, model: type[Any], values: dict[str, Any]) -> int:
        """Insert a row unless it conflicts with a unique key; 1 if inserted, else 0.

        ``RETURNING`` tells the two cases apart on every backend (psycopg reports no
        row count for ``ON CONFLICT DO NOTHING``).
        """
        table = model.__table__
        cache_key = (table.name, tuple(values))
        statement = sql.INSERT_IGNORE.get(cache_key)
        if statement is None:
            statement = sql.INSERT_IGNORE[cache_key] = sql.insert_ignore_statement(
                table, cache_key[1]
            )
        return int(self.execute(statement, values).first() is not None)

    def next_reference(self, kind: str) -> str:
        """The next reference number for ``kind`` (``B-0042``, ``P-001``), safe under
        concurrent writers. Shared by every aggregate that numbers its rows."""
        self._insert_ignore(Counter, {"name": kind, "value": 0})
        value = self.execute(sql.NEXT_COUNTER, {"counter": kind}).scalar_one()
        return reference(kind, value)

    def next_references(self, kind: str, count: int) -> list[str]:
        """The next ``count`` references for ``kind``, reserved in one statement."""
        if count <= 0:
            return []
        self._insert_ignore(Counter, {"name": kind, "value": 0})
        counter = sql.counters.c
        last = self.connection.execute(
            sql.counters.update()
            .where(counter.name == kind)
            .values(value=counter.value + count)
            .returning(counter.value)
        ).scalar_one()
        return [reference(kind, number) for number in range(last - count + 1, last + 1)]

    def skip_references(self, kind: str, up_to: str) -> None:
        """Make the next references of ``kind`` come after ``up_to`` (``B-0042``), given to
        a row by other means (an import keeping the file's references)."""
        if not up_to.startswith(f"{REFERENCE_PREFIX[kind]}-"):
            raise ValueError(f"{up_to!r} is not a reference of {kind}")
        number = reference_number(up_to)
        self._insert_ignore(Counter, {"name": kind, "value": 0})
        counter = sql.counters.c
        self.connection.execute(
            sql.counters.update()
            .where(counter.name == kind, counter.value < number)
            .values(value=number)
        )
