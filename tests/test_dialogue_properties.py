"""Property-based test of the dialogue (Hypothesis): whatever several agents type or press,
at once, no turn fails, every input is answered, and the stored data stays whole.

A few hundred sequences here; ``benchmarks/dialogue_fuzz.py`` runs ten thousand and more.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dialogue_fuzz import Harness, sequences
from hypothesis import HealthCheck, given, settings

EXAMPLES = 300


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    built = Harness()
    yield built
    built.close()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example database under the repository
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(sequence=sequences())
def test_random_conversations_never_fail_never_stall_and_keep_the_data_whole(
    harness: Harness, sequence
) -> None:  # type: ignore[no-untyped-def]
    harness.run(sequence)
