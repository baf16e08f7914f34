"""Agents (one per transport identity), their profile, and the collectivités they belong to."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage import statements as sql
from storage.models import Agent, Collectivite
from storage.ops.base import TxBase
from storage.privacy import forget_address
from storage.records import AgentRecord
from storage.referential import CollectiviteRef


class AgentOps(TxBase):
    def get_agent(self, transport: str, user_id: str) -> AgentRecord | None:
        row = self.execute(sql.SELECT_AGENT, {"transport": transport, "user_id": user_id}).first()
        return AgentRecord(*row) if row is not None else None

    def ensure_agent(self, transport: str, user_id: str) -> AgentRecord:
        """The agent of this transport identity, created if new."""
        now = self.now
        self._insert_ignore(
            Agent,
            {"transport": transport, "user_id": user_id, "created_at": now, "updated_at": now},
        )
        agent = self.get_agent(transport, user_id)
        assert agent is not None
        return agent

    def collectivite(self, collectivite_id: int) -> Collectivite | None:
        return self.session.get(Collectivite, collectivite_id)

    def upsert_collectivite(self, ref: CollectiviteRef) -> int:
        """The id of the collectivité's row, created from the referential on first use."""
        self._insert_ignore(Collectivite, self._collectivite_row(ref))
        found = self.execute(sql.SELECT_COLLECTIVITE_ID, {"kind": ref.kind, "code": ref.code})
        return int(found.scalar_one())

    def _collectivite_row(self, ref: CollectiviteRef) -> dict[str, object]:
        """A collectivité's row as the referential gives it, created now."""
        return {
            "kind": ref.kind,
            "code": ref.code,
            "name": ref.name,
            "departement": ref.departement,
            "siren": ref.siren,
            "population": ref.population,
            "created_at": self.now,
        }

    def upsert_collectivites(self, refs: Iterable[CollectiviteRef]) -> dict[tuple[str, str], int]:
        """The ids of many collectivités' rows, by (kind, code), those missing created from
        the referential: a read of the table, one multi-row insert, a read of what it added
        (``upsert_collectivite`` costs two statements a collectivité)."""
        wanted = {(ref.kind, ref.code): ref for ref in refs}
        ids = self._collectivite_ids()
        missing = [ref for key, ref in wanted.items() if key not in ids]
        if missing:
            dialect = postgresql if self.on_postgresql else sqlite
            self.connection.execute(
                dialect.insert(sql.collectivites).on_conflict_do_nothing(),
                [self._collectivite_row(ref) for ref in missing],
            )
            ids = self._collectivite_ids()
        return {key: ids[key] for key in wanted}

    def _collectivite_ids(self) -> dict[tuple[str, str], int]:
        k = sql.collectivites.c
        rows = self.connection.execute(sa.select(k.kind, k.code, k.id))
        return {(kind, code): row_id for kind, code, row_id in rows}

    def save_profile(
        self,
        agent: AgentRecord,
        *,
        collectivite: CollectiviteRef,
        profile: str,
        fonction: str,
        email: str | None,
        platform_email: str | None = None,
    ) -> AgentRecord:
        """Write the profile; an e-mail address changed or removed is blanked from the
        messages already delivered to the agent (they quoted it in the profile's summary)."""
        if agent.email and agent.email != email:
            forget_address(self.connection, agent.id, agent.email)
        self.execute(
            sql.UPDATE_PROFILE,
            {
                "agent_id": agent.id,
                "collectivite_id": self.upsert_collectivite(collectivite),
                "profile": profile,
                "fonction": fonction,
                "email": email,
                "platform_email": platform_email,
                "updated_at": self.now,
            },
        )
        saved = self.get_agent(agent.transport, agent.user_id)
        assert saved is not None
        return saved
