"""The vote's closing announcement: the ranking and the laureates, as the database has them.

The closing is queued the day after the vote ends, often before the team has chosen the
laureates (« !retenir »), and it waits in the queue for whoever is not reached at once: the
terminal's agent until their next session, a platform down, the sending window closed. So
when a proposal's decision changes (``!retenir``, ``!statut``), the closing messages not yet
sent are written again from the database (:func:`recompose_vote_closing`): what goes out
names the laureates chosen by then. Only pending rows change: nothing already sent goes out
again, nothing is queued twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.consultation.campaigns import announcement_messages
from bot.consultation.results import results_text
from bot.core.values import Outgoing, outgoing_to_dict
from bot.dialogue.context import Context, Services
from config.calendar import Announcement
from config.catalogue import Catalogue
from config.typography import listing
from storage.ops.referents import LAUREATE
from storage.ops.supports import OPEN_TO_VOTE, SupportTally


def is_vote_closing(announcement: Announcement) -> bool:
    return announcement.phase == "vote" and announcement.kind == "cloture"


def closing_decision(catalogue: Catalogue, tallies: Sequence[SupportTally]) -> str:
    """What the vote's closing says of the laureates: chosen (named), or being chosen."""
    if all(t.status == OPEN_TO_VOTE for t in tallies):
        return catalogue.t("annonces.vote.choosing")
    laureates = sorted(t.reference for t in tallies if t.status == LAUREATE)
    if not laureates:
        return catalogue.t("annonces.vote.chosen_none")
    return catalogue.t("annonces.vote.chosen", count=len(laureates), references=listing(laureates))


def closing_messages(
    services: Services, announcement: Announcement, tallies: Sequence[SupportTally]
) -> list[Outgoing]:
    """The vote's closing for ``tallies`` (:meth:`Tx.support_tallies`): ranking, decision."""
    catalogue = services.catalogue
    results = results_text(catalogue.t, services.taxonomy, tallies)
    decision = closing_decision(catalogue, tallies)
    return announcement_messages(catalogue, services.calendar, announcement, results, decision)


def recompose_vote_closing(ctx: Context) -> int:
    """Write again, from the database, the vote's closing messages still waiting to be sent
    (in the turn's transaction); how many were rewritten."""
    closing = next((a for a in ctx.services.calendar.announcements() if is_vote_closing(a)), None)
    if closing is None or not ctx.tx.has_pending_push(closing.id):
        return 0
    messages = closing_messages(ctx.services, closing, ctx.tx.support_tallies())
    return ctx.tx.rewrite_pending_push(closing.id, [outgoing_to_dict(m) for m in messages])
