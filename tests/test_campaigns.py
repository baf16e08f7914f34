"""Scheduled announcements: due once, to their audience, in the sending window, never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fake_transport import FakeTransport, SimulatedAgent
from test_intake import register

from bot.app import announcer
from bot.app.engine import Engine
from bot.app.phases_cli import phases_report
from bot.consultation.campaigns import (
    Campaign,
    audience_label,
    plan,
    progress_report,
    queue_campaign,
)
from bot.core.values import IncomingText, OutText
from config.calendar import Calendar
from config.catalogue import default_catalogue
from config.settings import Settings
from config.typography import french as fr
from config.window import SendingWindow
from storage import campaigns as stored
from storage.store import Store

PARIS = ZoneInfo("Europe/Paris")
VOTE_OPENS = datetime(2027, 2, 15, 10, 0, tzinfo=PARIS)  # a Monday
WINDOW = SendingWindow.parse("1-5", "09:00-18:00", PARIS)


def test_the_envois_title_counts_the_lines_it_lists(services) -> None:  # type: ignore[no-untyped-def]
    """Found in a terminal trial: « Envois (4) : » was followed by 15 lines; it counted the
    campaigns already queued, not what is due or upcoming."""
    queued = stored.CampaignProgress(
        "annonce-M-0001", "annonce", "votants", "queued", 3, 0, 3, 0, 0, 0
    )
    report = progress_report(services.catalogue.t, services.calendar, date(2027, 2, 16), [queued])
    title, *lines = report.split("\n")
    # queued, the four of the collecte missed, due, three upcoming
    assert [line[:2] for line in lines] == ["• "] * 9
    assert title == fr("Envois (9) :")


def test_every_audience_is_named_in_french() -> None:
    """Found in a terminal trial: previews and ``!envois`` showed « volontaires:P-001 »,
    « sans_soutien »: each audience has its French label, a laureate's with its reference."""
    t = default_catalogue().t
    labels = {name: audience_label(t, name) for name in stored.AUDIENCES}
    labels |= {f"{name}:P-012": audience_label(t, f"{name}:P-012") for name in stored.PER_LAUREATE}
    assert [name for name, label in labels.items() if "_" in label or ":" in label] == []
    assert len(set(labels.values())) == len(labels)  # no two audiences read alike
    assert labels["volontaires:P-012"] == "les volontaires de P-012"
    assert labels["sans_soutien"] == "les collectivités qui n’ont encore rien soutenu"
    assert audience_label(t, "ancien_public") == "ancien_public"  # stored, since renamed


def test_plan_sends_what_is_due_and_skips_what_no_longer_means_anything() -> None:
    calendar = Calendar.load(PARIS)
    todo = plan(calendar, date(2027, 2, 15), recorded=set())
    assert [a.id for a in todo.due] == ["vote-ouverture"]
    skipped = {a.id: reason for a, reason in todo.skipped}
    assert skipped["collecte-ouverture"] == "no longer meaningful"
    assert "collecte-cloture" in skipped  # the vote started: the closing came too late
    assert plan(calendar, date(2027, 2, 15), recorded={"vote-ouverture"}).due == []


def test_of_two_missed_reminders_only_the_later_is_sent() -> None:
    calendar = Calendar.load(PARIS)
    todo = plan(calendar, date(2027, 3, 14), recorded={"vote-ouverture"})
    assert [a.id for a in todo.due] == ["vote-rappel-j1"]
    assert ("vote-rappel-j7", "superseded by a later reminder") in [
        (a.id, r) for a, r in todo.skipped
    ]


async def people(engine: Engine, transport: FakeTransport) -> dict[str, SimulatedAgent]:
    found = {}
    for name, town in (("alice", "Villeurbanne"), ("bob", "Lyon"), ("chloe", "Grenoble")):
        agent = SimulatedAgent(engine, transport, name)
        await register(agent, town)
        found[name] = agent
    return found


def announcements(transport: FakeTransport, agent: SimulatedAgent) -> list[str]:
    return [m.text for m in transport.pop(agent.key) if isinstance(m, OutText)]


async def test_the_vote_opening_reaches_each_agent_once_across_ticks_and_restarts(
    services, store: Store, clock
) -> None:
    engine = Engine(services, store, clock=clock, window=WINDOW)
    transport = FakeTransport()
    engine.register(transport)
    agents = await people(engine, transport)
    await agents["chloe"].say("stop")
    assert "ne recevrez plus" in agents["chloe"].text
    clock.now = VOTE_OPENS
    assert await announcer.tick(engine) == ["vote-ouverture"]
    assert await announcer.tick(engine) == []
    await engine.close()
    again = Engine(services, store, clock=clock, window=WINDOW)  # a restart
    again.register(transport)
    assert await announcer.tick(again) == []
    for name in ("alice", "bob"):
        received = announcements(transport, agents[name])
        assert len(received) == 1 and "Le vote est ouvert jusqu’au 15 mars 2027" in received[0]
        assert fr("« stop »") in received[0]
    assert announcements(transport, agents["chloe"]) == []  # opted out
    with store.transaction() as tx:
        done = {p.id: p for p in stored.progress(tx)}
    assert done["vote-ouverture"].recipients == 2 and done["vote-ouverture"].sent == 2
    assert done["collecte-ouverture"].status == "skipped"
    await again.close()


async def test_the_envois_counts_add_up_after_recipients_erase_their_data(
    services, store: Store, clock
) -> None:
    """Found in a trial: after « supprimer mes données » (which deletes the person's
    messages), ``!envois`` read « 5 destinataires, 4 envoyés, 0 en attente, 0 en échec,
    0 bloqué, 0 expiré »: one recipient missing. They are counted as erased."""
    engine = Engine(services, store, clock=clock, window=WINDOW)
    transport = FakeTransport()
    engine.register(transport)
    agents = await people(engine, transport)
    admin = SimulatedAgent(engine, transport, "admin")
    await register(admin, "Rennes")
    clock.now = VOTE_OPENS
    assert await announcer.tick(engine) == ["vote-ouverture"]

    def envois_line() -> str:
        return next(line for line in admin.text.splitlines() if "vote-ouverture" in line)

    await admin.say("!envois")
    assert envois_line().endswith(
        fr(": 4 destinataires, 4 envoyés, 0 en attente, 0 en échec, 0 bloqué, 0 expiré")
    )
    await agents["alice"].say("supprimer mes données")
    await agents["alice"].press("oui")
    await admin.say("!envois")
    assert envois_line().endswith(
        fr(
            ": 4 destinataires, 3 envoyés, 0 en attente, 0 en échec, 0 bloqué, 0 expiré,"
            " 1 effacé (données supprimées)"
        )
    )
    await agents["bob"].say("supprimer mes données")
    await agents["bob"].press("oui")
    await admin.say("!envois")
    assert envois_line().endswith(
        fr(
            ": 4 destinataires, 2 envoyés, 0 en attente, 0 en échec, 0 bloqué, 0 expiré,"
            " 2 effacés (données supprimées)"
        )
    )
    await engine.close()


@pytest.mark.parametrize(
    "outside",
    [datetime(2027, 2, 15, 20, 0, tzinfo=PARIS), datetime(2027, 2, 20, 10, 0, tzinfo=PARIS)],
    ids=["evening", "saturday"],
)
async def test_pushes_wait_for_the_window_replies_never_do(
    services, store: Store, clock, outside: datetime
) -> None:
    engine = Engine(services, store, clock=clock, window=WINDOW)
    transport = FakeTransport()
    engine.register(transport)
    alice = SimulatedAgent(engine, transport, "alice")
    await register(alice)
    clock.now = outside
    assert await announcer.tick(engine) == []  # nothing is queued outside the window
    await alice.say("aide")
    assert "Commandes utilisables" in alice.text  # a reply goes out at once
    clock.now = datetime(2027, 2, 22, 9, 5, tzinfo=PARIS)  # Monday morning
    assert await announcer.tick(engine) == ["vote-ouverture"]
    assert len(announcements(transport, alice)) == 1
    await engine.close()


async def registered_with_a_push_queued(
    services, store: Store, clock, now: datetime
) -> tuple[Engine, FakeTransport, SimulatedAgent]:
    """Alice registered, then, at ``now`` (outside the window), a push « Bonjour » queued
    for every agent as if the tick had queued it before the window closed."""
    engine = Engine(services, store, clock=clock, window=WINDOW)
    transport = FakeTransport()
    engine.register(transport)
    alice = SimulatedAgent(engine, transport, "alice")
    await register(alice)
    transport.pop(alice.key)
    clock.now = now
    with store.transaction() as tx:
        queue_campaign(tx, Campaign("essai", "annonce", "agents"), [OutText("Bonjour")])
    return engine, transport, alice


async def test_a_push_queued_before_the_window_closed_waits_for_it(
    services, store: Store, clock
) -> None:
    just_closed = datetime(2027, 2, 15, 18, 30, tzinfo=PARIS)  # queued at 17:59
    engine, transport, alice = await registered_with_a_push_queued(
        services, store, clock, just_closed
    )
    await engine.redeliver_pending()
    assert transport.pop(alice.key) == []
    clock.now = datetime(2027, 2, 16, 9, 0, tzinfo=PARIS)
    await engine.redeliver_pending()
    assert [m.text for m in transport.pop(alice.key)] == ["Bonjour"]  # type: ignore[union-attr]
    await engine.close()


async def test_a_reply_goes_past_a_push_waiting_for_the_window(
    services, store: Store, clock
) -> None:
    """Found in a terminal trial: on a Saturday, an agent with a push waiting for Monday
    got no answer at all, even to « aide »: the replies waited behind the push."""
    saturday = datetime(2027, 2, 20, 10, 0, tzinfo=PARIS)  # queued on Friday, unsent by 18:00
    engine, transport, alice = await registered_with_a_push_queued(services, store, clock, saturday)
    await alice.say("aide")
    assert "Commandes utilisables" in alice.text
    assert "Bonjour" not in alice.text  # the push still waits for the window
    clock.now = datetime(2027, 2, 22, 9, 0, tzinfo=PARIS)  # Monday morning
    await engine.redeliver_pending()
    assert [m.text for m in transport.pop(alice.key)] == ["Bonjour"]  # type: ignore[union-attr]
    await engine.close()


async def test_a_vote_reminder_left_unsent_until_the_vote_closed_is_expired_not_shown(
    services, store: Store, clock
) -> None:
    """Found in a terminal trial: the « plus que 1 jour pour voter » reminder, queued while
    the agent's terminal was closed, was shown at their next session, after the vote had
    closed. It expires with the vote; the reply they were owed still goes out."""
    engine = Engine(services, store, clock=clock, window=WINDOW)
    transport = FakeTransport()
    engine.register(transport)
    alice = SimulatedAgent(engine, transport, "alice")
    await register(alice)
    await engine.close()
    clock.now = datetime(2027, 3, 15, 10, 0, tzinfo=PARIS)  # the vote's last day, a Monday
    away = Engine(services, store, clock=clock, window=WINDOW)  # nothing reaches alice
    await away.handle(IncomingText(key=alice.key, text="aide", event_id="away-1"))
    assert await announcer.tick(away) == ["vote-ouverture", "vote-rappel-j1"]
    await away.close()

    clock.now = datetime(2027, 3, 16, 10, 0, tzinfo=PARIS)  # the vote has closed
    back = Engine(services, store, clock=clock, window=WINDOW)
    back.register(transport)
    await back.redeliver_pending()  # what `recueil chat` does first
    received = [getattr(m, "text", "") for m in transport.pop(alice.key)]
    assert len(received) == 1 and "Commandes utilisables" in received[0]  # the reply only
    await back.redeliver_pending()
    assert transport.pop(alice.key) == []  # not queued any more either
    with store.transaction() as tx:
        progress = stored.progress(tx)
    report = progress_report(services.catalogue.t, services.calendar, date(2027, 3, 16), progress)
    assert (
        fr(
            "• vote-rappel-j1, pour les collectivités qui n’ont encore rien soutenu :"
            " 1 destinataire, 0 envoyé, 0 en attente, 0 en échec, 0 bloqué, 1 expiré"
        )
        in report
    )
    await back.close()


async def test_a_push_to_a_transport_not_running_expires_and_is_never_shown_as_pending(
    services, store: Store, clock
) -> None:
    """Found after the expiry landed: a push whose moment passed stayed « en attente » in
    ``recueil campagnes`` for as long as nothing tried to send it (the agent's transport
    down, or not run by this process), and the bot stopped, the report kept promising it."""
    store.clock = clock  # as the bot wires it: stored dates and expiry on one clock
    engine = Engine(services, store, clock=clock, window=WINDOW)
    transport = FakeTransport()
    engine.register(transport)
    alice = SimulatedAgent(engine, transport, "alice")
    await register(alice)
    await engine.close()
    clock.now = datetime(2027, 3, 15, 10, 0, tzinfo=PARIS)  # the vote's last day
    away = Engine(services, store, clock=clock, window=WINDOW)  # alice's transport is down
    assert await announcer.tick(away) == ["vote-ouverture", "vote-rappel-j1"]

    def report_line() -> str:
        with store.transaction() as tx:
            progress = stored.progress(tx)
        report = progress_report(
            services.catalogue.t, services.calendar, clock.now.date(), progress
        )
        return next(line for line in report.splitlines() if "vote-rappel-j1" in line)

    assert fr("1 destinataire, 0 envoyé, 1 en attente") in report_line()
    clock.now = datetime(2027, 3, 16, 10, 0, tzinfo=PARIS)  # the vote closed; the bot is off
    assert fr("0 en attente, 0 en échec, 0 bloqué, 1 expiré") in report_line()

    await away.redeliver_pending()  # the bot's minute job, its transport still down
    assert store.pending_deliveries(key=alice.key) == []
    assert fr("0 en attente, 0 en échec, 0 bloqué, 1 expiré") in report_line()
    back = Engine(services, store, clock=clock, window=WINDOW)
    back.register(transport)
    await back.redeliver_pending()
    assert transport.pop(alice.key) == []  # nothing late reaches her
    await away.close()
    await back.close()


async def test_reprendre_answers_a_question_that_offers_it(agent_factory, clock) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("stop")
    await alice.say("reprendre les annonces")
    assert "recevrez à nouveau" in alice.text
    await alice.say("Décrire un besoin")
    await alice.say("Un titre de besoin")
    clock.now = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)  # two days later: offer to resume
    await alice.say("bonjour")
    assert alice.question is not None and "Reprendre" in [c.label for c in alice.question.choices]
    await alice.say("reprendre")
    assert "Décrivez le problème" in alice.text  # the draft, not the subscription


async def test_reprendre_alone_never_changes_the_subscription(agent_factory, store: Store) -> None:
    """Found in a trial: « Reprendre » typed at the fonction question answered « Vous recevez
    déjà les annonces de la consultation. », and typed after « stop » it turned them back on.
    Alone, « reprendre » is the draft's word (the menu and the offer to resume use it):
    without a draft there is nothing to resume, and the announcements are not touched."""
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("Villeurbanne")
    await alice.press(alice.option("Agent"))
    await alice.say("Reprendre")
    assert "annonces" not in alice.text
    assert fr("Vous n’avez pas de contribution en cours à reprendre.") in alice.text
    assert "Quelle est votre fonction" in alice.text
    await alice.say("Secrétaire de mairie")
    await alice.say("passer")
    await alice.say("stop")
    assert fr("Tapez « reprendre les annonces » pour les recevoir à nouveau.") in alice.text
    await alice.say("reprendre")
    assert "recevrez à nouveau" not in alice.text
    assert fr("Vous n’avez pas de contribution en cours à reprendre.") in alice.text
    assert fr("Pour recevoir à nouveau les annonces, tapez « reprendre les annonces ».") in (
        alice.text
    )
    with store.transaction() as tx:
        agent = tx.get_agent("test", "alice")
        assert agent is not None and stored.is_opted_out(tx, agent.id)
    await alice.say("Reprendre les annonces")
    assert "recevrez à nouveau les annonces" in alice.text
    with store.transaction() as tx:
        assert not stored.is_opted_out(tx, agent.id)


def test_recueil_phases_shows_the_calendar_and_the_campaigns(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "RECUEIL_DATA_DIR": str(tmp_path),
        "RECUEIL_NOW": "2027-02-16T10:00:00+01:00",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "phases"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert fr("• vote : du 15 février au 15 mars 2027 (en cours)") in done.stdout
    assert (
        fr("• vote-ouverture : dû maintenant, pour les élus et les agents des collectivités ;")
        in done.stdout
    )
    assert (
        fr("• vote-cloture : prévu le 16 mars 2027, pour les collectivités qui ont voté")
        in done.stdout
    )
    assert "participants_vote" not in done.stdout
    assert "INFO" not in done.stderr


def test_recueil_phases_writes_the_phases_and_the_sending_window_in_french(tmp_path) -> None:
    """Found in a terminal trial: the window read « jours 1-5, heures 09:00-18:00 » (ISO
    weekday numbers and hyphens) and every span repeated its year."""
    trial = datetime(2027, 4, 2, 10, 0, tzinfo=PARIS)  # RECUEIL_NOW, in the référents call
    report = phases_report(Settings(data_dir=tmp_path, now=trial, push_days="1-5,7"))
    lines = report.splitlines()
    assert lines[0] == fr("Calendrier de la consultation (nous sommes le 2 avril 2027) :")
    assert lines[1:5] == [
        fr("• collecte des besoins et des services : du 2 novembre 2026 au 31 janvier 2027"),
        fr("• vote : du 15 février au 15 mars 2027"),
        fr("• appel aux territoires référents : du 1er au 30 avril 2027 (en cours)"),
        fr("• déploiement : du 1er juin au 31 décembre 2027"),
    ]
    assert lines[5] == fr(
        "Fenêtre d’envoi des annonces : du lundi au vendredi et dimanche, de 9\u00a0h à 18\u00a0h."
    )


async def test_a_skipped_announcement_is_no_warning_in_the_terminal(
    services, store: Store, clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: « announcement collecte-ouverture skipped: no longer meaningful », a
    WARNING, was printed amid the terminal chat of « recueil run »; a skip after an outage is
    expected and « recueil phases » shows it."""
    engine = Engine(services, store, clock=clock, window=WINDOW)
    engine.register(FakeTransport())
    clock.now = VOTE_OPENS
    with caplog.at_level("INFO"):
        assert await announcer.tick(engine) == ["vote-ouverture"]
    assert "collecte-ouverture skipped" in caplog.text  # still in the journal, at INFO
    assert [r.getMessage() for r in caplog.records if r.levelno >= 30] == []
    await engine.close()


async def test_recueil_phases_lists_missed_announcements_before_any_bot_has_run(
    services, store: Store, clock, tmp_path, database_url: str
) -> None:
    """Found in a trial: before any « recueil run », « recueil phases » counted 16 sends in
    November, 13 on 1 February, 12 on 15 February: past announcements never sent vanished,
    and came back as « manqué » once a bot had ticked. They are listed by the scheduler's
    own rule either way."""

    def envois(now: datetime) -> list[str]:
        settings = Settings(data_dir=tmp_path, database_url=database_url, now=now)
        return phases_report(settings).split(fr("Envois"))[1].splitlines()

    counts = {
        day: envois(datetime(*day, 10, 0, tzinfo=PARIS))[0]
        for day in ((2026, 11, 20), (2027, 2, 1), (2027, 2, 15))
    }
    assert len(set(counts.values())) == 1, counts  # the same « (N) » whatever the day
    before = envois(VOTE_OPENS)
    missed = fr(
        "• collecte-ouverture, pour tous les inscrits : non envoyé, manqué pendant un arrêt"
        " et sans objet depuis"
    )
    assert missed in before
    engine = Engine(services, store, clock=clock, window=WINDOW)
    engine.register(FakeTransport())
    clock.now = VOTE_OPENS
    assert await announcer.tick(engine) == ["vote-ouverture"]
    await engine.close()
    after = envois(VOTE_OPENS)
    assert after[0] == before[0]  # a bot ticking changes no count
    assert missed in after
    assert [line.split()[1].strip(",") for line in after[1:]] == [
        line.split()[1].strip(",") for line in before[1:]
    ]  # the same announcements, in the same order
