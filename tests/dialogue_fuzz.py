"""Random conversations for the property-based dialogue test and its benchmark.

A sequence is a list of steps; in each step several agents act at once (concurrent
``Engine.handle`` calls): texts (useful answers, empty, huge, HTML, lone surrogates, emoji,
control characters), button presses (an offered id with its token, a stale token, an
unknown id), commands of the registry, poll answers, attachments, ``/start``. Every
sequence runs on its own copy of a migrated SQLite database, so a failure replays alike.

After each step every agent that acted must have had at least one reply, none of them the
apology for a failed turn, all encodable; after the sequence the database must hold
contributions announced once each, references consumed only by stored contributions,
complete profiles, readable conversation states and nothing left to deliver.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fake_transport import FakeTransport
from hypothesis import strategies as st
from sqlmodel import SQLModel

from bot.app.engine import Engine
from bot.app.services import build_services
from bot.commands import build_commands
from bot.core.values import (
    ConversationKey,
    Incoming,
    IncomingAttachment,
    IncomingChoice,
    IncomingPollAnswer,
    IncomingStart,
    IncomingText,
    OutChoices,
    Outgoing,
)
from bot.dialogue.context import Services
from bot.dialogue.state import DialogueState
from config.settings import Settings
from storage.store import Store

AGENTS = ("a0", "a1", "admin")  # "admin" is an administrator (test:admin)
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # during the collecte
HAPPY_PATH = (
    "Villeurbanne",
    "2",
    "Secrétaire de mairie",
    "passer",
    "1",
    "Réserver les salles en ligne",
    "Les habitants appellent la mairie pour réserver la salle des fêtes chaque semaine.",
    "1, 3",
    "passer",
    "1",
    "3",
    "Envoyer",
)
ODD_TEXTS = (
    "",
    " ",
    "\n\n",
    "\ud800",
    "titre \udfff cassé",
    "<b></b>",
    "<script>alert(1)</script>",
    "<p>Un <i>vrai</i> titre</p>",
    "😀😀😀",
    "👩🏽‍💻 mairie",
    "\x00\x01\x02",
    '=HYPERLINK("http://x")',
    "é" * 130,
    "\u202eelbisiv",
    "oui non",
    "0",
    "99",
    "-1",
    "1, 2, 3, 4, 5, 6, 7, 8, 9",
    "agent@villeurbanne.fr",
    "pas une adresse",
    "69560",
    "Lyon",
    "Saint",
    "B-0001",
    "!regrouper B-0002 B-0001",
    "!separer B-0002",
    "/start",
    "/inconnue",
    "!inconnue",
)
PROFILES = {"elu", "agent", "partenaire"}
BENEFICIARIES = {"habitants", "agents", "associations", "entreprises"}
SUBMITTED = re.compile(r"enregistré sous la référence ([BS]-\d{4})")


@dataclass(frozen=True)
class Act:
    """One agent's action in a step; ``value`` depends on ``kind``."""

    agent: int
    kind: str  # happy, detour, text, valid, stale, unknown, command, poll, attachment, start
    value: Any = None

    def __repr__(self) -> str:
        value = self.value
        if isinstance(value, str) and len(value) > 40:
            value = f"{value[:20]!r}…({len(value)} chars)"
        return f"{AGENTS[self.agent]}:{self.kind}({value!r})"


def command_words() -> list[str]:
    words = []
    for spec in build_commands():
        words.append(("!" if spec.needs_prefix else "") + spec.name)
        words += [("/" if spec.needs_prefix else "") + alias for alias in spec.aliases[:1]]
    return words


def acts(agent: int) -> st.SearchStrategy[Act]:
    texts = st.one_of(
        st.sampled_from(HAPPY_PATH),
        st.sampled_from(ODD_TEXTS),
        st.sampled_from((121, 4001, 5000, 200_000)).map(lambda n: "x" * n),  # huge
        st.text(st.characters(categories=("Cs", "Ll", "Zs", "So")), min_size=3, max_size=20),
        st.text(max_size=40),
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).map(lambda t: t + " 🙂"),
    )
    return st.one_of(
        st.builds(Act, st.just(agent), st.just("happy"), st.integers(1, len(HAPPY_PATH))),
        st.builds(
            Act,
            st.just(agent),
            st.just("detour"),
            st.tuples(st.integers(0, len(HAPPY_PATH) - 1), texts),
        ),
        st.builds(Act, st.just(agent), st.just("text"), texts),
        st.builds(Act, st.just(agent), st.just("valid"), st.integers(0, 20)),
        st.builds(Act, st.just(agent), st.just("valid"), st.integers(0, 20)),
        st.builds(Act, st.just(agent), st.just("stale"), st.integers(0, 20)),
        st.builds(
            Act,
            st.just(agent),
            st.just("unknown"),
            st.one_of(
                st.sampled_from(("s999", "superadmin", "oui", "", "\ud800")), st.text(max_size=8)
            ),
        ),
        st.builds(Act, st.just(agent), st.just("command"), st.sampled_from(command_words())),
        st.builds(
            Act,
            st.just(agent),
            st.just("poll"),
            st.tuples(st.text(max_size=6), st.lists(st.text(max_size=4), max_size=3)),
        ),
        st.builds(Act, st.just(agent), st.just("attachment")),
        st.builds(Act, st.just(agent), st.just("start")),
    )


def steps() -> st.SearchStrategy[list[Act]]:
    """One step: one to three agents acting at once, each at most once."""
    return st.lists(
        st.one_of(*(acts(agent) for agent in range(len(AGENTS)))),
        min_size=1,
        max_size=len(AGENTS),
        unique_by=lambda act: act.agent,
    )


def sequences(max_steps: int = 15) -> st.SearchStrategy[list[list[Act]]]:
    """Built once per call: build it once, not per example (Hypothesis validates it)."""
    return st.lists(steps(), min_size=1, max_size=max_steps)


class Harness:
    """The services, one database and one event loop, shared by every sequence it runs.

    Each sequence starts from empty tables: a failure replays alike.
    """

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="recueil-fuzz-"))
        self.settings = Settings(data_dir=self.directory, admins=("test:admin",))
        self.services: Services = build_services(self.settings)
        self.store = Store.open(f"sqlite:///{self.directory / 'fuzz.sqlite3'}")
        self.runner = asyncio.Runner()
        self.apology = self.services.catalogue.t("error.internal")
        self.turns = 0  # inputs handled, over every sequence

    def close(self) -> None:
        self.runner.close()
        self.store.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def run(self, sequence: list[list[Act]]) -> None:
        """Play ``sequence`` on empty tables; AssertionError says what broke."""
        with self.store.transaction() as tx:
            for table in reversed(SQLModel.metadata.sorted_tables):
                tx.connection.execute(table.delete())
        self.runner.run(self._play(sequence))

    async def _play(self, sequence: list[list[Act]]) -> None:
        engine = Engine(self.services, self.store, clock=lambda: NOW)
        transport = FakeTransport()
        engine.register(transport)
        player = _Player(engine, transport, self.apology)
        try:
            for number, step in enumerate(sequence):
                await player.step(number, step)
            for agent in range(len(AGENTS)):  # nobody is stuck at the end
                await player.step(len(sequence), [Act(agent, "command", "aide")])
        finally:
            self.turns += player.turns
            await engine.close()
        check_database(self.store, self.services, player.announced)


class _Player:
    def __init__(self, engine: Engine, transport: FakeTransport, apology: str) -> None:
        self.engine = engine
        self.transport = transport
        self.apology = apology
        self.keys = [ConversationKey("test", f"dm-{name}", name) for name in AGENTS]
        self.cursor = [0] * len(AGENTS)
        self.questions: list[list[OutChoices]] = [[] for _ in AGENTS]
        self.events = itertools.count()
        self.announced: list[str] = []
        self.turns = 0

    def incoming(self, act: Act) -> Incoming:
        key = self.keys[act.agent]
        event = f"ev-{next(self.events)}"
        asked = self.questions[act.agent]
        current = asked[-1] if asked else None
        match act.kind:
            case "happy":
                text = HAPPY_PATH[self.cursor[act.agent] % len(HAPPY_PATH)]
                self.cursor[act.agent] += 1
                return IncomingText(key=key, event_id=event, text=text)
            case "text" | "command":
                return IncomingText(key=key, event_id=event, text=act.value)
            case "valid" if current is not None and current.choices:
                choice = current.choices[act.value % len(current.choices)]
                return IncomingChoice(
                    key=key, event_id=event, choice_id=choice.id, token=current.token
                )
            case "stale" if len(asked) > 1 and asked[0].choices:
                old = asked[act.value % (len(asked) - 1)]
                choice = old.choices[act.value % len(old.choices)] if old.choices else None
                return IncomingChoice(
                    key=key, event_id=event, choice_id=choice.id if choice else "x", token=old.token
                )
            case "valid" | "stale" | "unknown":
                token = current.token if current is not None else None
                value = act.value if isinstance(act.value, str) else f"id{act.value}"
                return IncomingChoice(key=key, event_id=event, choice_id=value, token=token)
            case "poll":
                poll_id, options = act.value
                return IncomingPollAnswer(
                    key=key, event_id=event, poll_id=poll_id, option_ids=tuple(options)
                )
            case "attachment":
                return IncomingAttachment(key=key, event_id=event, kind="image")
            case "start":
                return IncomingStart(key=key, event_id=event)
        raise AssertionError(f"unknown act {act!r}")

    async def step(self, number: int, step: list[Act]) -> None:
        """The agents of ``step`` act at once; ``happy`` follows the script for n lines,
        ``detour`` for n lines and then answers the next question with an odd text."""
        await asyncio.gather(*(self.act(number, act) for act in step))

    async def act(self, number: int, act: Act) -> None:
        if act.kind == "detour":  # follow the script, then an odd text at the next question
            lines, text = act.value
            if lines:
                await self.act(number, Act(act.agent, "happy", lines))
            act = Act(act.agent, "text", text)
        for _ in range(act.value if act.kind == "happy" else 1):
            await self.engine.handle(self.incoming(act))
            self.turns += 1
            replies = self.transport.pop(self.keys[act.agent])
            assert replies, f"step {number}: no reply to {act!r}"
            for reply in replies:
                check_reply(reply, act, number, self.apology)
                if isinstance(reply, OutChoices):
                    self.questions[act.agent].append(reply)
                text = getattr(reply, "text", "")
                self.announced += SUBMITTED.findall(text)


def check_reply(reply: Outgoing, act: Act, number: int, apology: str) -> None:
    text = getattr(reply, "text", "") or ""
    assert text != apology, f"step {number}: the turn for {act!r} failed (apology sent)"
    text.encode("utf-8")  # a lone surrogate would raise here, as in a transport
    if isinstance(reply, OutChoices):
        assert reply.choices, f"step {number}: a question without choices"
        ids = [c.id for c in reply.choices]
        assert len(set(ids)) == len(ids), f"step {number}: two choices share an id: {ids}"


def check_database(store: Store, services: Services, announced: list[str]) -> None:
    """The invariants of the stored data after a sequence."""
    with store.transaction() as tx:
        c = tx.connection
        rows = c.execute(
            sa.text(
                "SELECT reference, kind, title, description, thematique, author_id, "
                "collectivite_id FROM contribution"
            )
        ).all()
        references = [r.reference for r in rows]
        duplicates = [r for r, n in Counter(references).items() if n > 1]
        assert not duplicates, f"references used twice: {duplicates}"
        assert sorted(references) == sorted(announced), (
            f"stored {sorted(references)} but announced {sorted(announced)}"
        )
        themes = set(services.taxonomy.ids)
        for row in rows:
            assert row.title and row.description and row.thematique, f"half-stored {row}"
            assert row.thematique in themes, f"{row.reference}: unknown thématique {row.thematique}"
            assert row.collectivite_id is not None and row.author_id is not None, row
        for (answers,) in c.execute(sa.text("SELECT answers FROM contribution")):
            answers = answers if isinstance(answers, dict) else _json(answers)
            chosen = answers.get("beneficiaries", [])
            assert set(chosen) <= BENEFICIARIES, f"beneficiaries never offered: {chosen}"
        counters = dict(c.execute(sa.text("SELECT name, value FROM counter")).all())
        for kind, prefix in (("besoin", "B"), ("service", "S")):
            count = sum(r.kind == kind for r in rows)
            assert counters.get(kind, 0) == count, (
                f"{kind}: counter at {counters.get(kind)} for {count} stored"
            )
            numbers = sorted(int(r.reference[2:]) for r in rows if r.kind == kind)
            assert numbers == list(range(1, count + 1)), f"{prefix} references skip: {numbers}"
        for agent in c.execute(
            sa.text("SELECT collectivite_id, profile, fonction, erased_at FROM agent")
        ):
            if agent.erased_at is None and agent.collectivite_id is not None:
                assert agent.profile in PROFILES and agent.fonction, f"bad profile {agent}"
        submitted = {
            s
            for (s,) in c.execute(
                sa.text("SELECT subject FROM audit_log WHERE action = 'contribution.submitted'")
            )
        }
        assert submitted == set(references), "audit and contributions disagree"
        for (state,) in c.execute(sa.text("SELECT state FROM conversation")):
            parsed = DialogueState.model_validate(
                state if isinstance(state, dict) else _json(state)
            )
            for frame in parsed.stack:
                assert frame.scene in services.scenes, f"unknown scene {frame.scene}"
        pending = c.execute(
            sa.text("SELECT count(*) FROM delivery WHERE status <> 'sent'")
        ).scalar_one()
        assert pending == 0, f"{pending} replies left undelivered"


def _json(text: str) -> dict[str, Any]:
    import json

    return dict(json.loads(text))
