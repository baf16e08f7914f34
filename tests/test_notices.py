"""Contributors are told, once, what became of their contributions when proposals are
published: the proposal their contribution joined, its redirection or its rejection."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from test_intake import register
from triage_seed import seed

from bot.consultation.notices import notice_expiry
from bot.core.values import ConversationKey
from config.calendar import Calendar
from storage.store import Store

ADMIN = "test:admin"


def as_utc(value: datetime | str) -> datetime:
    """A stored time as read back (SQLite: naive UTC text or datetime; PostgreSQL: aware)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def settled(engine) -> None:  # type: ignore[no-untyped-def]
    """Wait for the pushes an administrator's turn started."""
    while engine._background:
        await asyncio.gather(*list(engine._background))


def received(transport, store: Store) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """What each contributor (by user id) was sent, as plain texts."""
    users = {v.author.user_id for v in store.contributions()}
    return {
        user: [
            plain(getattr(m, "text", ""))
            for m in transport.sent[ConversationKey("test", f"dm-{user}", user)]
        ]
        for user in users
    }


async def test_each_contributor_is_told_once_with_the_right_proposal(
    agent_factory, transport, store: Store
) -> None:  # type: ignore[no-untyped-def]
    seed(store, 40)
    views = {v.contribution.reference: v for v in store.contributions()}
    by_author: dict[str, list[str]] = {}
    for reference, view in views.items():
        by_author.setdefault(view.author.user_id, []).append(reference)
    refs = list(views)
    with store.transaction() as tx:
        salles = tx.create_proposal(ADMIN, title="Réserver les salles", contributions=refs[0:12])
        tx.describe_proposal(ADMIN, salles.reference, "Un agenda partagé des salles communales.")
        cantine = tx.create_proposal(ADMIN, title="Payer la cantine", contributions=refs[12:20])
        tx.create_proposal(ADMIN, title="Pas encore publiée", contributions=refs[20:24])
        tx.redirect_contribution(
            ADMIN, refs[24], "Le guichet national le fait déjà.", "https://www.service-public.fr"
        )
        tx.reject_contribution(ADMIN, refs[25], "Hors du champ de la consultation.")
    admin = agent_factory("admin")
    await register(admin, "Lyon")

    await admin.say(f"!publier {salles.reference} {cantine.reference}")
    await settled(admin.engine)
    assert "2 propositions publiées" in plain(admin.text)
    fates = {r: salles for r in refs[0:12]} | {r: cantine for r in refs[12:20]}
    told = set(refs[0:20]) | {refs[24], refs[25]}
    assert (
        f"Avis mis en file pour {len({views[r].author.user_id for r in told})} contributeurs."
        in plain(admin.text)
    )
    messages = received(transport, store)
    for user, references in by_author.items():
        mine = [r for r in references if r in told]
        if not mine:
            assert messages[user] == [], user
            continue
        assert len(messages[user]) == 1, (user, messages[user])
        text = messages[user][0]
        assert "  " not in text  # no double space, with or without a description
        for reference in mine:
            view = views[reference]
            if reference in fates:
                proposal = fates[reference]
                joined = f"a rejoint la proposition {proposal.reference} « {proposal.title} »"
                assert f"{reference} « {view.contribution.title} » {joined}" in text
                others = {views[r].collectivite.name for r in refs if fates.get(r) == proposal} - {
                    view.collectivite.name
                }
                if len(others) > 8:
                    assert f" et {len(others) - 8} autres." in text
                assert sum(name in text for name in others) >= min(len(others), 8)
            elif reference == refs[24]:
                assert (
                    "est réorientée : Le guichet national le fait déjà. (https://www.service-public.fr)"
                    in text
                )
            else:
                assert "n’est pas soumise au vote : Hors du champ de la consultation." in text
        for reference in set(references) - told:
            assert reference not in text
    assert "Un agenda partagé des salles communales." in messages[views[refs[0]].author.user_id][0]
    with store.transaction() as tx:  # published during the collecte: kept for the vote
        expiries = tx.connection.execute(
            sa.text("SELECT DISTINCT expires_at FROM delivery WHERE campaign LIKE 'publication-%'")
        ).scalars()
        assert [as_utc(e) for e in expiries] == [datetime(2027, 3, 15, 23, 0, tzinfo=UTC)]

    await admin.say("!publier")  # the third proposal has contributions: it is published now
    await settled(admin.engine)
    again = received(transport, store)
    newly = {views[r].author.user_id for r in refs[20:24]}
    for user in messages:
        expected = len(messages[user]) + (1 if user in newly else 0)
        assert len(again[user]) == expected, user

    await admin.say("!publier")  # nothing new: nobody hears anything
    await settled(admin.engine)
    assert "Aucun brouillon à publier" in plain(admin.text)
    assert "Avis" not in plain(admin.text)
    assert received(transport, store) == again


def test_a_notice_published_during_the_collecte_lasts_until_the_vote_ends() -> None:
    """Found in a terminal trial: notices published in December expired on 31 January,
    unread by contributors who came back once the vote had opened, though they say where
    each contribution goes to the vote."""
    paris = ZoneInfo("Europe/Paris")
    calendar = Calendar.load(paris)
    vote_ends = datetime(2027, 3, 16, 0, 0, tzinfo=paris)  # after the vote's last day
    assert notice_expiry(calendar, datetime(2026, 12, 10, 10, 0, tzinfo=paris)) == vote_ends
    assert notice_expiry(calendar, datetime(2027, 2, 5, 10, 0, tzinfo=paris)) == vote_ends
    assert notice_expiry(calendar, datetime(2027, 3, 1, 10, 0, tzinfo=paris)) == vote_ends
    after = datetime(2027, 4, 2, 10, 0, tzinfo=paris)  # the référents call: as any message
    assert notice_expiry(calendar, after) == calendar.written_until(after)
