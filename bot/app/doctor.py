"""``recueil doctor``: what is wrong with this installation, and what to do about it.

Each check reads the configuration the bot would run with and talks to what the bot would
talk to (the database, Telegram's getMe, the Matrix homeserver), changes nothing, and says
in French what it found and, when it fails, what to fix. Exit code 0 when all is well.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import sqlalchemy as sa

from bot.app.backups import _without_password
from bot.transports.matrix.identity import credentials_path, load_credentials
from config.calendar import Calendar
from config.catalogue import Catalogue
from config.settings import ConfigError, Settings, unknown_variables
from config.taxonomy import Taxonomy
from storage.db import create_db_engine, current_revision, head_revision, is_known

TIMEOUT = aiohttp.ClientTimeout(total=15)
TELEGRAM_API = "https://api.telegram.org/bot"


@dataclass(frozen=True)
class Finding:
    subject: str
    ok: bool
    detail: str
    fix: str | None = None


class Doctor:
    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.t: Callable[..., str] = catalogue.t

    def _ok(self, subject: str, key: str, **values: Any) -> Finding:
        return Finding(self.t(f"doctor.subject.{subject}"), True, self.t(key, **values))

    def _bad(self, subject: str, key: str, fix: str, **values: Any) -> Finding:
        return Finding(
            self.t(f"doctor.subject.{subject}"), False, self.t(key, **values), self.t(fix, **values)
        )

    def configuration(self) -> Finding:
        settings = self.settings
        try:
            Taxonomy.load(settings.taxonomy_file)
            Calendar.load(settings.zone, settings.calendar_file, self.catalogue)
        except ConfigError as exc:  # already French, naming the file and the entry
            return self._bad(
                "configuration", "doctor.config.bad_file", "doctor.config.fix", error=exc
            )
        except Exception as exc:
            return self._bad("configuration", "doctor.config.bad", "doctor.config.fix", error=exc)
        unknown = unknown_variables()
        if unknown:
            return Finding(
                self.t("doctor.subject.configuration"),
                False,
                " ".join(unknown),
                self.t("doctor.config.unknown_fix"),
            )
        transports = [
            name
            for name, on in (
                ("Matrix", settings.matrix_homeserver),
                ("Telegram", settings.telegram_token),
            )
            if on
        ]
        return self._ok(
            "configuration", "doctor.config.ok", transports=", ".join(transports) or "terminal"
        )

    def database(self) -> Finding:
        url = self.settings.effective_database_url
        shown = _without_password(url) if url.startswith("postgresql") else url
        engine = create_db_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            current, head = current_revision(engine), head_revision()
        except sa.exc.DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            return self._bad(
                "database", "doctor.db.unreachable", "doctor.db.unreachable_fix", url=shown,
                reason=reason,
            )  # fmt: skip
        finally:
            engine.dispose()
        if not is_known(current):
            return self._bad(
                "database", "doctor.db.unknown", "doctor.db.unknown_fix", current=current
            )
        if current != head and not self.settings.auto_migrate:
            return self._bad(
                "database",
                "doctor.db.old",
                "doctor.db.old_fix",
                current=current or "vide",
                head=head,
            )
        key = "doctor.db.ok" if current == head else "doctor.db.will_migrate"
        return self._ok("database", key, url=shown, current=current or "vide", head=head)

    async def telegram(self, session: aiohttp.ClientSession) -> Finding | None:
        if self.settings.telegram_token is None:
            return None
        base = self.settings.telegram_base_url or TELEGRAM_API
        url = f"{base}{self.settings.telegram_token.get_secret_value()}/getMe"
        try:
            async with session.get(url) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return self._bad(
                "telegram", "doctor.telegram.unreachable", "doctor.telegram.unreachable_fix",
                server=base.removesuffix("/bot"), reason=type(exc).__name__,
            )  # fmt: skip
        if response.status in (401, 404):
            return self._bad("telegram", "doctor.telegram.refused", "doctor.telegram.refused_fix")
        if not body.get("ok"):
            return self._bad(
                "telegram", "doctor.telegram.error", "doctor.telegram.unreachable_fix",
                server=base.removesuffix("/bot"), reason=body.get("description", response.status),
            )  # fmt: skip
        return self._ok("telegram", "doctor.telegram.ok", username=body["result"].get("username"))

    async def matrix(self, session: aiohttp.ClientSession) -> Finding | None:
        homeserver = self.settings.matrix_homeserver
        if not homeserver:
            return None
        homeserver = homeserver.rstrip("/")
        try:
            async with session.get(f"{homeserver}/_matrix/client/versions") as response:
                reachable = response.status == 200
        except (aiohttp.ClientError, TimeoutError) as exc:
            reachable, reason = False, type(exc).__name__
        else:
            reason = f"HTTP {response.status}"
        if not reachable:
            return self._bad(
                "matrix", "doctor.matrix.unreachable", "doctor.matrix.unreachable_fix",
                homeserver=homeserver, reason=reason,
            )  # fmt: skip
        saved = load_credentials(credentials_path(self.settings.data_dir))
        token = saved.access_token if saved else None
        if token is None and self.settings.matrix_access_token is not None:
            token = self.settings.matrix_access_token.get_secret_value()
        if token is not None:
            headers = {"Authorization": f"Bearer {token}"}
            url = f"{homeserver}/_matrix/client/v3/account/whoami"
            async with session.get(url, headers=headers) as response:
                body = await response.json(content_type=None)
            if response.status != 200:
                return self._bad("matrix", "doctor.matrix.token_refused", "doctor.matrix.token_fix")
            return self._ok("matrix", "doctor.matrix.ok", user=body.get("user_id"))
        return await self._password_login(session, homeserver)

    async def _password_login(self, session: aiohttp.ClientSession, homeserver: str) -> Finding:
        """Log in with the password, then log that new device out again: nothing is left."""
        password = self.settings.matrix_password
        if password is None or not self.settings.matrix_user_id:
            return self._bad("matrix", "doctor.matrix.no_credentials", "doctor.matrix.token_fix")
        login = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": self.settings.matrix_user_id},
            "password": password.get_secret_value(),
            "initial_device_display_name": "recueil doctor",
        }
        async with session.post(f"{homeserver}/_matrix/client/v3/login", json=login) as response:
            body = await response.json(content_type=None)
        if response.status != 200:
            return self._bad(
                "matrix", "doctor.matrix.password_refused", "doctor.matrix.password_fix",
                reason=body.get("error", response.status),
            )  # fmt: skip
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        async with session.post(f"{homeserver}/_matrix/client/v3/logout", headers=headers):
            pass
        return self._ok("matrix", "doctor.matrix.ok", user=body.get("user_id"))

    def language_model(self) -> Finding:
        from bot.app.services import model_path
        from nlp.spacy_classifier import SpacyClassifier

        path = model_path(self.settings)
        try:
            SpacyClassifier.load(path)
        except Exception as exc:
            return self._bad("nlp", "doctor.nlp.bad", "doctor.nlp.fix", path=path, error=exc)
        return self._ok("nlp", "doctor.nlp.ok", path=path)

    async def findings(self) -> list[Finding]:
        found = [self.configuration(), self.database()]
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            for remote in (await self.telegram(session), await self.matrix(session)):
                if remote is not None:
                    found.append(remote)
        found.append(self.language_model())
        return found

    def report(self, findings: list[Finding]) -> str:
        lines = [self.t("doctor.title")]
        for finding in findings:
            mark = "✓" if finding.ok else "✗"
            lines.append(
                self.t("doctor.line", mark=mark, subject=finding.subject, detail=finding.detail)
            )
            if finding.fix:
                lines.append(self.t("doctor.fix", fix=finding.fix))
        problems = sum(not f.ok for f in findings)
        lines.append(
            self.t("doctor.all_good") if not problems else self.t("doctor.problems", n=problems)
        )
        return "\n".join(lines)


def run_doctor(settings: Settings, catalogue: Catalogue) -> int:
    logging.getLogger("nio").setLevel(logging.ERROR)
    doctor = Doctor(settings, catalogue)
    findings = asyncio.run(doctor.findings())
    print(doctor.report(findings))
    return 0 if all(f.ok for f in findings) else 1
