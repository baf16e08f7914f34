"""``recueil doctor`` on a good and on a broken installation (getMe on the fake Bot API)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import sqlalchemy as sa
from fake_bot_api import FakeBotApi

from storage.db import create_db_engine, upgrade

TOKEN = "123456:secret-telegram-token"


async def doctor(**variables: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env.update(variables)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.app.cli", "doctor",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, errors = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), errors.decode()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_doctor_on_a_good_installation_says_all_is_well(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    code, report, errors = await doctor(
        RECUEIL_DATA_DIR=str(tmp_path),
        RECUEIL_TELEGRAM_TOKEN=TOKEN,
        RECUEIL_TELEGRAM_BASE_URL=fake_bot_api.base_url,
    )
    assert code == 0, report + errors
    assert "✓ Telegram\u00a0: jeton accepté\u00a0: le bot est @" in report
    assert "✓ Base de données" in report
    assert "✓ Modèle de langue" in report
    assert "Tout est en ordre." in report
    assert "✗" not in report
    assert [call.method for call in fake_bot_api.calls] == ["getMe"]  # nothing else touched
    assert "secret-telegram-token" not in report + errors


async def test_doctor_on_a_broken_installation_says_what_to_fix(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    fake_bot_api.inject_error("getMe", 401, "Unauthorized")
    engine = create_db_engine(f"sqlite:///{tmp_path / 'recueil.sqlite3'}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_later'"))
    engine.dispose()
    code, report, errors = await doctor(
        RECUEIL_DATA_DIR=str(tmp_path),
        RECUEIL_TELEGRAM_TOKEN=TOKEN,
        RECUEIL_TELEGRAM_BASE_URL=fake_bot_api.base_url,
        RECUEIL_MATRIX_HOMESERVER=f"http://127.0.0.1:{closed_port()}",
        RECUEIL_MATRIX_USER_ID="@recueil:localhost",
        RECUEIL_MATRIX_PASSWORD="mot-de-passe",
    )
    assert code == 1, report + errors
    assert "✗ Telegram\u00a0: jeton refusé par Telegram" in report
    assert "BotFather" in report
    assert "✗ Base de données\u00a0: à la version «\u00a09999_later\u00a0»" in report
    assert "✗ Matrix (Tchap)\u00a0: serveur http://127.0.0.1:" in report
    assert "RECUEIL_MATRIX_HOMESERVER" in report
    assert "3 points à corriger" in report
    assert "Traceback" not in errors


async def test_doctor_on_an_invalid_configuration_names_the_variable(tmp_path: Path) -> None:
    code, _, errors = await doctor(
        RECUEIL_DATA_DIR=str(tmp_path), RECUEIL_TIMEZONE="Lune/Tranquillité"
    )
    assert code == 1
    assert "RECUEIL_TIMEZONE" in errors
