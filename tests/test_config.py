"""Settings, the message catalogue, the calendar and French typography."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.calendar import Calendar, Phase, french_date, french_span
from config.catalogue import default_catalogue
from config.settings import ConfigError, load_settings
from config.taxonomy import default_taxonomy
from config.typography import NBSP, NNBSP, french, in_sentence
from config.window import SendingWindow

ROOT = Path(__file__).resolve().parents[1]


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(
        "RECUEIL_ADMINS",
        "matrix:@alice:agent.collectivites.tchap.gouv.fr, telegram:123456,console:admin",
    )
    settings = load_settings()
    assert settings.is_admin("telegram", "123456")
    assert settings.is_admin("matrix", "@alice:agent.collectivites.tchap.gouv.fr")
    assert not settings.is_admin("telegram", "654321")
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve()}/recueil.sqlite3"


def test_settings_from_a_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "recueil.toml"
    config.write_text(
        'timezone = "Europe/Paris"\nadmins = ["console:chef"]\n'
        'database_url = "postgresql://u@h/db"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("RECUEIL_CONFIG", str(config))
    settings = load_settings()
    assert settings.admins == ("console:chef",)
    assert settings.effective_database_url == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("RECUEIL_ADMINS", "console:autre")  # the environment wins
    assert load_settings().admins == ("console:autre",)


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("RECUEIL_ADMINS", "alice", "transport:identifiant"),
        ("RECUEIL_TIMEZONE", "Paris", "fuseau horaire inconnu"),
        ("RECUEIL_RESUME_AFTER_MINUTES", "jamais", "nombre entier"),
        ("RECUEIL_DATABASE_URL", "mysql://root@localhost/x", "sqlite:/// et postgresql://"),
        ("RECUEIL_AUTO_MIGRATE", "peut-être", "true ou false"),
    ],
)
def test_invalid_values_are_named_in_french(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert variable in str(error.value)
    assert fragment in str(error.value)


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECUEIL_TELEGRAM_TOKEN", "123:very-secret")
    monkeypatch.setenv("RECUEIL_TELEGRAM_WEBHOOK_PORT", "123:very-secret")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "very-secret" not in str(error.value)
    monkeypatch.delenv("RECUEIL_TELEGRAM_WEBHOOK_PORT")
    assert "very-secret" not in repr(load_settings())


def plain(text: str) -> str:
    return text.replace(NBSP, " ").replace(NNBSP, " ")


def test_a_mistyped_variable_is_warned_about_with_the_closest_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found in a trial: RECUEIL_ADMIN=console:admin accepted in silence, no administrator."""
    from bot.app.cli import main
    from bot.app.doctor import Doctor

    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECUEIL_ADMIN", "console:admin")
    monkeypatch.setenv("RECUEIL_TOTALEMENT_AUTRE", "1")
    assert main(["phases"]) == 0
    err = plain(capsys.readouterr().err)
    assert (
        "Attention : la variable RECUEIL_ADMIN est inconnue de Recueil et ignorée ; "
        "vouliez-vous dire RECUEIL_ADMINS ?\n"
    ) in err
    assert "la variable RECUEIL_TOTALEMENT_AUTRE est inconnue de Recueil et ignorée\n" in err
    finding = Doctor(load_settings(), default_catalogue()).configuration()
    assert not finding.ok and "vouliez-vous dire RECUEIL_ADMINS" in plain(finding.detail)
    monkeypatch.delenv("RECUEIL_ADMIN")
    monkeypatch.delenv("RECUEIL_TOTALEMENT_AUTRE")
    assert Doctor(load_settings(), default_catalogue()).configuration().ok


def test_an_unknown_toml_key_is_named_as_the_key_of_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Found in a trial: « RECUEIL_ADMIN : paramètre inconnu » for the key admin of the file."""
    config = tmp_path / "recueil.toml"
    config.write_text('admin = ["console:chef"]\nfoo = 1\n', encoding="utf-8")
    monkeypatch.setenv("RECUEIL_CONFIG", str(config))
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert plain(str(error.value)) == (
        "Configuration invalide :\n"
        f"- clé « admin » de {config} : paramètre inconnu ; vouliez-vous dire « admins » ?\n"
        f"- clé « foo » de {config} : paramètre inconnu"
    )


def test_a_toml_key_written_as_the_variable_gets_the_key_suggested(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Found in a trial: RECUEIL_ADMINS = [...] in the file got « paramètre inconnu » without
    the « vouliez-vous dire « admins » ? » that admin gets."""
    config = tmp_path / "recueil.toml"
    config.write_text('RECUEIL_ADMINS = ["console:chef"]\n', encoding="utf-8")
    monkeypatch.setenv("RECUEIL_CONFIG", str(config))
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert plain(str(error.value)) == (
        "Configuration invalide :\n"
        f"- clé « RECUEIL_ADMINS » de {config} : paramètre inconnu ; vouliez-vous dire « admins » ?"
    )


@pytest.mark.parametrize("variable", ["CALENDAR", "MESSAGES"])
def test_a_data_file_setting_pointing_nowhere_names_its_variable(
    variable: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found in a trial: « Impossible d’utiliser « /nonexist.toml » : ce fichier ou son
    dossier n’existe pas. », without RECUEIL_CALENDAR_FILE."""
    from cli_runner import in_process

    missing = tmp_path / "absent.toml"
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("RECUEIL_")]:
            patch.delenv(name)
        patch.setenv("RECUEIL_DATA_DIR", str(tmp_path / "data"))
        patch.setenv(f"RECUEIL_{variable}_FILE", str(missing))
        result = in_process(capsys)("phases")
    assert result == (
        2,
        "",
        f"RECUEIL_{variable}_FILE : le fichier « {missing} » est introuvable\n",
    )


def test_a_rejected_value_is_shown_for_a_setting_never_for_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """configuration.md says which: the operator sees the typo in « Mars/Olympus », never a
    password, even where a check quotes what it refused."""
    from config.settings import _describe

    monkeypatch.setenv("RECUEIL_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "fuseau horaire inconnu « Mars/Olympus »" in plain(str(error.value))
    quoted = {"loc": ("database_url",), "type": "value_error", "input": "mysql://u:pw@h/x"}
    quoted["msg"] = "Value error, « mysql://u:pw@h/x » refusée"
    assert _describe(quoted, {}) == "RECUEIL_DATABASE_URL : valeur invalide (« … » refusée)"


def test_a_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECUEIL_CONFIG", "/nulle/part.toml")
    with pytest.raises(ConfigError, match="RECUEIL_CONFIG"):
        load_settings()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfea\x00d\x00m\x00", "n’est pas en UTF-8 (ligne 1) : enregistrez-le en UTF-8"),
        (
            b'timezone = "Europe/Paris"\nadmins = ["console:chef"\n',
            "n’est pas du TOML valide : crochet « [ » non fermé, à la fin du fichier (ligne 2)",
        ),
        (
            b"timezone = Europe/Paris\n",
            "n’est pas du TOML valide : valeur illisible (un texte s’écrit entre guillemets), "
            "ligne 1, colonne 12",
        ),
    ],
)
def test_a_config_file_not_in_utf8_or_not_toml_is_named_in_french_with_its_line(
    content: bytes, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found in a trial: a file saved as UTF-16 by Notepad gave a UnicodeDecodeError
    traceback, a syntax error the parser's English (« Unclosed array (at end of document) »)."""
    from cli_runner import in_process

    config = tmp_path / "recueil.toml"
    config.write_bytes(content)
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("RECUEIL_")]:
            patch.delenv(name)
        patch.setenv("RECUEIL_DATA_DIR", str(tmp_path / "data"))
        patch.setenv("RECUEIL_CONFIG", str(config))
        code, out, err = in_process(capsys)("phases")
    assert (code, out) == (2, "")
    assert err.startswith(f"RECUEIL_CONFIG : le fichier « {config} » {problem}")


def test_typography() -> None:
    assert french("Oui ? Non ! Voici : « ceci » ; fin") == (
        f"Oui{NNBSP}? Non{NNBSP}! Voici{NBSP}: «{NBSP}ceci{NBSP}»{NNBSP}; fin"
    )
    assert french("https://exemple.fr:8443/a?b=c") == "https://exemple.fr:8443/a?b=c"


@pytest.mark.parametrize(
    ("label", "inside"),
    [
        ("Les habitants", "les habitants"),
        ("Élu ou élue", "élu ou élue"),
        ("L’accueil de la mairie", "l’accueil de la mairie"),
        ("À distance", "à distance"),
        ("C’est en cours", "c’est en cours"),
        ("ANCT", "ANCT"),
        ("CCAS de la commune", "CCAS de la commune"),
        ("Mairie de Lyon", "Mairie de Lyon"),
        ("Île-de-France Mobilités", "Île-de-France Mobilités"),
        ("P-012 — Réserver les salles", "P-012 — Réserver les salles"),
        ("déjà en minuscule", "déjà en minuscule"),
        ("", ""),
    ],
)
def test_a_label_inside_a_line_keeps_only_the_capitals_of_names(label: str, inside: str) -> None:
    assert in_sentence(label) == inside


def test_every_text_follows_french_typography() -> None:
    catalogue = default_catalogue()
    for key in catalogue.all_keys():
        text = catalogue.t(key, **{name: "x" for name in catalogue.placeholders(key)})
        assert not re.search(r" [:;?!»]", text), key
        assert "« " not in text, key


def test_every_message_used_in_the_code_exists() -> None:
    catalogue = default_catalogue()
    used: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("config/*.py")]:
        used.update(re.findall(r"""\.t\(\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""", path.read_text()))
    assert used, "no message keys found: the pattern is wrong"
    missing = sorted(key for key in used if not catalogue.has(key))
    assert missing == []


def test_counts_agree_in_french() -> None:
    catalogue = default_catalogue()
    published = [
        catalogue.t("triage.chat.published", count=n, references="", notices="", undo="", more="")
        for n in (0, 1, 2, 36000)
    ]
    assert [text.split(NBSP + ":")[0] for text in published] == [
        "0 proposition publiée",
        "1 proposition publiée",
        "2 propositions publiées",
        "36000 propositions publiées",
    ]


def test_texts_use_the_typographic_apostrophe() -> None:
    """Regression: the thématique « Éducation / Formation / Accès à l'emploi » was shown with a
    straight apostrophe."""
    taxonomy = default_taxonomy()
    shown = [text for item in taxonomy for text in (item.label, item.description, *item.examples)]
    catalogue = default_catalogue()
    shown += [
        catalogue.t(key, **dict.fromkeys(catalogue.placeholders(key), "x"))
        for key in catalogue.all_keys()
    ]
    elided = re.compile(r"[^\W\d_]'[^\W\d_]")  # « l'emploi », not a shell's '{url}'
    assert [text for text in shown if elided.search(text)] == []


def test_the_taxonomy_has_the_fourteen_thematiques() -> None:
    taxonomy = default_taxonomy()
    assert len(taxonomy) == 14
    assert taxonomy.label("mobilite_transports") == "Mobilité / Transports"
    assert all(item.description and len(item.examples) >= 3 for item in taxonomy)


def test_the_calendar_tells_the_phase() -> None:
    calendar = Calendar.load(ZoneInfo("Europe/Paris"))
    collecte = calendar.get("collecte")
    late = datetime(2027, 1, 31, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    assert calendar.current(late) == collecte
    after = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 February in Paris
    assert calendar.current(after) is None
    assert calendar.upcoming(after) == calendar.get("vote")
    assert french_date(date(2027, 2, 1)) == "1er février 2027"


def test_a_calendar_with_overlapping_phases_is_refused() -> None:
    phases = [
        Phase("collecte", "c", date(2027, 1, 1), date(2027, 2, 1)),
        Phase("vote", "v", date(2027, 1, 15), date(2027, 3, 1)),
        Phase("referents", "r", date(2027, 4, 1), date(2027, 5, 1)),
        Phase("deploiement", "d", date(2027, 6, 1), date(2027, 7, 1)),
    ]
    with pytest.raises(ConfigError, match=r"avant la fin de la phase «\scollecte\s»"):
        Calendar(phases, ZoneInfo("Europe/Paris"))


def test_secrets_are_read_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Docker and systemd secrets: RECUEIL_<NAME>_FILE names a file holding the value."""
    secrets = {
        "TELEGRAM_TOKEN": "123:from-a-file",
        "TELEGRAM_WEBHOOK_SECRET": "webhook-secret",
        "MATRIX_PASSWORD": "mot de passe",
        "MATRIX_ACCESS_TOKEN": "syt_token",
        "DATABASE_URL": "postgresql://recueil:pw@db/recueil",
    }
    for name, value in secrets.items():
        file = tmp_path / name.lower()
        file.write_text(value + "\n", encoding="utf-8")  # as `echo` writes it
        monkeypatch.setenv(f"RECUEIL_{name}_FILE", str(file))
    settings = load_settings()
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == "123:from-a-file"
    assert settings.telegram_webhook_secret is not None
    assert settings.telegram_webhook_secret.get_secret_value() == "webhook-secret"
    assert settings.matrix_password is not None
    assert settings.matrix_password.get_secret_value() == "mot de passe"
    assert settings.matrix_access_token is not None
    assert settings.matrix_access_token.get_secret_value() == "syt_token"
    assert settings.effective_database_url == "postgresql+psycopg://recueil:pw@db/recueil"
    assert "from-a-file" not in repr(settings)


def test_a_secret_file_and_its_variable_together_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    file = tmp_path / "token"
    file.write_text("123:from-a-file", encoding="utf-8")
    monkeypatch.setenv("RECUEIL_TELEGRAM_TOKEN_FILE", str(file))
    monkeypatch.setenv("RECUEIL_TELEGRAM_TOKEN", "123:from-the-environment")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert french("RECUEIL_TELEGRAM_TOKEN et RECUEIL_TELEGRAM_TOKEN_FILE sont tous deux") in str(
        error.value
    )
    assert "from-" not in str(error.value)


def test_an_unreadable_secret_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECUEIL_MATRIX_PASSWORD_FILE", "/run/secrets/absent")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "RECUEIL_MATRIX_PASSWORD_FILE" in str(error.value)
    assert "/run/secrets/absent" in str(error.value)


def test_a_secret_file_reaches_the_cli(tmp_path: Path) -> None:
    """Through the real command, as a container starts it: a broken file stops it in French."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env |= {"RECUEIL_DATA_DIR": str(tmp_path), "RECUEIL_TELEGRAM_TOKEN_FILE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "RECUEIL_TELEGRAM_TOKEN_FILE" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_sending_window_reads_in_french() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert SendingWindow.parse("1-5", "09:00-18:00", paris).french_days() == "du lundi au vendredi"
    assert SendingWindow.parse("1,3,5", "09:00-18:00", paris).french_days() == (
        "lundi, mercredi et vendredi"
    )
    assert SendingWindow.parse("6-7", "09:00-18:00", paris).french_days() == "samedi et dimanche"
    assert SendingWindow.parse("1-7", "09:00-18:00", paris).french_days() == "tous les jours"
    hours = SendingWindow.parse("1-5", "08:30-12:00", paris).french_hours()
    assert hours == "de 8\u00a0h\u00a030 à 12\u00a0h"


def test_a_span_names_its_year_and_month_once() -> None:
    assert french_span(date(2027, 2, 15), date(2027, 3, 15)) == ("15 février", "15 mars 2027")
    assert french_span(date(2027, 4, 1), date(2027, 4, 30)) == ("1er", "30 avril 2027")
    assert french_span(date(2026, 11, 2), date(2027, 1, 31)) == (
        "2 novembre 2026",
        "31 janvier 2027",
    )


def test_a_push_written_outside_the_schedule_lasts_until_its_phase_ends() -> None:
    paris = ZoneInfo("Europe/Paris")
    calendar = Calendar.load(paris)
    end_of_vote = datetime(2027, 3, 16, 0, 0, tzinfo=paris)
    assert calendar.written_until(datetime(2027, 3, 1, 10, 0, tzinfo=paris)) == end_of_vote
    # between two phases (the publication notices before the vote): the next one's end
    assert calendar.written_until(datetime(2027, 2, 5, 10, 0, tzinfo=paris)) == end_of_vote
    assert calendar.written_until(datetime(2028, 2, 1, 10, 0, tzinfo=paris)) is None


def test_counted_phrases_agree_with_one() -> None:
    """Found in a terminal trial: « et de même pour les 1 autres »."""
    catalogue = default_catalogue()
    assert catalogue.t("triage.chat.published_more", count=1) == " et de même pour l’autre"
    assert catalogue.t("triage.chat.published_more", count=3) == " et de même pour les 3 autres"
