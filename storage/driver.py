"""PostgreSQL: the prebuilt statements of the hot path, sent to psycopg directly.

A dialogue turn runs about five statements (claim the event, lock and read the conversation,
write the state, queue the replies), a vote a few more. Through SQLAlchemy each cost about
170 µs of CPU on psycopg (the execution context, the result's metadata built from the cursor
description, the bind and result processing), three to four times the statement itself
sent to psycopg (`benchmarks/intake.py`, docs/benchmarks.md): on PostgreSQL that overhead,
not the server, bounded the turns a process answers each second. These statements go to
the transaction's own psycopg connection instead, inside the same transaction as the rest.

The SQL is still written once, as the SQLAlchemy constructs of ``storage/statements.py`` and
the ops modules, compiled here for psycopg on first use; :meth:`TxBase.execute` picks the
path. What SQLAlchemy's types did is done here: JSON values are wrapped, rows have named
columns. Datetimes must be timezone-aware (``utcnow()``), as the models already require.
An error is raised as SQLAlchemy would raise it, so the callers' handling (a lost
connection retried by ``bot/core/reconnect.py``, a conflict) does not depend on the path.

SQLite keeps SQLAlchemy, but for the replies a turn queues (:class:`RowInsert`): an insert
of several rows with ``RETURNING`` costs more there than the rest of the delivery log.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.pq import ExecStatus
from psycopg.types.json import Json
from sqlalchemy.dialects import postgresql

__all__ = ["Compiled", "RowInsert", "Rows", "compiled", "cursor_of", "execute", "insert_rows"]

_DIALECT = postgresql.psycopg.dialect()
TUPLES_OK = ExecStatus.TUPLES_OK


class Compiled:
    """A statement's psycopg SQL (``%(name)s`` placeholders), its literal values, and
    which of its parameters are JSON."""

    __slots__ = ("defaults", "json", "row", "sql")

    def __init__(self, statement: sa.Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        self.sql: str = compiled.string
        binds = {  # by the names the SQL uses (``binds`` also holds their internal keys)
            name: bind for name, bind in compiled.binds.items() if f"%({name})s" in self.sql
        }
        self.defaults: dict[str, Any] = {
            name: bind.effective_value for name, bind in binds.items() if not bind.required
        }
        self.json = frozenset(
            name for name, bind in binds.items() if isinstance(bind.type, sa.JSON)
        )
        # rows with the columns' names, as SQLAlchemy's (``row.status``); built here once,
        # not from each result's description as psycopg's row factories do (0.1 ms a turn)
        columns = getattr(statement, "exported_columns", None)
        self.row: Any = (
            namedtuple("Row", list(columns.keys()), rename=True)._make  # type: ignore[attr-defined]
            if columns
            else None
        )

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        params = {**self.defaults, **values}
        for name in self.json & params.keys():
            if params[name] is not None:
                params[name] = Json(params[name])
        return params


_COMPILED: dict[sa.Executable, Compiled | None] = {}
_UNSEEN = object()


def compiled(statement: sa.Executable) -> Compiled | None:
    """The psycopg form of ``statement``, compiled once; None for what only SQLAlchemy
    can run: an ``IN`` list expanded at each execution, an ``INSERT`` whose columns are
    those given at each call (with their defaults). Statements are module constants (they
    are the keys, by identity): one built at each call would fill this cache."""
    found = _COMPILED.get(statement, _UNSEEN)
    if found is not _UNSEEN:
        return found  # type: ignore[return-value]
    found = None
    bare_insert = isinstance(statement, sa.Insert) and not (
        statement._values or statement._multi_values
    )
    if not bare_insert:
        found = Compiled(statement)
        if "POSTCOMPILE" in found.sql:
            found = None
    _COMPILED[statement] = found
    return found


class Rows:
    """What SQLAlchemy's ``Result`` offers the ops modules, over rows already fetched."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise sa.exc.NoResultFound() if not self._rows else sa.exc.MultipleResultsFound()
        return self._rows[0]

    def all(self) -> list[Any]:
        return self._rows

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


def cursor_of(connection: sa.Connection) -> psycopg.Cursor[Any]:
    """A cursor on ``connection``'s psycopg connection, in its transaction."""
    driver_connection = connection.connection.driver_connection
    return driver_connection.cursor()  # type: ignore[union-attr]


def execute(
    cursor: psycopg.Cursor[Any],
    found: Compiled,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> Rows:
    """Run a statement (once, or for each of a list of ``values``) and fetch its rows."""
    many = isinstance(values, Sequence)
    params: Any = (
        [found.params(row) for row in values]
        if isinstance(values, Sequence)
        else found.params(values or {})
    )
    try:
        if many:
            cursor.executemany(found.sql, params, returning=True)
            rows: list[Any] = []
            while True:
                result = cursor.pgresult
                if result is not None and result.status == TUPLES_OK:
                    fetched = cursor.fetchall()
                    rows.extend(map(found.row, fetched) if found.row else fetched)
                if not cursor.nextset():
                    break
            return Rows(rows, len(params))
        cursor.execute(found.sql, params)
        result = cursor.pgresult
        if result is None or result.status != TUPLES_OK:
            # no rows (``cursor.description`` would tell as much, but builds a column
            # object for each column of each result: 15% of the time spent here)
            return Rows([], cursor.rowcount)
        rows = cursor.fetchall()
        return Rows([found.row(row) for row in rows] if found.row else rows, cursor.rowcount)
    except psycopg.Error as exc:
        # the exception SQLAlchemy raises: OperationalError for a lost connection,
        # IntegrityError for a broken constraint, and so on
        raise sa.exc.DBAPIError.instance(found.sql, params, exc, psycopg.Error) from exc


class RowInsert:
    """SQLite: ``INSERT … RETURNING id`` of one row of ``columns``, compiled once for the
    connection's dialect, each value processed by its column's own type as SQLAlchemy would
    (JSON serialised, datetimes in SQLAlchemy's stored form).

    SQLAlchemy runs an insert of several rows with ``RETURNING`` through its batched
    "insertmanyvalues" path: on SQLite that cost more CPU than the rest of the delivery log
    together (a vote turn writes about four replies; ``benchmarks/vote.py``); the rows go to
    sqlite3 one by one instead, in the same transaction.
    """

    __slots__ = ("binds", "sql")

    def __init__(self, table: sa.Table, columns: Sequence[str], dialect: sa.Dialect) -> None:
        statement = (
            table.insert()
            .values({name: sa.bindparam(name, type_=table.c[name].type) for name in columns})
            .returning(table.c.id)
        )
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        names = compiled.positiontup or ()  # placeholders in order (qmark)
        self.binds: list[tuple[str, Callable[[Any], Any] | None]] = [
            (name, table.c[name].type.bind_processor(dialect)) for name in names
        ]


def insert_rows(
    connection: sa.Connection, insert: RowInsert, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Run ``insert`` for each row in order; the new ids, in that order."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    ids: list[int] = []
    try:
        for row in rows:
            params = [
                row[name] if process is None else process(row[name])
                for name, process in insert.binds
            ]
            cursor.execute(insert.sql, params)
            ids.append(cursor.fetchone()[0])
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(insert.sql, params, exc, sqlite3.Error) from exc
    finally:
        cursor.close()
    return ids
