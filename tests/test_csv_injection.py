"""Regression (issue 14, defect 4): no CSV export writes a cell a spreadsheet would run.

A contribution titled ``=HYPERLINK(...)``, or whose description begins with ``+``, ``-``,
``@``, a tab or a carriage return, used to be exported raw by ``recueil export`` (every
``--what``) and ``!export``. Each cell is now written with a leading ``'``, and read back
by the triage import as the agent typed it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from contribution_views import view
from test_intake import register
from test_recurrence import SALLES, SALLES_AUTREMENT, agent, describe

from bot.app.cli import main
from bot.consultation.export import (
    CLUSTER_COLUMNS,
    CONTRIBUTION_COLUMNS,
    cluster_records,
    contribution_records,
    contributions_csv,
    to_csv,
)
from bot.consultation.spreadsheet import FORMULA_STARTS, read_table
from bot.core.values import OutFile
from config.taxonomy import Taxonomy
from storage.models import Proposal

HYPERLINK = '=HYPERLINK("http://x","y")'
PLUS = "+33 4 72 00 00 00 : " + SALLES[1]
MINUS = "-" + SALLES_AUTREMENT[0]
AT = "@" + SALLES_AUTREMENT[1]
EXPORTS = ("contributions", "clusters", "matches", "candidates", "need-types")


def cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def assert_inert(data: bytes) -> None:
    """No cell of the CSV (header included) begins as a formula would."""
    rows = cells(data)
    assert len(rows) > 1, "an export with no row proves nothing"
    runnable = [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
    assert runnable == []


async def hostile_contributions(engine) -> None:  # type: ignore[no-untyped-def]
    """Alice sends ``=HYPERLINK`` and ``+…``; Bob sends ``-…`` and ``@…`` and is offered
    Alice's need but says it is another one (a match row and a candidate pair)."""
    alice = agent(engine, "alice")
    await register(alice, "Villeurbanne")
    await describe(alice, HYPERLINK, PLUS)
    await alice.say("Envoyer")
    assert "B-0001" in alice.text
    bob = agent(engine, "bob")
    await register(bob, "Grenoble")
    await describe(bob, MINUS, AT)
    assert "a déjà décrit un besoin proche" in bob.text
    await bob.say("2")  # another need
    await bob.say("Envoyer")
    assert "B-0002" in bob.text


async def test_recueil_export_neutralises_formulas_in_every_kind(
    engine_with_search, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hostile_contributions(engine_with_search)
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(engine_with_search.services.settings.data_dir))
    monkeypatch.setenv("RECUEIL_DATABASE_URL", database_url)
    exported = {}
    for what in EXPORTS:
        out = tmp_path / f"{what}.csv"
        assert main(["export", "--what", what, "--format", "csv", "-o", str(out)]) == 0
        exported[what] = out.read_bytes()
        assert_inert(exported[what])

    rows = cells(exported["contributions"])
    header = rows[0]
    alice, bob = (dict(zip(header, row, strict=True)) for row in rows[1:])
    assert alice["titre"] == "'" + HYPERLINK
    assert (alice["description"], bob["titre"], bob["description"]) == (
        "'" + PLUS,
        "'" + MINUS,
        "'" + AT,
    )
    # The team's spreadsheet import reads back exactly what the agents typed.
    back = read_table(exported["contributions"]).rows
    assert [(r.get("titre"), r.get("description")) for r in back] == [
        (HYPERLINK, PLUS),
        (MINUS, AT),
    ]
    assert {r.get("titre") for r in read_table(exported["clusters"]).rows} == {HYPERLINK, MINUS}
    [pair] = read_table(exported["candidates"]).rows
    assert (pair.get("titre_a"), pair.get("titre_b")) == (HYPERLINK, MINUS)
    assert pair.get("refuse_par_agent") == "oui"
    [match] = read_table(exported["matches"]).rows
    assert (match.get("contribution"), match.get("proche_de")) == ("B-0002", "B-0001")
    assert read_table(exported["need-types"]).rows  # no agent's text in it, but the same writer


async def test_chat_export_neutralises_formulas(engine_with_search) -> None:
    await hostile_contributions(engine_with_search)
    admin = agent(engine_with_search, "admin")
    await register(admin, "Lyon")
    await admin.say("!export")
    [file] = [m for m in admin.last if isinstance(m, OutFile)]
    assert_inert(file.content)
    titles = [r.get("titre") for r in read_table(file.content).rows]
    assert titles == [HYPERLINK, MINUS]


def test_a_leading_tab_or_carriage_return_is_neutralised_too() -> None:
    taxonomy = Taxonomy.load()
    views = [
        view(1, "besoin", "\tOnglet", "\rRetour chariot"),
        view(2, "besoin", "\r=1+1", "-2+3+cmd|' /C calc'!A0", same_as=1),
        view(3, "service", "@SUM(A1)", "'=déjà échappé"),
    ]
    for data in (
        contributions_csv(views, taxonomy, ZoneInfo("Europe/Paris")),
        to_csv(
            contribution_records(views, taxonomy), CONTRIBUTION_COLUMNS, ZoneInfo("Europe/Paris")
        ),
        to_csv(cluster_records(views, taxonomy), CLUSTER_COLUMNS, ZoneInfo("Europe/Paris")),
    ):
        assert_inert(data)
    back = read_table(contributions_csv(views, taxonomy, ZoneInfo("Europe/Paris"))).rows
    assert [(r.get("titre"), r.get("description")) for r in back] == [
        ("\tOnglet", "\rRetour chariot"),
        ("\r=1+1", "-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'=déjà échappé"),
    ]


def test_the_triage_columns_are_neutralised_too() -> None:
    """A proposal's title and an administrator's message are typed in the chat too."""
    taxonomy = Taxonomy.load()
    grouped, rejected = view(1, "besoin", "Salles"), view(2, "besoin", "Cantine")
    grouped = replace(grouped, proposal=Proposal(reference="P-001", title=HYPERLINK))
    rejected.contribution.status = "rejetee"
    rejected.contribution.triage_message = "-1 : " + PLUS
    data = contributions_csv([grouped, rejected], taxonomy, ZoneInfo("Europe/Paris"))
    assert_inert(data)
    back = read_table(data).rows
    assert [(r.get("titre_proposition"), r.get("message_administrateur")) for r in back] == [
        (HYPERLINK, ""),
        ("", "-1 : " + PLUS),
    ]
