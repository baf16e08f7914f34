"""The audit log: who did what, when; administrators' changes carry before and after."""

from __future__ import annotations

from typing import Any

from storage import statements as sql
from storage.models import utcnow
from storage.ops.base import TxBase


class AuditOps(TxBase):
    def audit(self, actor: str, action: str, subject: str | None = None, **details: Any) -> None:
        self.connection.execute(
            sql.INSERT_AUDIT,
            {
                "at": utcnow(),
                "actor": actor,
                "action": action,
                "subject": subject,
                "details": details,
            },
        )
