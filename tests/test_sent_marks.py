"""Deliveries marked sent in batches (PostgreSQL): each mark still waits for its write."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import pytest

from bot.app.marks import SentMarks


class Writer:
    """Records each batch; holds the first write until released, to let marks pile up."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.fail_next = False

    async def __call__(self, marks: Sequence[tuple[int, datetime]]) -> None:
        self.batches.append([delivery_id for delivery_id, _ in marks])
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("database gone")


async def test_marks_made_while_a_batch_is_written_go_together() -> None:
    writer = Writer()
    marks = SentMarks(writer)
    first = asyncio.create_task(marks.mark(1))
    await asyncio.sleep(0)  # the first batch is being written
    others = [asyncio.create_task(marks.mark(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    assert writer.batches == [[1]]
    assert not first.done()  # a mark returns only once written
    writer.release.set()
    await asyncio.gather(first, *others)
    assert writer.batches == [[1], [2, 3, 4]]


async def test_a_failed_batch_fails_each_of_its_marks_and_the_next_still_goes() -> None:
    writer = Writer()
    writer.fail_next = True
    marks = SentMarks(writer)
    failing = [asyncio.create_task(marks.mark(n)) for n in (1, 2)]
    await asyncio.sleep(0)
    writer.release.set()
    for task in failing:
        with pytest.raises(ConnectionError):
            await task
    await marks.mark(3)
    assert writer.batches == [[1, 2], [3]]
