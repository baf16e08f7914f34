"""The Matrix adapter's pure parts: Tchap ids, rendering, polls, checkpoints, backoff."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.values import Choice, OutPoll
from bot.transports.matrix.dispatch import Dispatcher
from bot.transports.matrix.pacing import Backoff
from bot.transports.matrix.polls import PollBook, PollResponse, parse_response, tally
from bot.transports.matrix.rendering import strip_reply_fallback, text_content
from bot.transports.matrix.rooms import server_allowed
from bot.transports.matrix.tchap import email_candidates, email_from_user_id, suggest_collectivite
from storage.referential import default_referential
from storage.store import Store

TCHAP = "agent.collectivites.tchap.gouv.fr"


@pytest.mark.parametrize(
    ("user_id", "email"),
    [
        (f"@jean.dupont-ville.fr:{TCHAP}", "jean.dupont@ville.fr"),
        (f"@jean.dupont-ville.fr1:{TCHAP}", "jean.dupont@ville.fr"),  # homonym's digit
        (f"@jean.dupont-ville.fr12:{TCHAP}", "jean.dupont@ville.fr"),
        (f"@jean.dupont-ville-de-paris.fr:{TCHAP}", "jean.dupont@ville-de-paris.fr"),
        (f"@jean-pierre.martin-mairie-lyon.fr:{TCHAP}", "jean-pierre.martin@mairie-lyon.fr"),
        (f"@jdupont-grand-lyon.com:{TCHAP}", "jdupont@grand-lyon.com"),
        (f"@Marie.Curie-Villeurbanne.FR:{TCHAP}", "marie.curie@villeurbanne.fr"),
        ("@a.b-c.fr:agent.interieur.tchap.gouv.fr", "a.b@c.fr"),
        ("@jean.dupont-ville.fr:matrix.org", None),  # not Tchap: no email to read
        (f"@nodash:{TCHAP}", None),
        (f"@jean-dupont:{TCHAP}", None),  # no dotted domain after any dash
        ("not a user id", None),
    ],
)
def test_tchap_user_id_to_email(user_id: str, email: str | None) -> None:
    assert email_from_user_id(user_id) == email


def test_ambiguous_tchap_id_lists_every_reading() -> None:
    readings = email_candidates(f"@jean.dupont-ville-de-paris.fr:{TCHAP}")
    assert readings[0] == "jean.dupont@ville-de-paris.fr"
    assert set(readings) == {
        "jean.dupont@ville-de-paris.fr",
        "jean.dupont-ville@de-paris.fr",
        "jean.dupont-ville-de@paris.fr",
    }


def test_collectivite_suggested_from_the_email_domain() -> None:
    referential = default_referential()
    suggested = suggest_collectivite(f"@jean.dupont-villeurbanne.fr:{TCHAP}", referential)
    assert suggested is not None and suggested.name == "Villeurbanne"
    mairie = suggest_collectivite(f"@a.b-mairie-villeurbanne.fr2:{TCHAP}", referential)
    assert mairie is not None and mairie.name == "Villeurbanne"
    assert suggest_collectivite(f"@jean.dupont-gmail.com:{TCHAP}", referential) is None
    assert suggest_collectivite("@jean.dupont-villeurbanne.fr:matrix.org", referential) is None


@pytest.mark.parametrize(
    ("user_id", "allowed"),
    [
        ("@a:agent.collectivites.tchap.gouv.fr", True),
        ("@a:AGENT.Collectivites.tchap.gouv.fr", True),
        ("@a:agent.tchap.gouv.fr", False),
        ("@a:tchap.gouv.fr.evil.example", False),
        ("@a:evil.example", False),
    ],
)
def test_invitations_allowed_by_server_glob(user_id: str, allowed: bool) -> None:
    assert server_allowed(user_id, ("agent.*.tchap.gouv.fr",)) is allowed


def test_rendering_escapes_html_and_disarms_room_mentions() -> None:
    content = text_content('Titre : <img src=x onerror="alert(1)"> & @room\n@Room!')
    assert content["formatted_body"] == (
        "Titre : &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; @\u2060room<br>@\u2060Room!"
    )
    assert content["body"] == 'Titre : <img src=x onerror="alert(1)"> & @\u2060room\n@\u2060Room!'
    assert content["m.mentions"] == {}
    assert text_content("me@roomservice.fr")["body"] == "me@roomservice.fr"  # not a mention


def test_reply_fallback_is_stripped() -> None:
    assert strip_reply_fallback("> <@bot:x> Quelle est votre fonction ?\n\nDGS") == "DGS"
    assert strip_reply_fallback("> citation sans réponse") == "> citation sans réponse"


def test_poll_responses_in_both_forms() -> None:
    relation = {"rel_type": "m.reference", "event_id": "$start"}
    unstable = {"m.relates_to": relation, "org.matrix.msc3381.poll.response": {"answers": ["a"]}}
    stable = {"m.relates_to": relation, "m.selections": ["b"]}
    assert parse_response("org.matrix.msc3381.poll.response", unstable) == PollResponse(
        "$start", ("a",)
    )
    assert parse_response("m.poll.response", stable) == PollResponse("$start", ("b",))
    assert parse_response("m.poll.response", {"m.selections": ["b"]}) is None
    assert parse_response("m.room.message", stable) is None


def test_only_each_voters_latest_response_counts(tmp_path: object) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/polls.sqlite3")
    book = PollBook(store)
    poll = OutPoll("Q", (Choice("a", "A"), Choice("b", "B")), poll_id="p")
    book.remember("!room", "$start", poll)

    assert book.record(PollResponse("$start", ("a",)), "@x", "$1", 1000) is not None
    assert book.record(PollResponse("$start", ("b",)), "@x", "$2", 2000) is not None
    # An older response delivered late changes nothing; an unknown answer is a spoiled vote.
    assert book.record(PollResponse("$start", ("a",)), "@x", "$0", 500) is None
    spoiled = book.record(PollResponse("$start", ("zz",)), "@y", "$3", 3000)
    assert spoiled is not None and spoiled.option_ids == ()
    [(row_id, start_id, data)] = book.open_polls("!room", "p")
    assert start_id == "$start" and tally(data) == {"a": 0, "b": 1}
    book.close(row_id)
    assert book.record(PollResponse("$start", ("a",)), "@x", "$4", 4000) is None
    assert book.record(PollResponse("$other", ("a",)), "@x", "$5", 5000) is None
    store.close()


def test_a_poll_sent_again_counts_what_was_ticked_in_each_of_its_events(tmp_path: object) -> None:
    """Regression: the agent asked for the list twice, got the thématique's poll twice and
    ticked one proposal in each; the second answer carried only its own event's ticks, so
    the core withdrew the first. Like a Telegram poll in parts, it is the union."""
    store = Store.open(f"sqlite:///{tmp_path}/polls.sqlite3")
    book = PollBook(store)
    poll = OutPoll("Q", (Choice("a", "A"), Choice("b", "B")), poll_id="vote-x", multiple=True)
    book.remember("!room", "$first", poll)
    book.remember("!room", "$second", poll)
    book.remember("!elsewhere", "$third", poll)

    first = book.record(PollResponse("$first", ("a",)), "@x", "$1", 1000)
    assert first is not None and first.option_ids == ("a",)
    second = book.record(PollResponse("$second", ("b",)), "@x", "$2", 2000)
    assert second is not None and second.option_ids == ("a", "b")
    other_voter = book.record(PollResponse("$second", ("a",)), "@y", "$3", 3000)
    assert other_voter is not None and other_voter.option_ids == ("a",)
    unticked = book.record(PollResponse("$first", ()), "@x", "$4", 4000)
    assert unticked is not None and unticked.option_ids == ("b",)
    other_room = book.record(PollResponse("$third", ()), "@x", "$5", 5000)
    assert other_room is not None and other_room.option_ids == ()
    store.close()


async def test_sync_token_saved_only_when_every_earlier_job_is_done() -> None:
    saved: list[str] = []
    dispatcher = Dispatcher(saved.append)
    gate = asyncio.Event()
    order: list[str] = []

    async def slow() -> None:
        await gate.wait()
        order.append("slow")

    other_done = asyncio.Event()

    async def quick() -> None:
        order.append("quick")

    async def other() -> None:
        order.append("other")
        other_done.set()

    first = dispatcher.open_batch("t1")
    dispatcher.submit(first, "lane", slow)
    dispatcher.seal(first)
    second = dispatcher.open_batch("t2")
    dispatcher.submit(second, "lane", quick)  # same conversation: waits for slow
    dispatcher.submit(second, "other", other)  # another one: runs at once
    dispatcher.seal(second)
    await asyncio.wait_for(other_done.wait(), 5)
    assert saved == []  # t1's job is not done, so neither token may be saved
    gate.set()
    await dispatcher.drain()
    assert order == ["other", "slow", "quick"]
    assert saved == ["t1", "t2"]


def test_backoff_grows_to_its_cap_and_resets() -> None:
    backoff = Backoff(base=1.0, cap=8.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0
