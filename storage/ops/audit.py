"""The audit log: who did what, when; administrators' changes carry before and after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from storage import statements as sql
from storage.ops.base import TxBase
from storage.records import AuditEntry


class AuditOps(TxBase):
    def audit(self, actor: str, action: str, subject: str | None = None, **details: Any) -> None:
        self.execute(
            sql.INSERT_AUDIT,
            {
                "at": self.now,
                "actor": actor,
                "action": action,
                "subject": subject,
                "details": details,
            },
        )

    def audit_changes(
        self, actor: str, action: str, changes: Sequence[tuple[str, Any, Any]]
    ) -> None:
        """One line per (subject, before, after), written in one statement."""
        if not changes:
            return
        self.execute(
            sql.INSERT_AUDIT,
            [
                {
                    "at": self.now,
                    "actor": actor,
                    "action": action,
                    "subject": subject,
                    "details": {"before": before, "after": after},
                }
                for subject, before, after in changes
            ],
        )

    def audit_entries(
        self, *, subject: str | None = None, action_prefix: str | None = None
    ) -> list[AuditEntry]:
        """The audit log, oldest first; of one subject, or of actions starting with a prefix."""
        a = sql.audit.c
        statement = sa.select(a.id, a.at, a.actor, a.action, a.subject, a.details).order_by(a.id)
        if subject is not None:
            statement = statement.where(a.subject == subject)
        if action_prefix is not None:
            statement = statement.where(a.action.startswith(action_prefix, autoescape=True))
        return [AuditEntry(*row) for row in self.connection.execute(statement)]
