"""Verified supports: a support counts as verified once its agent is vouched for as one of
the collectivité's, by a validated e-mail domain, an invitation code or an administrator."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fake_transport import SimulatedAgent
from test_intake import TchapLikeTransport, register
from test_vote import published_proposal

from bot.app.cli import main as cli_main
from bot.app.engine import Engine
from bot.app.invitations import INVITATION_COLUMNS
from config.typography import french as fr
from storage.models import utcnow
from storage.ops.supports import SupportTally
from storage.ops.vouching import CODE_ALPHABET, new_invitation_code, normalize_code
from storage.store import Store


def tally(store: Store) -> tuple[int, int]:
    """(verified, all) supports of P-001, as the results will count them."""
    with store.transaction() as tx:
        found: SupportTally = next(t for t in tx.support_tallies() if t.reference == "P-001")
    return found.verified, found.total


def agent_and_collectivite(store: Store, user: str) -> tuple[int, int]:
    with store.transaction() as tx:
        agent = tx.get_agent("test", user)
    assert agent is not None and agent.collectivite_id is not None
    return agent.id, agent.collectivite_id


def stored_flags(store: Store) -> list[bool]:
    with store.transaction() as tx:
        rows = tx.connection.execute(sa.text("SELECT verified FROM support ORDER BY id"))
        return [bool(v) for v in rows.scalars()]


def test_invitation_codes_are_unambiguous_and_typed_loosely() -> None:
    codes = {new_invitation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 9 and code[4] == "-"
        assert set(code.replace("-", "")) <= set(CODE_ALPHABET)
        assert not set(code) & set("IOL01")
        assert normalize_code(code.lower().replace("-", " ")) == code


async def test_a_vouch_given_after_the_support_makes_it_verified(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    await people["alice"].say("soutenir P-001")
    await people["bob"].say("soutenir P-001")
    assert tally(store) == (0, 2)
    alice_id, villeurbanne = agent_and_collectivite(store, "alice")
    with store.transaction() as tx:
        assert tx.vouch_agent("test:admin", alice_id, villeurbanne, "admin") is True
        assert tx.vouch_agent("test:admin", alice_id, villeurbanne, "admin") is False
    assert tally(store) == (1, 2)
    with store.transaction() as tx:
        assert [s.verified for s in tx.supports_of(villeurbanne)] == [True]
        audited = tx.audit_entries(action_prefix="vouch.")
    assert [(e.action, e.subject) for e in audited] == [("vouch.admin", f"agent:{alice_id}")]
    assert stored_flags(store) == [False, False]  # what it was when given, kept


async def test_a_vouch_for_another_collectivite_verifies_nothing(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    await people["alice"].say("soutenir P-001")
    alice_id, _ = agent_and_collectivite(store, "alice")
    _, lyon = agent_and_collectivite(store, "bob")
    with store.transaction() as tx:
        tx.vouch_agent("test:admin", alice_id, lyon, "admin")
    assert tally(store) == (0, 1)


async def test_a_domain_an_administrator_validates_verifies_the_tchap_agents_of_it(
    agent_factory, services, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    tchap = Engine(services, store, clock=clock)
    transport = TchapLikeTransport()  # jean.dupont is jean.dupont@villeurbanne.fr
    tchap.register(transport)
    jean = SimulatedAgent(tchap, transport, "jean.dupont")
    await jean.start()
    await jean.say("oui")  # Villeurbanne, suggested by the address
    await jean.say("1")
    await jean.say("Maire adjoint")
    await jean.say("passer")
    assert "profil est enregistré (Villeurbanne (Rhône))" in jean.text
    await jean.say("soutenir P-001")
    await jean.say("mes soutiens")
    assert "P-001" in jean.text and "non vérifié" in jean.text
    assert "code ABCD-1234" in jean.text  # how to get verified
    assert tally(store) == (0, 1)

    admin = agent_factory("admin")
    await register(admin, "Lyon")
    await admin.say("!domaine villeurbanne.fr Villeurbanne")
    assert fr("Domaine villeurbanne.fr validé pour Villeurbanne (Rhône)") in admin.text
    assert tally(store) == (1, 1)  # the earlier support counts now
    await jean.say("mes soutiens")
    assert "(par vous, vérifié)" in jean.text
    assert fr("Ce soutien est vérifié.") in jean.text  # one support (trial A, item 15)
    await people["alice"].say("mes soutiens")  # Villeurbanne too, but on another platform
    assert fr("(par votre collègue « Maire adjoint », vérifié)") in people["alice"].text
    with store.transaction() as tx:
        [entry] = tx.audit_entries(action_prefix="vouch.")
    assert (entry.action, entry.subject, entry.actor) == (
        "vouch.domain",
        "villeurbanne.fr",
        "test:admin",
    )
    await tchap.close()


async def test_a_domain_vouches_for_its_subdomains_only_and_names_one_collectivite(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    await people["alice"].say("soutenir P-001")
    alice_id, villeurbanne = agent_and_collectivite(store, "alice")

    def alice_writes_from(address: str) -> None:
        with store.transaction() as tx:
            tx.connection.execute(
                sa.text("UPDATE agent SET platform_email = :e WHERE id = :id"),
                {"e": address, "id": alice_id},
            )

    admin = agent_factory("admin")
    await register(admin, "Lyon")
    await admin.say("!domaine villeurbanne.fr Sainte-Colombe")
    assert fr("Plusieurs collectivités répondent à « Sainte-Colombe »") in admin.text
    assert fr("Sainte-Colombe (Rhône) : 69189") in admin.text
    await admin.say("!domaine gmail.com Villeurbanne")
    assert "grand public" in admin.text
    await admin.say("!domaine villeurbanne.fr 69266")  # the INSEE code
    assert "validé pour Villeurbanne (Rhône)" in admin.text
    alice_writes_from("alice@notvilleurbanne.fr")
    assert tally(store) == (0, 1)
    alice_writes_from("Alice@Mairie.Villeurbanne.fr")
    assert tally(store) == (1, 1)
    with store.transaction() as tx:
        assert tx.domains_of(villeurbanne) == ["villeurbanne.fr"]

    # found in a terminal trial: a State or webmail domain, a typo, a second collectivité
    for shared in ("allier.gouv.fr", "tchap.gouv.fr", "live.fr", "icloud.com"):
        await admin.say(f"!domaine {shared} Villeurbanne")
        assert "je ne peux pas le valider" in admin.text, shared
    await admin.say("!domaine lyon.fr Lyonn")  # a near miss is not taken for Lyon
    assert "Précisez avec son code officiel" in admin.text and "validé" not in admin.text
    await admin.say("!domaine villeurbanne.fr Lyon")
    assert fr("déjà validé pour Villeurbanne (Rhône) : un domaine ne reconnaît") in admin.text
    assert "Pour annuler" not in admin.text
    await admin.say("!retirer-domaine villeurbanne.fr")  # the undo the validation offered
    assert "Domaine villeurbanne.fr retiré pour Villeurbanne (Rhône)" in admin.text
    assert tally(store) == (0, 1)  # alice's support is no longer verified
    with store.transaction() as tx:
        assert tx.domains_of(villeurbanne) == []
    await admin.say("!retirer-domaine villeurbanne.fr")
    assert "n’est validé pour aucune collectivité" in admin.text


async def test_an_invitation_code_typed_or_in_a_link_verifies_its_collectivite_only(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    alice, bob = people["alice"], people["bob"]
    await alice.say("soutenir P-001")
    await bob.say("soutenir P-001")
    _, villeurbanne = agent_and_collectivite(store, "alice")
    _, lyon = agent_and_collectivite(store, "bob")
    with store.transaction() as tx:
        codes = {
            c.collectivite_id: c.invitation
            for c in tx.invitation_codes("cli:test", [villeurbanne, lyon])
        }
    await bob.say(f"code {codes[villeurbanne]}")
    assert fr("n’est pas celui de votre collectivité, Lyon (Rhône)") in bob.text
    await bob.say("code ZZZZ-9999")
    assert "n’existe pas" in bob.text
    assert tally(store) == (0, 2)

    await alice.say(f"code {codes[villeurbanne].lower().replace('-', ' ')}")
    assert "reconnue comme agent ou élu de Villeurbanne (Rhône)" in alice.text
    assert tally(store) == (1, 2)

    # Telegram's link: a new agent of Lyon follows it, then fills in the profile
    carole = agent_factory("carole")
    await carole.start(codes[lyon])
    assert "bienvenue" in carole.text
    await carole.say("Lyon")
    await carole.press(carole.option("Élu"))
    await carole.say("Maire adjointe")
    await carole.say("passer")
    assert "profil est enregistré" in carole.text
    assert "reconnue comme agent ou élu de Lyon (Rhône)" in carole.text
    assert tally(store) == (1, 2)  # Lyon's support was given by bob, who is not vouched for
    await bob.start(codes[lyon])  # the same code serves every agent of Lyon
    assert "reconnue comme agent ou élu de Lyon (Rhône)" in bob.text
    assert tally(store) == (2, 2)
    await bob.say(f"/start {codes[lyon]}")  # typed, on a platform without links
    assert "déjà reconnu" in bob.text
    with store.transaction() as tx:
        actions = [e.action for e in tx.audit_entries(action_prefix="vouch.")]
    assert actions == [
        "vouch.codes_created",
        "vouch.code_refused",
        "vouch.code_refused",
        "vouch.code",
        "vouch.code",
        "vouch.code",
    ]


async def test_wrong_codes_are_limited(agent_factory, store: Store, clock) -> None:
    people = await published_proposal(agent_factory, store, clock)
    bob = people["bob"]
    _, lyon = agent_and_collectivite(store, "bob")
    with store.transaction() as tx:
        [good] = tx.invitation_codes("cli:test", [lyon])
    for _ in range(10):
        await bob.say("code ZZZZ-9999")
    await bob.say(f"code {good.invitation}")
    assert "Trop de codes erronés" in bob.text
    with store.transaction() as tx:  # a day later
        tx.connection.execute(
            sa.text("UPDATE audit_log SET at = :at WHERE action = 'vouch.code_refused'"),
            {"at": utcnow() - timedelta(days=1, minutes=1)},
        )
    await bob.say(f"code {good.invitation}")
    assert "reconnue comme agent ou élu de Lyon" in bob.text


async def test_an_administrator_validates_an_agent_from_the_list_of_unverified(
    agent_factory, store: Store, clock
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    alice = people["alice"]
    await alice.say("soutenir P-001")
    alice_id, _ = agent_and_collectivite(store, "alice")
    await alice.say(f"!valider {alice_id}")
    assert "réservée aux administrateurs" in alice.text
    assert tally(store) == (0, 1)

    admin = agent_factory("admin")
    await register(admin, "Lyon")
    await admin.say("!nonverifies")
    listed = fr(f"n° {alice_id} : Secrétaire de mairie, Villeurbanne (69), test ; 1 soutien")
    assert listed in admin.text
    await admin.say(f"!valider {alice_id}")
    assert fr(f"L’agent n° {alice_id} (Secrétaire de mairie) est reconnu") in admin.text
    assert tally(store) == (1, 1)
    await admin.say("!nonverifies")
    assert fr("Tous les soutiens sont vérifiés.") in admin.text
    await admin.say("!valider B-1")  # alice's contribution: its author
    assert "était déjà reconnu" in admin.text
    await admin.say("!valider 999")
    assert "Je ne trouve pas d’agent" in admin.text
    await alice.say("soutenir P-001")
    await alice.say("retirer P-001")
    await alice.say("soutenir P-001")
    assert stored_flags(store) == [True]  # given again after the vouch: verified at once


def read_invitations(path: Path) -> dict[str, list[str]]:
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0] == list(INVITATION_COLUMNS)
    return {row[0]: row for row in rows[1:]}


async def test_recueil_invitations_exports_codes_and_telegram_links(
    agent_factory, store: Store, clock, database_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    people = await published_proposal(agent_factory, store, clock)
    await people["alice"].say("soutenir P-001")
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECUEIL_DATABASE_URL", database_url)
    monkeypatch.setenv("RECUEIL_TELEGRAM_BOT_USERNAME", "@RecueilBot")
    first = tmp_path / "invitations.csv"
    assert cli_main(["invitations", "--all-with-agents", "-o", str(first)]) == 0
    exported = read_invitations(first)
    assert sorted(exported) == ["Lyon (Rhône)", "Villeurbanne (Rhône)"]
    _, nature, insee, code, link = exported["Villeurbanne (Rhône)"]
    assert (nature, insee) == ("commune", "69266")
    assert link == f"https://t.me/RecueilBot?start={code}"

    listed = tmp_path / "liste.txt"
    listed.write_text("# à inviter\nVichy\nSainte-Colombe\n69266\n", encoding="utf-8")
    again = tmp_path / "again.csv"
    capsys.readouterr()
    assert cli_main(["invitations", "--collectivites", str(listed), "-o", str(again)]) == 1
    err = capsys.readouterr().err.replace("\u202f", " ").replace("\u00a0", " ")
    assert "ligne 3 : « Sainte-Colombe » est ambigu" in err  # which one?
    assert f"Aucun code créé, aucun fichier écrit : corrigez cette ligne de {listed}" in err
    assert not again.exists()  # all or nothing: Vichy got no code either
    assert cli_main(["invitations", "-o", str(again)]) == 0
    assert sorted(read_invitations(again)) == ["Lyon (Rhône)", "Villeurbanne (Rhône)"]

    listed.write_text("# à inviter\nVichy\n69266\n", encoding="utf-8")
    replace = ["-o", str(again), "--ecraser"]  # the file of the previous export
    assert cli_main(["invitations", "--collectivites", str(listed), *replace]) == 0
    exported_again = read_invitations(again)
    assert sorted(exported_again) == ["Vichy (Allier)", "Villeurbanne (Rhône)"]
    assert exported_again["Villeurbanne (Rhône)"][3] == code  # a collectivité keeps its code

    await people["alice"].start(code)  # the link, followed
    assert "reconnue comme agent ou élu de Villeurbanne (Rhône)" in people["alice"].text
    assert tally(store) == (1, 1)


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Vichy\n69266\n".encode("utf-16")],
    ids=["png", "utf-16"],
)
def test_a_list_of_collectivites_that_is_not_text_is_named_with_what_was_expected(
    content: bytes, tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    """Found in a trial: a PNG given as the list was answered « corrigez cette ligne »."""
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path / "data"))
    listed, written = tmp_path / "liste.txt", tmp_path / "invitations.csv"
    listed.write_bytes(content)
    assert cli_main(["invitations", "--collectivites", str(listed), "-o", str(written)]) == 1
    err = capsys.readouterr().err.replace("\u202f", " ").replace("\u00a0", " ")
    assert err == (
        f"« {listed} » n’est pas un fichier texte en UTF-8 : aucun code créé, aucun fichier "
        "écrit. Attendu : un fichier texte en UTF-8, une collectivité par ligne (nom ou code "
        "officiel).\n"
    )
    assert not written.exists()
    assert cli_main(["invitations", "-o", str(written)]) == 0
    assert "0 code d’invitation exporté" in capsys.readouterr().err


async def test_an_invitation_code_pasted_alone_is_taken_as_the_code(
    agent_factory, store: Store, clock
) -> None:
    """Trial A, item 5: « D8K9-CZR7 », pasted from the e-mail without « code », was « Je n’ai
    pas compris votre choix »."""
    people = await published_proposal(agent_factory, store, clock)
    bob = people["bob"]
    await bob.say("soutenir P-001")
    _, lyon = agent_and_collectivite(store, "bob")
    with store.transaction() as tx:  # the code of the trial, as sent
        tx.invitation_codes("cli:test", [lyon], make_code=lambda: "D8K9-CZR7")
    await bob.say("  D8K9-CZR7  ")  # at the menu of the vote
    assert "reconnue comme agent ou élu de Lyon (Rhône)" in bob.text
    assert tally(store) == (1, 1)
    await bob.say("d8k9-czr7")  # lower case, as retyped from the e-mail
    assert "déjà reconnu" in bob.text


def test_only_the_exact_shape_of_a_code_is_taken_without_code(services) -> None:
    """Words joined by a hyphen, or a code without its hyphen, are not taken for one: only
    « code … » reads those."""
    commands = services.commands
    for text in ("D8K9-CZR7", "d8k9-czr7", "ABCD-EFGH"):
        parsed = commands.parse(text)
        assert parsed is not None and parsed.command is not None, text
        assert parsed.command.name == "code" and parsed.argument == text
    for text in ("test-case", "D8K9CZR7", "D8K9 CZR7", "D8K9-CZR7X", "DIL0-1234"):
        parsed = commands.parse(text)
        assert parsed is None or parsed.command is None or parsed.command.name != "code", text
