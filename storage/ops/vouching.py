"""Vouching: what makes a support verified.

An agent is vouched for as one of a collectivité's when their platform address (the one a
Tchap id reveals) is at a domain an administrator validated for it, or a subdomain; or when
they typed its invitation code; or when an administrator validated them. A support is
verified when the agent who gave it is vouched for as one of the supporting collectivité's.

This is computed when supports are read (:func:`vouched`), never trusted from the support's
row: a collectivité vouched for later makes its earlier supports verified. Every vouch is
in the audit log.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from storage.models import (
    Agent,
    AgentVouch,
    AuditLog,
    Collectivite,
    InvitationCode,
    Support,
    VouchedDomain,
)
from storage.ops.audit import AuditOps
from storage.ops.base import TxBase

_a = Agent.__table__  # type: ignore[attr-defined]
_c = Collectivite.__table__  # type: ignore[attr-defined]
_d = VouchedDomain.__table__  # type: ignore[attr-defined]
_i = InvitationCode.__table__  # type: ignore[attr-defined]
_v = AgentVouch.__table__  # type: ignore[attr-defined]
_s = Support.__table__  # type: ignore[attr-defined]
_log = AuditLog.__table__  # type: ignore[attr-defined]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""No I, L, O, 0 or 1, which read alike: 31 signs, 31⁸ ≈ 8.5 × 10¹¹ codes."""
CODE_PATTERN = re.compile(r"[A-Za-z0-9]{4}[-\s]?[A-Za-z0-9]{4}")
_BARE_CODE = re.compile(f"[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}")
DOMAIN_PATTERN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def new_invitation_code() -> str:
    """``ABCD-1234``-shaped, from the unambiguous alphabet, by the ``secrets`` module."""
    signs = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{signs[:4]}-{signs[4:]}"


def is_bare_code(text: str) -> bool:
    """A code as it is sent (``D8K9-CZR7``, in upper or lower case), pasted without « code »:
    its signs, its hyphen; in lower case, with a digit (« test-case » is not one)."""
    typed = text.strip()
    if _BARE_CODE.fullmatch(typed.upper()) is None:
        return False
    return typed.isupper() or any(ch.isdigit() for ch in typed)


def normalize_code(typed: str) -> str:
    """``abcd 1234``, ``ABCD1234`` → ``ABCD-1234``."""
    signs = "".join(ch for ch in typed.upper() if ch.isalnum())
    return f"{signs[:4]}-{signs[4:]}" if len(signs) == 8 else signs


def normalize_domain(typed: str) -> str | None:
    """``@Vichy.fr``, ``vichy.fr.`` → ``vichy.fr``; None if it is not a domain name."""
    domain = typed.strip().lower().lstrip("@").rstrip(".")
    return domain if DOMAIN_PATTERN.fullmatch(domain) and len(domain) <= 253 else None


def vouched(
    agent_id: sa.ColumnElement[int], collectivite_id: sa.ColumnElement[int]
) -> sa.ColumnElement[bool]:
    """Whether the agent is vouched for as one of the collectivité's, as a SQL expression."""
    email = sa.func.lower(_a.c.platform_email)
    by_agent = (
        sa.exists()
        .where(_v.c.agent_id == agent_id, _v.c.collectivite_id == collectivite_id)
        .correlate_except(_v)
    )
    by_domain = (
        sa.exists()
        .where(
            _a.c.id == agent_id,
            _d.c.collectivite_id == collectivite_id,
            sa.or_(email.endswith("@" + _d.c.domain), email.endswith("." + _d.c.domain)),
        )
        .correlate_except(_a, _d)
    )
    return sa.or_(by_agent, by_domain)


@dataclass(frozen=True, slots=True)
class UnvouchedSupporter:
    """An agent whose supports are not verified, for an administrator to check."""

    agent_id: int
    transport: str
    fonction: str | None
    email: str | None
    collectivite: str
    departement: str | None
    supports: int


@dataclass(frozen=True, slots=True)
class CollectiviteCode:
    collectivite_id: int
    kind: str
    code: str  # INSEE or SIREN
    name: str
    departement: str | None
    invitation: str


IS_VOUCHED = sa.select(
    vouched(
        sa.bindparam("agent_id", type_=sa.Integer),
        sa.bindparam("collectivite_id", type_=sa.Integer),
    )
)
"""``vouched`` for one agent and collectivité, built once (it is read at every support)."""


class VouchingOps(AuditOps, TxBase):
    def is_vouched(self, agent_id: int, collectivite_id: int) -> bool:
        values = {"agent_id": agent_id, "collectivite_id": collectivite_id}
        return bool(self.execute(IS_VOUCHED, values).scalar())

    def agent_collectivite(self, agent_id: int) -> tuple[str | None, int] | None:
        """(fonction, collectivité) of an agent with a profile; None for anyone else."""
        row = self.connection.execute(
            sa.select(_a.c.fonction, _a.c.collectivite_id).where(
                _a.c.id == agent_id, _a.c.collectivite_id.is_not(None)
            )
        ).first()
        return (row.fonction, row.collectivite_id) if row is not None else None

    def vouch_agent(self, actor: str, agent_id: int, collectivite_id: int, method: str) -> bool:
        """Vouch for the agent as one of the collectivité's; False if they already were."""
        added = self._insert_ignore(
            AgentVouch,
            {
                "agent_id": agent_id,
                "collectivite_id": collectivite_id,
                "method": method,
                "created_by": actor,
                "created_at": self.now,
            },
        )
        if added:
            self.audit(
                actor,
                f"vouch.{method}",
                subject=f"agent:{agent_id}",
                collectivite=collectivite_id,
            )
        return bool(added)

    def validate_domain(self, actor: str, domain: str, collectivite_id: int) -> bool:
        """Validate an e-mail domain for the collectivité; False if it already was."""
        added = self._insert_ignore(
            VouchedDomain,
            {
                "domain": domain,
                "collectivite_id": collectivite_id,
                "created_by": actor,
                "created_at": self.now,
            },
        )
        if added:
            self.audit(actor, "vouch.domain", subject=domain, collectivite=collectivite_id)
        return bool(added)

    def domain_holders(self, domain: str) -> list[int]:
        """The collectivités ``domain`` is validated for (one, or none)."""
        statement = sa.select(_d.c.collectivite_id).where(_d.c.domain == domain)
        return list(self.connection.execute(statement).scalars())

    def remove_domain(self, actor: str, domain: str) -> list[int]:
        """Withdraw ``domain``'s validation; the collectivités it was validated for."""
        holders = self.domain_holders(domain)
        if holders:
            self.connection.execute(_d.delete().where(_d.c.domain == domain))
            for holder in holders:
                self.audit(actor, "vouch.domain_removed", subject=domain, collectivite=holder)
        return holders

    def domains_of(self, collectivite_id: int) -> list[str]:
        statement = (
            sa.select(_d.c.domain)
            .where(_d.c.collectivite_id == collectivite_id)
            .order_by(_d.c.domain)
        )
        return list(self.connection.execute(statement).scalars())

    def collectivite_of_code(self, code: str) -> int | None:
        statement = sa.select(_i.c.collectivite_id).where(_i.c.code == normalize_code(code))
        return self.connection.execute(statement).scalar()

    def invitation_codes(
        self,
        actor: str,
        collectivite_ids: Iterable[int] | None = None,
        make_code: Callable[[], str] = new_invitation_code,
    ) -> list[CollectiviteCode]:
        """The codes of these collectivités, created for those that have none yet.

        A collectivité keeps its code: exporting again gives the same codes, so a code
        already sent stays good. ``None``: the collectivités that already have one.
        """
        if collectivite_ids is not None:
            wanted = sorted(set(collectivite_ids))
            have = set(
                self.connection.execute(
                    sa.select(_i.c.collectivite_id).where(_i.c.collectivite_id.in_(wanted))
                ).scalars()
            )
            created = []
            for collectivite_id in wanted:
                if collectivite_id in have:
                    continue
                while True:  # a collision is astronomically rare, but cheap to survive
                    code = make_code()
                    values = {
                        "code": code,
                        "collectivite_id": collectivite_id,
                        "created_by": actor,
                        "created_at": self.now,
                    }
                    if self._insert_ignore(InvitationCode, values):
                        break
                    if self.collectivite_of_code(code) is None:  # lost to a concurrent export
                        break
                created.append(collectivite_id)
            if created:
                self.audit(actor, "vouch.codes_created", count=len(created))
        statement = sa.select(
            _c.c.id, _c.c.kind, _c.c.code, _c.c.name, _c.c.departement, _i.c.code
        ).join(_i, _i.c.collectivite_id == _c.c.id)
        if collectivite_ids is not None:
            statement = statement.where(_c.c.id.in_(wanted))
        rows = self.connection.execute(statement.order_by(_c.c.kind, _c.c.code))
        return [CollectiviteCode(*row) for row in rows]

    def collectivites_with_agents(self) -> list[int]:
        """The collectivités at least one agent or élu named in their profile."""
        statement = (
            sa.select(_a.c.collectivite_id)
            .where(_a.c.collectivite_id.is_not(None))
            .distinct()
            .order_by(_a.c.collectivite_id)
        )
        return list(self.connection.execute(statement).scalars())

    def unvouched_supporters(self) -> list[UnvouchedSupporter]:
        """Agents with standing supports that are not verified, the most supports first."""
        statement = (
            sa.select(
                _a.c.id,
                _a.c.transport,
                _a.c.fonction,
                _a.c.email,
                _c.c.name,
                _c.c.departement,
                sa.func.count(_s.c.id),
            )
            .select_from(
                _s.join(_a, _a.c.id == _s.c.agent_id).join(_c, _c.c.id == _s.c.collectivite_id)
            )
            .where(
                _s.c.withdrawn_at.is_(None), sa.not_(vouched(_s.c.agent_id, _s.c.collectivite_id))
            )
            .group_by(
                _a.c.id, _a.c.transport, _a.c.fonction, _a.c.email, _c.c.name, _c.c.departement
            )
            .order_by(sa.func.count(_s.c.id).desc(), _a.c.id)
        )
        return [UnvouchedSupporter(*row) for row in self.connection.execute(statement)]

    def failed_code_attempts(self, actor: str, within: timedelta) -> int:
        """Wrong invitation codes this actor typed lately (the audit log keeps them, dated
        by the same clock as this transaction)."""
        statement = sa.select(sa.func.count(_log.c.id)).where(
            _log.c.action == "vouch.code_refused",
            _log.c.actor == actor,
            _log.c.at >= self.now - within,
        )
        return int(self.connection.execute(statement).scalar_one())
