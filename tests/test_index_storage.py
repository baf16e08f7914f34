"""The same-need index is rebuilt at start from the entries stored with the contributions."""

from __future__ import annotations

import logging

import pytest
from test_recurrence import alice_sends

from bot.app.services import similarity_index
from storage.store import Store


async def test_a_sent_contribution_keeps_its_index_entry_and_a_start_reads_it(
    engine_with_search, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await alice_sends(engine_with_search)
    with store.transaction() as tx:
        entries = tx.index_entries()
    assert list(entries) == [1] and entries[1]  # stored with the contribution
    caplog.set_level(logging.INFO, logger="bot.app.services")
    rebuilt = similarity_index(store)
    assert rebuilt is not None and len(rebuilt) == 1
    assert "entries computed" not in caplog.text  # nothing recomputed at this start
    with store.transaction() as tx:
        tx.set_index_entry(1, None)  # lost, or written by an older version
    assert similarity_index(store) is not None
    assert "1 entries computed and stored" in caplog.text
    with store.transaction() as tx:
        assert tx.index_entries()[1] == entries[1]  # the same entry, written back
