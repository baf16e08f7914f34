"""The journal: secrets redacted from every line, as text or as JSON lines.

A filter on the handler sees every record, the libraries' included (httpx logs the Bot API
URL, which carries the Telegram token, at DEBUG; PTB puts the token in the message of the
exception it raises when Telegram rejects it). The message and the traceback are rendered
once, redacted, and only then formatted.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import quote

import sqlalchemy as sa

from config.settings import Settings

REDACTED = "[secret masqué]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret the settings hold: tokens, passwords, the database password."""
    secrets = [
        secret.get_secret_value()
        for secret in (
            settings.telegram_token,
            settings.telegram_webhook_secret,
            settings.matrix_password,
            settings.matrix_access_token,
        )
        if secret is not None
    ]
    if settings.telegram_token is not None:
        # The part after the bot id is the secret one; it is worth masking on its own.
        secrets.append(settings.telegram_token.get_secret_value().partition(":")[2])
    if settings.database_url:
        try:
            password = sa.engine.make_url(settings.database_url).password
        except sa.exc.ArgumentError:
            password = None
        if password:
            secrets.append(str(password))
    return secrets


class RedactSecrets(logging.Filter):
    """Replaces each secret, raw or URL-encoded, in the message and the traceback."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        variants = {form for s in secrets if len(s) >= 6 for form in (s, quote(s, safe=""))}
        self.secrets = sorted(variants, key=len, reverse=True)  # longest first

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def install_logging(settings: Settings, level: int | str) -> RedactSecrets:
    """The root handler on stderr, with the redacting filter; uncaught errors go through it."""
    handler = logging.StreamHandler(sys.stderr)
    redact = RedactSecrets(configured_secrets(settings))
    handler.addFilter(redact)
    handler.setFormatter(
        JsonLines() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line a minute otherwise

    def uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        logging.getLogger("recueil").critical("erreur inattendue", exc_info=(kind, error, tb))

    sys.excepthook = uncaught
    return redact
