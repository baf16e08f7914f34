"""A mistake in the calendar file stops every command with one French sentence (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import Recueil, isolated, plain

from bot.app.doctor import Doctor
from config import audiences
from config.calendar import DEFAULT_CALENDAR
from config.catalogue import default_catalogue
from config.settings import load_settings
from storage import campaigns as stored

VOTE_END = "end = 2027-03-15\n"


def announcement(**keys: object) -> Callable[[str], str]:
    """An edit adding a ``[[phase.announcement]]`` to the vote phase."""
    lines = "".join(
        f"{k} = {v}\n" if isinstance(v, int) else f'{k} = "{v}"\n' for k, v in keys.items()
    )
    return lambda text: text.replace(VOTE_END, f"{VOTE_END}[[phase.announcement]]\n{lines}")


MISTAKES = {
    "end before start": (
        lambda text: text.replace(VOTE_END, "end = 2027-02-01\n"),
        "phase « vote » : la fin (1er février 2027) précède le début (15 février 2027).",
    ),
    "overlapping phases": (
        lambda text: text.replace("start = 2027-04-01", "start = 2027-03-01"),
        "phase « referents » : elle commence le 1er mars 2027, avant la fin de la phase "
        "« vote » (15 mars 2027) : les phases se suivent sans se chevaucher.",
    ),
    "date written as text": (
        lambda text: text.replace("start = 2027-02-15", 'start = "15/02/2027"'),
        "phase « vote » : start = « 15/02/2027 » est un texte ; écrivez la date sans "
        "guillemets, sous la forme année-mois-jour : start = 2027-02-15.",
    ),
    "misspelt kind": (
        announcement(kind="rapel"),
        "phase « vote », annonce nº 1 (rapel) : kind = « rapel » inconnu (attendu : "
        "« ouverture », « rappel », « cloture ») ; vouliez-vous dire « rappel » ?",
    ),
    "unknown audience": (
        announcement(kind="rappel", days_before_end=3, audience="sans_soutiens"),
        "phase « vote », annonce nº 1 (rappel) : public « sans_soutiens » inconnu (publics : "
        "agents, votants, contributeurs, sans_soutien, participants_vote, volontaires, "
        "suiveurs, laureat:P-012, volontaires:P-012, suiveurs:P-012) ; vouliez-vous dire "
        "« sans_soutien » ?",
    ),
    "missing message": (
        announcement(kind="cloture", message="annonces.vote.inexistant"),
        "phase « vote », annonce nº 1 (cloture) : message « annonces.vote.inexistant » "
        "absent des textes (messages.toml).",
    ),
    "text naming an unknown field": (
        announcement(kind="cloture", message="phases.title"),
        "phase « vote », annonce nº 1 (cloture) : le texte « phases.title » contient {today}, "
        "inconnu d’une annonce ({label}, {start}, {end}, {days}, {next_label}, {next_start}, "
        "{results}, {decision}).",
    ),
}


@pytest.fixture
def recueil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Recueil:  # type: ignore[no-untyped-def]
    return isolated(tmp_path, monkeypatch, capsys)


def broken_calendar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mistake: str) -> str:
    """Writes the shipped calendar with ``mistake`` and points RECUEIL_CALENDAR_FILE to it;
    the message expected, file named."""
    edit, problem = MISTAKES[mistake]
    shipped = DEFAULT_CALENDAR.read_text(encoding="utf-8")
    path = tmp_path / "calendrier.toml"
    path.write_text(edit(shipped), encoding="utf-8")
    assert path.read_text(encoding="utf-8") != shipped
    monkeypatch.setenv("RECUEIL_CALENDAR_FILE", str(path))
    return f"Calendrier « {path} » (RECUEIL_CALENDAR_FILE), {problem}\n"


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_in_the_calendar_stops_recueil_phases_in_french(
    recueil: Recueil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mistake: str
) -> None:
    """Found in a trial: an English traceback (ValueError, TypeError) for each of these, and
    an unknown audience or message let through, to fail the scheduler every 5 s."""
    expected = broken_calendar(tmp_path, monkeypatch, mistake)
    assert recueil("phases") == (2, "", expected)


@pytest.mark.parametrize("command", [("chat",), ("run",)])
def test_the_bot_does_not_start_on_a_calendar_with_a_mistake(
    recueil: Recueil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str]
) -> None:
    expected = broken_calendar(tmp_path, monkeypatch, "unknown audience")
    assert recueil(*command) == (2, "", expected)


def test_the_doctor_names_the_mistake_in_the_calendar_in_french(
    recueil: Recueil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in a trial: « ✓ Configuration : lue » with an unknown audience, and the English
    ValueError for dates out of order."""
    for mistake in ("unknown audience", "end before start"):
        expected = broken_calendar(tmp_path, monkeypatch, mistake)
        finding = Doctor(load_settings(), default_catalogue()).configuration()
        assert not finding.ok
        assert plain(finding.detail) + "\n" == expected
    code, out, _ = recueil("doctor")
    assert code == 1 and "✗ Configuration : Calendrier" in out and "Tout est en ordre" not in out


def test_a_calendar_that_is_not_toml_is_named_with_its_line(
    recueil: Recueil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "calendrier.toml"
    path.write_text('[[phase]]\nid = "collecte\n', encoding="utf-8")
    monkeypatch.setenv("RECUEIL_CALENDAR_FILE", str(path))
    assert recueil("phases") == (
        2,
        "",
        f"RECUEIL_CALENDAR_FILE : le fichier « {path} » n’est pas du TOML valide : "
        "guillemet fermant manquant avant la fin de la ligne, ligne 2, colonne 15\n",
    )


def test_the_calendar_knows_every_audience_the_storage_reaches() -> None:
    assert set(audiences.AUDIENCES) == set(stored.AUDIENCES)
    assert set(audiences.PER_LAUREATE) == set(stored.PER_LAUREATE)
