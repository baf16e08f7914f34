"""RGPD in the conversation: an agent sees everything stored about them, and can erase it.

The export and the erasure are checked table by table against ``storage/models.py``: a
table added later must be classified here (personal or not) or these tests fail, and a
column added to an exported table must have its French name in ``config/messages.toml``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fake_transport import SimulatedAgent
from sqlmodel import SQLModel
from test_console import console_chat
from test_intake import describe_need, register

from bot.app.privacy import erase_inactive_agents, months_before, purge_delivered
from bot.app.services import build_services
from bot.consultation.contributions import COLUMNS
from bot.consultation.recurrence import SHOWN_KEY
from bot.core.transport import Capability
from bot.core.values import OutFile, OutText, outgoing_to_dict
from bot.forms.intake import build_forms
from config.catalogue import default_catalogue
from config.settings import Settings
from config.typography import french as fr
from storage import privacy
from storage.models import AgentVouch, Proposal, ProposalFollow, ReferentOffer, Support
from storage.ops.triage_files import IMPORT_KEY
from storage.store import Store

EMAIL = "camille.zebulon@villeurbanne.fr"
FONCTION = "Cheffe de projet Zébulon"
USER = "u-7f3a9c41"  # distinctive: scanned for in every column
NOT_PERSONAL = {
    "collectivite",
    "proposal",
    "counter",
    "inbound_event",
    "campaign",
    "invitation_code",
    "vouched_domain",
}
"""Tables that hold nothing about an agent (inbound_event: platform event ids only; campaign,
invitation_code, vouched_domain: what administrators did, for collectivités)."""


async def register_with_email(agent: SimulatedAgent, collectivite: str = "Villeurbanne") -> None:
    await agent.start()
    await agent.say(collectivite)
    await agent.press(agent.option("Agent"))
    await agent.say(FONCTION)
    await agent.say(EMAIL)
    assert "profil est enregistré" in agent.text


async def contributing_agent(agent_factory, store: Store) -> tuple[SimulatedAgent, int]:  # type: ignore[no-untyped-def]
    """An agent with a profile, a contribution, a support they withdrew, a référent offer
    with their e-mail as its contact, a vouching by invitation code, a queued push and a poll
    shown in their chat: a row of every personal table."""
    camille = agent_factory(USER)
    await register_with_email(camille)
    await describe_need(camille)
    await camille.say("Envoyer")
    assert "B-0001" in camille.text
    with store.transaction() as tx:
        agent_id = privacy.agent_id_of(tx, "test", USER)
        assert agent_id is not None
        agent = tx.get_agent("test", USER)
        assert agent is not None and agent.collectivite_id is not None
        proposal = Proposal(reference="P-001", title="Réserver", description="…", thematique="x")
        tx.session.add(proposal)
        tx.session.flush()
        tx.session.add(
            Support(
                proposal_id=proposal.id,
                collectivite_id=agent.collectivite_id,
                agent_id=agent_id,
                withdrawn_at=datetime(2027, 2, 17, tzinfo=UTC),
                withdrawn_by=f"test:{USER}",
            )
        )
        tx.session.add(
            ReferentOffer(
                reference="V-0001",
                proposal_id=proposal.id,
                collectivite_id=agent.collectivite_id,
                agent_id=agent_id,
                commitment="Nous testerons le service avec deux agents.",
                contact=EMAIL,  # as the volunteering form pre-fills it
                elu_agreement="oui",
            )
        )
        tx.session.add(
            AgentVouch(
                agent_id=agent_id,
                collectivite_id=agent.collectivite_id,
                method="code",
                created_by=f"test:{USER}",
            )
        )
        tx.session.add(ProposalFollow(proposal_id=proposal.id, agent_id=agent_id, following=True))
        tx.queue_push(
            camille.key,
            agent_id,
            [outgoing_to_dict(OutText("Le vote est ouvert."))],
            "vote-opening",
        )
    store.remember_platform_message(
        "test", camille.key.chat, "poll-77", kind="poll", core_ref="p1", data={"votes": 1}
    )
    return camille, agent_id


def linkage(table: sa.Table, agent_id: int) -> Any:
    """How a table's rows point at the agent; None for tables that hold nothing of them."""
    c = table.c
    if table.name == "agent":
        return c.id == agent_id
    conditions = []
    if "author_id" in c:
        conditions.append(c.author_id == agent_id)
    if "agent_id" in c:
        conditions.append(c.agent_id == agent_id)
    if "user_id" in c:
        conditions.append(sa.and_(c.transport == "test", c.user_id == USER))
    if "actor" in c:
        conditions.append(c.actor == f"test:{USER}")
    if "chat_id" in c and "user_id" not in c:
        conditions.append(sa.and_(c.transport == "test", c.chat_id == f"dm-{USER}"))
    return sa.or_(*conditions) if conditions else None


def as_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def every_table() -> list[sa.Table]:
    return list(SQLModel.metadata.sorted_tables)


def section(name: str) -> str:
    """The French name of an export section (``agent`` → « profil »)."""
    return default_catalogue().t(f"privacy.export.sections.{name}")


def field(table: str, column: str) -> str:
    """The French name of a column in the export (``agent.email`` → « adresse électronique »)."""
    return default_catalogue().t(f"privacy.export.fields.{table}.{column}")


def answer(name: str) -> str:
    """The French name of a contribution's answer (``beneficiaries`` → « bénéficiaires »)."""
    return default_catalogue().t(f"privacy.export.answers.{name}")


def contribution_answers() -> set[str]:
    """Every key a contribution's ``answers`` may hold: the forms' questions without a column
    of their own, what the search for the same need keeps, what an import records."""
    forms = build_forms()
    asked = {f.name for kind in ("besoin", "service") for f in forms[kind].fields}
    return asked - set(COLUMNS) | {"services_suggested", SHOWN_KEY, IMPORT_KEY, "reference_source"}


def test_every_exported_column_has_a_french_name() -> None:
    """A migration adding a column to an exported table (or a question added to a form) must
    be named for the agent, or ``mes données`` would show its English name."""
    catalogue = default_catalogue()
    tables = privacy.EXPORTED_TABLES
    keys = [f"privacy.export.sections.{name}" for name in ("exported_at", *tables)]
    keys += [
        f"privacy.export.fields.{name}.{column.name}"
        for name, table in tables.items()
        for column in table.c
    ]
    keys += [f"privacy.export.answers.{name}" for name in contribution_answers()]
    assert [key for key in keys if not catalogue.has(key)] == []
    stale = [
        key for key in catalogue.all_keys() if key.startswith("privacy.export.") and key not in keys
    ]
    assert stale == [], "names of sections or columns that are no longer exported"
    sections = [catalogue.t(f"privacy.export.sections.{name}") for name in ("exported_at", *tables)]
    assert len(set(sections)) == len(sections)
    for name, table in tables.items():  # two columns under one name: one would be lost
        names = [catalogue.t(f"privacy.export.fields.{name}.{c.name}") for c in table.c]
        assert len(set(names)) == len(names), name
    answers = [catalogue.t(f"privacy.export.answers.{name}") for name in contribution_answers()]
    assert len(set(answers)) == len(answers)


async def test_the_export_holds_every_field_stored_about_the_agent(
    agent_factory, store: Store
) -> None:
    camille, agent_id = await contributing_agent(agent_factory, store)
    other = agent_factory("someone-else")
    await register(other, "Lyon")

    expected: dict[str, list[dict[str, Any]]] = {}
    with store.transaction() as tx:  # before the turn: what the export must show
        for table in every_table():
            condition = linkage(table, agent_id)
            if condition is None:
                assert table.name in NOT_PERSONAL, f"table {table.name} is not classified"
                continue
            result = tx.connection.execute(sa.select(table).where(condition))
            expected[table.name] = [dict(r._mapping) for r in result]
            assert expected[table.name], f"the scenario leaves no row in {table.name}"

    [file] = [m for m in await camille.say("mes données") if isinstance(m, OutFile)]
    assert file.name.endswith(".json") and file.mime == "application/json"
    assert "tout ce qui est enregistré" in file.caption
    exported = json.loads(file.content)

    assert set(exported) == {section(n) for n in ("exported_at", *privacy.EXPORTED_TABLES)}
    for name, rows in expected.items():
        shown = exported[section(name)]
        shown = [shown] if isinstance(shown, dict) else shown
        number = field(name, "id")
        assert sorted(r[number] for r in shown) == sorted(r["id"] for r in rows), name
        by_id = {r[number]: r for r in shown}
        for row in rows:
            assert set(by_id[row["id"]]) == {field(name, column) for column in row}, name
            for column, value in row.items():
                value_shown = by_id[row["id"]][field(name, column)]
                if name == "delivery" and column == "payload":  # files by size, texts cut
                    assert value_shown["type"] == value["type"]
                elif name == "contribution" and column == "answers":  # keys in French too
                    assert list(value_shown.values()) == list(value.values())
                    assert len(value_shown) == len(value)
                else:
                    assert value_shown == as_json(value), (name, column)
    assert exported["profil"]["adresse électronique"] == EMAIL
    assert exported["profil"]["fonction"] == FONCTION
    assert exported["collectivité"]["nom"] == "Villeurbanne"
    [contribution] = exported["contributions"]
    assert contribution["description"].startswith("Les habitants appellent")
    assert contribution["créée le"] == expected["contribution"][0]["created_at"].isoformat()
    answers = expected["contribution"][0]["answers"]
    assert {answer(name) for name in answers} == set(contribution["autres réponses"])
    assert contribution["autres réponses"]["bénéficiaires"] == answers["beneficiaries"]
    assert contribution["autres réponses"]["situation actuelle"] == answers["current_handling"]
    [offer] = exported["engagements de territoire référent"]
    assert offer["ce que la collectivité apporte"].startswith("Nous testerons")
    assert exported["conversations"][0]["état de la conversation"]["stack"], "the state is there"
    assert "someone-else" not in file.content.decode()


async def test_the_export_goes_as_text_where_files_cannot_be_sent(agent_factory, transport) -> None:
    transport.capabilities = frozenset({Capability.BUTTONS})
    camille = agent_factory(USER)
    await register_with_email(camille)
    replies = await camille.say("mes donnees")
    assert not any(isinstance(m, OutFile) for m in replies)
    intro, *parts, _menu = replies
    assert "ne permet pas au bot d’envoyer de fichier" in intro.text  # type: ignore[union-attr]
    assert all(len(p.text) <= 3500 for p in parts)  # type: ignore[union-attr]
    exported = json.loads("".join(p.text for p in parts))  # type: ignore[union-attr]
    assert set(exported) == {section(n) for n in ("exported_at", *privacy.EXPORTED_TABLES)}
    assert exported["profil"]["adresse électronique"] == EMAIL
    assert exported["profil"]["identifiant sur la messagerie"] == USER


def scan(store: Store, needles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a needle occurs, in any column of any table."""
    found = []
    with store.transaction() as tx:
        for table in every_table():
            for row in tx.connection.execute(sa.select(table)):
                for column, value in row._mapping.items():
                    text = json.dumps(value, default=str) if isinstance(value, dict) else str(value)
                    found += [(table.name, column, n) for n in needles if n.lower() in text.lower()]
    return found


async def test_erasure_leaves_no_personal_field_and_keeps_the_contributions(
    agent_factory, store: Store, transport
) -> None:
    """Every table, delivery rows still pending included: a push to the agent is dropped, an
    administrator's reply that quotes their contact and waits for its messaging no longer
    quotes it (found in review: only the messages already delivered were blanked)."""
    camille, agent_id = await contributing_agent(agent_factory, store)
    admin = agent_factory("admin")
    await register(admin, "Rennes")
    await admin.say("!volontaires")
    assert f"contact : {EMAIL}" in admin.text.replace("\u00a0", " ")
    transport.down.add(admin.key)  # the administrator's messaging is down: the reply waits
    await admin.say("!volontaires")
    assert admin.last == []
    needles = (EMAIL, FONCTION, USER)
    assert {t for t, _, _ in scan(store, needles)} >= {
        "agent",
        "support",  # withdrawn_by
        "referent_offer",  # contact
        "agent_vouch",  # created_by
        "conversation",
        "delivery",  # also the administrator's « !volontaires »
        "audit_log",
        "platform_message",
    }

    await camille.say("supprimer mes données")
    assert "Voulez-vous vraiment effacer" in camille.text
    assert "restent publiées, au nom de votre collectivité" in camille.text
    assert "le contact que vous y avez donné sera effacé" in camille.text
    await camille.press("oui")
    assert "Vos données personnelles sont effacées" in camille.text
    assert camille.question is None, "nothing is asked after the erasure"

    assert scan(store, needles) == []
    transport.down.discard(admin.key)
    await admin.say("!volontaires")
    waiting, fresh = [
        text.replace("\u00a0", " ")
        for message in admin.last
        if "V-0001" in (text := getattr(message, "text", ""))
    ]
    assert "V-0001 Villeurbanne" in waiting, "the waiting reply goes out, without the contact"
    assert "contact : (effacé avec les données de la personne)" in waiting
    assert "V-0001 Villeurbanne" in fresh, "the engagement stays, the collectivité's"
    assert "contact : effacé avec les données de la personne" in fresh
    [view] = store.contributions()
    assert view.contribution.reference == "B-0001"
    assert view.collectivite.name == "Villeurbanne"
    author = view.author
    assert author.id == agent_id and author.erased_at is not None
    assert (author.email, author.fonction, author.platform_email, author.profile) == (None,) * 4
    with store.transaction() as tx:
        assert tx.connection.execute(sa.select(Support.agent_id)).scalar_one() == agent_id
        reachable = tx.connection.execute(
            sa.select(privacy.agents.c.id).where(privacy.REACHABLE)
        ).all()
        assert (agent_id,) not in reachable, "no audience includes an erased agent"
        pending = tx.connection.execute(
            sa.select(sa.func.count())
            .select_from(privacy.deliveries)
            .where(privacy.deliveries.c.agent_id == agent_id)
        ).scalar_one()
        assert pending == 0, "the queued push is gone"
        actions = [
            (actor, action)
            for actor, action in tx.connection.execute(
                sa.select(privacy.audit.c.actor, privacy.audit.c.action)
            )
        ]
    assert (f"test:erased:{agent_id}", "privacy.erased") in actions
    assert (f"test:erased:{agent_id}", "contribution.submitted") in actions

    await camille.say("Bonjour")
    assert "bienvenue" in camille.text, "the welcome starts again"
    assert "Quelle est votre collectivité" in camille.text
    await camille.say("mes données")
    assert EMAIL not in camille.text
    exported = json.loads(next(m for m in camille.last if isinstance(m, OutFile)).content)
    assert exported["profil"] is None and exported["contributions"] == []


def my_data_in_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: str) -> Path:
    """``user`` registers in ``recueil chat`` and types « mes données »: the file saved."""
    lines = [
        {"text": "Villeurbanne"},
        {"choice": "agent"},
        {"text": FONCTION},
        {"text": EMAIL},
        {"text": "mes données"},
    ]
    script = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    written = console_chat(tmp_path, monkeypatch, script, jsonl=True, user=user)
    [saved] = [r for line in written.splitlines() if (r := json.loads(line))["type"] == "file"]
    path = Path(saved["path"])
    assert EMAIL in path.read_text(encoding="utf-8")
    return path


def test_erasure_deletes_the_files_the_terminal_saved_for_the_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: « mes données » in the terminal is saved in the data folder, and
    « supprimer mes données » left it there, e-mail address, fonction and all."""
    marie = my_data_in_the_terminal(tmp_path, monkeypatch, "marie")
    paul = my_data_in_the_terminal(tmp_path, monkeypatch, "paul")
    erase = '{"text": "supprimer mes données"}\n{"text": "oui"}\n'
    written = console_chat(tmp_path, monkeypatch, erase, jsonl=True, user="marie")
    assert "Vos données personnelles sont effacées" in written
    assert not marie.exists() and not marie.parent.exists()
    assert paul.exists(), "another person's files stay"


def test_retention_deletes_the_files_saved_for_an_inactive_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = my_data_in_the_terminal(tmp_path, monkeypatch, "marie")
    settings = Settings(data_dir=tmp_path)
    store = Store.open(settings.effective_database_url)
    try:
        erased = erase_inactive_agents(
            store, build_services(settings), datetime(2099, 1, 1, tzinfo=UTC)
        )
    finally:
        store.close()
    assert erased == 1
    assert not saved.exists()


async def test_erasure_refused_keeps_everything(agent_factory, store: Store) -> None:
    camille = agent_factory(USER)
    await register_with_email(camille)
    await camille.say("supprimer mes donnees")
    await camille.press("non")
    assert "Rien n’a été effacé" in camille.text
    assert "Que souhaitez-vous faire" in camille.text
    with store.transaction() as tx:
        agent = tx.get_agent("test", USER)
    assert agent is not None and agent.email == EMAIL


async def test_erasing_ones_data_takes_a_clear_oui(agent_factory, store: Store) -> None:
    """Found in trial 2: « ouais » erased everything at once, while everyday answers were
    refused elsewhere. The one irreversible action asks for « oui »; « non merci » keeps."""
    camille = agent_factory(USER)
    await register_with_email(camille)
    await camille.say("supprimer mes données")
    await camille.say("ouais")
    assert fr("pour tout effacer, répondez « oui » (ou 1)") in camille.text
    assert "sont effacées" not in camille.text
    await camille.say("non merci")
    assert "Rien n’a été effacé" in camille.text
    await camille.say("supprimer mes données")
    await camille.say("oui")
    assert "Vos données personnelles sont effacées" in camille.text
    with store.transaction() as tx:
        agent = tx.get_agent("test", USER)
    assert agent is None or agent.email is None


async def test_the_privacy_notice_names_who_what_how_long_and_the_rights(agent_factory) -> None:
    camille = agent_factory(USER)
    await camille.start()
    assert fr("Tapez « confidentialité »") in camille.text, "the welcome points to the notice"
    await register_with_email(camille)
    await camille.say("confidentialité")
    text = camille.text
    for expected in (
        "Incubateur des territoires",
        "ANCT",
        "adresse électronique",
        "12 mois",
        "« supprimer mes données »",
        "« mes données »",
        "CNIL",
    ):
        assert fr(expected) in text, expected
    assert "délégué à la protection des données de l’ANCT et" in text  # no address made up
    await camille.say("vie privée")
    assert "Responsable du traitement" in camille.text


async def test_the_privacy_notice_tells_what_becomes_of_the_referent_contact(
    agent_factory,
) -> None:
    """Found in review: the notice said nothing of the contact given when volunteering as a
    territoire référent (a name, an e-mail address, a phone number), kept and shown to the
    team: what it is for, who sees it, how long it is kept, and how to have it erased."""
    camille = agent_factory(USER)
    await register_with_email(camille)
    await camille.say("confidentialité")
    text = camille.text
    [kept] = [line for line in text.splitlines() if "en vous portant volontaire" in line]
    for expected in (
        "le contact que vous donnez en vous portant volontaire",
        "une adresse électronique ou un téléphone",
        "privé",
        "vu seulement par l’équipe de la consultation",
        "organiser avec vous la co-construction",
        "aussi longtemps que vos autres données personnelles",
    ):
        assert fr(expected) in kept, expected
    [erase] = [line for line in text.splitlines() if fr("« supprimer mes données » :") in line]
    assert "le contact donné pour vos engagements de territoire référent compris" in erase


def test_months_before_keeps_the_day_or_takes_the_month_end() -> None:
    assert months_before(datetime(2028, 3, 31, 3, tzinfo=UTC), 1) == datetime(
        2028, 2, 29, 3, tzinfo=UTC
    )
    assert months_before(datetime(2028, 1, 15, tzinfo=UTC), 13) == datetime(
        2026, 12, 15, tzinfo=UTC
    )


async def test_retention_erases_agents_inactive_after_the_consultation(
    agent_factory, store: Store, services
) -> None:
    old = agent_factory("inactive-agent")
    await register_with_email(old)
    recent = agent_factory("recent-agent")
    await recent.start()
    await recent.say("Lyon")  # half a profile: a conversation without an agent row

    def last_active(user: str, at: datetime) -> None:
        with store.transaction() as tx:
            for table in (privacy.agents, privacy.conversations):
                tx.connection.execute(
                    table.update().where(table.c.user_id == user).values(updated_at=at)
                )

    last_active("inactive-agent", datetime(2026, 12, 1, tzinfo=UTC))
    last_active("recent-agent", datetime(2028, 1, 20, tzinfo=UTC))
    assert services.settings.retention_months == 12
    assert erase_inactive_agents(store, services, datetime(2027, 12, 20, tzinfo=UTC)) == 0, (
        "nothing is erased before the consultation's end"
    )
    assert erase_inactive_agents(store, services, datetime(2028, 2, 1, tzinfo=UTC)) == 1
    with store.transaction() as tx:
        assert tx.get_agent("test", "inactive-agent") is None
    assert scan(store, (EMAIL, "inactive-agent")) == []
    assert scan(store, ("recent-agent",)), "the recent conversation is kept"
    assert erase_inactive_agents(store, services, datetime(2029, 2, 1, tzinfo=UTC)) == 1
    assert scan(store, ("recent-agent",)) == []


async def test_clearing_the_email_leaves_no_copy_in_the_delivered_messages(
    agent_factory, store: Store
) -> None:
    """Defect 10: after clearing the e-mail, 3 copies remained in delivery.payload."""
    camille = agent_factory(USER)
    await register_with_email(camille)
    await camille.say("profil")
    assert EMAIL in camille.text
    assert {t for t, _, _ in scan(store, (EMAIL,))} == {"agent", "delivery"}

    await camille.say("Modifier mon profil")
    await camille.say("modifier")
    await camille.say("Adresse électronique")
    await camille.say("passer")
    await camille.say("Enregistrer")
    assert "profil est enregistré" in camille.text

    assert scan(store, (EMAIL,)) == [], "no table, no column keeps the old address"
    await camille.say("profil")
    assert EMAIL not in camille.text


async def test_delivered_messages_are_forgotten_after_their_retention(
    agent_factory, store: Store
) -> None:
    """Defect 10: delivery rows were never purged (sent payloads were kept forever)."""
    camille, agent_id = await contributing_agent(agent_factory, store)
    await camille.say("aide")  # delivers the queued push too
    with store.transaction() as tx:
        tx.queue(camille.key, [outgoing_to_dict(OutText("Pas encore parti."))], agent_id=agent_id)
    rows = sa.select(
        privacy.deliveries.c.status, privacy.deliveries.c.campaign, privacy.deliveries.c.payload
    ).order_by(privacy.deliveries.c.id)

    def delivery_rows() -> list[Any]:
        with store.transaction() as tx:
            return list(tx.connection.execute(rows))

    before = delivery_rows()
    delivered = [r for r in before if r.status == "sent"]
    assert len(delivered) > 5 and any(r.campaign == "vote-opening#0" for r in delivered)

    now = datetime.now(UTC)
    assert purge_delivered(store, 30, now=now) == (0, 0), "nothing is older than 30 days"
    deleted, blanked = purge_delivered(store, 30, now=now + timedelta(days=31))
    assert (deleted, blanked) == (len(delivered) - 1, 1)

    after = delivery_rows()
    assert [(r.status, r.campaign, r.payload) for r in after] == [
        ("sent", "vote-opening#0", privacy.PURGED_PAYLOAD),
        ("pending", None, {"type": "text", "text": "Pas encore parti."}),
    ], "the campaign's row stays, blanked; what is pending goes out"
    assert [
        t for t, _, _ in scan(store, (EMAIL, FONCTION, "Le vote est ouvert")) if t == "delivery"
    ] == []
    assert purge_delivered(store, 30, now=now + timedelta(days=62)) == (0, 0), "once only"
    with store.transaction() as tx:
        requeued = tx.queue_push(
            camille.key,
            agent_id,
            [outgoing_to_dict(OutText("Le vote est ouvert."))],
            "vote-opening",
        )
    assert requeued == 0, "a purged push is still never queued twice"
