"""Runtime settings: environment variables prefixed ``RECUEIL_`` and an optional TOML file.

The TOML file is named by ``RECUEIL_CONFIG``; environment variables win over it. Every
invalid value is reported in French, naming the variable (or the TOML key it came from); the
rejected value may be quoted for ordinary settings, never for secrets. An unknown
``RECUEIL_*`` variable (a typo) is not an error but a warning naming the closest known one.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from config.toml_file import ConfigError, read_toml
from config.typography import french
from config.window import SendingWindow

ENV_PREFIX = "RECUEIL_"
TRANSPORTS = ("matrix", "telegram", "console")
SECRET_FILE_SETTINGS = (
    "database_url",
    "matrix_password",
    "matrix_access_token",
    "telegram_token",
    "telegram_webhook_secret",
)
"""Settings that may instead be read from a file named by ``RECUEIL_<NAME>_FILE`` (Docker and
systemd secrets: the value never sits in the environment, where ``ps e`` and crash reports
would show it)."""


SECRET_SETTINGS = SECRET_FILE_SETTINGS
"""Settings whose value is never shown in a message (the database URL carries a password)."""
OTHER_VARIABLES = (
    f"{ENV_PREFIX}CONFIG",
    *(f"{ENV_PREFIX}{name.upper()}_FILE" for name in SECRET_FILE_SETTINGS),
    # read by the test suite, not by the bot
    f"{ENV_PREFIX}TEST_DATABASE_URL",
    f"{ENV_PREFIX}WRITE_REFERENCE",
)


class SecretFiles(PydanticBaseSettingsSource):
    """``RECUEIL_TELEGRAM_TOKEN_FILE=/run/secrets/telegram_token``: the token is the file's
    content, without its trailing newline. Setting both the variable and its ``_FILE`` is
    refused, as is a file that cannot be read; neither message shows a value."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is read at once in __call__

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in SECRET_FILE_SETTINGS:
            variable = f"{ENV_PREFIX}{name.upper()}"
            path = os.environ.get(f"{variable}_FILE")
            if not path:
                continue
            if os.environ.get(variable):
                raise ConfigError(
                    french(f"{variable} et {variable}_FILE sont tous deux définis : gardez-en un")
                )
            try:
                values[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "illisible"
                raise ConfigError(
                    french(f"{variable}_FILE : le fichier « {path} » ne peut être lu ({reason})")
                ) from None
        return values


class Settings(BaseSettings):
    """All the bot's settings; see docs/configuration.md for the reference."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", validate_default=True, frozen=True
    )

    data_dir: Path = Path("./var")
    database_url: str | None = None
    admins: Annotated[tuple[str, ...], NoDecode] = ()  # transport:user_id, e.g. telegram:123456
    timezone: str = "Europe/Paris"
    auto_migrate: bool = True
    resume_after_minutes: int = Field(default=30, ge=1)
    push_days: str = "1-5"  # ISO weekdays when pushes are sent (1 = Monday)
    push_hours: str = "09:00-18:00"
    schedule_seconds: int = Field(default=60, ge=1)  # how often due announcements are checked
    referent_call_delay_days: int = Field(default=7, ge=0)  # laureates' calls, then everyone
    now: datetime | None = None  # a fixed start for the clock, for trials (RECUEIL_NOW)
    taxonomy_file: Path | None = None
    model_dir: Path | None = None  # a retrained model (nlp train --output); default: shipped
    calendar_file: Path | None = None
    messages_file: Path | None = None
    retention_months: int = Field(default=12, ge=1)  # inactivity after the consultation's end
    privacy_contact: str = Field(default="", max_length=200)  # the DPO, for `confidentialité`
    team_contact: str = Field(default="", max_length=200)  # where users write to the team
    delivery_retention_days: int = Field(default=30, ge=1)  # then a delivered text is forgotten
    flood_burst: int = Field(default=20, ge=1)  # messages one conversation may send at once
    flood_rate: float = Field(default=1.0, gt=0)  # then this many per second
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    metrics_address: str | None = None  # host:port of /health and /metrics; off when unset

    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_password: SecretStr | None = None
    matrix_access_token: SecretStr | None = None
    matrix_device_name: str = "Recueil"
    matrix_allowed_servers: Annotated[
        tuple[str, ...], NoDecode
    ] = ()  # glob patterns; default: the bot's server
    matrix_seconds_between_requests: float = Field(default=1.0, ge=0)

    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_bot_username: str | None = None  # for invitation links: t.me/<name>?start=CODE

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            SecretFiles(settings_cls),
            env_settings,
        ]
        config_file = os.environ.get(f"{ENV_PREFIX}CONFIG")
        if config_file:
            # Read here, not by pydantic: a file not in UTF-8 or not TOML is said in French.
            content = read_toml(Path(config_file), f"{ENV_PREFIX}CONFIG")
            sources.append(InitSettingsSource(settings_cls, init_kwargs=content))
        return tuple(sources)

    @field_validator("admins", "matrix_allowed_servers", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("admins")
    @classmethod
    def _check_admins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            transport, sep, user = item.partition(":")
            if not sep or not transport.isalpha() or not user:
                raise ValueError(
                    f"« {item} » n’est pas de la forme transport:identifiant "
                    f"(transport parmi {', '.join(TRANSPORTS)})"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"fuseau horaire inconnu « {value} »") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("seules les adresses sqlite:/// et postgresql:// sont acceptées")
        return value

    @field_validator("push_days")
    @classmethod
    def _check_push_days(cls, value: str) -> str:
        SendingWindow.parse(value, "00:00-23:59", ZoneInfo("UTC"))
        return value

    @field_validator("push_hours")
    @classmethod
    def _check_push_hours(cls, value: str) -> str:
        SendingWindow.parse("1-7", value, ZoneInfo("UTC"))
        return value

    @field_validator("now")
    @classmethod
    def _check_now(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("indiquez le fuseau, par exemple 2027-02-15T10:00:00+01:00")
        return value

    @field_validator("telegram_bot_username")
    @classmethod
    def _check_telegram_bot_username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{4,31}", name):
            raise ValueError(
                f"« {value} » n’est pas un nom de bot Telegram (par exemple RecueilBot)"
            )
        return name

    @field_validator("metrics_address")
    @classmethod
    def _check_metrics_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError("adresse:port attendu, par exemple 127.0.0.1:9464")
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("niveau attendu parmi DEBUG, INFO, WARNING, ERROR")
        return value.upper()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'recueil.sqlite3').resolve()}"

    @property
    def sending_window(self) -> SendingWindow:
        return SendingWindow.parse(self.push_days, self.push_hours, self.zone)

    def is_admin(self, transport: str, user_id: str) -> bool:
        return f"{transport}:{user_id}" in self.admins


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


_FRENCH_ERRORS = {
    "int_parsing": "un nombre entier est attendu",
    "float_parsing": "un nombre est attendu",
    "bool_parsing": "true ou false est attendu",
    "less_than_equal": "la valeur doit être inférieure ou égale à {le}",
    "greater_than_equal": "la valeur doit être supérieure ou égale à {ge}",
    "greater_than": "la valeur doit être supérieure à {gt}",
    "string_type": "un texte est attendu",
    "missing": "valeur obligatoire",
    "literal_error": "valeur attendue parmi {expected}",
    "datetime_parsing": "une date et une heure sont attendues, par exemple {example}",
    "datetime_from_date_parsing": "une date et une heure sont attendues, par exemple {example}",
    "datetime_type": "une date et une heure sont attendues, par exemple {example}",
}
DATETIME_EXAMPLE = "2027-02-16T10:00:00+01:00"


def known_variables() -> list[str]:
    """Every ``RECUEIL_*`` variable something reads."""
    fields = [f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields]
    return [*fields, *OTHER_VARIABLES]


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One French warning per ``RECUEIL_*`` variable nothing reads (``RECUEIL_ADMIN`` for
    ``RECUEIL_ADMINS``): ignored, it would leave a setting at its default unnoticed."""
    environ = os.environ if environ is None else environ
    known = known_variables()
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known:
            continue
        # Compared without the prefix every name shares, which would make any two look alike.
        suffixes = [k.removeprefix(ENV_PREFIX) for k in known]
        bare = upper.removeprefix(ENV_PREFIX)
        closest = difflib.get_close_matches(bare, suffixes, n=1, cutoff=0.6)
        hint = f" ; vouliez-vous dire {ENV_PREFIX}{closest[0]} ?" if closest else ""
        warnings.append(
            french(f"Attention : la variable {name} est inconnue de Recueil et ignorée{hint}")
        )
    return warnings


def _describe(error: Any, toml_keys: Mapping[str, str]) -> str:
    """One French line; ``toml_keys`` maps each key of the TOML file to the file's name."""
    location = str(error["loc"][0]) if error["loc"] else "?"
    variable = f"{ENV_PREFIX}{location.upper()}"
    from_file = location in toml_keys and variable not in os.environ
    where = f"clé « {location} » de {toml_keys[location]}" if from_file else variable
    if error["type"] == "extra_forbidden":
        # RECUEIL_ADMINS written in the file: its key is the variable's name without the
        # prefix, in lower case.
        bare = location.removeprefix(ENV_PREFIX).removeprefix(ENV_PREFIX.lower()).lower()
        close = difflib.get_close_matches(bare, list(Settings.model_fields), n=1, cutoff=0.6)
        hint = f" ; vouliez-vous dire « {close[0]} » ?" if close and from_file else ""
        return f"{where} : paramètre inconnu{hint}"
    if error["type"] == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
    else:
        template = _FRENCH_ERRORS.get(error["type"], "valeur refusée")
        message = template.format(**error.get("ctx", {}), example=DATETIME_EXAMPLE)
    if location in SECRET_SETTINGS:
        # A secret is never echoed, even where a check quotes what it refused.
        rejected = error.get("input")
        if isinstance(rejected, str) and rejected:
            message = message.replace(rejected, "…")
    return f"{where} : valeur invalide ({message})"


def _toml_keys(config_file: str | None) -> dict[str, str]:
    if not config_file:
        return {}
    try:
        return dict.fromkeys(read_toml(Path(config_file)), config_file)
    except ConfigError:
        return {}


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning validation errors into one French ``ConfigError``."""
    config_file = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"{ENV_PREFIX}CONFIG : le fichier « {config_file} » est introuvable")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        keys = _toml_keys(config_file)
        lines = [_describe(error, keys) for error in exc.errors()]
        raise ConfigError(
            french("Configuration invalide :\n" + "\n".join(f"- {line}" for line in lines))
        ) from None
