"""The chart of ``!stats``: contributions per thématique and per week, and shared needs.

Pure: the export's records in, PNG bytes out. Drawn with matplotlib's Agg canvas on a
``Figure`` of its own (no ``pyplot``, no display, no global state, safe in a thread), and
imported only when a chart is drawn: matplotlib costs about 0.7 s to import, which the
bot's start does not pay. Rendering the same figures twice gives the same bytes.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from config.typography import NNBSP, decimal, integer

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Translate = Callable[..., str]

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 10.0, 100
"""800 × 1000 pixels: readable on a phone, well under the platforms' image limits."""
BLUE, GREY, TEXT = "#000091", "#c9c9d9", "#161616"  # the French State's blue
THEMES_SHOWN = 15
"""Thématiques drawn (the most contributed); the others are summed in one bar."""
WEEK_LABELS = 12
"""At most this many week labels under the bars; the others are left blank."""


@dataclass(frozen=True, slots=True)
class StatsFigures:
    """What the chart shows, counted."""

    by_thematique: tuple[tuple[str, int], ...]
    """(label, contributions), the most contributed first."""
    by_week: tuple[tuple[date, int], ...]
    """(Monday, contributions) for every week from the first to the last, empty ones too."""
    needs: int
    """Distinct needs and services (a group of the same need counts once)."""
    shared: int
    """Of those, the ones shared by several collectivités."""

    @property
    def contributions(self) -> int:
        return sum(count for _, count in self.by_thematique)


def stats_figures(
    contributions: Sequence[dict[str, Any]],
    clusters: Sequence[dict[str, Any]],
    no_thematique: str,
) -> StatsFigures:
    """Count the records of :func:`~bot.consultation.export.contribution_records` and
    :func:`~bot.consultation.export.cluster_records`."""
    themes = Counter(record.get("thematique_libelle") or no_thematique for record in contributions)
    weeks = Counter(_monday(record["date"]) for record in contributions)
    by_week: list[tuple[date, int]] = []
    if weeks:
        week, last = min(weeks), max(weeks)
        while week <= last:
            by_week.append((week, weeks.get(week, 0)))
            week += timedelta(days=7)
    return StatsFigures(
        by_thematique=tuple(sorted(themes.items(), key=lambda item: (-item[1], item[0]))),
        by_week=tuple(by_week),
        needs=len(clusters),
        shared=sum(1 for cluster in clusters if cluster["nombre_collectivites"] > 1),
    )


def percent(part: int, whole: int) -> str:
    """``23 %``; one decimal below 10 % (``4,5 %``), none when nothing is counted."""
    share = 100 * part / whole if whole else 0.0
    return f"{decimal(share, 1 if 0 < share < 10 else 0)}{NNBSP}%"


def render_png(figures: StatsFigures, t: Translate, day: date) -> bytes:
    """The three panels, in French, as a PNG image.

    Args:
        figures: what to draw (:func:`stats_figures`).
        t: the catalogue's ``t``: the chart's texts are ``admin.chart.*``.
        day: the date in the title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    figure.suptitle(
        t("admin.chart.title", date=day.strftime("%d/%m/%Y"), count=integer(figures.contributions)),
        fontsize=14,
        color=TEXT,
    )
    themes, weeks, shared = figure.subplots(3, 1, height_ratios=(5, 3, 1.2))
    counts = FuncFormatter(lambda value, _: integer(value))
    for axes in (themes, weeks):
        axes.spines[["top", "right"]].set_visible(False)
        axes.tick_params(colors=TEXT, labelsize=9)

    _thematiques(themes, figures, t)
    themes.xaxis.set_major_locator(MaxNLocator(integer=True))
    themes.xaxis.set_major_formatter(counts)

    _weeks(weeks, figures, t)
    weeks.yaxis.set_major_locator(MaxNLocator(integer=True))
    weeks.yaxis.set_major_formatter(counts)

    _shared(shared, figures, t)

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer, metadata={"Software": None})
    return buffer.getvalue()


def _thematiques(axes: Axes, figures: StatsFigures, t: Translate) -> None:
    rows = list(figures.by_thematique[:THEMES_SHOWN])
    rest = figures.by_thematique[THEMES_SHOWN:]
    if rest:
        rows.append((t("admin.chart.other_themes", count=len(rest)), sum(c for _, c in rest)))
    rows.reverse()  # barh draws from the bottom: the largest on top
    labels = [_shorten(label, 42) for label, _ in rows]
    values = [count for _, count in rows]
    bars = axes.barh(labels, values, color=BLUE)
    axes.bar_label(bars, labels=[integer(v) for v in values], padding=3, fontsize=8)
    axes.set_title(t("admin.chart.by_thematique"), loc="left", fontsize=11, color=TEXT)
    axes.margins(x=0.12)


def _weeks(axes: Axes, figures: StatsFigures, t: Translate) -> None:
    weeks = figures.by_week
    positions = range(len(weeks))
    axes.bar(positions, [count for _, count in weeks], color=BLUE)
    step = max(1, -(-len(weeks) // WEEK_LABELS))
    axes.set_xticks(
        list(positions),
        [monday.strftime("%d/%m") if i % step == 0 else "" for i, (monday, _) in enumerate(weeks)],
    )
    axes.set_title(t("admin.chart.by_week"), loc="left", fontsize=11, color=TEXT)


def _shared(axes: Axes, figures: StatsFigures, t: Translate) -> None:
    alone = figures.needs - figures.shared
    axes.barh([0], [figures.shared], color=BLUE)
    axes.barh([0], [alone], left=[figures.shared], color=GREY)
    for start, width, colour, text in (
        (0, figures.shared, "white", t("admin.chart.shared_part", count=integer(figures.shared))),
        (figures.shared, alone, TEXT, t("admin.chart.alone_part", count=integer(alone))),
    ):
        if width:
            axes.text(
                start + width / 2, 0, text, ha="center", va="center", color=colour, fontsize=9
            )
    axes.set_xlim(0, max(figures.needs, 1))
    axes.set_axis_off()
    axes.set_title(
        t("admin.chart.shared", percent=percent(figures.shared, figures.needs)),
        loc="left",
        fontsize=11,
        color=TEXT,
    )


def _monday(stamp: str | datetime) -> date:
    day = (stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp)).date()
    return day - timedelta(days=day.weekday())


def _shorten(label: str, length: int) -> str:
    return label if len(label) <= length else label[: length - 1].rstrip() + "…"
