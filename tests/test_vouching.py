"""Verified supports: a support counts as verified once its agent is vouched for as one of
the collectivité's, by a validated e-mail domain, an invitation code or an administrator."""

from __future__ import annotations

import sqlalchemy as sa
from test_vote import published_proposal

from storage.ops.supports import SupportTally
from storage.ops.vouching import CODE_ALPHABET, new_invitation_code, normalize_code
from storage.store import Store


def tally(store: Store) -> tuple[int, int]:
    """(verified, all) supports of P-001, as the results will count them."""
    with store.transaction() as tx:
        found: SupportTally = next(t for t in tx.support_tallies() if t.reference == "P-001")
    return found.verified, found.total


def agent_and_collectivite(store: Store, user: str) -> tuple[int, int]:
    with store.transaction() as tx:
        agent = tx.get_agent("test", user)
    assert agent is not None and agent.collectivite_id is not None
    return agent.id, agent.collectivite_id


def stored_flags(store: Store) -> list[bool]:
    with store.transaction() as tx:
        rows = tx.connection.execute(sa.text("SELECT verified FROM support ORDER BY id"))
        return [bool(v) for v in rows.scalars()]


def test_invitation_codes_are_unambiguous_and_typed_loosely() -> None:
    codes = {new_invitation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 9 and code[4] == "-"
        assert set(code.replace("-", "")) <= set(CODE_ALPHABET)
        assert not set(code) & set("IOL01")
        assert normalize_code(code.lower().replace("-", " ")) == code


async def test_a_vouch_given_after_the_support_makes_it_verified(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    await people["alice"].say("soutenir P-001")
    await people["bob"].say("soutenir P-001")
    assert tally(store) == (0, 2)
    alice_id, villeurbanne = agent_and_collectivite(store, "alice")
    with store.transaction() as tx:
        assert tx.vouch_agent("test:admin", alice_id, villeurbanne, "admin") is True
        assert tx.vouch_agent("test:admin", alice_id, villeurbanne, "admin") is False
    assert tally(store) == (1, 2)
    with store.transaction() as tx:
        assert [s.verified for s in tx.supports_of(villeurbanne)] == [True]
        audited = tx.audit_entries(action_prefix="vouch.")
    assert [(e.action, e.subject) for e in audited] == [("vouch.admin", f"agent:{alice_id}")]
    assert stored_flags(store) == [False, False]  # what it was when given, kept


async def test_a_vouch_for_another_collectivite_verifies_nothing(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    await people["alice"].say("soutenir P-001")
    alice_id, _ = agent_and_collectivite(store, "alice")
    _, lyon = agent_and_collectivite(store, "bob")
    with store.transaction() as tx:
        tx.vouch_agent("test:admin", alice_id, lyon, "admin")
    assert tally(store) == (0, 1)
