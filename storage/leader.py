"""The scheduler's leader, elected through PostgreSQL: one process at a time holds the lock.

Several ``recueil run`` processes may share one PostgreSQL base (webhook workers behind a
load balancer); the scheduled jobs must run in one of them only. The leader holds a session
advisory lock on a connection of its own for as long as it lives: when the process dies,
however it dies, PostgreSQL closes that session and frees the lock, and another process
takes it at its next try. The lock is named after the schema, so bases that share a server
(or a database, one schema each) elect their leaders apart.
"""

from __future__ import annotations

import logging
import os

import sqlalchemy as sa

log = logging.getLogger(__name__)

_TRY_LOCK = sa.text(
    "SELECT pg_try_advisory_lock(hashtextextended('recueil scheduler ' || current_schema(), 0))"
)
# Who leads, for an operator: SELECT application_name FROM pg_stat_activity
# WHERE application_name LIKE 'recueil scheduler%'
_NAME_SESSION = sa.text(
    "SELECT set_config('application_name',"
    " 'recueil scheduler ' || current_schema() || ' pid ' || :pid, false)"
)


class LeaderLock:
    """The scheduler's lock, on a connection held apart from the pool's turns."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._connection: sa.Connection | None = None

    def acquire(self) -> bool:
        """Try to become the leader; False if another process leads or the base is away."""
        try:
            if self._connection is None:
                self._connection = self.engine.connect()
            connection = self._connection
            held = bool(connection.execute(_TRY_LOCK).scalar_one())
            if held:
                connection.execute(_NAME_SESSION, {"pid": str(os.getpid())})
            connection.commit()  # the lock is the session's: it outlives the transaction
            return held
        except sa.exc.DBAPIError as exc:
            log.warning("élection du responsable des tâches planifiées impossible : %s", exc)
            self._drop()
            return False

    def still_held(self) -> bool:
        """Whether the leader's session is still alive (a restarted server ended it)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(sa.text("SELECT 1"))
            self._connection.commit()
            return True
        except sa.exc.DBAPIError as exc:
            log.warning("connexion du responsable des tâches planifiées perdue : %s", exc)
            self._drop()
            return False

    def release(self) -> None:
        """Leave: closing the session frees the lock for another process at once."""
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.invalidate()  # never back to the pool with the lock held
                connection.close()
            except Exception:  # a connection already broken has nothing left to close
                log.debug("closing the leader's connection failed", exc_info=True)
