"""The reviewed spreadsheet imported, then the notices queued, at 5,000 contributions.

Seeds N contributions from N/2 communes (each agent with a conversation, so every
contributor is reachable), writes a reviewed file as a team would leave it (groups of about
seven under draft keys, one in fifty redirected, one in a hundred rejected), then times, on
the store: reading the state and validating the file, the import (every change through the
triage verbs, in one transaction), the re-import (no change), and publishing everything
with the notices queued for every contributor (one transaction).

    python benchmarks/triage.py                     # SQLite, 5,000 contributions
    python benchmarks/triage.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bot.consultation.drafting import DRAFT_COLUMNS
from bot.consultation.notices import queue_notices
from bot.consultation.spreadsheet import read_table, write_table
from bot.consultation.triage_file import parse_triage, plan_changes
from bot.consultation.triage_store import apply_triage, stored_triage
from config.calendar import Calendar
from config.catalogue import default_catalogue
from config.settings import normalize_database_url
from storage.keys import ConversationKey
from storage.referential import default_referential
from storage.store import Store

ADMIN = "bench:admin"
THEMATIQUES = ("citoyennete", "demarches_aides", "education_emploi", "patrimoine_equipements")


def timed(label: str, action: Callable[[], Any]) -> Any:
    start, cpu = time.perf_counter(), time.process_time()
    result = action()
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:<52} {wall:6.2f} s ({used:.2f} s CPU)")
    return result


def seed(store: Store, count: int, texts: Sequence[tuple[str, str]] = ()) -> list[tuple[int, str]]:
    """``count`` contributions of ``count / 2`` communes, each agent with a conversation;
    the n-th contribution titled and described by ``texts[n % len(texts)]`` if given.
    Returns their ids and references. A transaction per thousand communes: on PostgreSQL
    each holds a lock per conversation."""
    communes = default_referential().all("commune")[: max(1, count // 2)]
    seeded: list[tuple[int, str]] = []
    for start in range(0, len(communes), 1000):
        with store.transaction() as tx:
            for number, commune in enumerate(communes[start : start + 1000], start=start):
                user = f"agent{number}"
                agent = tx.save_profile(
                    tx.ensure_agent("bench", user),
                    collectivite=commune,
                    profile="agent",
                    fonction="DGS",
                    email=None,
                )
                tx.lock_conversation(ConversationKey("bench", f"dm-{user}", user))
                for _ in range(2):
                    if len(seeded) == count:
                        break
                    n = len(seeded)
                    title, description = (
                        texts[n % len(texts)]
                        if texts
                        else (f"Besoin {n}", "Un besoin décrit par un agent. " * 5)
                    )
                    seeded.append(
                        tx.add_contribution(
                            agent,
                            kind="besoin",
                            title=title,
                            description=description,
                            answers={"usage": "reserver"},
                            thematique=THEMATIQUES[n % len(THEMATIQUES)],
                            confidence=0.7,
                            thematique_source="classifier",
                        )
                    )
    return seeded


def reviewed(references: list[str]) -> bytes:
    records = []
    for index, reference in enumerate(references):
        key = f"G-{references[index - index % 7]}"
        record = {"proposition": key, "reference": reference, "titre": f"Besoin {index}"}
        if index % 7 == 0:
            record["titre_proposition"] = f"Proposition {index // 7}"
        if index % 50 == 3:
            record.update(statut="reorientee", message="Le guichet existe.")
        elif index % 100 == 5:
            record.update(statut="rejetee", message="Hors champ.")
        records.append(record)
    return write_table(DRAFT_COLUMNS, records, "csv")


def run(url: str, count: int) -> None:
    store = Store.open(url)
    catalogue = default_catalogue()
    calendar = Calendar.load(ZoneInfo("Europe/Paris"))
    try:
        seeded = timed(f"seed {count} contributions", lambda: seed(store, count))
        references = [reference for _, reference in seeded]
        table = read_table(reviewed(references))

        def import_file() -> int:
            with store.transaction() as tx:
                stored = stored_triage(tx)
                plan = parse_triage(table, stored.state)
                changes = plan_changes(plan, stored.state)
                apply_triage(tx, plan, stored, ADMIN, catalogue)
            return len(changes)

        changes = timed("import the reviewed file (one transaction)", import_file)
        print(f"  {changes} changes")

        def reimport() -> int:
            with store.transaction() as tx:
                stored = stored_triage(tx)
                plan = parse_triage(table, stored.state)
                return len(plan_changes(plan, stored.state))

        again = timed("re-import (validate, compare: no change)", reimport)
        assert again == 0, again

        def publish() -> tuple[int, int]:
            with store.transaction() as tx:
                published = tx.publish_proposals(ADMIN)
                notices = queue_notices(tx, catalogue, calendar, ADMIN)
            assert notices is not None
            return len(published), len(notices.recipients)

        published, told = timed("publish all and queue the notices", publish)
        print(f"  {published} proposals published, notices to {told} contributors")

        def notices_only() -> int:
            with store.transaction() as tx:
                tx.redirect_contribution(ADMIN, references[5], "Un autre guichet.")
                notices = queue_notices(tx, catalogue, calendar, ADMIN)
            return len(notices.recipients) if notices else 0

        timed("a second publication (one new fate to tell)", notices_only)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    if args.database_url:
        url = normalize_database_url(args.database_url)
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url)
        with admin.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        try:
            run(f"{url}?options=-csearch_path%3D{schema}", args.count)
        finally:
            with admin.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as directory:
            run(f"sqlite:///{directory}/bench.sqlite3", args.count)


if __name__ == "__main__":
    main()
