"""The ``!stats`` chart: counted right, a real PNG that follows the data, sent after the text."""

from __future__ import annotations

import io
import json
import struct
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
from fake_transport import SimulatedAgent
from matplotlib.image import imread
from test_console import RECUEIL, environment
from test_delivery import NoFilesTransport
from test_intake import describe_need, register

from bot.app.engine import Engine
from bot.consultation.charts import (
    DPI,
    HEIGHT_INCHES,
    WIDTH_INCHES,
    StatsFigures,
    integer,
    percent,
    render_png,
    stats_figures,
)
from bot.core.values import OutFile, OutText
from config.catalogue import default_catalogue

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIZE = (round(WIDTH_INCHES * DPI), round(HEIGHT_INCHES * DPI))
T = default_catalogue().t
DAY = date(2026, 12, 1)


def record(label: str | None, stamp: str) -> dict[str, str | None]:
    return {"thematique_libelle": label, "date": stamp}


def cluster(collectivites: int) -> dict[str, int]:
    return {"nombre_collectivites": collectivites}


def png_dimensions(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def pixels(png: bytes) -> np.ndarray:
    """The decoded image (matplotlib's own PNG reader): rows × columns × RGBA."""
    return imread(io.BytesIO(png), format="png")


def test_figures_count_thematiques_weeks_and_shared_needs() -> None:
    figures = stats_figures(
        [
            record("Mobilité", "2026-11-30T09:00:00+00:00"),  # a Monday
            record("Mobilité", "2026-12-06T23:00:00+00:00"),  # the Sunday of that week
            record("Écoles", "2026-12-14T08:00:00+00:00"),  # a week later, one empty between
            record(None, "2026-12-15T08:00:00+00:00"),
        ],
        [cluster(3), cluster(1), cluster(2), cluster(1)],
        no_thematique="Sans thématique",
    )
    assert figures.by_thematique == (("Mobilité", 2), ("Sans thématique", 1), ("Écoles", 1))
    assert figures.by_week == (
        (date(2026, 11, 30), 2),
        (date(2026, 12, 7), 0),
        (date(2026, 12, 14), 2),
    )
    assert (figures.needs, figures.shared, figures.contributions) == (4, 2, 4)


def test_numbers_are_written_the_french_way() -> None:
    assert integer(1234567) == "1\u202f234\u202f567"
    assert percent(1, 4) == "25\u202f%"
    assert percent(1, 22) == "4,5\u202f%"
    assert percent(0, 0) == "0\u202f%"


def test_the_chart_is_a_png_of_its_size_that_follows_the_data() -> None:
    few = StatsFigures((("Mobilité", 3),), ((date(2026, 11, 30), 3),), needs=3, shared=1)
    many = StatsFigures(
        (("Mobilité", 300), ("Écoles", 1200)),
        ((date(2026, 11, 30), 800), (date(2026, 12, 7), 700)),
        needs=900,
        shared=450,
    )
    first = render_png(few, T, DAY)
    assert png_dimensions(first) == SIZE
    image = pixels(first)
    assert image.shape == (SIZE[1], SIZE[0], 4)  # it decodes, whole
    assert render_png(few, T, DAY) == first  # the same figures, the same bytes
    other = render_png(many, T, DAY)
    assert png_dimensions(other) == SIZE
    changed = np.any(pixels(other) != image, axis=2)
    assert changed.mean() > 0.01  # not a label: the bars moved
    # The share bar (bottom band) is drawn in the State's blue, proportionally: a third of
    # the needs shared in one chart, a half in the other.
    assert _blue_share(first) < _blue_share(other)


def _blue_share(png: bytes) -> float:
    image = pixels(png)
    band = image[int(SIZE[1] * 0.93) : int(SIZE[1] * 0.97), :, :3]
    blue = np.all(np.abs(band - np.array([0, 0, 0x91 / 255])) < 0.02, axis=2)
    filled = np.any(band < 0.95, axis=2)
    return float(blue.sum() / max(filled.sum(), 1))


async def test_admin_stats_sends_the_text_then_the_chart(agent_factory) -> None:
    admin = agent_factory("admin")
    await register(admin, "Lyon")
    await admin.say("!stats")
    assert not [m for m in admin.last if isinstance(m, OutFile)]  # nothing to draw yet

    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice)
    await alice.say("Envoyer")
    replies = await admin.say("!stats")
    assert isinstance(replies[0], OutText) and "1 besoin et 0 service" in replies[0].text
    [chart] = [m for m in replies if isinstance(m, OutFile)]
    assert replies.index(chart) == 1  # right after the figures
    assert chart.mime == "image/png" and chart.name.endswith(".png")
    assert png_dimensions(chart.content) == SIZE


async def test_no_chart_where_files_cannot_be_sent(services, store, clock) -> None:
    engine = Engine(services, store, clock=clock)
    transport = NoFilesTransport()
    engine.register(transport)
    admin, alice = (SimulatedAgent(engine, transport, user) for user in ("admin", "alice"))
    await register(alice)
    await describe_need(alice)
    await alice.say("Envoyer")
    await register(admin, "Lyon")
    await admin.say("!stats")
    assert "1 besoin " in admin.text
    assert not [m for m in admin.last if isinstance(m, OutFile)]
    await engine.close()


def test_terminal_stats_saves_the_chart_as_a_file(tmp_path: Path) -> None:
    script = [
        {"text": "profil"},  # an administrator is not asked for one: they create it
        {"text": "Villeurbanne"},
        {"text": "2"},
        {"text": "DGS"},
        {"text": "passer"},
        {"text": "1"},
        {"text": "Réserver les salles en ligne"},
        {"text": "Les associations appellent la mairie pour chaque réservation."},
        {"text": "1"},
        {"text": "passer"},
        {"text": "1"},
        {"text": "3"},
        {"text": "Envoyer"},
        {"text": "!stats"},
    ]
    lines = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in script)
    done = subprocess.run(
        [*RECUEIL, "chat", "--jsonl", "--as", "chef"],
        input=lines,
        capture_output=True,
        text=True,
        env=environment(tmp_path, RECUEIL_ADMINS="console:chef"),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    [saved] = [r for r in replies if r["type"] == "file"]
    assert saved["name"].startswith("statistiques-") and saved["name"].endswith(".png")
    png = Path(saved["path"]).read_bytes()
    assert png_dimensions(png) == SIZE
    assert Path(saved["path"]).parent == tmp_path / "fichiers" / "chef"  # the user's folder


def test_matplotlib_is_not_imported_until_a_chart_is_drawn() -> None:
    check = (
        "import sys, bot.app.cli, bot.app.runner, bot.commands, bot.admin.stats;"
        "print('matplotlib' in sys.modules)"
    )
    done = subprocess.run([RECUEIL[0], "-c", check], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
